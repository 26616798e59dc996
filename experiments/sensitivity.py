"""Global sensitivity analysis: Morris screening, then Sobol indices (SALib).

The sensitivity file is a sweep file (``configs/sweeps/sensitivity.toml``) whose
``[parameters]`` give ranges (``{ min = ..., max = ... }``); its design is ignored.

1. **Morris.** ``trajectories`` elementary-effect trajectories over all the parameters;
   for each outcome, mu* (mean absolute elementary effect, in units of the outcome) with
   its 95% bootstrap interval, and sigma.
2. **Sobol.** The parameters whose mu* reaches ``threshold`` times the largest mu* of some
   outcome (at most ``top``, at least two) are sampled with Saltelli's scheme
   (``N (D + 2)`` points); first-order (S1) and total (ST) indices with 95% intervals.
   The other parameters stay at their defaults.

Every point is run ``replicates`` times with the same seeds as every other point
(common random numbers); the indices use the mean over replicates. The replicate noise is
reported per outcome: the mean within-point variance of one run, and the share of the
variance of the point means that this noise explains (``noise_share``; near 1 means the
indices mostly measure noise: add replicates).

The analysis takes the runs in the order of the design (``point``), which is SALib's
sample order: ``point_means`` rebuilds that order whatever the order of the rows.
"""

from __future__ import annotations

import copy
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from model.config import ConfigError

from . import figures, provenance
from .design import SweepPlan
from .sweep import SweepResult, run_sweep


