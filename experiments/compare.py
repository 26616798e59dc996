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

from . import figures, provenance, stats
from .design import SweepPlan
from .outcomes import COHESION_COMPONENTS, KEY_OUTCOMES, KEY_SERIES, SUMMARY_BY_NAME
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
    return {"replicates": n, "compared_with": max(2, n - lag), "checked": checked, "largest_change": worst,
            "where": where, "stable": worst < tolerance}


def run_comparison(plan: SweepPlan, out: Path, opts: CompareOptions, *, workers: int = 1,
                   scheduler: str | None = None, retries: int = 0, progress: bool = True) -> tuple[SweepResult, dict]:
    """Run the comparison's runs (choosing the number of replicates by the rule unless fixed)
    and write the analysis. Returns the last sweep result and the replicate decision."""
    checks = []
    if opts.replicates:
        n = opts.replicates
        rule = {"rule": "fixed", "replicates": n}
        res = run_sweep(plan, out, workers=workers, scheduler=scheduler, retries=retries, replicates=n,
                        progress=progress, kind="compare", extra_manifest={"replicate_rule": rule})
        if not res.interrupted and n >= 4:  # reported, not acted on
            rule["checks"] = [cv_check(res.runs, opts.outcomes, n, opts.cv_tolerance, lag=max(1, min(5, n // 4)))]
            rule["tolerance"] = opts.cv_tolerance
            mf = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            mf["replicate_rule"] = rule
            provenance.write_manifest(out, mf)
    else:
        n = opts.min_replicates
        while True:
            rule = {"rule": "cv_stability", "min": opts.min_replicates, "step": opts.step, "max": opts.max_replicates,
                    "tolerance": opts.cv_tolerance, "checks": checks, "replicates": n}
            res = run_sweep(plan, out, workers=workers, scheduler=scheduler, retries=retries, replicates=n,
                            progress=progress, kind="compare", extra_manifest={"replicate_rule": rule})
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
        analyse(out, plan, opts, rule)
    return res, rule


# -- analysis ------------------------------------------------------------------------------
def effects_table(runs: pd.DataFrame, scenarios: list[str], baseline: str, outcomes: list[str],
                  n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Each scenario against the baseline on each outcome: paired by replicate."""
    done = runs[runs["status"] == "done"]
    rows = []
    for i, s in enumerate(x for x in scenarios if x != baseline):
        for j, o in enumerate(outcomes):
            info = SUMMARY_BY_NAME.get(o)
            row = {"scenario": s, "outcome": o, "label": info.label if info else o, "unit": info.unit if info else ""}
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
            est = stats.bootstrap_effects(a, b, n_boot=n_boot, rng=np.random.SeedSequence(seed, spawn_key=(i, j)))
            rows.append({**row, "available": True, "n": est.pop("n"), "baseline_mean": est.pop("mean_a"),
                         "scenario_mean": est.pop("mean_b"), **est})
    cols = ["scenario", "outcome", "label", "unit", "available", "n", "baseline_mean", "scenario_mean", "mean_diff",
            "mean_diff_lo", "mean_diff_hi", "cohens_d", "cohens_d_lo", "cohens_d_hi", "vd_a", "vd_a_lo", "vd_a_hi",
            "wilcoxon_p", "p_holm"]
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df:
            df[c] = np.nan
    df["available"] = df["available"].fillna(False).astype(bool)
    df["p_holm"] = stats.holm(df["wilcoxon_p"].where(df["available"]).to_numpy(float))
    return df[cols]


def summary_table(runs: pd.DataFrame, scenarios: list[str], outcomes: list[str], n_boot: int = 2000,
                  seed: int = 0) -> pd.DataFrame:
    done = runs[runs["status"] == "done"]
    rows = []
    for i, s in enumerate(scenarios):
        sub = done[done["scenario"] == s]
        for j, o in enumerate(outcomes):
            x = sub[o].to_numpy(float) if o in sub else np.array([])
            x = x[~np.isnan(x)]
            if len(x) == 0:
                rows.append({"scenario": s, "outcome": o, "n": 0, "mean": np.nan, "lo": np.nan, "hi": np.nan, "sd": np.nan})
                continue
            mean, lo, hi = stats.mean_band(x[:, None], n_boot=n_boot, rng=np.random.SeedSequence(seed, spawn_key=(i, j)))
            rows.append({"scenario": s, "outcome": o, "n": len(x), "mean": mean[0], "lo": lo[0], "hi": hi[0],
                         "sd": float(x.std(ddof=1)) if len(x) > 1 else np.nan})
    return pd.DataFrame(rows)


def closure_periods(start: date, end: date, scale: float) -> list[tuple[str, date, date]]:
    """Each replayed closure's layoff period (first to last wave) within the run."""
    from model.timeline import Timeline

    tl = Timeline.load()
    spans: dict[int, list[date]] = {}
    for w in tl.waves_between(start, end, scale):
        spans.setdefault(w.closure, []).append(w.date)
    return [(tl.closures[i].employer, min(d), max(d) + timedelta(days=7)) for i, d in sorted(spans.items())]


def intervention_periods(config: dict, start: date, end: date) -> list[tuple[str, date, date]]:
    """Interventions a scenario switches on (``interventions.<name>.enabled``), with their
    dates clipped to the run."""
    out = []
    for key, value in config.items():
        if key.startswith("interventions.") and key.endswith(".enabled") and value is True:
            name = key[len("interventions."):-len(".enabled")]
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


def analyse(out: Path, plan: SweepPlan, opts: CompareOptions, rule: dict) -> dict:
    """Write effects.csv, summary.csv, the figures and report.md from a comparison's runs."""
    out = Path(out)
    runs = pd.read_parquet(out / "runs.parquet")
    mf = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    scenarios = plan.scenarios
    figdir = out / "figures"
    figdir.mkdir(exist_ok=True)
    eff = effects_table(runs, scenarios, opts.baseline, opts.outcomes, opts.n_boot, plan.seed)
    eff.to_csv(out / "effects.csv", index=False)
    summ = summary_table(runs, scenarios, opts.outcomes, opts.n_boot, plan.seed)
    summ.to_csv(out / "summary.csv", index=False)

    done = runs[runs["status"] == "done"]
    meta = done.set_index("run_id")[["scenario", "replicate"]]
    any_cfg = next(iter(mf["scenarios"].values()))["config"]
    start = parse_month(any_cfg["run.start"])
    end = parse_month(any_cfg["run.end"])
    end = date(end.year + end.month // 12, end.month % 12 + 1, 1) - timedelta(days=1)
    closures = closure_periods(start, end, float(any_cfg["run.scale"]))
    periods = {s: intervention_periods(mf["scenarios"][s]["config"], start, end) for s in scenarios}
    series_files, missing_series = [], []
    n_rep = int(done.groupby("scenario").size().min()) if len(done) else 0
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
            mat = sub.pivot_table(index="replicate", columns="week", values=col, aggfunc="first",
                                  dropna=False).reindex(columns=weeks).to_numpy(float)
            bands[s] = stats.mean_band(mat, n_boot=500, rng=np.random.SeedSequence(plan.seed, spawn_key=(k, i)))
        path = figdir / f"series_{col}.png"
        figures.series_with_bands(pd.DatetimeIndex(dates), bands, col, path, closures, periods, n_rep)
        series_files.append(path.name)

    forest_file = None
    if eff["available"].any():
        forest_file = "forest_cohens_d.png"
        figures.forest(eff, figdir / forest_file, "cohens_d")
        figures.forest(eff, figdir / "forest_vd_a.png", "vd_a")

    map_file, map_note = _maps(out, meta, scenarios, opts, figdir, any_cfg)
    components = (summary_table(runs, scenarios, list(COHESION_COMPONENTS), opts.n_boot, plan.seed),
                  effects_table(runs, scenarios, opts.baseline, list(COHESION_COMPONENTS), opts.n_boot, plan.seed))
    report = write_report(out, plan, opts, rule, runs, eff, summ, series_files, missing_series, forest_file,
                          map_file, map_note, mf, components)
    return {"effects": eff, "summary": summ, "report": report}


def _maps(out: Path, meta: pd.DataFrame, scenarios: list[str], opts: CompareOptions, figdir: Path, cfg: dict):
    mun = read_table(out, "municipal", run_ids=list(meta.index))
    if not len(mun):
        return None, "no municipal data"
    mun = mun.join(meta, on="run_id")
    column, unit, note = "mean_distress", "distress score", ""
    if mun["mean_distress"].isna().all():
        column, unit = "unemployment_rate", "%"
        note = "distress is not available in this model version; the maps show the unemployment rate instead"
    years = sorted(mun["year"].unique())
    wanted = opts.map_years or [y for y in (2004, 2006, 2009, 2016) if y in years] or years[-1:]
    wanted = [y for y in wanted if y in years]
    if not wanted:
        return None, f"none of the map years is in the run ({years[0]}-{years[-1]})"
    avg = (mun[mun["year"].isin(wanted)].groupby(["scenario", "year", "municipality"], as_index=False)[column].mean())
    avg["scenario"] = pd.Categorical(avg["scenario"], scenarios, ordered=True)
    avg = avg.sort_values(["scenario", "year"])
    avg["scenario"] = avg["scenario"].astype(str)
    from model.territory import load_territory

    territory = load_territory(CONFIG_DIR / "territory", cell_km=cfg["run.cell_km"],
                               density_scale_km=cfg["run.density_scale_km"])
    path = figdir / f"map_{column}.png"
    figures.municipal_maps(territory, avg, column, path, unit,
                           f"{column.replace('_', ' ')} by municipality at the end of the year,\nmean over replicates")
    return path.name, note


# -- the report ----------------------------------------------------------------------------
def _fmt(value: float, unit: str, diff: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "share":
        v = 100 * value
        return f"{v:+.2f} points" if diff else f"{v:.2f}%"
    if abs(value) >= 100:
        return f"{value:+,.0f}" if diff else f"{value:,.0f}"
    return f"{value:+.3g}" if diff else f"{value:.3g}"


def _magnitude(a: float) -> str:
    d = abs(a - 0.5)
    return "negligible" if d < 0.06 else "small" if d < 0.14 else "medium" if d < 0.21 else "large"


# Who an outcome is about, by its name's prefix (docs/outputs.md), in report order.
SECTIONS = (("workers_", "The laid-off workers"), ("household_", "Their households' other adults"),
            ("confidants_", "Their confidants"), ("marginalized_", "Marginalized residents"),
            ("others_", "Marginalized residents"), ("", "The RCM as a whole"))


def section_of(outcome: str) -> str:
    return next(title for prefix, title in SECTIONS if outcome.startswith(prefix))


def _by_section(names) -> list[tuple[str, list[str]]]:
    """``names`` grouped by :data:`SECTIONS` (in that order, names in their order)."""
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(section_of(n), []).append(n)
    order = list(dict.fromkeys(title for _, title in SECTIONS))
    return [(t, groups[t]) for t in order if t in groups]


def _diff_text(r: pd.Series) -> str:
    unit = r["unit"]
    return (f"{r['label']} {_fmt(r['mean_diff'], unit, True)} [{_fmt(r['mean_diff_lo'], unit, True)}, "
            f"{_fmt(r['mean_diff_hi'], unit, True)}]")


def effect_sentence(r: pd.Series) -> str:
    unit = r["unit"]
    clear = np.isfinite(r["mean_diff_lo"]) and (r["mean_diff_lo"] > 0 or r["mean_diff_hi"] < 0)
    numbers = (f"difference {_fmt(r['mean_diff'], unit, True)}, 95% CI {_fmt(r['mean_diff_lo'], unit, True)} to "
               f"{_fmt(r['mean_diff_hi'], unit, True)}; Cohen's d {r['cohens_d']:+.2f} "
               f"[{r['cohens_d_lo']:+.2f}, {r['cohens_d_hi']:+.2f}]; A = {r['vd_a']:.2f} "
               f"[{r['vd_a_lo']:.2f}, {r['vd_a_hi']:.2f}], {_magnitude(r['vd_a'])}; "
               f"Holm-adjusted Wilcoxon p = {r['p_holm']:.2g}; n = {int(r['n'])} pairs")
    if clear:
        verb = "raised" if r["mean_diff"] > 0 else "lowered"
        return (f"{verb} the {r['label']} from {_fmt(r['baseline_mean'], unit)} to "
                f"{_fmt(r['scenario_mean'], unit)} ({numbers}).")
    return (f"did not clearly change the {r['label']} ({_fmt(r['baseline_mean'], unit)} in the baseline, "
            f"{_fmt(r['scenario_mean'], unit)} here; {numbers}).")


def _summary_row(summ: pd.DataFrame, o: str, scenarios: list[str]) -> str | None:
    """A row of the outcomes-by-scenario table: mean [95% interval] per scenario."""
    sub = summ[summ["outcome"] == o].set_index("scenario")
    if not len(sub) or sub["n"].sum() == 0:
        return None
    unit = SUMMARY_BY_NAME[o].unit if o in SUMMARY_BY_NAME else ""
    cells = []
    for s in scenarios:
        r = sub.loc[s] if s in sub.index else None
        cells.append("n/a" if r is None or r["n"] == 0
                     else f"{_fmt(r['mean'], unit)} [{_fmt(r['lo'], unit)}, {_fmt(r['hi'], unit)}]")
    return f"| {SUMMARY_BY_NAME[o].label if o in SUMMARY_BY_NAME else o} ({unit}) | " + " | ".join(cells) + " |"


def _components_section(components: tuple[pd.DataFrame, pd.DataFrame], scenarios: list[str],
                        baseline: str) -> list[str]:
    """The cohesion index beside its four components: means by scenario, then each
    scenario's paired difference from the baseline."""
    summ, eff = components
    if not len(summ) or summ["n"].sum() == 0:
        return []
    lines = ["", "## Cohesion index and its components", "",
             "The index is the mean of its four components (docs/ODD.md), so a scenario's change in the index is the "
             "mean of its changes in the components. Means over the run, mean over replicates with its 95% "
             "bootstrap interval:", "",
             "| measure | " + " | ".join(scenarios) + " |", "| --- |" + " --- |" * len(scenarios)]
    lines += [r for r in (_summary_row(summ, o, scenarios) for o in COHESION_COMPONENTS) if r]
    others = [s for s in scenarios if s != baseline]
    avail = eff[eff["available"]]
    if len(avail) and others:
        lines += ["", f"Paired difference from the baseline ({baseline}), with its 95% interval:", "",
                  "| measure | " + " | ".join(others) + " |", "| --- |" + " --- |" * len(others)]
        for o in COHESION_COMPONENTS:
            cells = []
            for s in others:
                r = avail[(avail["scenario"] == s) & (avail["outcome"] == o)]
                if not len(r):
                    cells.append("n/a")
                    continue
                r = r.iloc[0]
                cells.append(f"{_fmt(r['mean_diff'], r['unit'], True)} [{_fmt(r['mean_diff_lo'], r['unit'], True)}, "
                             f"{_fmt(r['mean_diff_hi'], r['unit'], True)}]")
            lines.append(f"| {SUMMARY_BY_NAME[o].label} | " + " | ".join(cells) + " |")
    return lines


def write_report(out: Path, plan: SweepPlan, opts: CompareOptions, rule: dict, runs: pd.DataFrame,
                 eff: pd.DataFrame, summ: pd.DataFrame, series_files, missing_series, forest_file, map_file,
                 map_note, mf: dict, components: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> Path:
    cfg = next(iter(mf["scenarios"].values()))["config"]
    done = runs[runs["status"] == "done"]
    failed = runs[runs["status"] != "done"]
    n_rep = rule.get("replicates")
    lines = [f"# Scenario comparison: {', '.join(plan.scenarios)}", ""]
    lines += [
        f"{len(plan.scenarios)} scenarios, {n_rep} replicates each ({len(done)} runs done"
        + (f", {len(failed)} failed" if len(failed) else "") + f"), at scale {cfg['run.scale']:g} "
        f"(model persons per resident), {cfg['run.start']} to {cfg['run.end']}. Replicate *i* of every scenario "
        f"used the same seed (common random numbers, root seed {plan.seed}), so each scenario is compared with the "
        f"baseline ({opts.baseline}) run by run. Model version {mf.get('model_version')}, git commit "
        f"{(mf.get('sessions') or [{}])[-1].get('git', {}).get('commit')}.", ""]
    if rule.get("rule") == "fixed":
        text = f"**Replicates.** {n_rep}, fixed on the command line."
        if rule.get("checks"):
            c = rule["checks"][0]
            text += (f" The stability check of the default rule, for information: the coefficient of variation of the "
                     f"key outcomes changed by at most {100 * c['largest_change']:.1f}% between {c['compared_with']} "
                     f"and {c['replicates']} replicates"
                     + (f" ({c['where']})" if c.get("where") else "")
                     + (f", within the rule's {100 * rule['tolerance']:.0f}%." if c["stable"] else
                        f", more than the rule's {100 * rule['tolerance']:.0f}%: more replicates would narrow the "
                        "intervals."))
        lines += [text, ""]
    else:
        last = (rule.get("checks") or [{}])[-1]
        lines += [
            f"**Replicates.** Chosen by coefficient-of-variation stability: at least {rule['min']}, {rule['step']} more "
            f"until the coefficient of variation of every available key outcome in every scenario changed by less "
            f"than {100 * rule['tolerance']:.0f}% between {last.get('compared_with')} and {last.get('replicates')} "
            f"replicates (at most {rule['max']}). Result: {n_rep} replicates, {rule.get('outcome', 'stopped')}; "
            f"largest change {100 * last.get('largest_change', float('nan')):.1f}%"
            + (f" ({last['where']})" if last.get("where") else "") + ".", ""]
    lines += ["**Methods.** The cohort outcomes follow the people the closures touched: each layoff wave's laid-off "
              "workers, the other adults of their households and their confidants (the adults their ties point to), "
              "fixed at the layoff, measured 6, 12 and 24 months later and pooled over every wave (shares over the "
              "members still in the RCM; moved out over all members); marginalized adults are compared with the "
              "others at each year's end, pooled over the years (docs/outputs.md). The RCM-wide outcomes are "
              "summaries of each run's weekly series (mean over the run, highest 13-week "
              "average, or the mean of the last 52 weeks). Effects are scenario minus baseline: the mean paired "
              "difference, Cohen's d (pooled standard deviation) and the Vargha-Delaney A (probability that a run "
              "of the scenario exceeds a run of the baseline; 0.5 is no effect), each with a 95% percentile "
              f"bootstrap interval over replicate pairs ({opts.n_boot} resamples); p-values are two-sided Wilcoxon "
              f"signed-rank tests, Holm-adjusted over the {int(eff['available'].sum())} comparisons of the table. "
              "A difference is called clear when its 95% interval excludes zero."
              + (f" With {n_rep} replicates the bootstrap intervals of d and A are rough (resamples of so few runs "
                 "can have almost no spread); read the mean differences first." if n_rep and n_rep < 10 else ""), ""]
    lines += ["## Findings", ""]
    avail = eff[eff["available"]]
    if not len(avail):
        lines += ["No outcome could be compared (none available in both the baseline and a scenario).", ""]
    for s in [x for x in plan.scenarios if x != opts.baseline]:
        sub = avail[avail["scenario"] == s]
        desc = mf["scenarios"].get(s, {}).get("description", "")
        lines += [f"### {s}", ""]
        if desc:
            lines += [f"*{desc}*", ""]
        if not len(sub):
            lines += ["No outcome available for this scenario.", ""]
            continue
        is_clear = (sub["mean_diff_lo"] > 0) | (sub["mean_diff_hi"] < 0)
        lines += [f"Against the baseline, {s} changed {int(is_clear.sum())} of {len(sub)} outcomes clearly.", ""]
        sub = sub.set_index("outcome", drop=False)
        for title, names in _by_section(sub["outcome"]):
            part = sub.loc[names]
            clear = part[is_clear.set_axis(sub.index).loc[names]]
            lines.append(f"**{title}.**")
            for _, r in clear.iterrows():
                lines.append(f"- It {effect_sentence(r)}")
            rest = part.drop(clear.index)
            if len(rest):
                lines.append("- No clear change (mean difference, 95% CI): "
                             + "; ".join(_diff_text(r) for _, r in rest.iterrows()) + ".")
            lines.append("")
    na = sorted(set(eff.loc[~eff["available"], "outcome"]))
    if na:
        lines += ["## Not available", "",
                  "These outcomes have no values in this model version (their submodel is not in the model), in "
                  "this period (a cohort horizon after the run's end) or too few runs: " + ", ".join(f"`{o}`" for o in na) + ".", ""]
    lines += ["## Outcomes by scenario", "", "Mean over replicates with its 95% bootstrap interval.", "",
              "| outcome | " + " | ".join(plan.scenarios) + " |", "| --- |" + " --- |" * len(plan.scenarios)]
    for title, names in _by_section(opts.outcomes):
        rows = [_summary_row(summ, o, plan.scenarios) for o in names]
        rows = [r for r in rows if r]
        if rows:
            lines.append(f"| **{title}** |" + " |" * len(plan.scenarios))
            lines += rows
    if components is not None:
        lines += _components_section(components, plan.scenarios, opts.baseline)
    lines += ["", "## Figures", ""]
    for f in series_files:
        lines += [f"![{f}](figures/{f})", ""]
    if missing_series:
        lines += ["Weekly series not drawn (no values in this model version): "
                  + ", ".join(f"`{c}`" for c in missing_series) + ".", ""]
    if forest_file:
        lines += ["Effects on every outcome (Cohen's d and Vargha-Delaney A, 95% intervals):", "",
                  f"![forest plot](figures/{forest_file})", "", "![forest plot, A](figures/forest_vd_a.png)", ""]
    if map_file:
        lines += [f"By municipality{': ' + map_note if map_note else ''}.", "", f"![map](figures/{map_file})", ""]
    lines += ["## Files", "",
              "`runs.parquet` (one row per run with its summary outcomes), `timeseries/` (one row per run and week), "
              "`municipal/` (one row per run, year and municipality), `effects.csv`, `summary.csv`, `figures/`, "
              "`manifest.json` (configuration of every scenario, seeds, versions, command lines). Columns: "
              "docs/outputs.md.", "",
              "Reproduce with: `" + " ".join((mf.get("sessions") or [{}])[-1].get("command", [])) + "`", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
