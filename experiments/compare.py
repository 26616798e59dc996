"""Scenario comparison: runs with common random numbers, effects against the baseline,
figures and a written report.

Replicate *i* of every scenario runs with the same seed (the *i*-th child of
``SeedSequence(seed)``), so scenario differences are paired and free of unrelated noise.

**Replicates.** With ``--replicates N`` every scenario gets N. Otherwise the number is
chosen by coefficient-of-variation stability (Lee et al. 2015): start with
``min_replicates`` (20); the coefficient of variation (sd / |mean|) of every available key
outcome in every scenario is computed over the first ``n - 5`` and over all ``n``
replicates; when they differ by less than ``cv_tolerance`` (5%, relative) everywhere the
number is kept, otherwise ``step`` (10) more replicates are run, up to ``max_replicates``
(60). The manifest and the report record each check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from model.config import CONFIG_DIR, parse_month

from . import display, figures, provenance, stats
from .design import SweepPlan
from .outcomes import COHESION_COMPONENTS, KEY_OUTCOMES, KEY_SERIES, SUMMARY_BY_NAME
from .progress import Stages
from .sweep import SweepResult, read_table, run_sweep


@dataclass
class CompareOptions:
    baseline: str = "baseline"
    replicates: int | None = None
    min_replicates: int = 20
    step: int = 10
    max_replicates: int = 60
    cv_tolerance: float = 0.05
    outcomes: list[str] = field(default_factory=lambda: list(KEY_OUTCOMES))
    series: list[str] = field(default_factory=lambda: list(KEY_SERIES))
    map_years: list[int] | None = None
    n_boot: int = 2000
    formats: tuple[str, ...] = ("png",)


# The stability check compares at least 2 replicates with more: it needs 3.
MIN_CHECK_REPLICATES = 3


# -- the replicate rule --------------------------------------------------------------------
def cv_check(runs: pd.DataFrame, outcomes: list[str], n: int, tolerance: float, lag: int = 5) -> dict:
    """Relative change of the coefficient of variation between the first ``n - lag`` and
    all ``n`` replicates, for each scenario and available outcome."""
    done = runs[runs["status"] == "done"]
    worst = 0.0
    where = None
    checked = 0
    for s, sub in done.groupby("scenario"):
        sub = sub.sort_values("replicate")
        for o in outcomes:
            if o not in sub:
                continue
            x = sub[o].to_numpy(float)
            if np.isnan(x).all():
                continue
            a, b = stats.cv(x[: max(2, n - lag)]), stats.cv(x[:n])
            if not (np.isfinite(a) and np.isfinite(b)) or b == 0:
                continue
            checked += 1
            change = abs(b - a) / b
            if change > worst:
                worst, where = change, f"{o} in {s}"
    return {
        "replicates": n,
        "compared_with": max(2, n - lag),
        "checked": checked,
        "largest_change": worst,
        "where": where,
        "stable": worst < tolerance,
    }


def run_comparison(
    plan: SweepPlan,
    out: Path,
    opts: CompareOptions,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    retries: int = 0,
    progress: bool = True,
) -> tuple[SweepResult, dict]:
    """Run the comparison's runs (choosing the number of replicates by the rule unless fixed)
    and write the analysis. Returns the last sweep result and the replicate decision."""
    checks = []
    if opts.replicates:
        n = opts.replicates
        rule = {"rule": "fixed", "replicates": n}
        res = run_sweep(
            plan,
            out,
            workers=workers,
            scheduler=scheduler,
            retries=retries,
            replicates=n,
            progress=progress,
            kind="compare",
            extra_manifest={"replicate_rule": rule},
        )
        rule["tolerance"] = opts.cv_tolerance
        if not res.interrupted and n >= MIN_CHECK_REPLICATES:  # reported, not acted on
            rule["checks"] = [cv_check(res.runs, opts.outcomes, n, opts.cv_tolerance, lag=max(1, min(5, n // 4)))]
            mf = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            mf["replicate_rule"] = rule
            provenance.write_manifest(out, mf)
    else:
        n = opts.min_replicates
        while True:
            rule = {
                "rule": "cv_stability",
                "min": opts.min_replicates,
                "step": opts.step,
                "max": opts.max_replicates,
                "tolerance": opts.cv_tolerance,
                "checks": checks,
                "replicates": n,
            }
            res = run_sweep(
                plan,
                out,
                workers=workers,
                scheduler=scheduler,
                retries=retries,
                replicates=n,
                progress=progress,
                kind="compare",
                extra_manifest={"replicate_rule": rule},
            )
            if res.interrupted:
                break
            check = cv_check(res.runs, opts.outcomes, n, opts.cv_tolerance)
            checks.append(check)
            if check["stable"] or n >= opts.max_replicates:
                rule["outcome"] = "stable" if check["stable"] else "maximum reached"
                break
            n = min(opts.max_replicates, n + opts.step)
        mf = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        mf["replicate_rule"] = rule
        provenance.write_manifest(out, mf)
    if not res.interrupted:
        analyse(out, plan, opts, rule, progress=progress)
    return res, rule


# -- analysis ------------------------------------------------------------------------------
# The unit of a difference, by the outcome's unit: (unit of the difference, factor from
# the outcome's unit). Distress is in SD units of the distress scale (1 is the spread
# between employed adults, configs/base.toml `distress.trait_sd`), so its difference is
# already standardized against the spread between persons.
DIFF_UNITS = {
    "share": ("percentage points", 100.0),
    "distress score": ("SD of distress between persons", 1.0),
    "index 0-1": ("points of a 0-1 scale", 1.0),
    "score 0-1": ("points of a 0-1 scale", 1.0),
}
# Outcomes with no natural zero get no percentage of the baseline: distress (0 is the mean
# of employed adults without a stressor) and gaps between groups (a difference already).
NO_RELATIVE_UNITS = ("distress score",)
EFFECT_COLUMNS = [
    "scenario",
    "outcome",
    "label",
    "group",
    "unit",
    "available",
    "n",
    "baseline_mean",
    "scenario_mean",
    "diff_unit",
    "diff",
    "diff_lo",
    "diff_hi",
    "diff_ci",
    "pct_baseline",
    "pct_lo",
    "pct_hi",
    "pct_ci",
    "wilcoxon_p",
    "min_p",
    "p_holm",
    "clear",
]
ALPHA = 0.05


def diff_unit(unit: str) -> tuple[str, float]:
    """The unit a difference of an outcome in ``unit`` is reported in, and the factor."""
    return DIFF_UNITS.get(unit, (unit, 1.0))


def has_relative(outcome: str, unit: str) -> bool:
    """Whether a difference in ``outcome`` is also given as a percentage of the baseline."""
    return unit not in NO_RELATIVE_UNITS and "_gap_" not in outcome


def effects_table(
    runs: pd.DataFrame, scenarios: list[str], baseline: str, outcomes: list[str], n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Each scenario against the baseline on each outcome, paired by replicate: the
    difference in the outcome's own unit and as a percentage of the baseline's mean, each
    with a 95% bootstrap interval over replicate pairs (not available: NaN and an empty
    ``_ci``), the Wilcoxon p, the smallest p attainable with these pairs, and the
    Holm-adjusted p over the table; ``clear`` when that is below 0.05."""
    done = runs[runs["status"] == "done"]
    rows = []
    for i, s in enumerate(x for x in scenarios if x != baseline):
        for j, o in enumerate(outcomes):
            info = SUMMARY_BY_NAME.get(o)
            unit = info.unit if info else ""
            du, k = diff_unit(unit)
            row = {
                "scenario": s,
                "outcome": o,
                "label": info.label if info else o,
                "group": section_of(o),
                "unit": unit,
                "diff_unit": du,
            }
            if o not in done:
                rows.append({**row, "available": False})
                continue
            wide = done.pivot_table(index="replicate", columns="scenario", values=o, aggfunc="first", dropna=False)
            if baseline not in wide or s not in wide:
                rows.append({**row, "available": False})
                continue
            a, b = wide[baseline].to_numpy(float), wide[s].to_numpy(float)
            ok = ~(np.isnan(a) | np.isnan(b))
            if ok.sum() < 2:
                rows.append({**row, "available": False, "n": int(ok.sum())})
                continue
            est = stats.paired_effect(
                a,
                b,
                n_resamples=n_boot,
                rng=np.random.SeedSequence(seed, spawn_key=(i, j)),
                relative=has_relative(o, unit),
            )
            rows.append(
                {
                    **row,
                    "available": True,
                    "n": est["n"],
                    "baseline_mean": est["mean_a"],
                    "scenario_mean": est["mean_b"],
                    "diff": k * est["diff"],
                    "diff_lo": k * est["diff_lo"],
                    "diff_hi": k * est["diff_hi"],
                    "diff_ci": est["diff_ci"],
                    "pct_baseline": est["pct"],
                    "pct_lo": est["pct_lo"],
                    "pct_hi": est["pct_hi"],
                    "pct_ci": est["pct_ci"],
                    "wilcoxon_p": est["wilcoxon_p"],
                    "min_p": est["min_p"],
                }
            )
    df = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    df["available"] = df["available"].fillna(False).astype(bool)
    for c in ("diff_ci", "pct_ci"):
        df[c] = df[c].fillna("")
    df["p_holm"] = stats.holm(df["wilcoxon_p"].where(df["available"]).to_numpy(float))
    df["clear"] = df["available"] & (df["p_holm"] < ALPHA)
    return df[EFFECT_COLUMNS]