def point_means(runs: pd.DataFrame, outcome: str, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance over replicates of ``outcome`` at each design point, in point order
    (NaN for a point without a finished run)."""
    done = runs[runs["status"] == "done"]
    g = done.groupby("point")[outcome]
    mean = g.mean().reindex(range(n_points)).to_numpy(float)
    var = g.var(ddof=1).reindex(range(n_points)).to_numpy(float)
    return mean, var


def noise(runs: pd.DataFrame, outcome: str, n_points: int, replicates: int) -> dict:
    mean, var = point_means(runs, outcome, n_points)
    within = float(np.nanmean(var)) if np.isfinite(var).any() else float("nan")
    between = float(np.nanvar(mean, ddof=1)) if np.isfinite(mean).sum() > 1 else float("nan")
    share = within / replicates / between if between and np.isfinite(between) and between > 0 else float("nan")
    return {
        "outcome": outcome,
        "replicates": replicates,
        "within_point_sd": float(np.sqrt(within)) if np.isfinite(within) else np.nan,
        "sd_of_point_means": float(np.sqrt(between)) if np.isfinite(between) else np.nan,
        "noise_share": min(1.0, share) if np.isfinite(share) else np.nan,
    }


def design_matrix(plan: SweepPlan) -> np.ndarray:
    """One row per design point: each parameter's value, or for a list parameter its
    position between the two lists of its range (0 to 1)."""
    names = list(plan.parameters)
    coords = np.asarray(plan.sample(), dtype=float)
    return np.array(
        [
            [coords[i, j] if plan.is_segment(n) else p[n] for j, n in enumerate(names)]
            for i, p in enumerate(plan.points())
        ],
        dtype=float,
    )


def _index_rows(method: str, outcome: str, names: list[str], res, keys: tuple[str, ...]) -> list[dict]:
    """One row per parameter of SALib's result ``res``: its indices ``keys``."""
    return [
        {"method": method, "outcome": outcome, "parameter": name, **{k: float(res[k][i]) for k in keys}}
        for i, name in enumerate(names)
    ]


def analyse_morris(plan: SweepPlan, runs: pd.DataFrame, outcomes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    from SALib.analyze import morris

    problem = plan.problem()
    X = design_matrix(plan)
    rows, skipped = [], []
    for o in outcomes:
        Y, _ = point_means(runs, o, len(X))
        if not np.isfinite(Y).all():
            skipped.append(o)
            continue
        res = morris.analyze(problem, X, Y, num_resamples=1000, conf_level=0.95, num_levels=plan.levels, seed=plan.seed)
        rows += _index_rows("morris", o, problem["names"], res, ("mu", "mu_star", "mu_star_conf", "sigma"))
    return pd.DataFrame(rows), skipped


def analyse_sobol(plan: SweepPlan, runs: pd.DataFrame, outcomes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    from SALib.analyze import sobol

    problem = plan.problem()
    n_points = plan.samples * (problem["num_vars"] + 2)
    rows, skipped = [], []
    for o in outcomes:
        Y, _ = point_means(runs, o, n_points)
        if not np.isfinite(Y).all() or np.nanvar(Y) == 0:
            skipped.append(o)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # SALib warns about constant subsets of Y
            res = sobol.analyze(
                problem, Y, calc_second_order=False, num_resamples=1000, conf_level=0.95, seed=plan.seed
            )
        rows += _index_rows("sobol", o, problem["names"], res, ("S1", "S1_conf", "ST", "ST_conf"))
    return pd.DataFrame(rows), skipped


def select(morris_table: pd.DataFrame, threshold: float, top: int) -> list[str]:
    """Parameters whose mu*, relative to the largest of its outcome, reaches ``threshold``."""
    if not len(morris_table):
        return []
    t = morris_table.copy()
    t["rel"] = t["mu_star"] / t.groupby("outcome")["mu_star"].transform("max").replace(0, np.nan)
    best = t.groupby("parameter")["rel"].max().sort_values(ascending=False)
    chosen = [p for p, r in best.items() if r >= threshold][:top]
    if len(chosen) < 2:
        chosen = list(best.index[:2])
    return chosen


def run_stage(
    plan: SweepPlan, out: Path, kind: str, stage: str, engine: dict, **changes
) -> tuple[SweepPlan, SweepResult]:
    """One stage of an analysis: ``plan`` with ``changes`` (its design, samples,
    parameters...), named ``<name>-<stage>``, run into ``out/<stage>`` as a sweep of kind
    ``<kind>-<stage>``; the stage's plan and the sweep's result."""
    staged = copy.deepcopy(plan)
    for name, value in changes.items():
        setattr(staged, name, value)
    staged.name = f"{plan.name}-{stage}"
    staged.validate()
    return staged, run_sweep(staged, out / stage, kind=f"{kind}-{stage}", **engine)


def _analyse_stage(method: str, staged: SweepPlan, res: SweepResult, outcomes: list[str], analyse):
    """A stage's indices (``analyse``), the outcomes it skipped, the replicate noise of each
    outcome, and its counts of points, runs and failed runs."""
    table, skipped = analyse(staged, res.runs, outcomes)
    n = len(staged.points())
    rows = [{"method": method, **noise(res.runs, o, n, staged.replicates)} for o in outcomes]
    return table, skipped, rows, {"points": n, "runs": res.planned, "failed": res.failed}


def run_sensitivity(
    plan: SweepPlan,
    out: Path,
    outcomes: list[str],
    *,
    trajectories: int = 10,
    levels: int = 4,
    sobol_samples: int = 64,
    top: int = 6,
    threshold: float = 0.1,
    sobol_parameters: list[str] | None = None,
    methods: str = "both",
    workers: int = 1,
    scheduler: str | None = None,
    retries: int = 0,
    progress: bool = True,
) -> dict:
    started = time.time()
    out = Path(out)
    if len(plan.scenarios) != 1:
        raise ConfigError(f"{plan.source}: a sensitivity analysis takes one scenario, got {', '.join(plan.scenarios)}")
    for p in sobol_parameters or []:
        if p not in plan.parameters:
            raise ConfigError(f"--sobol-parameters: {p!r} is not in the [parameters] of {plan.source}")
    engine = dict(workers=workers, scheduler=scheduler, retries=retries, progress=progress)
    tables, noise_rows, skipped, info = [], [], {}, {}
    morris_table = pd.DataFrame()
    if methods in ("both", "morris"):
        pm, res = run_stage(
            plan, out, "sensitivity", "morris", engine, design="morris", samples=trajectories, levels=levels
        )
        if res.interrupted:
            return {"interrupted": True, "result": res}
        morris_table, skipped["morris"], rows, counts = _analyse_stage("morris", pm, res, outcomes, analyse_morris)
        tables.append(morris_table)
        noise_rows += rows
        info["morris"] = {"trajectories": trajectories, "levels": levels, **counts}
    if methods in ("both", "sobol"):
        chosen = sobol_parameters or (
            select(morris_table, threshold, top) if len(morris_table) else list(plan.parameters)
        )
        ps, res = run_stage(
            plan,
            out,
            "sensitivity",
            "sobol",
            engine,
            design="sobol",
            samples=sobol_samples,
            second_order=False,
            parameters={k: v for k, v in plan.parameters.items() if k in chosen},
        )
        if res.interrupted:
            return {"interrupted": True, "result": res}
        sob, skipped["sobol"], rows, counts = _analyse_stage("sobol", ps, res, outcomes, analyse_sobol)
        tables.append(sob)
        noise_rows += rows
        info["sobol"] = {"samples": sobol_samples, "parameters": chosen, **counts}
    cols = [
        "method",
        "outcome",
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
    table = (
        pd.concat([t for t in tables if len(t)], ignore_index=True) if any(len(t) for t in tables) else pd.DataFrame()
    )
    table = table.reindex(columns=cols)
    table.to_csv(out / "sensitivity.csv", index=False)
    noise_table = pd.DataFrame(noise_rows)
    noise_table.to_csv(out / "noise.csv", index=False)
    (out / "figures").mkdir(exist_ok=True)
    if len(table):
        figures.sensitivity_bars(table, out / "figures" / "sensitivity.png")
    _report(out, plan, outcomes, table, noise_table, skipped, info)
    provenance.write_manifest(
        out,
        {
            "schema_version": "1.0",
            "kind": "sensitivity",
            "plan": plan.to_dict(),
            "outcomes": outcomes,
            "stages": info,
            "skipped_outcomes": skipped,
            "packages": provenance.package_versions(),
            "git": provenance.git_state(),
            "command": provenance.command_line(),
            "status": "done",
            "started_utc": datetime.fromtimestamp(started, UTC).isoformat(),
            "wall_seconds": round(time.time() - started, 3),
            "files": ["sensitivity.csv", "noise.csv", "report.md", "figures/sensitivity.png", "morris/", "sobol/"],
        },
    )
    return {"interrupted": False, "table": table, "noise": noise_table, "info": info}


def _report(out, plan, outcomes, table, noise_table, skipped, info) -> None:
    lines = [
        f"# Sensitivity analysis: {plan.name}",
        "",
        f"Scenario {plan.scenarios[0]}, scale {plan.scale:g}, {plan.start or 'default start'} to "
        f"{plan.end or 'default end'}, {plan.replicates} replicate(s) per point (common random numbers, root seed "
        f"{plan.seed}); the indices use the mean over replicates.",
        "",
    ]
    if "morris" in info:
        m = info["morris"]
        lines += [
            f"**Morris screening**: {m['trajectories']} trajectories on a {m['levels']}-level grid over "
            f"{len(plan.parameters)} parameters ({m['points']} points, {m['runs']} runs, {m['failed']} failed).",
            "",
        ]
    if "sobol" in info:
        s = info["sobol"]
        lines += [
            f"**Sobol indices**: N = {s['samples']} (Saltelli's scheme, {s['points']} points, {s['runs']} runs, "
            f"{s['failed']} failed) over {', '.join(f'`{p}`' for p in s['parameters'])}.",
            "",
        ]
    for o in outcomes:
        sub = table[table["outcome"] == o] if len(table) else table
        lines += [f"## {o}", ""]
        if not len(sub):
            lines += ["Not available (no values in this model version, or failed runs).", ""]
            continue
        m = sub[sub["method"] == "morris"].sort_values("mu_star", ascending=False)
        if len(m):
            lines += ["| parameter | mu* [95% CI] | sigma |", "| --- | --- | --- |"]
            lines += [
                f"| `{r.parameter}` | {r.mu_star:.3g} [{r.mu_star - r.mu_star_conf:.3g}, "
                f"{r.mu_star + r.mu_star_conf:.3g}] | {r.sigma:.3g} |"
                for r in m.itertuples()
            ]
            lines.append("")
        s = sub[sub["method"] == "sobol"].sort_values("ST", ascending=False)
        if len(s):
            lines += ["| parameter | S1 [95% CI] | ST [95% CI] |", "| --- | --- | --- |"]
            lines += [
                f"| `{r.parameter}` | {r.S1:.2f} [{r.S1 - r.S1_conf:.2f}, {r.S1 + r.S1_conf:.2f}] | "
                f"{r.ST:.2f} [{r.ST - r.ST_conf:.2f}, {r.ST + r.ST_conf:.2f}] |"
                for r in s.itertuples()
            ]
            top = s.iloc[0]
            lines += [
                "",
                f"`{top.parameter}` explains the largest share of the variance of {o} (total index {top.ST:.2f}).",
            ]
            lines.append("")
        nz = noise_table[noise_table["outcome"] == o]
        for r in nz.itertuples():
            if np.isfinite(r.noise_share):
                lines.append(
                    f"Replicate noise ({r.method}): one run's sd within a point {r.within_point_sd:.3g}, sd of "
                    f"the point means {r.sd_of_point_means:.3g}; noise explains about "
                    f"{100 * r.noise_share:.0f}% of the variance of the point means."
                )
        lines.append("")
    lines += ["![indices](figures/sensitivity.png)", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
