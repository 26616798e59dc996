"""cohesion calibrate: targets evaluated hit or miss, ABC rejection over free parameters only."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.calibrate import abc, check_free, evaluate
from experiments.design import load_plan
from model.config import ConfigError, Target

from helpers import invoke

TARGETS = {
    "near": Target(value=0.40, tolerance=0.05, unit="share", source="test"),
    "far": Target(value=0.40, tolerance=0.05, unit="share", source="test"),
    "people": Target(value=1000.0, tolerance=0.03, relative=True, unit="persons", source="test"),
    "unmeasured": Target(value=1.0, tolerance=0.1, unit="score", source="test"),
}


def test_evaluate_hit_miss_and_not_evaluated():
    runs = pd.DataFrame({"status": ["done"] * 4 + ["failed"], "cal_near": [0.42, 0.44, 0.40, 0.46, 0.0],
                         "cal_far": [0.5, 0.5, 0.48, 0.46, 0.4], "cal_people": [1020.0, 1040.0, 1030.0, 1050.0, 0.0]})
    t = evaluate(runs, TARGETS, n_boot=500).set_index("name")
    assert t.loc["near", "model_mean"] == pytest.approx(0.43) and t.loc["near", "hit"]
    assert t.loc["far", "model_mean"] == pytest.approx(0.485) and not t.loc["far", "hit"]
    # relative tolerance: 3% of 1000 = 30; mean 1035 misses
    assert t.loc["people", "tolerance_abs"] == pytest.approx(30) and not t.loc["people", "hit"]
    assert not t.loc["unmeasured", "evaluated"] and "no measure" in t.loc["unmeasured", "note"]
    assert t.loc["near", "model_lo"] <= 0.43 <= t.loc["near", "model_hi"]
    assert t.loc["near", "n"] == 4  # the failed run is left out


def test_only_free_parameters_are_searched():
    ok = load_plan(None, design="lhs", samples=2, parameters={"labour.matching_efficiency": {"min": 0.15, "max": 0.25}})
    assert check_free(ok, False) == []
    sourced = load_plan(None, design="lhs", samples=2, parameters={"ei.replacement_rate": {"min": 0.5, "max": 0.6}})
    with pytest.raises(ConfigError, match="published source"):
        check_free(sourced, False)
    assert check_free(sourced, True) == ["ei.replacement_rate"]


def test_abc_keeps_the_closest_points():
    plan = load_plan(None, design="lhs", samples=4, parameters={"labour.matching_efficiency": {"min": 0.15, "max": 0.25}})
    runs = pd.DataFrame({"status": "done", "point": [0, 0, 1, 1, 2, 2, 3, 3],
                         "labour.matching_efficiency": [0.15, 0.15, 0.2, 0.2, 0.22, 0.22, 0.25, 0.25],
                         "cal_near": [0.1, 0.1, 0.41, 0.39, 0.45, 0.47, 0.9, 0.9]})
    table = evaluate(runs, {"near": TARGETS["near"]}, n_boot=200)
    res = abc(runs, plan, table, accept=0.5)
    assert list(res.loc[res["accepted"], "point"]) == [1, 2]
    assert res["distance"].iloc[0] == pytest.approx(0.0)


@pytest.mark.slow
def test_calibrate_command_with_abc(tmp_path):
    (tmp_path / "abc.toml").write_text(
        '[sweep]\ndesign = "lhs"\nsamples = 3\nreplicates = 1\nscale = 0.02\nstart = "2005-01"\nend = "2006-12"\n'
        '[parameters]\n"labour.matching_efficiency" = { min = 0.15, max = 0.27 }\n')
    out = tmp_path / "cal"
    res = invoke("calibrate", "--scale", "0.02", "--replicates", "2", "--start", "2003-01", "--end", "2006-12",
                 "--abc", str(tmp_path / "abc.toml"), "--accept", "0.34", "--workers", "2", "--quiet",
                 "--out", str(out))
    assert res.returncode == 0, res.stderr
    t = pd.read_csv(out / "calibration.csv").set_index("name")
    assert t.loc["unemployment_rise_2006", "evaluated"]
    assert not t.loc["employment_rate_25_64_2012", "evaluated"]  # the run ends before 2012
    assert "period" in t.loc["employment_rate_25_64_2012", "note"]
    a = pd.read_csv(out / "abc.csv")
    assert len(a) == 3 and a["accepted"].sum() == 1 and a["distance"].is_monotonic_increasing
    report = (out / "report.md").read_text()
    assert "Approximate Bayesian computation" in report and "not evaluated" in report
    assert (out / "figures" / "calibration.png").is_file()
    import json

    mf = json.loads((out / "manifest.json").read_text())
    assert mf["kind"] == "calibration" and mf["evaluated"] >= 1 and "wall_seconds" in mf and "git" in mf


def test_sourced_parameter_refused_before_anything_is_written(tmp_path):
    (tmp_path / "abc.toml").write_text('[sweep]\ndesign = "lhs"\n[parameters]\n'
                                       '"ei.replacement_rate" = { min = 0.5, max = 0.6 }\n')
    res = invoke("calibrate", "--abc", str(tmp_path / "abc.toml"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 2 and "published source" in res.stderr, res.stderr
    assert len([x for x in res.stderr.splitlines() if x.strip()]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.toml"]
