"""Robustness of the conclusions: paired differences, share where a conclusion holds, PRIM,
the command's refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.design import load_plan
from experiments.robustness import (
    default_effects,
    flip_box,
    key,
    paired_differences,
    pairs_of,
    run_robustness,
    share_holds,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "services.referral_friction": {"min": 0.3, "max": 0.7},
    "interventions.support_committee.outreach_knowledge_rate": {"min": 0.005, "max": 0.02},
    "support.help_probability": {"min": 0.3, "max": 0.6},
}


def test_pairs_are_the_baseline_and_the_withdrawal_counterfactual():
    assert pairs_of(["baseline", "support_committee"]) == [("support_committee", "baseline")]
    assert pairs_of(["baseline", "no_withdrawal", "withdrawal_2015"]) == [
        ("no_withdrawal", "baseline"),
        ("withdrawal_2015", "baseline"),
        ("withdrawal_2015", "no_withdrawal"),
    ]
    assert pairs_of(["no_withdrawal", "withdrawal_2015"]) == [("withdrawal_2015", "no_withdrawal")]
    assert pairs_of(["support_committee"]) == []


def test_differences_are_paired_by_design_point_and_seed():
    # outcome = 10 * point + replicate + 100 if the scenario is "s": the paired difference is
    # exactly 100 everywhere; any mix of points or seeds would break it
    rows = [
        {
            "run_id": f"{p}{sc}{r}",
            "point": p,
            "scenario": sc,
            "replicate": r,
            "status": "done",
            "y": 10 * p + r + (100 if sc == "s" else 0),
        }
        for p in range(4)
        for sc in ("baseline", "s")
        for r in range(3)
    ]
    runs = pd.DataFrame(rows).sample(frac=1, random_state=1)  # order does not matter
    runs.loc[(runs["point"] == 2) & (runs["scenario"] == "s") & (runs["replicate"] == 1), "status"] = "failed"
    d = paired_differences(runs, [("s", "baseline")], ["y"])
    k = key("s", "baseline", "y")
    assert len(d) == 12 and list(d[["point", "replicate"]].itertuples(index=False, name=None)) == [
        (p, r) for p in range(4) for r in range(3)
    ]
    failed = (d["point"] == 2) & (d["replicate"] == 1)
    assert d.loc[failed, k].isna().all()
    assert (d.loc[~failed, k] == 100).all()


def test_share_holds_on_a_synthetic_table():
    defaults = pd.DataFrame(
        {"conclusion": ["up", "down", "none"], "default_sign": [1, -1, 0], "noise_sd": [0.5, 0.0, 0.1]}
    )
    points = pd.DataFrame(
        {
            "up": [2.0, 1.0, -0.2, -3.0, np.nan],  # holds 2/4; flips clearly (< -1) 1/4
            "down": [-1.0, -2.0, -3.0, 4.0, 0.0],  # holds 3/5; flips 1/5
            "none": [0.0, 0.0, 1.0, 0.0, 0.0],
        }
    )  # zero holds 4/5
    t = share_holds(points, defaults).set_index("conclusion")
    assert t.loc["up", "share_holds"] == pytest.approx(0.5) and t.loc["up", "points"] == 4
    assert t.loc["up", "share_flips_clearly"] == pytest.approx(0.25)
    assert t.loc["down", "share_holds"] == pytest.approx(0.6)
    assert t.loc["down", "share_flips_clearly"] == pytest.approx(0.2)
    assert t.loc["none", "share_holds"] == pytest.approx(0.8)
    assert np.isnan(t.loc["none", "share_flips_clearly"])


def test_default_effects_sign_and_clearness():
    d = pd.DataFrame({"a": [1.0, 1.1, 0.9, 1.0], "b": [1.0, -1.0, 0.5, -0.6], "c": [0.0] * 4})
    t = default_effects(d, ["a", "b", "c"]).set_index("conclusion")
    assert t.loc["a", "default_sign"] == 1 and t.loc["a", "default_clear"]
    assert not t.loc["b", "default_clear"]
    assert t.loc["c", "default_sign"] == 0 and not t.loc["c", "default_clear"]


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.uniform(0, 1, size=(600, 4)), columns=["a", "b", "c", "d"])
    flipped = ((X["a"] > 0.7) & (X["c"] < 0.4)).to_numpy()
    b = flip_box(X, flipped)
    assert b is not None and set(b["limits"]) == {"a", "c"}
    assert b["limits"]["a"][0] == pytest.approx(0.7, abs=0.06) and b["limits"]["c"][1] == pytest.approx(0.4, abs=0.06)
    assert b["density"] > 0.8 and b["coverage"] > 0.7
    assert flip_box(X, np.zeros(600, bool)) is None


def test_the_design_file_explores_every_range_of_the_social_file():
    social = load_plan(ROOT / "configs" / "sweeps" / "social.toml", design="morris", samples=2)
    plan = load_plan(ROOT / "configs" / "sweeps" / "robustness.toml")
    for name, rng in social.parameters.items():
        assert plan.parameters.get(name) == rng, name
    assert len(plan.parameters) > len(social.parameters)
    assert len(pairs_of(plan.scenarios)) >= 4


@pytest.mark.parametrize(
    "args",
    [
        ["--trajectories", "1"],
        ["--sobol-samples", "6"],
        ["--outcomes", "no_such_outcome"],
        ["--threshold", "2"],
        ["--default-replicates", "1"],
        ["--scale", "-1"],
        ["no_such_file.toml"],
    ],
)
def test_the_command_refuses_bad_input_in_one_line(tmp_path, capsys, args):
    out = tmp_path / "out"
    spec = [] if args[0].endswith(".toml") else [str(ROOT / "configs" / "sweeps" / "robustness.toml")]
    code = main(["robustness", *spec, *args, "--out", str(out), "--workers", "1", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and "\n" not in err
    assert not out.exists()


def test_the_command_refuses_a_file_without_a_reference(tmp_path, capsys):
    spec = tmp_path / "one.toml"
    spec.write_text(
        '[sweep]\nscenarios = ["support_committee"]\nscale = 0.02\n[parameters]\n'
        '"services.referral_friction" = { min = 0.3, max = 0.7 }\n'
        '"support.help_probability" = { min = 0.3, max = 0.6 }\n'
    )
    out = tmp_path / "out"
    code = main(["robustness", str(spec), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "baseline" in err and "\n" not in err
    assert not out.exists()


@pytest.mark.slow
def test_end_to_end_tiny(tmp_path):
    plan = load_plan(
        None,
        design="morris",
        parameters=TINY,
        samples=2,
        replicates=1,
        seed=7,
        scale=0.02,
        start="2005-01",
        end="2006-12",
        scenarios=["baseline", "support_committee"],
    )
    res = run_robustness(
        plan,
        tmp_path,
        ["workers_12m_ever_served", "cohesion_index_mean"],
        trajectories=2,
        sobol_samples=2,
        default_replicates=2,
        workers=1,
        progress=False,
    )
    # the differences of the Morris stage are those of the runs, point by point and seed by seed
    runs = pd.read_parquet(tmp_path / "morris" / "runs.parquet")
    wide = runs.pivot_table(index=["point", "replicate"], columns="scenario", values="cohesion_index_mean")
    d = pd.read_parquet(tmp_path / "differences_morris.parquet").set_index(["point", "replicate"])
    k = key("support_committee", "baseline", "cohesion_index_mean")
    np.testing.assert_allclose(d[k].to_numpy(), (wide["support_committee"] - wide["baseline"]).reindex(d.index))
    assert len(d) == 2 * (len(TINY) + 1)
    t = pd.read_csv(tmp_path / "robustness.csv")
    assert set(t["conclusion"]) == {k, key("support_committee", "baseline", "workers_12m_ever_served")}
    assert t["share_holds"].between(0, 1).all()
    for f in ("report.md", "indices.csv", "figures/robustness.png", "manifest.json"):
        assert (tmp_path / f).is_file(), f
    assert res["info"]["sobol"]["points"] == 2 * (len(res["info"]["sobol"]["parameters"]) + 2)
