"""cohesion compare: common random numbers, the effects table, figures and report."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from experiments import compare, display
from experiments.compare import EFFECT_COLUMNS, cv_check, effects_table, intervention_periods

from helpers import ROOT, invoke

SMALL = ["--scale", "0.03", "--start", "2005-01", "--end", "2006-12"]
ALT = """[scenario]
description = "Test scenario: more background job losses"

[overrides.labour]
separation_rate = 0.0065
"""


@pytest.fixture(scope="module", autouse=True)
def screen_resolution():
    """Figures at 72 dpi: these tests read what a comparison writes, not the figures'
    resolution (tests/test_figures.py checks the 300 dpi), and a ninth of the pixels
    draws and compresses faster."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(display, "PNG_DPI", 72)
        yield


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


@pytest.fixture(scope="module")
def comparison(configs, tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "out"
    res = invoke(
        "compare",
        *SMALL,
        "--replicates",
        "5",
        "--workers",
        "2",
        "--out",
        str(out),
        "--quiet",
        "--map-years",
        "2005,2006",
        "--bootstrap",
        "500",
        configs=configs,
    )
    assert res.returncode == 0, res.stderr
    return out


def test_files(comparison):
    out = comparison
    for name in (
        "runs.parquet",
        "effects.csv",
        "summary.csv",
        "report.md",
        "manifest.json",
        "design.parquet",
        "figures/series_unemployment_rate.png",
        "figures/forest_difference.png",
        "figures/forest_percent.png",
    ):
        assert (out / name).is_file(), name
    assert not list((out / "figures").glob("forest_cohens_d*")) and not list((out / "figures").glob("forest_vd_a*"))
    assert list((out / "figures").glob("map_*.png"))
    assert list((out / "timeseries").glob("*.parquet"))


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
    d = wide["alt"] - wide["baseline"]
    # a share: the difference in percentage points, and as a percentage of the baseline's mean
    assert row["unit"] == "share" and row["diff_unit"] == "percentage points"
    assert row["diff"] == pytest.approx(100 * d.mean())
    assert row["pct_baseline"] == pytest.approx(100 * d.mean() / wide["baseline"].mean())
    assert row["baseline_mean"] == pytest.approx(wide["baseline"].mean())
    assert row["diff"] > 0  # more separations, more unemployment
    assert row["min_p"] == pytest.approx(2 / 2**5)
    avail = eff[eff["available"]]
    assert (avail["p_holm"] >= avail["wilcoxon_p"] - 1e-12).all()
    # an interval is either not available or strictly around its estimate, never starting at it
    for k, est in (("diff", "diff"), ("pct", "pct_baseline")):
        has = avail[f"{k}_lo"].notna()
        assert (avail.loc[has, f"{k}_ci"].isin(["BCa", "percentile"])).all()
        assert (avail.loc[~has, f"{k}_ci"].isna() | (avail.loc[~has, f"{k}_ci"] == "")).all()
        assert (
            (avail.loc[has, f"{k}_lo"] < avail.loc[has, est]) & (avail.loc[has, est] < avail.loc[has, f"{k}_hi"])
        ).all()
    assert avail["diff_lo"].notna().any() and avail["diff_lo"].isna().any()  # some pairs never differ
    distress = avail[avail["unit"] == "distress score"]
    assert len(distress) and distress["pct_baseline"].isna().all()
    assert (distress["diff_unit"] == "SD of distress between persons").all()
    report = (comparison / "report.md").read_text()
    assert f"{row['diff']:+.2f} points" in report and "[not available]" in report
    assert "alt" in report and "common random numbers" in report
    assert "Cohen" not in report and "Vargha" not in report


def test_effects_csv_has_the_documented_columns(comparison):
    eff = pd.read_csv(comparison / "effects.csv")
    assert list(eff.columns) == EFFECT_COLUMNS
    assert not {"cohens_d", "vd_a", "mean_diff"} & set(eff.columns)
    doc = (ROOT / "docs" / "experiments.md").read_text()
    documented = doc.split("`effects.csv` columns:", 1)[1].split("\n\n", 1)[0]
    for c in EFFECT_COLUMNS:
        assert f"`{c}`" in documented, c


def test_no_clear_claim_the_test_cannot_make(comparison):
    # 5 pairs: the smallest Wilcoxon p is 2/2^5 = 0.0625, so nothing can be clear, even unadjusted
    eff = pd.read_csv(comparison / "effects.csv")
    avail = eff[eff["available"]]
    assert (avail["p_holm"] >= 0.0625).all() and not avail["clear"].any()
    report = (comparison / "report.md").read_text()
    assert f"changed 0 of {len(avail)} outcomes clearly" in report
    assert "2/2^5 = 0.0625" in report and "no change can be called clear" in report.lower()
    assert "(clear)" not in report and "- It raised" not in report and "- It lowered" not in report


def test_the_stability_check_is_reported_with_fixed_replicates(comparison):
    rule = json.loads((comparison / "manifest.json").read_text())["replicate_rule"]
    assert rule["rule"] == "fixed" and rule["checks"][0]["replicates"] == 5
    report = (comparison / "report.md").read_text()
    assert "Stability check of the default rule" in report and "between 4 and 5 replicates" in report


def test_default_outcomes_follow_the_people_affected(comparison):
    from experiments.outcomes import COHESION_COMPONENTS, COHORT_SUMMARIES, KEY_COHORT_OUTCOMES, KEY_OUTCOMES

    runs = pd.read_parquet(comparison / "runs.parquet")
    assert {s.name for s in COHORT_SUMMARIES} <= set(runs.columns)
    assert runs["workers_12m_unmet_need"].between(0, 1).all() and runs["workers_24m_unmet_need"].isna().all()
    eff = pd.read_csv(comparison / "effects.csv")
    alt = eff[eff["scenario"] == "alt"]
    assert (
        list(alt["outcome"]) == list(KEY_OUTCOMES) and KEY_OUTCOMES[: len(KEY_COHORT_OUTCOMES)] == KEY_COHORT_OUTCOMES
    )
    avail = set(alt.loc[alt["available"], "outcome"])
    assert {
        "workers_12m_unmet_need",
        "household_12m_participation",
        "confidants_12m_ever_supported",
        "marginalized_gap_unmet_need",
        "cohesion_index_mean",
    } <= avail
    assert "workers_24m_unmet_need" not in avail  # the 2005 waves' 24 months end after 2006
    row = alt[alt["outcome"] == "workers_12m_unmet_need"].iloc[0]
    assert row["unit"] == "share" and row["label"].startswith("laid-off workers with unmet need")
    report = (comparison / "report.md").read_text()
    for title in (
        "| **The laid-off workers** |",
        "| **Their households' other adults** |",
        "| **Their confidants** |",
        "| **Marginalized residents** |",
        "| **The RCM as a whole** |",
        "## Cohesion index and its components",
    ):
        assert title in report
    components = report.split("## Cohesion index and its components", 1)[1].split("\n## ", 1)[0]
    for o in COHESION_COMPONENTS:
        from experiments.outcomes import SUMMARY_BY_NAME

        assert SUMMARY_BY_NAME[o].label in components


@pytest.mark.slow  # a second comparison's analysis, figures included
def test_rerun_reuses_the_runs(comparison, configs):
    res = invoke(
        "compare",
        *SMALL,
        "--replicates",
        "5",
        "--workers",
        "1",
        "--out",
        str(comparison),
        "--quiet",
        "--bootstrap",
        "500",
        configs=configs,
    )
    assert res.returncode == 0, res.stderr
    assert "10 runs done (10 already done before, 0 run now)" in res.stdout


@pytest.mark.slow  # a comparison of its own, 8-12 runs and the analysis
def test_replicates_chosen_by_the_rule(configs, tmp_path):
    out = tmp_path / "rule"
    res = invoke(
        "compare",
        "--scale",
        "0.02",
        "--start",
        "2005-01",
        "--end",
        "2005-12",
        "--min-replicates",
        "4",
        "--max-replicates",
        "6",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--bootstrap",
        "200",
        "--outcomes",
        "unemployment_rate_mean,mean_distress_mean",
        configs=configs,
    )
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
    runs = pd.DataFrame(
        {
            "scenario": ["baseline"] * 4 + ["alt"] * 4,
            "replicate": list(range(4)) * 2,
            "status": "done",
            "unemployment_rate_mean": [0.1, 0.2, 0.15, 0.12, 0.2, 0.3, 0.2, 0.25],
            "mean_distress_mean": np.nan,
        }
    )
    eff = effects_table(
        runs,
        ["baseline", "alt"],
        "baseline",
        ["unemployment_rate_mean", "mean_distress_mean", "cohesion_index_mean"],
        n_boot=200,
    )
    assert list(eff["available"]) == [True, False, False]
    assert eff.loc[0, "diff"] == pytest.approx(9.5)  # percentage points
    assert np.isnan(eff.loc[1, "diff"]) and np.isnan(eff.loc[1, "p_holm"]) and not eff.loc[1, "clear"]
    assert np.isnan(eff.loc[0, "diff_lo"]) and eff.loc[0, "diff_ci"] == ""  # 4 pairs: no interval


def test_intervention_periods_from_the_configuration():
    from datetime import date

    cfg = {
        "interventions.a.enabled": True,
        "interventions.a.start": "2005-06",
        "interventions.a.end": "2030-01",
        "interventions.b.enabled": False,
        "interventions.b.start": "2005-06",
        "interventions.b.end": "2006-01",
    }
    assert intervention_periods(cfg, date(2003, 1, 1), date(2018, 12, 31)) == [
        ("a", date(2005, 6, 1), date(2018, 12, 31))
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scenarios", "utopia"], "unknown scenario 'utopia'"),
        (["--outcomes", "happiness"], "unknown outcome 'happiness'"),
        (["--replicates", "0"], "Invalid value for '--replicates': 0 is not in the range x>=1"),
        (["--scenarios", "baseline"], "needs at least one scenario besides"),
        pytest.param(
            ["--scheduler", "tcp://127.0.0.1:9", "--replicates", "2", "--scenarios", "alt"],
            "cannot connect to a Dask scheduler",
            marks=pytest.mark.slow,  # waits for the connection to time out
        ),
    ],
)
def test_bad_input(configs, tmp_path, args, message):
    res = invoke("compare", *SMALL, *args, "--out", str(tmp_path / "out"), configs=configs, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert not (tmp_path / "out").exists()


def _synthetic_runs(n: int, outcomes: list[str], effect: float, seed: int = 0) -> pd.DataFrame:
    """Replicate pairs of a baseline and a scenario that raises every outcome by ``effect``."""
    rng = np.random.default_rng(seed)
    base = {o: rng.uniform(0.2, 0.4, n) for o in outcomes}
    rows = [
        {"scenario": "baseline", "replicate": i, "status": "done", **{o: base[o][i] for o in outcomes}}
        for i in range(n)
    ]
    rows += [
        {
            "scenario": "alt",
            "replicate": i,
            "status": "done",
            **{o: base[o][i] + effect + rng.normal(0, effect / 10) for o in outcomes},
        }
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def _report(tmp_path, runs: pd.DataFrame, outcomes: list[str], rule: dict | None = None) -> str:
    from types import SimpleNamespace

    eff = effects_table(runs, ["baseline", "alt"], "baseline", outcomes, n_boot=200)
    summ = compare.summary_table(runs, ["baseline", "alt"], outcomes, n_boot=200)
    plan = SimpleNamespace(scenarios=["baseline", "alt"], seed=0)
    cfg = {"run.scale": 0.02, "run.start": "2005-01", "run.end": "2006-12"}
    mf = {"scenarios": {"baseline": {"config": cfg}, "alt": {"config": cfg}}, "model_version": "test"}
    n = int(runs["replicate"].nunique())
    rule = rule or {"rule": "fixed", "replicates": n, "tolerance": 0.05}
    opts = compare.CompareOptions(replicates=n, outcomes=outcomes)
    path = compare.write_report(tmp_path, plan, opts, rule, runs, eff, summ, [], [], [], None, "", mf)
    return path.read_text()


@pytest.mark.parametrize("pairs, smallest", [(3, "2/2^3 = 0.25"), (6, "2/2^6 = 0.0312")])
def test_the_smallest_attainable_p_is_stated(tmp_path, pairs, smallest):
    outcomes = ["workers_12m_unmet_need", "cohesion_index_mean"]
    report = _report(tmp_path, _synthetic_runs(pairs, outcomes, 0.05), outcomes)
    assert f"With {pairs} pairs and no ties the smallest two-sided p the Wilcoxon test can give is {smallest}" in report
    assert "no change can be called clear" in report.lower()  # 2 comparisons: 2 x 0.031 > 0.05 as well
    assert ("even unadjusted, the test cannot reach 0.05" in report) == (pairs < 6)


def test_a_large_consistent_effect_is_not_clear_when_every_holm_p_is_1(tmp_path):
    # 6 pairs, 32 outcomes, every one raised by 5 points in every pair: the intervals exclude 0
    # (the old rule called all 32 clear) but the smallest Holm-adjusted p is 32 x 2/2^6 = 1
    from experiments.outcomes import KEY_OUTCOMES

    outcomes = list(KEY_OUTCOMES[:32])
    runs = _synthetic_runs(6, outcomes, 0.05)
    eff = effects_table(runs, ["baseline", "alt"], "baseline", outcomes, n_boot=200)
    assert (eff["p_holm"] == 1).all() and not eff["clear"].any()
    assert (eff["diff_lo"] > 0).all()
    report = _report(tmp_path, runs, outcomes)
    assert "changed 0 of 32 outcomes clearly" in report and "that needs at least 11 pairs" in report
    assert "- It raised" not in report and "(clear)" not in report


def test_a_clear_change_needs_a_holm_p_below_005(tmp_path):
    outcomes = ["workers_12m_unmet_need", "cohesion_index_mean"]
    runs = _synthetic_runs(8, outcomes, 0.05)
    report = _report(tmp_path, runs, outcomes)
    assert "changed 2 of 2 outcomes clearly" in report and "- It raised the cohesion index" in report
    assert "+5.0" in report  # the difference in percentage points


def test_the_stability_check_is_reported_with_3_fixed_replicates(tmp_path, monkeypatch):
    from types import SimpleNamespace

    runs = _synthetic_runs(3, ["cohesion_index_mean"], 0.05)

    def fake_sweep(plan, out, **kw):
        out.mkdir(parents=True, exist_ok=True)
        (out / "manifest.json").write_text(json.dumps({"replicate_rule": kw["extra_manifest"]["replicate_rule"]}))
        return SimpleNamespace(runs=runs, interrupted=False)

    monkeypatch.setattr(compare, "run_sweep", fake_sweep)
    monkeypatch.setattr(compare, "analyse", lambda *a, **k: None)
    opts = compare.CompareOptions(replicates=3, outcomes=["cohesion_index_mean"])
    _, rule = compare.run_comparison(SimpleNamespace(), tmp_path / "out", opts, progress=False)
    assert rule["checks"] and rule["checks"][0]["compared_with"] == 2 and rule["checks"][0]["replicates"] == 3
    text = compare.stability_text(rule)
    assert "Stability check of the default rule" in text and "between 2 and 3 replicates" in text
    assert "not possible" in compare.stability_text({"rule": "fixed", "replicates": 2, "tolerance": 0.05})
