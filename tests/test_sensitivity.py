"""Sensitivity analysis: SALib's sample order is kept from the design to the indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.design import load_plan
from experiments.sensitivity import analyse_sobol, point_means, run_sensitivity, select

PARAMS = {
    "labour.separation_rate": {"min": 0.003, "max": 0.005},
    "labour.matching_efficiency": {"min": 0.15, "max": 0.27},
}


def sobol_plan(samples=4, **kw):
    return load_plan(
        None,
        design="sobol",
        parameters=PARAMS,
        samples=samples,
        replicates=1,
        seed=5,
        scale=0.02,
        start="2005-01",
        end="2005-12",
        scenarios=["baseline"],
        **kw,
    )


def test_design_points_are_salib_samples_in_order():
    from SALib.sample import sobol

    plan = sobol_plan(samples=8)
    expected = sobol.sample(plan.problem(), 8, calc_second_order=False, seed=5)
    specs = plan.specs()
    assert len(specs) == len(expected) == 8 * 4
    for s in specs:
        params = dict(s.params)
        assert [params[n] for n in plan.problem()["names"]] == pytest.approx(list(expected[s.point]))


def test_indices_use_salib_order_whatever_the_order_of_rows():
    plan = sobol_plan(samples=256)
    X = np.array([[p[n] for n in PARAMS] for p in plan.points()])
    # the outcome depends on the separation rate only: S1 = ST = 1 for it, 0 for the other
    y = 1000 * X[:, 0]
    runs = pd.DataFrame({"point": np.arange(len(X)), "status": "done", "y": y, "replicate": 0})
    shuffled = runs.sample(frac=1, random_state=3)
    mean, _ = point_means(shuffled, "y", len(X))
    np.testing.assert_array_equal(mean, y)
    table, skipped = analyse_sobol(plan, shuffled, ["y"])
    assert not skipped
    t = table.set_index("parameter")
    assert t.loc["labour.separation_rate", "S1"] == pytest.approx(1, abs=0.05)
    assert t.loc["labour.separation_rate", "ST"] == pytest.approx(1, abs=0.05)
    assert abs(t.loc["labour.matching_efficiency", "ST"]) < 0.05
    # a broken order destroys the result: the test can fail
    broken = runs.assign(point=np.random.default_rng(0).permutation(len(X)))
    tb = analyse_sobol(plan, broken, ["y"])[0].set_index("parameter")
    assert tb.loc["labour.separation_rate", "S1"] < 0.8


def test_missing_outcome_is_skipped_not_an_error():
    plan = sobol_plan(samples=4)
    runs = pd.DataFrame({"point": range(16), "status": "done", "y": np.nan, "replicate": 0})
    table, skipped = analyse_sobol(plan, runs, ["y"])
    assert skipped == ["y"] and not len(table)


def test_screening_selects_the_influential_parameters():
    m = pd.DataFrame(
        {
            "outcome": ["u"] * 3 + ["v"] * 3,
            "parameter": ["a", "b", "c"] * 2,
            "mu_star": [10.0, 0.5, 2.0, 0.1, 0.0, 0.05],
        }
    )
    assert select(m, 0.1, 6) == ["a", "c"]
    assert select(m, 0.1, 1) == ["a", "c"]  # at least two go on to Sobol
    assert select(m, 0.01, 6) == ["a", "c", "b"]


def test_sobol_stage_end_to_end(tmp_path):
    from SALib.analyze import sobol

    plan = sobol_plan(samples=4)
    res = run_sensitivity(
        plan,
        tmp_path,
        ["unemployment_rate_mean", "mean_distress_mean"],
        methods="sobol",
        sobol_samples=4,
        workers=1,
        progress=False,
    )
    runs = pd.read_parquet(tmp_path / "sobol" / "runs.parquet")
    from SALib.sample import sobol as sample

    X = sample.sample(plan.problem(), 4, calc_second_order=False, seed=5)
    assert sorted(runs["point"]) == list(range(16))
    for _, r in runs.iterrows():
        assert [r[n] for n in PARAMS] == pytest.approx(list(X[r["point"]]))
    Y = runs.sort_values("point")["unemployment_rate_mean"].to_numpy()
    direct = sobol.analyze(plan.problem(), Y, calc_second_order=False, num_resamples=1000, seed=5)
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    table = table[table["outcome"] == "unemployment_rate_mean"].set_index("parameter")
    for i, name in enumerate(PARAMS):
        assert table.loc[name, "S1"] == pytest.approx(direct["S1"][i])
    assert (tmp_path / "figures" / "sensitivity.png").is_file() and (tmp_path / "report.md").is_file()
    assert res["info"]["sobol"]["points"] == 16
    import json

    mf = json.loads((tmp_path / "manifest.json").read_text())
    for key in ("plan", "git", "packages", "command", "wall_seconds", "status"):
        assert key in mf