def testable(eff: pd.DataFrame, alpha: float = ALPHA) -> dict:
    """What the table's tests can show: the most pairs of any comparison, the smallest
    Wilcoxon p with that many, the same Holm-adjusted over the table's family, whether it
    can fall below ``alpha``, and the fewest pairs with which it could."""
    avail = eff[eff["available"]]
    m = len(avail)
    n = int(avail["n"].max()) if m else 0
    p = stats.min_wilcoxon_p(n) if n else float("nan")
    adj = min(1.0, m * p) if m else float("nan")
    return {
        "pairs": n,
        "family": m,
        "min_p": p,
        "min_p_holm": adj,
        "can_reject": bool(m) and adj < alpha,
        "pairs_needed": stats.pairs_needed(alpha, max(1, m)),
    }


def summary_table(
    runs: pd.DataFrame, scenarios: list[str], outcomes: list[str], n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    done = runs[runs["status"] == "done"]
    rows = []
    for i, s in enumerate(scenarios):
        sub = done[done["scenario"] == s]
        for j, o in enumerate(outcomes):
            x = sub[o].to_numpy(float) if o in sub else np.array([])
            x = x[~np.isnan(x)]
            if len(x) == 0:
                rows.append(
                    {"scenario": s, "outcome": o, "n": 0, "mean": np.nan, "lo": np.nan, "hi": np.nan, "sd": np.nan}
                )
                continue
            mean, lo, hi = stats.mean_band(
                x[:, None], n_boot=n_boot, rng=np.random.SeedSequence(seed, spawn_key=(i, j))
            )
            if len(x) < stats.MIN_PAIRS_INTERVAL or not lo[0] < hi[0]:  # not available, as in effects_table
                lo[0] = hi[0] = np.nan
            rows.append(
                {
                    "scenario": s,
                    "outcome": o,
                    "n": len(x),
                    "mean": mean[0],
                    "lo": lo[0],
                    "hi": hi[0],
                    "sd": float(x.std(ddof=1)) if len(x) > 1 else np.nan,
                }
            )
    return pd.DataFrame(rows)


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


# -- the report ----------------------------------------------------------------------------
NOT_AVAILABLE = "not available"


def _fmt(value: float, unit: str) -> str:
    """A level in the outcome's unit (shares as percentages)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.2f}%"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _fmt_diff(value: float, unit: str) -> str:
    """A difference in its unit (:func:`diff_unit`): ``+1.23 points``, ``-0.045 SD``."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "percentage points":
        return f"{value:+.2f} points"
    if unit.startswith("SD"):
        return f"{value:+.3g} SD"
    if unit.endswith("0-1 scale"):
        return f"{value:+.3g}"
    number = f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+.3g}"
    return f"{number} {unit}" if unit else number


