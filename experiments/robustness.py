"""Robustness of the conclusions: global sensitivity of the scenario *differences*.

A headline conclusion is the sign of a scenario's effect on an outcome at the default
parameters: the scenario minus its reference (the baseline; for ``withdrawal_2015``, its
counterfactual ``no_withdrawal``, see :data:`COUNTERFACTUALS`), paired by seed. This module
asks how far each conclusion survives the plausible ranges of the assumptions (a sweep
file's ``[parameters]``, default ``configs/sweeps/robustness.toml``):

1. **Defaults.** Every scenario at the defaults, ``default_replicates`` paired seeds: the
   effect at the defaults, its sign, and the replicate noise of one pair's difference.
2. **Morris.** ``trajectories`` elementary-effect trajectories over every parameter; each
   point runs every scenario with the same seeds (common random numbers), so the
   difference is computed per design point and replicate before anything is averaged.
   mu* and sigma (SALib) of each difference, in the outcome's unit.
3. **Sobol.** S1 and ST (SALib, Saltelli's scheme) of each difference for the parameters
   whose mu* reaches ``threshold`` times the largest mu* of a conclusion clear at the
   defaults (at most ``top``); the others stay at their defaults.

For each conclusion, the share of the Morris points (which vary every parameter over its
range) where the difference has the sign it has at the defaults (``share_holds``), and
the share where it has the other sign by more than twice one pair's replicate noise
(``share_flips_clearly``). Where it flips, PRIM (EMA Workbench's
``ema_workbench.analysis.prim``) finds the box of parameter values where the flips
concentrate.
"""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from model.config import ConfigError

from . import provenance
from .design import SweepPlan
from .sensitivity import analyse_morris, analyse_sobol, design_matrix, point_means, run_stage, select
from .sweep import read_table

REFERENCE = "baseline"
COUNTERFACTUALS = {"withdrawal_2015": "no_withdrawal"}
"""Scenarios compared with a counterfactual other than the baseline (when both are run)."""

LATE_FROM = "2017-01-01"
LATE_OUTCOMES = {"participation_rate_from2017": "participation_rate", "cohesion_index_from2017": "cohesion_index"}
"""Outcomes of the years after the withdrawal: the weekly column's mean from LATE_FROM to
the end of the run (NaN if the run ends before)."""

ROBUSTNESS_OUTCOMES = (
    "workers_12m_ever_served",
    "workers_12m_unmet_need",
    "workers_12m_distress",
    "workers_12m_employed",
    "workers_12m_participation",
    "household_12m_participation",
    "marginalized_participation",
    "cohesion_index_mean",
    "participation_rate_from2017",
    "cohesion_index_from2017",
)
SEP = " : "  # between a pair and an outcome in a conclusion's key


def pairs_of(scenarios: list[str]) -> list[tuple[str, str]]:
    """(scenario, reference) of every conclusion the scenarios allow: each scenario against
    the baseline, and a scenario of :data:`COUNTERFACTUALS` against its counterfactual."""
    out = [(s, REFERENCE) for s in scenarios if s != REFERENCE] if REFERENCE in scenarios else []
    out += [(s, c) for s, c in COUNTERFACTUALS.items() if s in scenarios and c in scenarios]
    return out


def key(scenario: str, reference: str, outcome: str) -> str:
    return f"{scenario} - {reference}{SEP}{outcome}"


def add_late_outcomes(runs: pd.DataFrame, sweep_dir: Path, since: str = LATE_FROM) -> pd.DataFrame:
    """``runs`` with the :data:`LATE_OUTCOMES` computed from the sweep's weekly series."""
    runs = runs.copy()
    for name in LATE_OUTCOMES:
        runs[name] = np.nan
    ts = read_table(sweep_dir, "timeseries", columns=["date", *LATE_OUTCOMES.values()])
    if not len(ts):
        return runs
    late = ts[pd.to_datetime(ts["date"]) >= pd.Timestamp(since)]
    if not len(late):
        return runs
    means = late.groupby("run_id")[list(LATE_OUTCOMES.values())].mean()
    for name, column in LATE_OUTCOMES.items():
        if column in means:
            runs[name] = runs["run_id"].map(means[column]).astype(float)
    return runs


