"""cohesion compare: common random numbers, the effects table, figures and report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import stats
from experiments.compare import cv_check, effects_table, intervention_periods

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--scale", "0.03", "--start", "2005-01", "--end", "2006-12"]
ALT = """[scenario]
description = "Test scenario: more background job losses"

[overrides.labour]
separation_rate = 0.0065
"""


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    """A copy of configs/ with a test scenario beside the baseline."""
    d = tmp_path_factory.mktemp("cfg") / "configs"
    shutil.copytree(ROOT / "configs", d)
    for p in (d / "scenarios").glob("*.toml"):
        if p.stem != "baseline":
            p.unlink()
    (d / "scenarios" / "alt.toml").write_text(ALT)
    return d


def cohesion(*args, configs=None, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if configs is not None:
        env["COHESION_CONFIG_DIR"] = str(configs)
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=900, env=env)


@pytest.fixture(scope="module")
def comparison(configs, tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "out"
    res = cohesion("compare", *SMALL, "--replicates", "5", "--workers", "2", "--out", str(out), "--quiet",
                   "--map-years", "2005,2006", "--bootstrap", "500", configs=configs)
    assert res.returncode == 0, res.stderr
    return out


def test_files(comparison):
    out = comparison
    for name in ("runs.parquet", "effects.csv", "summary.csv", "report.md", "manifest.json", "design.parquet",
                 "figures/series_unemployment_rate.png", "figures/forest_cohens_d.png"):
        assert (out / name).is_file(), name
    assert list((out / "figures").glob("map_*.png"))
    assert list((out / "timeseries").glob("part-*.parquet"))


def test_common_random_numbers(comparison):
    runs = pd.read_parquet(comparison / "runs.parquet")
    assert sorted(runs["scenario"].unique()) == ["alt", "baseline"]
    seeds = runs.pivot(index="replicate", columns="scenario", values="seed")
    assert len(seeds) == 5 and (seeds["alt"] == seeds["baseline"]).all()
    assert seeds["baseline"].is_unique
    mf = json.loads((comparison / "manifest.json").read_text())
    assert mf["replicate_rule"]["rule"] == "fixed" and mf["replicate_rule"]["replicates"] == 5
    assert mf["scenarios"]["alt"]["config"]["labour.separation_rate"] == 0.0065


def test_effects_agree_with_the_runs(comparison):
    runs = pd.read_parquet(comparison / "runs.parquet")
    eff = pd.read_csv(comparison / "effects.csv")
    row = eff[(eff["scenario"] == "alt") & (eff["outcome"] == "unemployment_rate_mean")].iloc[0]
    assert row["available"]
    wide = runs.pivot(index="replicate", columns="scenario", values="unemployment_rate_mean")
    assert row["mean_diff"] == pytest.approx((wide["alt"] - wide["baseline"]).mean())
    assert row["cohens_d"] == pytest.approx(stats.cohens_d(wide["baseline"], wide["alt"]))
    assert row["vd_a"] == pytest.approx(stats.vargha_delaney_a(wide["baseline"], wide["alt"]))
    assert row["mean_diff_lo"] <= row["mean_diff"] <= row["mean_diff_hi"]
    assert row["mean_diff"] > 0  # more separations, more unemployment
    avail = eff[eff["available"]]
    assert (avail["p_holm"] >= avail["wilcoxon_p"] - 1e-12).all()
    report = (comparison / "report.md").read_text()
    assert f"{100 * row['mean_diff']:+.2f} points" in report
    assert "alt" in report and "common random numbers" in report


def test_default_outcomes_follow_the_people_affected(comparison):
    from experiments.outcomes import COHESION_COMPONENTS, COHORT_SUMMARIES, KEY_COHORT_OUTCOMES, KEY_OUTCOMES

    runs = pd.read_parquet(comparison / "runs.parquet")
    assert {s.name for s in COHORT_SUMMARIES} <= set(runs.columns)
    assert runs["workers_12m_unmet_need"].between(0, 1).all() and runs["workers_24m_unmet_need"].isna().all()
    eff = pd.read_csv(comparison / "effects.csv")
    alt = eff[eff["scenario"] == "alt"]
    assert list(alt["outcome"]) == list(KEY_OUTCOMES) and KEY_OUTCOMES[:len(KEY_COHORT_OUTCOMES)] == KEY_COHORT_OUTCOMES
    avail = set(alt.loc[alt["available"], "outcome"])
    assert {"workers_12m_unmet_need", "household_12m_participation", "confidants_12m_ever_supported",
            "marginalized_gap_unmet_need", "cohesion_index_mean"} <= avail
    assert "workers_24m_unmet_need" not in avail  # the 2005 waves' 24 months end after 2006
    row = alt[alt["outcome"] == "workers_12m_unmet_need"].iloc[0]
    assert row["unit"] == "share" and row["label"].startswith("laid-off workers with unmet need")
    report = (comparison / "report.md").read_text()
    for title in ("**The laid-off workers.**", "**Their households' other adults.**", "**Their confidants.**",
                  "**Marginalized residents.**", "**The RCM as a whole.**", "## Cohesion index and its components"):
        assert title in report
    components = report.split("## Cohesion index and its components", 1)[1].split("\n## ", 1)[0]
    for o in COHESION_COMPONENTS:
        from experiments.outcomes import SUMMARY_BY_NAME
        assert SUMMARY_BY_NAME[o].label in components


def test_rerun_reuses_the_runs(comparison, configs):
    res = cohesion("compare", *SMALL, "--replicates", "5", "--workers", "1", "--out", str(comparison), "--quiet",
                   "--bootstrap", "500", configs=configs)
    assert res.returncode == 0, res.stderr
    assert "10 runs done (10 already done before, 0 run now)" in res.stdout


def test_replicates_chosen_by_the_rule(configs, tmp_path):
    out = tmp_path / "rule"
    res = cohesion("compare", "--scale", "0.02", "--start", "2005-01", "--end", "2005-12", "--min-replicates", "4",
                   "--max-replicates", "6", "--workers", "2", "--out", str(out), "--quiet", "--bootstrap", "200",
                   "--outcomes", "unemployment_rate_mean,mean_distress_mean", configs=configs)
    assert res.returncode == 0, res.stderr
    rule = json.loads((out / "manifest.json").read_text())["replicate_rule"]
    assert rule["rule"] == "cv_stability" and rule["checks"]
    n = rule["replicates"]
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * n and n in (4, 6)
    assert (n == 4) == rule["checks"][0]["stable"]
    assert "Chosen by coefficient-of-variation stability" in (out / "report.md").read_text()


def test_cv_check():
    rng = np.random.default_rng(0)
    x = rng.normal(10, 1, 40)
    runs = pd.DataFrame({"scenario": "s", "replicate": range(40), "status": "done", "y": x, "z": np.nan})
    assert cv_check(runs, ["y", "z"], 40, 0.05)["stable"]
    jumpy = runs.assign(y=np.r_[np.full(35, 10.0) + rng.normal(0, 0.01, 35), [20, 0, 20, 0, 20]])
    check = cv_check(jumpy, ["y"], 40, 0.05)
    assert not check["stable"] and check["where"] == "y in s"


def test_an_outcome_without_values_is_not_available():
    runs = pd.DataFrame({"scenario": ["baseline"] * 4 + ["alt"] * 4, "replicate": list(range(4)) * 2,
                         "status": "done", "unemployment_rate_mean": [0.1, 0.2, 0.15, 0.12, 0.2, 0.3, 0.2, 0.25],
                         "mean_distress_mean": np.nan})
    eff = effects_table(runs, ["baseline", "alt"], "baseline", ["unemployment_rate_mean", "mean_distress_mean",
                                                                "cohesion_index_mean"], n_boot=200)
    assert list(eff["available"]) == [True, False, False]
    assert eff.loc[0, "mean_diff"] == pytest.approx(0.095)
    assert np.isnan(eff.loc[1, "cohens_d"]) and np.isnan(eff.loc[1, "p_holm"])


def test_intervention_periods_from_the_configuration():
    from datetime import date

    cfg = {"interventions.a.enabled": True, "interventions.a.start": "2005-06", "interventions.a.end": "2030-01",
           "interventions.b.enabled": False, "interventions.b.start": "2005-06", "interventions.b.end": "2006-01"}
    assert intervention_periods(cfg, date(2003, 1, 1), date(2018, 12, 31)) == [
        ("a", date(2005, 6, 1), date(2018, 12, 31))]


@pytest.mark.parametrize("args, message", [
    (["--scenarios", "utopia"], "unknown scenario 'utopia'"),
    (["--outcomes", "happiness"], "unknown outcome 'happiness'"),
    (["--replicates", "0"], "--replicates must be a whole number >= 1"),
    (["--scenarios", "baseline"], "needs at least one scenario besides"),
    (["--scheduler", "tcp://127.0.0.1:9", "--replicates", "2", "--scenarios", "alt"], "cannot connect to a Dask scheduler"),
])
def test_bad_input(configs, tmp_path, args, message):
    res = cohesion("compare", *SMALL, *args, "--out", str(tmp_path / "out"), configs=configs, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert not (tmp_path / "out").exists()
