"""The comparison's report (report.md): the findings in words with their numbers, the
effects and outcomes tables, the replicate and power paragraphs, and the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import display, figures, stats
from .compare_effects import ALPHA, SECTIONS, section_of, testable
from .compare_rule import MIN_CHECK_REPLICATES, CompareOptions
from .design import SweepPlan
from .outcomes import COHESION_COMPONENTS, SUMMARY_BY_NAME

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
