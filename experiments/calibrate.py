"""Calibration: the model against every target of ``configs/calibration/targets.toml``.

Each target names a measure the runs compute (``cal_<measure>`` in ``runs.parquet``, see
``experiments/outcomes.py``) and the scenario whose runs measure it. For each one: the
model's mean over replicates with a 95% bootstrap interval of that mean and the
2.5-97.5% range of single runs, against the published value. The target is a **hit**
when the published value lies within the model's 95% interval widened on each side by
the tolerance, the source's own uncertainty (absolute, or a share of the value when
``relative = true``): the model and the source are then compatible. A target without a
measure in this version, or whose period or scenario the runs do not cover, is listed
as not evaluated. Nothing is tuned here.

Targets have a role: ``calibrate`` (a parameter was set from the target's source or is
searched to meet it) or ``validate`` (held aside: no parameter was set or searched to meet
it). The report gives the two in separate tables.

Optionally, ``--abc SWEEP.toml`` searches free parameters by approximate Bayesian
computation (rejection): every point of the sweep's design is scored by the distance
``sqrt(mean(((model - target) / tolerance)^2))`` over the evaluated calibration targets
(never over held-aside ones), and the closest ``accept`` share of points is kept as the
approximate posterior. Only parameters whose
source in ``base.toml`` marks them as an assumption or as calibrated may be searched; a
sourced parameter is refused unless ``--allow-sourced`` is given. The result is a table
and a report; ``configs/`` is never changed.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from model.config import TARGETS_FILE, ConfigError, load_base, load_targets

from . import figures, provenance, stats
from .design import SweepPlan
from .sweep import run_sweep

FREE_SOURCES = ("assumption", "calibrated")


def evaluate(
    runs: pd.DataFrame, targets: dict, n_boot: int = 2000, seed: int = 0, scenario: str = "baseline"
) -> pd.DataFrame:
    """Every target against the runs of its scenario (``runs`` may hold several; a target
    that names none is measured in ``scenario``): the model's mean and 95% interval, and
    hit or miss (see the module's docstring)."""
    done = runs[runs["status"] == "done"]
    rows = []
    for i, (name, t) in enumerate(targets.items()):
        tol = t.tolerance * abs(t.value) if t.relative else t.tolerance
        measure, where = t.measure or name, t.scenario or scenario
        row = {
            "name": name,
            "role": t.role,
            "measure": measure,
            "period": t.period,
            "scenario": where,
            "target": t.value,
            "tolerance": t.tolerance,
            "relative": t.relative,
            "tolerance_abs": tol,
            "unit": t.unit,
            "source": t.source,
            "uncertainty": t.uncertainty,
        }
        col = f"cal_{measure}"
        mine = done[done["scenario"] == where] if "scenario" in done else done
        x = mine[col].to_numpy(float) if col in mine else np.array([])
        x = x[~np.isnan(x)]
        if not len(x):
            if col not in done:
                note = "no measure of this target in this model version"
            elif not len(mine):
                note = f"measured in scenario {where}, which these runs do not include"
            else:
                note = "the runs do not cover this target's period"
            rows.append({**row, "evaluated": False, "n": 0, "note": note})
            continue
        mean, lo, hi = stats.mean_band(x[:, None], n_boot=n_boot, rng=np.random.SeedSequence(seed, spawn_key=(i,)))
        mean, lo, hi = float(mean[0]), float(lo[0]), float(hi[0])
        rows.append(
            {
                **row,
                "evaluated": True,
                "n": len(x),
                "model_mean": mean,
                "model_lo": lo,
                "model_hi": hi,
                "runs_p025": float(np.percentile(x, 2.5)),
                "runs_p975": float(np.percentile(x, 97.5)),
                "accept_lo": lo - tol,
                "accept_hi": hi + tol,
                "hit": is_hit(t.value, lo, hi, tol),
                "note": "",
            }
        )
    cols = [
        "name",
        "role",
        "evaluated",
        "hit",
        "target",
        "tolerance",
        "relative",
        "tolerance_abs",
        "model_mean",
        "model_lo",
        "model_hi",
        "accept_lo",
        "accept_hi",
        "runs_p025",
        "runs_p975",
        "n",
        "measure",
        "period",
        "scenario",
        "unit",
        "source",
        "uncertainty",
        "note",
    ]
    df = pd.DataFrame(rows).reindex(columns=cols)
    df["hit"] = df["hit"].astype("boolean")
    df["evaluated"] = df["evaluated"].astype(bool)
    return df


def is_hit(value: float, model_lo: float, model_hi: float, tolerance: float) -> bool:
    """A hit: ``value`` lies within the model's interval ``[model_lo, model_hi]`` widened on
    each side by the source's uncertainty ``tolerance``."""
    return bool(model_lo - tolerance <= value <= model_hi + tolerance)


def target_scenarios(targets: dict, scenario: str = "baseline") -> list[str]:
    """The scenarios the targets are measured in (``scenario`` for those that name none),
    in the order they first appear."""
    return list(dict.fromkeys(t.scenario or scenario for t in targets.values()))


def summary(table: pd.DataFrame) -> str:
    """One line: hits among the evaluated calibration and held-aside targets."""
    parts = []
    for role, label in (("calibrate", "calibration"), ("validate", "held-aside (validation)")):
        sub = table[table["role"] == role]
        ev = sub[sub["evaluated"]]
        if len(sub):
            parts.append(f"{int(ev['hit'].sum())} of {len(ev)} evaluated {label} targets hit")
    missing = int((~table["evaluated"]).sum())
    return "; ".join(parts) + f"; {missing} not evaluated"


def check_free(plan: SweepPlan, allow_sourced: bool) -> list[str]:
    """The searched parameters that have a published source (refused unless allowed)."""
    defs = load_base().defs
    sourced = [n for n in plan.parameters if not defs[n].source.strip().lower().startswith(FREE_SOURCES)]
    if sourced and not allow_sourced:
        raise ConfigError(
            f"{plan.source}: {', '.join(sourced)} "
            f"{'has' if len(sourced) == 1 else 'have'} a published source in base.toml; calibrate "
            "searches only assumptions and calibrated parameters (--allow-sourced to search anyway)"
        )
    return sourced


def abc(runs: pd.DataFrame, plan: SweepPlan, table: pd.DataFrame, accept: float) -> pd.DataFrame:
    done = runs[runs["status"] == "done"]
    ev = table[table["evaluated"] & (table["role"] == "calibrate")]  # held-aside targets never enter the distance
    names = list(plan.parameters)
    g = done.groupby("point")
    pts = g[names].first()
    z = []
    for r in ev.itertuples():
        col = f"cal_{r.measure}"
        mine = done[done["scenario"] == r.scenario] if "scenario" in done else done
        if col in mine and len(mine):
            m = mine.groupby("point")[col].mean().reindex(pts.index)
            pts[col] = m
            z.append(((m - r.target) / r.tolerance_abs) ** 2)
    if not z:
        raise ConfigError("--abc: no target can be evaluated with these runs")
    pts["distance"] = np.sqrt(pd.concat(z, axis=1).mean(axis=1, skipna=True))
    k = max(1, int(round(accept * len(pts))))
    pts["accepted"] = pts["distance"].rank(method="first") <= k
    return pts.reset_index().sort_values("distance")


def run_calibration(
    plan: SweepPlan,
    out: Path,
    *,
    targets_file: Path = TARGETS_FILE,
    workers: int = 1,
    scheduler: str | None = None,
    retries: int = 0,
    progress: bool = True,
    abc_plan: SweepPlan | None = None,
    accept: float = 0.1,
    allow_sourced: bool = False,
) -> dict:
    started = time.time()
    out = Path(out)
    targets = load_targets(targets_file)
    sourced = check_free(abc_plan, allow_sourced) if abc_plan is not None else []
    engine = dict(workers=workers, scheduler=scheduler, retries=retries, progress=progress)
    res = run_sweep(plan, out / "runs", kind="calibration", **engine)
    if res.interrupted:
        return {"interrupted": True, "result": res}
    runs, extra_done = [res.runs], {}
    for scenario in target_scenarios(targets, plan.scenarios[0]):  # targets measured in another: its own runs
        if scenario in plan.scenarios:
            continue
        extra = replace(plan, scenarios=[scenario], name=f"calibration-{scenario}")
        xres = run_sweep(extra, out / f"runs-{scenario}", kind="calibration", **engine)
        if xres.interrupted:
            return {"interrupted": True, "result": xres}
        runs.append(xres.runs)
        extra_done[scenario] = xres.done
    table = evaluate(pd.concat(runs, ignore_index=True), targets, seed=plan.seed, scenario=plan.scenarios[0])
    table.to_csv(out / "calibration.csv", index=False)
    (out / "figures").mkdir(exist_ok=True)
    if table["evaluated"].any():
        figures.calibration(table, out / "figures" / "calibration.png")
    abc_table = None
    if abc_plan is not None:
        ares = run_sweep(abc_plan, out / "abc", kind="calibration-abc", **engine)
        if ares.interrupted:
            return {"interrupted": True, "result": ares}
        abc_table = abc(ares.runs, abc_plan, table, accept)
        abc_table.to_csv(out / "abc.csv", index=False)
    _report(out, plan, table, abc_plan, abc_table, accept, sourced, res, extra_done)
    provenance.write_manifest(
        out,
        {
            "schema_version": "1.0",
            "kind": "calibration",
            "plan": plan.to_dict(),
            "targets_file": str(targets_file),
            "abc_plan": abc_plan.to_dict() if abc_plan else None,
            "accept": accept if abc_plan else None,
            "hits": int(table["hit"].fillna(False).sum()),
            "evaluated": int(table["evaluated"].sum()),
            "targets": len(table),
            **{
                f"{role}_{k}": v
                for role in ("calibrate", "validate")
                for k, v in _counts(table[table["role"] == role]).items()
            },
            "packages": provenance.package_versions(),
            "git": provenance.git_state(),
            "command": provenance.command_line(),
            "status": "done",
            "started_utc": datetime.fromtimestamp(started, UTC).isoformat(),
            "wall_seconds": round(time.time() - started, 3),
        },
    )
    return {"interrupted": False, "table": table, "abc": abc_table}


def _fmt(v, unit: str, diff: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if "percentage points" in unit or unit.startswith("rise of") or (diff and "share" in unit and abs(v) < 1.5):
        return f"{100 * v:.1f} points"
    if "share" in unit and abs(v) < 1.5:
        return f"{100 * v:.1f}%"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _counts(table: pd.DataFrame) -> dict[str, int]:
    return {
        "targets": len(table),
        "evaluated": int(table["evaluated"].sum()),
        "hits": int(table["hit"].fillna(False).sum()),
    }


def _rows(table: pd.DataFrame, scenario: str) -> list[str]:
    lines = [
        "| target | period | published ± source uncertainty | model mean [95% CI] | single runs 2.5-97.5% | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in table.itertuples():
        tol = f"±{100 * r.tolerance:.0f}%" if r.relative else f"±{_fmt(r.tolerance, r.unit, diff=True)}"
        published = f"{_fmt(r.target, r.unit)} {tol}"
        where = "" if r.scenario == scenario else f" (scenario {r.scenario})"
        if not r.evaluated:
            lines.append(f"| `{r.name}`{where} | {r.period} | {published} | not evaluated: {r.note} | | |")
            continue
        lines.append(
            f"| `{r.name}`{where} | {r.period} | {published} | {_fmt(r.model_mean, r.unit)} "
            f"[{_fmt(r.model_lo, r.unit)}, {_fmt(r.model_hi, r.unit)}] | {_fmt(r.runs_p025, r.unit)} to "
            f"{_fmt(r.runs_p975, r.unit)} | {'hit' if r.hit else '**miss**'} |"
        )
    return lines


def _report(out, plan, table, abc_plan, abc_table, accept, sourced, res, extra_done=None) -> None:
    cal, val = table[table["role"] == "calibrate"], table[table["role"] == "validate"]
    extra = "".join(
        f"; {n} runs of scenario {s} with the same seeds, for the targets measured in it"
        for s, n in (extra_done or {}).items()
    )
    lines = [
        "# Calibration and validation",
        "",
        f"Scenario {plan.scenarios[0]}, {plan.replicates} replicates, scale {plan.scale:g}, "
        f"{plan.start or 'default start'} to {plan.end or 'default end'} (root seed {plan.seed}; "
        f"{res.done} runs done, {res.failed} failed{extra}). {summary(table)}.",
        "",
        "A target is a **hit** when the published value lies within the model's 95% interval widened on each "
        "side by the source's own uncertainty (the tolerance: a survey's 95% half-width, or the basis stated "
        "in `configs/calibration/targets.toml`).",
        "",
        "## Calibration targets",
        "",
        "A parameter was set from the target's source, or is searched to meet it (`--abc`).",
        "",
        *_rows(cal, plan.scenarios[0]),
        "",
        "## Held-aside targets (validation)",
        "",
        "No parameter was set from these figures or searched to meet them.",
        "",
        *(_rows(val, plan.scenarios[0]) if len(val) else ["No held-aside target."]),
        "",
        "Units, periods, measures, sources and the basis of each tolerance: `configs/calibration/targets.toml`; "
        "values per target in `calibration.csv`.",
        "",
        "![calibration](figures/calibration.png)",
        "",
    ]
    if abc_table is not None:
        acc = abc_table[abc_table["accepted"]]
        lines += [
            "## Approximate Bayesian computation (rejection)",
            "",
            f"{len(abc_table)} points of `{abc_plan.source}` ({abc_plan.design}), {abc_plan.replicates} "
            f"replicate(s) each; the closest {100 * accept:.0f}% ({len(acc)} points) accepted. Nothing in "
            "`configs/` was changed.",
            "",
        ]
        if sourced:
            lines += [f"Searched although they have a published source (--allow-sourced): {', '.join(sourced)}.", ""]
        lines += ["| parameter | prior range | accepted mean | accepted 2.5-97.5% |", "| --- | --- | --- | --- |"]
        for n, spec in abc_plan.parameters.items():
            rng = f"{spec['min']} to {spec['max']}" if isinstance(spec, dict) else ", ".join(map(str, spec))
            lines.append(
                f"| `{n}` | {rng} | {acc[n].mean():.4g} | {acc[n].quantile(0.025):.4g} to "
                f"{acc[n].quantile(0.975):.4g} |"
            )
        lines += [
            "",
            f"Best point: distance {abc_table['distance'].iloc[0]:.3g} (in tolerances); all points in `abc.csv`.",
            "",
        ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