def _fmt_pct(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:+.1f}%" if abs(value) >= 0.1 or value == 0 else f"{value:+.2g}%"


def _interval(lo: float, hi: float, fmt) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"[{NOT_AVAILABLE}]"
    return f"[{fmt(lo)}, {fmt(hi)}]"


def _diff_cell(r: pd.Series) -> str:
    f = lambda v: _fmt_diff(v, r["diff_unit"])  # noqa: E731
    return f"{f(r['diff'])} {_interval(r['diff_lo'], r['diff_hi'], f)}"


def _pct_cell(r: pd.Series) -> str:
    if not np.isfinite(r["pct_baseline"]):
        return "-"
    return f"{_fmt_pct(r['pct_baseline'])} {_interval(r['pct_lo'], r['pct_hi'], _fmt_pct)}"


# Who an outcome is about, by its name's prefix (docs/outputs.md), in report order.
SECTIONS = (
    ("workers_", "The laid-off workers"),
    ("household_", "Their households' other adults"),
    ("confidants_", "Their confidants"),
    ("marginalized_", "Marginalized residents"),
    ("others_", "Marginalized residents"),
    ("", "The RCM as a whole"),
)


def section_of(outcome: str) -> str:
    return next(title for prefix, title in SECTIONS if outcome.startswith(prefix))