def paired_differences(runs: pd.DataFrame, pairs: list[tuple[str, str]], outcomes: list[str]) -> pd.DataFrame:
    """One row per design point and replicate (seed); one column per conclusion
    (:func:`key`): the scenario's outcome minus its reference's, from the two runs with the
    same point and seed. NaN where either run is missing or failed."""
    done = runs[runs["status"] == "done"]
    index = pd.MultiIndex.from_frame(runs[["point", "replicate"]].drop_duplicates().sort_values(["point", "replicate"]))
    cols = {}
    for o in outcomes:
        wide = done.pivot_table(
            index=["point", "replicate"], columns="scenario", values=o, aggfunc="first", dropna=False
        ).reindex(index)
        for s, r in pairs:
            a = wide[s] if s in wide else np.nan
            b = wide[r] if r in wide else np.nan
            cols[key(s, r, o)] = a - b
    out = pd.DataFrame(cols, index=index).reset_index()
    out["status"] = "done"
    return out


def default_effects(diffs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The effect at the defaults (mean over replicate pairs), its sign, and one pair's
    replicate noise (sd of the difference over pairs). ``clear``: the mean is more than two
    standard errors from 0 (too few pairs or no spread: decided by the sign alone)."""
    rows = []
    for k in keys:
        x = diffs[k].to_numpy(float)
        x = x[np.isfinite(x)]
        n = len(x)
        mean = float(x.mean()) if n else np.nan
        sd = float(x.std(ddof=1)) if n > 1 else np.nan
        se = sd / np.sqrt(n) if n > 1 else np.nan
        clear = bool(n and mean != 0 and (not np.isfinite(se) or se == 0 or abs(mean) > 2 * se))
        rows.append(
            {
                "conclusion": k,
                "default_effect": mean,
                "default_sign": int(np.sign(mean)) if n else 0,
                "noise_sd": sd,
                "default_pairs": n,
                "default_clear": clear,
            }
        )
    return pd.DataFrame(rows)


def share_holds(point_diffs: pd.DataFrame, defaults: pd.DataFrame) -> pd.DataFrame:
    """For each conclusion of ``defaults`` (columns conclusion, default_sign, noise_sd), over
    the rows of ``point_diffs`` (one per design point, a column per conclusion): the share
    of points where the difference has the default's sign (``share_holds``; a zero
    difference holds only where the default is zero), where it has the other sign by more
    than twice one pair's noise (``share_flips_clearly``), and the points counted."""
    rows = []
    for r in defaults.itertuples():
        x = point_diffs[r.conclusion].to_numpy(float)
        x = x[np.isfinite(x)]
        n = len(x)
        sign = np.sign(x)
        holds = float((sign == r.default_sign).mean()) if n else np.nan
        noise = r.noise_sd if np.isfinite(r.noise_sd) else 0.0
        flips = float(((sign == -r.default_sign) & (np.abs(x) > 2 * noise)).mean()) if n and r.default_sign else np.nan
        rows.append(
            {
                "conclusion": r.conclusion,
                "points": n,
                "share_holds": holds,
                "share_flips_clearly": flips,
                "min": float(x.min()) if n else np.nan,
                "median": float(np.median(x)) if n else np.nan,
                "max": float(x.max()) if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def flip_box(X: pd.DataFrame, flipped: np.ndarray, *, mass_min: float = 0.05, peel_alpha: float = 0.1) -> dict | None:
    """PRIM (EMA Workbench) on the points where a conclusion flips (``flipped`` True): the
    box of the peeling trajectory that best balances coverage (share of the flips inside)
    and density (share of the points inside that flip), by their harmonic mean; its
    statistics and its limits on the parameters it restricts. None when nothing flips or
    everything does."""
    flipped = np.asarray(flipped, bool)
    if flipped.sum() == 0 or flipped.all() or len(flipped) != len(X):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA Workbench warns at import that ipyparallel is not installed
        from ema_workbench.analysis import prim

        p = prim.Prim(
            X.reset_index(drop=True).astype(float), flipped.astype(int), peel_alpha=peel_alpha, mass_min=mass_min
        )
        box = p.find_box()
    if box is None:
        return None
    traj = box.peeling_trajectory
    f1 = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"])
    i = int(f1.astype(float).idxmax())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats, lims = box.inspect(i, style="data")[0]
    limits = {}
    for name in lims.index:
        lo, hi = lims.loc[name].iloc[0], lims.loc[name].iloc[1]
        limits[str(name)] = (float(lo), float(hi))
    return {
        "coverage": float(stats["coverage"]),
        "density": float(stats["density"]),
        "mass": float(stats["mass"]),
        "base_rate": float(flipped.mean()),
        "limits": limits,
    }


def describe_box(b: dict | None, ranges: dict | None = None) -> str:
    if not b:
        return ""
    parts = []
    for name, (lo, hi) in b["limits"].items():
        full = ranges.get(name) if ranges else None
        if full and np.isclose(lo, full["min"]):
            parts.append(f"{name} <= {hi:.3g}")
        elif full and np.isclose(hi, full["max"]):
            parts.append(f"{name} >= {lo:.3g}")
        else:
            parts.append(f"{lo:.3g} <= {name} <= {hi:.3g}")
    return " and ".join(parts) or "(no restriction)"


# -- the whole analysis ------------------------------------------------------------------
def check_plan(plan: SweepPlan, outcomes: list[str]) -> list[tuple[str, str]]:
    pairs = pairs_of(plan.scenarios)
    if not pairs:
        raise ConfigError(
            f"{plan.source}: a robustness analysis needs the baseline and at least one other scenario "
            f"(or withdrawal_2015 with no_withdrawal), got {', '.join(plan.scenarios)}"
        )
    if len(plan.parameters) < 2:
        raise ConfigError(f"{plan.source}: a robustness analysis needs at least two parameter ranges in [parameters]")
    if not outcomes:
        raise ConfigError("--outcomes: no outcome given")
    return pairs


def _differences(res, sweep_dir: Path, pairs: list[tuple[str, str]], outcomes: list[str]) -> pd.DataFrame:
    """The :func:`paired_differences` of a stage's runs, late outcomes included."""
    return paired_differences(add_late_outcomes(res.runs, sweep_dir), pairs, outcomes)


def run_robustness(
    plan: SweepPlan,
    out: Path,
    outcomes: list[str],
    *,
    trajectories: int,
    levels: int = 4,
    sobol_samples: int = 8,
    top: int = 4,
    threshold: float = 0.1,
    default_replicates: int = 4,
    methods: str = "both",
    workers: int = 1,
    scheduler: str | None = None,
    retries: int = 0,
    progress: bool = True,
) -> dict:
    started = time.time()
    out = Path(out)
    pairs = check_plan(plan, outcomes)
    keys = [key(s, r, o) for s, r in pairs for o in outcomes]
    engine = dict(workers=workers, scheduler=scheduler, retries=retries, progress=progress)
    info, timings = {}, {}

    # 1. defaults
    t0 = time.time()
    _, res = run_stage(
        plan, out, "robustness", "defaults", engine, design="none", parameters={}, replicates=default_replicates
    )
    if res.interrupted:
        return {"interrupted": True, "result": res}
    ddiff = _differences(res, out / "defaults", pairs, outcomes)
    defaults = default_effects(ddiff, keys)
    info["defaults"] = {"replicates": default_replicates, "runs": res.planned, "failed": res.failed}
    timings["defaults"] = round(time.time() - t0, 1)

    # 2. Morris over every range
    t0 = time.time()
    pm, res = run_stage(plan, out, "robustness", "morris", engine, design="morris", samples=trajectories, levels=levels)
    if res.interrupted:
        return {"interrupted": True, "result": res}
    mdiff = _differences(res, out / "morris", pairs, outcomes)
    mdiff.to_parquet(out / "differences_morris.parquet", index=False)
    n_m = len(pm.points())
    morris_table, skipped_m = analyse_morris(pm, mdiff, keys)
    X = pd.DataFrame(design_matrix(pm), columns=list(pm.parameters))
    point_diff = pd.DataFrame({k: point_means(mdiff, k, n_m)[0] for k in keys})
    info["morris"] = {
        "trajectories": trajectories,
        "levels": levels,
        "points": n_m,
        "runs": res.planned,
        "failed": res.failed,
    }
    timings["morris"] = round(time.time() - t0, 1)

    # share of the space where each conclusion holds, and PRIM where it flips
    shares = share_holds(point_diff, defaults)
    table = defaults.merge(shares, on="conclusion")
    table.insert(0, "outcome", [k.split(SEP)[1] for k in table["conclusion"]])
    table.insert(0, "pair", [k.split(SEP)[0] for k in table["conclusion"]])
    boxes = []
    for r in table.itertuples():
        x = point_diff[r.conclusion].to_numpy(float)
        ok = np.isfinite(x)
        if not r.default_sign or ok.sum() < 10:
            boxes.append(None)
            continue
        flipped = np.sign(x[ok]) == -r.default_sign
        boxes.append(flip_box(X[ok], flipped))
    table["prim_box"] = [describe_box(b, plan.parameters) for b in boxes]
    table["prim_coverage"] = [b["coverage"] if b else np.nan for b in boxes]
    table["prim_density"] = [b["density"] if b else np.nan for b in boxes]
    table["prim_mass"] = [b["mass"] if b else np.nan for b in boxes]

    # 3. Sobol on the influential parameters of the clear conclusions
    sobol_table = pd.DataFrame()
    if methods == "both":
        t0 = time.time()
        clear = set(table.loc[table["default_clear"], "conclusion"])
        basis = morris_table[morris_table["outcome"].isin(clear)] if len(morris_table) else morris_table
        chosen = select(basis if len(basis) else morris_table, threshold, top)
        ps, res = run_stage(
            plan,
            out,
            "robustness",
            "sobol",
            engine,
            design="sobol",
            samples=sobol_samples,
            second_order=False,
            parameters={k: v for k, v in plan.parameters.items() if k in chosen},
        )
        if res.interrupted:
            return {"interrupted": True, "result": res}
        sdiff = _differences(res, out / "sobol", pairs, outcomes)
        sdiff.to_parquet(out / "differences_sobol.parquet", index=False)
        sobol_table, _ = analyse_sobol(ps, sdiff, [k for k in keys if k in clear])
        info["sobol"] = {
            "samples": sobol_samples,
            "parameters": chosen,
            "points": len(ps.points()),
            "runs": res.planned,
            "failed": res.failed,
        }
        timings["sobol"] = round(time.time() - t0, 1)

    indices = pd.concat([t for t in (morris_table, sobol_table) if len(t)], ignore_index=True)
    indices = indices.rename(columns={"outcome": "conclusion"})
    indices = indices.reindex(
        columns=[
            "method",
            "conclusion",
            "parameter",
            "mu",
            "mu_star",
            "mu_star_conf",
            "sigma",
            "S1",
            "S1_conf",
            "ST",
            "ST_conf",
        ]
    )
    top_param = {}
    for k, sub in indices[indices["method"] == "morris"].groupby("conclusion"):
        s = sub.sort_values("mu_star", ascending=False)
        top_param[k] = ", ".join(f"{p} ({m:.3g})" for p, m in zip(s["parameter"][:3], s["mu_star"][:3]))
    table["morris_top"] = table["conclusion"].map(top_param).fillna("")
    table.to_csv(out / "robustness.csv", index=False)
    indices.to_csv(out / "indices.csv", index=False)
    (out / "figures").mkdir(exist_ok=True)
    from .figures import robustness_grid

    robustness_grid(table, out / "figures" / "robustness.png")
    wall = round(time.time() - started, 1)
    _report(out, plan, pairs, outcomes, table, indices, info, timings, wall)
    provenance.write_manifest(
        out,
        {
            "schema_version": "1.0",
            "kind": "robustness",
            "plan": plan.to_dict(),
            "pairs": pairs,
            "outcomes": outcomes,
            "stages": info,
            "stage_seconds": timings,
            "packages": provenance.package_versions(),
            "git": provenance.git_state(),
            "command": provenance.command_line(),
            "status": "done",
            "started_utc": datetime.fromtimestamp(started, UTC).isoformat(),
            "wall_seconds": wall,
            "files": [
                "robustness.csv",
                "indices.csv",
                "differences_morris.parquet",
                "differences_sobol.parquet",
                "report.md",
                "figures/robustness.png",
                "defaults/",
                "morris/",
                "sobol/",
            ],
        },
    )
    return {"interrupted": False, "table": table, "indices": indices, "info": info, "wall_seconds": wall}


def _fmt(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:+.3g}"


def _report(out, plan, pairs, outcomes, table, indices, info, timings, wall) -> None:
    lines = [
        f"# Robustness of the conclusions: {plan.name}",
        "",
        f"Scenario differences (scenario minus reference, paired by seed: common random numbers at every "
        f"design point) over {len(plan.parameters)} assumption ranges of `{plan.source}`. Scale "
        f"{plan.scale:g}, {plan.start or 'default start'} to {plan.end or 'default end'}, root seed {plan.seed}. "
        f"Pairs: {', '.join(f'{s} - {r}' for s, r in pairs)}.",
        "",
    ]
    d, m = info["defaults"], info["morris"]
    lines += [
        f"- **Defaults**: {d['replicates']} paired replicates ({d['runs']} runs, {d['failed']} failed), "
        f"{timings['defaults']:.0f} s.",
        f"- **Morris**: {m['trajectories']} trajectories on a {m['levels']}-level grid, {m['points']} points x "
        f"{len(plan.scenarios)} scenarios x {plan.replicates} replicate(s) = {m['runs']} runs "
        f"({m['failed']} failed), {timings['morris']:.0f} s.",
    ]
    if "sobol" in info:
        s = info["sobol"]
        lines.append(
            f"- **Sobol**: N = {s['samples']} over {', '.join(f'`{p}`' for p in s['parameters'])}: "
            f"{s['points']} points, {s['runs']} runs ({s['failed']} failed), {timings['sobol']:.0f} s."
        )
    lines += [
        f"- Wall time in all: {wall / 60:.1f} minutes.",
        "",
        "A conclusion is the sign of the effect at the defaults. **Holds**: share of the Morris points (every "
        "parameter varied over its range) where the difference has that sign. **Flips clearly**: share where "
        "it has the other sign by more than twice one pair's replicate noise (the sd of the difference over "
        "the defaults' pairs). A conclusion whose default effect is within two standard errors of zero is "
        "marked *unclear*: its sign at the defaults is noise at this scale, and so is its share. PRIM "
        "(EMA Workbench) box: where the flips concentrate (coverage: share of the flips inside; density: "
        "share of the points inside that flip).",
        "",
        "![share of the space where each conclusion holds](figures/robustness.png)",
        "",
    ]
    for s, r in pairs:
        pair = f"{s} - {r}"
        lines += [
            f"## {pair}",
            "",
            "| outcome | effect at defaults (noise sd) | holds | flips clearly | "
            "range over points | PRIM box where it flips (coverage, density) | largest Morris mu* |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for t in table[table["pair"] == pair].itertuples():
            eff = f"{_fmt(t.default_effect)} ({t.noise_sd:.2g})" + ("" if t.default_clear else " *unclear*")
            holds = "n/a" if not np.isfinite(t.share_holds) else f"{100 * t.share_holds:.0f}%"
            flips = "n/a" if not np.isfinite(t.share_flips_clearly) else f"{100 * t.share_flips_clearly:.0f}%"
            box = f"{t.prim_box} ({100 * t.prim_coverage:.0f}%, {100 * t.prim_density:.0f}%)" if t.prim_box else ""
            lines.append(
                f"| {t.outcome} | {eff} | {holds} | {flips} | {_fmt(t.min)} to {_fmt(t.max)} | {box} | {t.morris_top} |"
            )
        lines.append("")
    sob = indices[indices["method"] == "sobol"]
    if len(sob):
        lines += [
            "## Sobol indices of the clear conclusions",
            "",
            "| conclusion | parameter | S1 [95% CI] | ST [95% CI] |",
            "| --- | --- | --- | --- |",
        ]
        for k, sub in sob.groupby("conclusion", sort=False):
            for t in sub.sort_values("ST", ascending=False).itertuples():
                lines.append(
                    f"| {k} | `{t.parameter}` | {t.S1:.2f} [{t.S1 - t.S1_conf:.2f}, {t.S1 + t.S1_conf:.2f}] | "
                    f"{t.ST:.2f} [{t.ST - t.ST_conf:.2f}, {t.ST + t.ST_conf:.2f}] |"
                )
        lines += [
            "",
            f"With N = {info['sobol']['samples']} the intervals are wide: read the ranking, not the values.",
            "",
        ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
