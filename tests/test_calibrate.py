"""cohesion calibrate: targets evaluated hit or miss, ABC rejection over free parameters only."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from experiments.calibrate import _report, abc, check_free, evaluate, is_hit, summary, target_scenarios
from experiments.design import load_plan
from experiments.outcomes import CALIBRATION_MEASURES, Probes, belonging_measures, calibration_measures
from model.config import REFERENCE_KEY, ConfigError, Target, load_targets

from helpers import invoke

TARGETS = {
    "near": Target(value=0.40, tolerance=0.05, unit="share", source="test"),
    "far": Target(value=0.40, tolerance=0.05, unit="share", source="test"),
    "people": Target(value=1000.0, tolerance=0.03, relative=True, unit="persons", source="test"),
    "unmeasured": Target(value=1.0, tolerance=0.1, unit="score", source="test"),
}


def test_evaluate_hit_miss_and_not_evaluated():
    runs = pd.DataFrame(
        {
            "status": ["done"] * 4 + ["failed"],
            "cal_near": [0.42, 0.44, 0.40, 0.46, 0.0],
            "cal_far": [0.5, 0.5, 0.48, 0.46, 0.4],
            "cal_people": [1040.0, 1050.0, 1045.0, 1055.0, 0.0],
        }
    )
    t = evaluate(runs, TARGETS, n_boot=500).set_index("name")
    assert t.loc["near", "model_mean"] == pytest.approx(0.43) and t.loc["near", "hit"]
    # 0.40 is below the model's interval (lowest 0.46) widened by 0.05
    assert t.loc["far", "model_mean"] == pytest.approx(0.485) and not t.loc["far", "hit"]
    assert t.loc["far", "accept_lo"] == pytest.approx(t.loc["far", "model_lo"] - 0.05)
    assert t.loc["far", "accept_lo"] > 0.40
    # relative tolerance: 3% of 1000 = 30; the model's interval starts above 1030
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
    plan = load_plan(
        None, design="lhs", samples=4, parameters={"labour.matching_efficiency": {"min": 0.15, "max": 0.25}}
    )
    runs = pd.DataFrame(
        {
            "status": "done",
            "point": [0, 0, 1, 1, 2, 2, 3, 3],
            "labour.matching_efficiency": [0.15, 0.15, 0.2, 0.2, 0.22, 0.22, 0.25, 0.25],
            "cal_near": [0.1, 0.1, 0.41, 0.39, 0.45, 0.47, 0.9, 0.9],
        }
    )
    table = evaluate(runs, {"near": TARGETS["near"]}, n_boot=200)
    res = abc(runs, plan, table, accept=0.5)
    assert list(res.loc[res["accepted"], "point"]) == [1, 2]
    assert res["distance"].iloc[0] == pytest.approx(0.0)


# -- the hit rule, the role split and the social layer's measures ----------------------------
@pytest.mark.parametrize(
    "value, lo, hi, tol, hit",
    [
        (0.027, 0.012, 0.018, 0.005, False),  # a rise of 1.5 points against 2.7 with a tight source: missed
        (0.027, 0.012, 0.018, 0.020, True),  # the same rise against a source uncertain by 2 points: compatible
        (0.40, 0.43, 0.47, 0.03, True),  # exactly at the widened interval's edge
        (0.40, 0.43, 0.47, 0.0299, False),
        (0.50, 0.43, 0.47, 0.03, True),
        (0.51, 0.43, 0.47, 0.03, False),  # above the interval too
    ],
)
def test_hit_means_the_value_lies_in_the_model_interval_widened_by_the_source_uncertainty(value, lo, hi, tol, hit):
    assert is_hit(value, lo, hi, tol) is hit


def test_mean_within_tolerance_is_not_enough_when_the_interval_excludes_the_target():
    """Replicates spread widely give a wide interval (a hit); the same mean from tight
    replicates outside the tolerance is a miss."""
    target = {"rise": Target(value=0.027, tolerance=0.005, unit="share", source="test")}
    tight = pd.DataFrame({"status": "done", "cal_rise": [0.014, 0.015, 0.016, 0.015]})
    assert not evaluate(tight, target, n_boot=300).loc[0, "hit"]
    loose = {"rise": Target(value=0.027, tolerance=0.02, unit="share", source="test")}
    assert evaluate(tight, loose, n_boot=300).loc[0, "hit"]


def test_targets_are_measured_in_their_own_scenario():
    targets = {
        "a": Target(value=0.3, tolerance=0.05, unit="share", source="test"),
        "b": Target(
            value=0.3, tolerance=0.05, unit="share", source="test", scenario="helper_training", role="validate"
        ),
    }
    runs = pd.DataFrame(
        {
            "status": "done",
            "scenario": ["baseline"] * 3 + ["helper_training"] * 3,
            "cal_a": [0.3, 0.31, 0.29, 0.9, 0.9, 0.9],
            "cal_b": [0.9, 0.9, 0.9, 0.3, 0.32, 0.31],
        }
    )
    t = evaluate(runs, targets, n_boot=300).set_index("name")
    assert t.loc["a", "model_mean"] == pytest.approx(0.3) and t.loc["a", "hit"]
    assert t.loc["b", "model_mean"] == pytest.approx(0.31) and t.loc["b", "hit"]
    assert target_scenarios(targets) == ["baseline", "helper_training"]
    t = evaluate(runs[runs["scenario"] == "baseline"], targets, n_boot=300).set_index("name")
    assert not t.loc["b", "evaluated"] and "helper_training" in t.loc["b", "note"]
    # a target that names no scenario is measured in the one the calibration runs
    t = evaluate(runs, targets, n_boot=300, scenario="helper_training").set_index("name")
    assert t.loc["a", "model_mean"] == pytest.approx(0.9) and t.loc["a", "scenario"] == "helper_training"
    assert target_scenarios(targets, "helper_training") == ["helper_training"]


def test_a_held_aside_target_never_enters_the_abc_distance():
    """The validate target would prefer point 3; only the calibrate target decides."""
    plan = load_plan(
        None, design="lhs", samples=4, parameters={"labour.matching_efficiency": {"min": 0.15, "max": 0.25}}
    )
    targets = {
        "near": TARGETS["near"],
        "held": Target(value=0.9, tolerance=0.05, unit="share", source="test", role="validate"),
    }
    runs = pd.DataFrame(
        {
            "status": "done",
            "point": [0, 0, 1, 1, 2, 2, 3, 3],
            "labour.matching_efficiency": [0.15, 0.15, 0.2, 0.2, 0.22, 0.22, 0.25, 0.25],
            "cal_near": [0.1, 0.1, 0.41, 0.39, 0.45, 0.47, 0.6, 0.6],
            "cal_held": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.9],
        }
    )
    table = evaluate(runs, targets, n_boot=200)
    res = abc(runs, plan, table, accept=0.25)
    assert list(res.loc[res["accepted"], "point"]) == [1]
    assert "cal_held" not in res and res["distance"].iloc[0] == pytest.approx(0.0)
    alone = abc(runs, plan, evaluate(runs, {"near": TARGETS["near"]}, n_boot=200), accept=0.25)
    assert list(res["distance"]) == list(alone["distance"])
    # with the same target marked calibrate, it does enter the distance
    both = {**targets, "held": targets["held"].model_copy(update={"role": "calibrate"})}
    assert "cal_held" in abc(runs, plan, evaluate(runs, both, n_boot=200), accept=0.25)


def test_the_report_puts_held_aside_targets_in_their_own_table(tmp_path):
    targets = {
        "near": TARGETS["near"],
        "far": TARGETS["far"],
        "held": Target(value=0.40, tolerance=0.05, unit="share", source="test", role="validate", period="2005"),
        "never": Target(value=0.40, tolerance=0.05, unit="share", source="test", role="validate"),
    }
    runs = pd.DataFrame({"status": "done", "cal_near": [0.42, 0.44], "cal_far": [0.6, 0.61], "cal_held": [0.7, 0.7]})
    table = evaluate(runs, targets, n_boot=200)
    assert summary(table) == (
        "1 of 2 evaluated calibration targets hit; 0 of 1 evaluated held-aside (validation) "
        "targets hit; 1 not evaluated"
    )
    plan = load_plan(None, replicates=2, scale=0.02, design="none", name="calibration")
    _report(tmp_path, plan, table, None, None, 0.1, [], SimpleNamespace(done=2, failed=0))
    report = (tmp_path / "report.md").read_text()
    cal, val = report.split("## Held-aside targets (validation)")
    assert "`near`" in cal and "`far`" in cal and "`held`" not in cal
    assert "`held` | 2005 |" in val and "**miss**" in val and "`never`" in val and "`near`" not in val


def test_an_unknown_role_is_refused(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text('[x]\nvalue = 0.3\ntolerance = 0.03\nunit = "share"\nsource = "test"\nrole = "tune"\n')
    with pytest.raises(ConfigError, match="role must be one of calibrate, validate"):
        load_targets(path)


def test_every_shipped_target_states_its_measure_period_role_and_uncertainty():
    targets = load_targets()
    for name, t in targets.items():
        assert t.measure in CALIBRATION_MEASURES, name
        assert t.period.strip() and t.uncertainty.strip() and REFERENCE_KEY.search(t.source), name
    # the social layer's survey figures: held aside unless a parameter is set from their source
    roles = {n: t.role for n, t in targets.items()}
    assert roles["volunteering_2004"] == roles["belonging_strong_2005"] == "calibrate"
    assert {
        roles[n]
        for n in (
            "volunteering_2007",
            "volunteering_2013",
            "belonging_strong_2008",
            "high_distress_2005",
            "high_distress_2008",
            "trained_helpers_never_reached",
        )
    } == {"validate"}


def test_yearly_shares_need_a_full_year_and_read_the_weekly_shares():
    dates = pd.date_range("2004-01-02", "2008-12-26", freq="7D")
    year = dates.year
    ts = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "population": 100,
            "unemployment_rate": 0.05,
            "participation_rate": np.where(year == 2007, 0.37, 0.30),
            "share_high_distress": np.where(year == 2005, 0.2, 0.1),
            "trained_helpers_reached_share": np.where(year == 2008, 0.6, np.nan),
        }
    )
    m = calibration_measures(ts, pd.DataFrame(), Probes(), scale=1.0)
    assert m["volunteering_2004"] == pytest.approx(0.30) and m["volunteering_2007"] == pytest.approx(0.37)
    assert np.isnan(m["volunteering_2013"])  # not in the run
    assert m["high_distress_2005"] == pytest.approx(0.2) and m["high_distress_2008"] == pytest.approx(0.1)
    assert m["trained_helpers_never_reached"] == pytest.approx(0.4)
    part = calibration_measures(ts[year != 2007], pd.DataFrame(), Probes(), scale=1.0)
    assert np.isnan(part["volunteering_2007"])


def test_strong_belonging_is_the_share_of_present_adults_above_the_middle():
    chunk = {
        "year": np.full(5, 2005, np.int16),
        "age": np.array([40, 40, 40, 40, 10], np.int16),
        "belonging": np.array([0.6, 0.7, 0.4, 0.9, 0.9], np.float32),
        "moved_out": np.array([False, False, False, True, False]),
        "died": np.zeros(5, bool),
    }
    model = SimpleNamespace(panel=[chunk])
    out = belonging_measures(model)
    assert out["belonging_strong_2005"] == pytest.approx(2 / 3)  # the mover and the child are left out
    assert np.isnan(out["belonging_strong_2008"])


@pytest.mark.slow
def test_calibrate_command_with_abc(tmp_path):
    (tmp_path / "abc.toml").write_text(
        '[sweep]\ndesign = "lhs"\nsamples = 3\nreplicates = 1\nscale = 0.02\nstart = "2005-01"\nend = "2006-12"\n'
        '[parameters]\n"labour.matching_efficiency" = { min = 0.15, max = 0.27 }\n'
    )
    out = tmp_path / "cal"
    res = invoke(
        "calibrate",
        "--scale",
        "0.02",
        "--replicates",
        "2",
        "--start",
        "2003-01",
        "--end",
        "2006-12",
        "--abc",
        str(tmp_path / "abc.toml"),
        "--accept",
        "0.34",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(out),
    )
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
    (tmp_path / "abc.toml").write_text(
        '[sweep]\ndesign = "lhs"\n[parameters]\n"ei.replacement_rate" = { min = 0.5, max = 0.6 }\n'
    )
    res = invoke("calibrate", "--abc", str(tmp_path / "abc.toml"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 2 and "published source" in res.stderr, res.stderr
    assert len([x for x in res.stderr.splitlines() if x.strip()]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.toml"]