def _by_section(names) -> list[tuple[str, list[str]]]:
    """``names`` grouped by :data:`SECTIONS` (in that order, names in their order)."""
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(section_of(n), []).append(n)
    order = list(dict.fromkeys(title for _, title in SECTIONS))
    return [(t, groups[t]) for t in order if t in groups]


def effect_sentence(r: pd.Series) -> str:
    """A clear change (Holm-adjusted p < 0.05) in words with its numbers."""
    verb = "raised" if r["diff"] > 0 else "lowered"
    pct = (
        f", {_fmt_pct(r['pct_baseline'])} of the baseline {_interval(r['pct_lo'], r['pct_hi'], _fmt_pct)}"
        if np.isfinite(r["pct_baseline"])
        else ""
    )
    return (
        f"{verb} the {r['label']} from {_fmt(r['baseline_mean'], r['unit'])} to "
        f"{_fmt(r['scenario_mean'], r['unit'])}: {_diff_cell(r)}{pct}; Holm-adjusted Wilcoxon "
        f"p = {r['p_holm']:.2g}, n = {int(r['n'])} pairs."
    )


def _effects_rows(sub: pd.DataFrame) -> list[str]:
    """The rows of a scenario's effects table, grouped by section."""
    lines = [
        "| outcome | baseline | scenario | difference [95% interval] | % of the baseline [95% interval] | p (Holm) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    sub = sub.set_index("outcome", drop=False)
    for title, names in _by_section(sub["outcome"]):
        lines.append(f"| **{title}** | | | | | |")
        for o in names:
            r = sub.loc[o]
            p = f"{r['p_holm']:.2g}" + (" (clear)" if r["clear"] else "")
            lines.append(
                f"| {r['label']} ({r['diff_unit']}) | {_fmt(r['baseline_mean'], r['unit'])} | "
                f"{_fmt(r['scenario_mean'], r['unit'])} | {_diff_cell(r)} | {_pct_cell(r)} | {p} |"
            )
    return lines


def _summary_row(summ: pd.DataFrame, o: str, scenarios: list[str]) -> str | None:
    """A row of the outcomes-by-scenario table: mean [95% interval] per scenario."""
    sub = summ[summ["outcome"] == o].set_index("scenario")
    if not len(sub) or sub["n"].sum() == 0:
        return None
    unit = SUMMARY_BY_NAME[o].unit if o in SUMMARY_BY_NAME else ""
    cells = []
    for s in scenarios:
        r = sub.loc[s] if s in sub.index else None
        cells.append(
            "n/a"
            if r is None or r["n"] == 0
            else f"{_fmt(r['mean'], unit)} {_interval(r['lo'], r['hi'], lambda v: _fmt(v, unit))}"
        )
    return f"| {SUMMARY_BY_NAME[o].label if o in SUMMARY_BY_NAME else o} ({unit}) | " + " | ".join(cells) + " |"


def _components_section(
    components: tuple[pd.DataFrame, pd.DataFrame], scenarios: list[str], baseline: str
) -> list[str]:
    """The cohesion index beside its four components: means by scenario, then each
    scenario's paired difference from the baseline."""
    summ, eff = components
    if not len(summ) or summ["n"].sum() == 0:
        return []
    lines = [
        "",
        "## Cohesion index and its components",
        "",
        "The index is the mean of its four components (docs/ODD.md), so a scenario's change in the index is the "
        "mean of its changes in the components. Means over the run, mean over replicates with its 95% "
        "bootstrap interval:",
        "",
        "| measure | " + " | ".join(scenarios) + " |",
        "| --- |" + " --- |" * len(scenarios),
    ]
    lines += [r for r in (_summary_row(summ, o, scenarios) for o in COHESION_COMPONENTS) if r]
    others = [s for s in scenarios if s != baseline]
    avail = eff[eff["available"]]
    if len(avail) and others:
        lines += [
            "",
            f"Paired difference from the baseline ({baseline}), with its 95% interval (descriptive: "
            "the tests are those of the findings):",
            "",
            "| measure | " + " | ".join(others) + " |",
            "| --- |" + " --- |" * len(others),
        ]
        for o in COHESION_COMPONENTS:
            cells = []
            for s in others:
                r = avail[(avail["scenario"] == s) & (avail["outcome"] == o)]
                cells.append(_diff_cell(r.iloc[0]) if len(r) else "n/a")
            r = eff[eff["outcome"] == o]
            unit = r["diff_unit"].iloc[0] if len(r) else ""
            lines.append(f"| {SUMMARY_BY_NAME[o].label} ({unit}) | " + " | ".join(cells) + " |")
    return lines


def stability_text(rule: dict) -> str:
    """The replicate paragraph: the number and the coefficient-of-variation check, always."""
    n_rep = rule.get("replicates")
    tol = 100 * rule.get("tolerance", CompareOptions.cv_tolerance)
    checks = rule.get("checks") or []
    if rule.get("rule") == "fixed":
        text = f"**Replicates.** {n_rep}, fixed on the command line. "
        if not checks:
            if (n_rep or 0) < MIN_CHECK_REPLICATES:
                return text + (
                    f"Stability check: not possible, it compares the coefficient of variation of the key "
                    f"outcomes between fewer and all replicates and needs at least "
                    f"{MIN_CHECK_REPLICATES}."
                )
            return text + "Stability check: not recorded for these runs; run the comparison again to compute it."
        c = checks[0]
        text += "Stability check of the default rule (reported, not acted on): "
    else:
        c = checks[-1] if checks else {}
        text = (
            f"**Replicates.** Chosen by coefficient-of-variation stability: at least {rule['min']}, "
            f"{rule['step']} more until the coefficient of variation of every available key outcome in every "
            f"scenario changed by less than {tol:.0f}% (at most {rule['max']}). Result: {n_rep} replicates, "
            f"{rule.get('outcome', 'stopped')}. Stability check: "
        )
    if not c or not c.get("checked"):
        return text + "no key outcome had a coefficient of variation to compare (too few values or a mean of 0)."
    text += (
        f"the coefficient of variation of the key outcomes changed by at most {100 * c['largest_change']:.1f}% "
        f"between {c['compared_with']} and {c['replicates']} replicates"
        + (f" ({c['where']})" if c.get("where") else "")
    )
    if c["stable"]:
        return text + f", within the rule's {tol:.0f}%: stable."
    return text + f", more than the rule's {tol:.0f}%: not stable; more replicates would change the estimates."


def power_text(t: dict) -> str:
    """What the table's tests can show with this many pairs."""
    if not t["family"]:
        return ""
    n, p, m = t["pairs"], t["min_p"], t["family"]
    text = (
        f"**What {n} pairs can show.** With {n} pairs and no ties the smallest two-sided p the Wilcoxon test can "
        f"give is 2/2^{n} = {p:.3g}; Holm's correction over the {m} comparisons multiplies the smallest by {m}, "
        f"so the smallest attainable adjusted p is {t['min_p_holm']:.3g}. "
    )
    if t["can_reject"]:
        return text + "A change of any size can be called clear only when its adjusted p is below 0.05."
    text += (
        "No change can be called clear with this many replicates, however large"
        + (" (even unadjusted, the test cannot reach 0.05)" if p >= ALPHA else "")
        + f": that needs at least {t['pairs_needed']} pairs. The differences and intervals describe these runs; "
        "they are not tests."
    )
    return text


def write_report(
    out: Path,
    plan: SweepPlan,
    opts: CompareOptions,
    rule: dict,
    runs: pd.DataFrame,
    eff: pd.DataFrame,
    summ: pd.DataFrame,
    series_files,
    missing_series,
    forest_files,
    map_file,
    map_note,
    mf: dict,
    components: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Path:
    cfg = next(iter(mf["scenarios"].values()))["config"]
    done = runs[runs["status"] == "done"]
    failed = runs[runs["status"] != "done"]
    n_rep = rule.get("replicates")
    avail = eff[eff["available"]]
    t = testable(eff)
    lines = [f"# Scenario comparison: {', '.join(plan.scenarios)}", ""]
    lines += [
        f"{len(plan.scenarios)} scenarios, {n_rep} replicates each ({len(done)} runs done"
        + (f", {len(failed)} failed" if len(failed) else "")
        + f"), at scale {cfg['run.scale']:g} "
        f"(model persons per resident), {cfg['run.start']} to {cfg['run.end']}. Replicate *i* of every scenario "
        f"used the same seed (common random numbers, root seed {plan.seed}), so each scenario is compared with the "
        f"baseline ({opts.baseline}) run by run. Model version {mf.get('model_version')}, git commit "
        f"{(mf.get('sessions') or [{}])[-1].get('git', {}).get('commit')}.",
        "",
    ]
    lines += [stability_text(rule), ""]
    lines += [
        "**Methods.** The cohort outcomes follow the people the closures touched: each layoff wave's laid-off "
        "workers, the other adults of their households and their confidants (the adults their ties point to), "
        "fixed at the layoff, measured 6, 12 and 24 months later and pooled over every wave (shares over the "
        "members still in the RCM; moved out over all members); marginalized adults are compared with the "
        "others at each year's end, pooled over the years (docs/outputs.md). The RCM-wide outcomes are "
        "summaries of each run's weekly series (mean over the run, highest 13-week "
        "average, or the mean of the last 52 weeks).",
        "",
        "**Effects.** Each effect is scenario minus baseline, paired by replicate, in the outcome's own unit: "
        "percentage points for shares; for distress, SD units of the distress scale (1 is the spread of "
        "distress between employed adults without a current stressor), so a distress difference is already an effect standardized "
        "against the spread between persons. It is also given as a percentage of the baseline's mean, except "
        "for distress (no natural zero) and the gaps between groups. Nothing is standardized by the spread "
        "between replicates, which is simulation noise. Each comes with a 95% bootstrap interval over the "
        f"replicate pairs (scipy.stats.bootstrap, paired, BCa or percentile where BCa cannot be computed, "
        f"{opts.n_boot} resamples); an interval is not available with fewer than {stats.MIN_PAIRS_INTERVAL} "
        "pairs, when the differences do not vary or when it cannot be estimated"
        + (
            f"; with fewer than {stats.ROUGH_PAIRS} pairs the intervals are rough and cover the true "
            "difference less often than 95%"
            if t["pairs"] and t["pairs"] < stats.ROUGH_PAIRS
            else ""
        )
        + ". p-values are two-sided Wilcoxon signed-rank tests of the paired differences, Holm-adjusted over "
        f"the {t['family']} comparisons of the table. A change is called clear only when its Holm-adjusted "
        "p is below 0.05.",
        "",
    ]
    power = power_text(t)
    if power:
        lines += [power, ""]
    lines += ["## Findings", ""]
    if not len(avail):
        lines += ["No outcome could be compared (none available in both the baseline and a scenario).", ""]
    for s in [x for x in plan.scenarios if x != opts.baseline]:
        sub = avail[avail["scenario"] == s]
        desc = mf["scenarios"].get(s, {}).get("description", "")
        lines += [f"### {display.scenario_name(s)} (`{s}`)", ""]
        if desc:
            lines += [f"*{desc}*", ""]
        if not len(sub):
            lines += ["No outcome available for this scenario.", ""]
            continue
        clear = sub[sub["clear"]]
        lines += [
            f"Against the baseline, {s} changed {len(clear)} of {len(sub)} outcomes clearly (Holm-adjusted "
            "Wilcoxon p < 0.05)"
            + ("." if t["can_reject"] else f"; with {t['pairs']} pairs no change can be called clear."),
            "",
        ]
        for title, names in _by_section(clear["outcome"]):
            lines.append(f"**{title}.**")
            for o in names:
                lines.append(f"- It {effect_sentence(clear[clear['outcome'] == o].iloc[0])}")
            lines.append("")
        lines += _effects_rows(sub) + [""]
    na = sorted(set(eff.loc[~eff["available"], "outcome"]))
    if na:
        lines += [
            "## Not available",
            "",
            "These outcomes have no values in this model version (their submodel is not in the model), in "
            "this period (a cohort horizon after the run's end) or too few runs: "
            + ", ".join(f"`{o}`" for o in na)
            + ".",
            "",
        ]
    lines += [
        "## Outcomes by scenario",
        "",
        "Mean over replicates with its 95% bootstrap interval.",
        "",
        "| outcome | " + " | ".join(plan.scenarios) + " |",
        "| --- |" + " --- |" * len(plan.scenarios),
    ]
    for title, names in _by_section(opts.outcomes):
        rows = [_summary_row(summ, o, plan.scenarios) for o in names]
        rows = [r for r in rows if r]
        if rows:
            lines.append(f"| **{title}** |" + " |" * len(plan.scenarios))
            lines += rows
    if components is not None:
        lines += _components_section(components, plan.scenarios, opts.baseline)
    fmts = tuple(opts.formats)
    ref = lambda f: "figures/" + display.preferred(f, fmts)  # noqa: E731
    lines += [
        "",
        "## Figures",
        "",
        f"Written as {', '.join(f.upper() for f in fmts)} in `figures/`"
        + (" (PNG at 300 dpi)" if "png" in fmts else "")
        + ". In the weekly series the baseline is black and "
        "dashed, drawn over the others, so that a scenario identical to it still shows; the closures' layoff "
        f"periods are shaded and lettered; the first {figures.START_UP_WEEKS} weeks of the run (start-up: the "
        "formal services start with no clients and fill over about six weeks) are not drawn. Counts of people "
        "are model persons"
        + (
            f" (scale {cfg['run.scale']:g}: one per {1 / cfg['run.scale']:.3g} residents)"
            if cfg["run.scale"] != 1
            else ""
        )
        + ".",
        "",
    ]
    for f in series_files:
        lines += [f"![{display.series_label(f[len('series_') : -len('.png')])}]({ref(f)})", ""]
    if missing_series:
        lines += [
            "Weekly series not drawn (no values in this model version): "
            + ", ".join(f"`{c}`" for c in missing_series)
            + ".",
            "",
        ]
    if forest_files:
        lines += [
            "Differences from the baseline in each outcome's unit, one panel per group of people and unit, "
            "the panels of a unit on one shared axis, with 95% intervals (hollow markers: interval not "
            "available; black edge: clear):",
            "",
            f"![differences]({ref(forest_files[0])})",
            "",
        ]
        if len(forest_files) > 1:
            lines += [
                "The same as a percentage of the baseline's mean:",
                "",
                f"![percentages of the baseline]({ref(forest_files[1])})",
                "",
            ]
    map_files = [map_file] if isinstance(map_file, str) else list(map_file or [])
    if map_files:
        lines += [
            f"By municipality{': ' + map_note if map_note else ''}. Levels, then each scenario minus the "
            "baseline on a scale centred on zero:",
            "",
        ]
        lines += [f"![map]({ref(f)})" + "\n" for f in map_files]
    lines += [
        "## Files",
        "",
        "`runs.parquet` (one row per run with its summary outcomes), `timeseries/` (one row per run and week), "
        "`municipal/` (one row per run, year and municipality), `effects.csv`, `summary.csv`, `figures/`, "
        "`manifest.json` (configuration of every scenario, seeds, versions, command lines). Columns: "
        "docs/experiments.md and docs/outputs.md.",
        "",
        "Reproduce with: `" + " ".join((mf.get("sessions") or [{}])[-1].get("command", [])) + "`",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
