"""The comparison's analysis: from the runs of a comparison to its tables, figures and
report (effects.csv, summary.csv, figures/, report.md), with the closures' and the
interventions' periods the figures mark."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from model.config import CONFIG_DIR, parse_month

from . import display, figures, stats
from .compare_effects import effects_table, summary_table
from .compare_report import write_report
from .compare_rule import CompareOptions
from .design import SweepPlan
from .outcomes import COHESION_COMPONENTS
from .progress import Stages
from .sweep import read_table


def closure_periods(start: date, end: date, scale: float, waves: bool = False) -> list[tuple]:
    """Each replayed closure's layoff period (first to last wave) within the run; with
    ``waves``, each tuple also holds the dates of its waves."""
    from model.timeline import Timeline

    tl = Timeline.load()
    spans: dict[int, list[date]] = {}
    for w in tl.waves_between(start, end, scale):
        spans.setdefault(w.closure, []).append(w.date)
    return [
        (tl.closures[i].employer, min(d), max(d) + timedelta(days=7), *((sorted(d),) if waves else ()))
        for i, d in sorted(spans.items())
    ]


def intervention_periods(config: dict, start: date, end: date) -> list[tuple[str, date, date]]:
    """Interventions a scenario switches on (``interventions.<name>.enabled``), with their
    dates clipped to the run."""
    out = []
    for key, value in config.items():
        if key.startswith("interventions.") and key.endswith(".enabled") and value is True:
            name = key[len("interventions.") : -len(".enabled")]
            a, b = config.get(f"interventions.{name}.start"), config.get(f"interventions.{name}.end")
            try:
                a = parse_month(a) if a else start
                b = parse_month(b) if b else end
            except Exception:  # noqa: BLE001 - an unusual date format: draw the whole run
                a, b = start, end
            a, b = max(a, start), min(b, end)
            if a < b:
                out.append((name, a, b))
    return out


def analyse(out: Path, plan: SweepPlan, opts: CompareOptions, rule: dict, progress: bool = False) -> dict:
    """Write effects.csv, summary.csv, the figures and report.md from a comparison's runs,
    printing a line per stage on standard error when ``progress``."""
    out = Path(out)
    stage = Stages("analysis", 6, enabled=progress)
    runs = pd.read_parquet(out / "runs.parquet")
    mf = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    scenarios = plan.scenarios
    figdir = out / "figures"
    figdir.mkdir(exist_ok=True)
    fmts = tuple(opts.formats)
    stage(
        f"effects against the baseline: {len(opts.outcomes)} outcomes x {len(scenarios) - 1} scenarios, "
        f"{opts.n_boot} bootstrap resamples each"
    )
    eff = effects_table(runs, scenarios, opts.baseline, opts.outcomes, opts.n_boot, plan.seed)
    eff.to_csv(out / "effects.csv", index=False)
    summ = summary_table(runs, scenarios, opts.outcomes, opts.n_boot, plan.seed)
    summ.to_csv(out / "summary.csv", index=False)

    done = runs[runs["status"] == "done"]
    meta = done.set_index("run_id")[["scenario", "replicate"]]
    any_cfg = next(iter(mf["scenarios"].values()))["config"]
    scale = float(any_cfg["run.scale"])
    start = parse_month(any_cfg["run.start"])
    end = parse_month(any_cfg["run.end"])
    end = date(end.year + end.month // 12, end.month % 12 + 1, 1) - timedelta(days=1)
    closures = closure_periods(start, end, scale, waves=True)
    periods = {s: intervention_periods(mf["scenarios"][s]["config"], start, end) for s in scenarios}
    series_files, missing_series = [], []
    n_rep = int(done.groupby("scenario").size().min()) if len(done) else 0
    stage(f"figures of {len(opts.series)} weekly series with 95% bands")
    for k, col in enumerate(opts.series):
        ts = read_table(out, "timeseries", columns=["week", "date", col], run_ids=list(meta.index))
        if col not in ts or ts[col].isna().all():
            missing_series.append(col)
            continue
        ts = ts.join(meta, on="run_id")
        weeks = np.sort(ts["week"].unique())
        dates = pd.to_datetime(ts.drop_duplicates("week").set_index("week").loc[weeks, "date"])
        bands = {}
        for i, s in enumerate(scenarios):
            sub = ts[ts["scenario"] == s]
            if not len(sub):
                continue
            mat = (
                sub.pivot_table(index="replicate", columns="week", values=col, aggfunc="first", dropna=False)
                .reindex(columns=weeks)
                .to_numpy(float)
            )
            bands[s] = stats.mean_band(mat, n_boot=500, rng=np.random.SeedSequence(plan.seed, spawn_key=(k, i)))
        path = figdir / f"series_{col}.png"
        _remove_figure(path)
        figures.series_with_bands(
            pd.DatetimeIndex(dates), bands, col, path, closures, periods, n_rep, formats=fmts, baseline=opts.baseline
        )
        series_files.append(path.name)

    stage("forest plots of the effects")
    forest_files = []
    for old in ("forest_cohens_d.png", "forest_vd_a.png", "forest_difference.png", "forest_percent.png"):
        _remove_figure(figdir / old)  # written by earlier versions, or in other formats
    if eff["available"].any():
        forest_files.append("forest_difference.png")
        figures.forest(eff, figdir / forest_files[-1], "diff", formats=fmts, scale=scale, baseline=opts.baseline)
        if eff.loc[eff["available"], "pct_baseline"].notna().any():
            forest_files.append("forest_percent.png")
            figures.forest(eff, figdir / forest_files[-1], "pct", formats=fmts, scale=scale, baseline=opts.baseline)

    stage("maps by municipality")
    map_files, map_note = _maps(out, meta, scenarios, opts, figdir, any_cfg)
    stage("cohesion index and its components")
    components = (
        summary_table(runs, scenarios, list(COHESION_COMPONENTS), opts.n_boot, plan.seed),
        effects_table(runs, scenarios, opts.baseline, list(COHESION_COMPONENTS), opts.n_boot, plan.seed),
    )
    stage("report.md")
    report = write_report(
        out,
        plan,
        opts,
        rule,
        runs,
        eff,
        summ,
        series_files,
        missing_series,
        forest_files,
        map_files,
        map_note,
        mf,
        components,
    )
    stage.done(f"effects, figures and report written to {out}")
    return {"effects": eff, "summary": summ, "report": report}


def _remove_figure(path: Path) -> None:
    """Remove a figure in every format (a rerun with other ``--format`` leaves no stale file)."""
    for fmt in display.FORMATS:
        path.with_suffix("." + fmt).unlink(missing_ok=True)


def _maps(out: Path, meta: pd.DataFrame, scenarios: list[str], opts: CompareOptions, figdir: Path, cfg: dict):
    """The maps by municipality: levels, and each scenario minus the baseline. Returns the
    files (PNG names) and a note."""
    mun = read_table(out, "municipal", run_ids=list(meta.index))
    if not len(mun):
        return [], "no municipal data"
    mun = mun.join(meta, on="run_id")
    column, unit, note = "mean_distress", "distress score", ""
    if mun["mean_distress"].isna().all():
        column, unit = "unemployment_rate", "%"
        note = "distress is not available in this model version; the maps show the unemployment rate instead"
    years = sorted(mun["year"].unique())
    wanted = opts.map_years or [y for y in (2004, 2006, 2009, 2016) if y in years] or years[-1:]
    wanted = [y for y in wanted if y in years]
    if not wanted:
        return [], f"none of the map years is in the run ({years[0]}-{years[-1]})"
    sel = mun[mun["year"].isin(wanted)]
    avg = sel.groupby(["scenario", "year", "municipality"], as_index=False)[column].mean()
    avg["scenario"] = pd.Categorical(avg["scenario"], scenarios, ordered=True)
    avg = avg.sort_values(["scenario", "year"])
    avg["scenario"] = avg["scenario"].astype(str)
    residents = (
        sel[sel["scenario"] == opts.baseline].groupby("municipality", as_index=False)["residents"].mean()
        if "residents" in sel
        else None
    )
    from model.territory import load_territory

    territory = load_territory(CONFIG_DIR / "territory", density_scale_km=cfg["run.density_scale_km"])
    files = []
    path = figdir / f"map_{column}.png"
    _remove_figure(path)
    figures.municipal_maps(
        territory,
        avg,
        column,
        path,
        unit,
        f"{display.series_label(column)} by municipality",
        formats=tuple(opts.formats),
        residents=residents,
    )
    files.append(path.name)
    diff_path = figdir / f"map_{column}_difference.png"
    _remove_figure(diff_path)
    if len(scenarios) > 1 and opts.baseline in set(avg["scenario"]):
        figures.difference_maps(
            territory, avg, column, diff_path, unit, opts.baseline, formats=tuple(opts.formats), residents=residents
        )
        files.append(diff_path.name)
    return files, note
