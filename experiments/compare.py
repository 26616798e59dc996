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

This module runs the paired replicates (:func:`run_comparison`); the options and the
replicate rule are in :mod:`experiments.compare_rule`, the effects and summary tables in
:mod:`experiments.compare_effects`, the analysis that writes the tables and figures in
:mod:`experiments.compare_analysis` and the report in :mod:`experiments.compare_report`.
Their public names are importable from here.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import provenance
from .compare_analysis import analyse, closure_periods, intervention_periods
from .compare_effects import (
    ALPHA,
    DIFF_UNITS,
    EFFECT_COLUMNS,
    NO_RELATIVE_UNITS,
    SECTIONS,
    diff_unit,
    effects_table,
    has_relative,
    section_of,
    summary_table,
    testable,
)
from .compare_report import NOT_AVAILABLE, effect_sentence, power_text, stability_text, write_report
from .compare_rule import MIN_CHECK_REPLICATES, CompareOptions, cv_check
from .design import SweepPlan
from .sweep import SweepResult, run_sweep

__all__ = [
    "ALPHA",
    "DIFF_UNITS",
    "EFFECT_COLUMNS",
    "MIN_CHECK_REPLICATES",
    "NOT_AVAILABLE",
    "NO_RELATIVE_UNITS",
    "SECTIONS",
    "CompareOptions",
    "analyse",
    "closure_periods",
    "cv_check",
    "diff_unit",
    "effect_sentence",
    "effects_table",
    "has_relative",
    "intervention_periods",
    "power_text",
    "run_comparison",
    "run_sweep",
    "section_of",
    "stability_text",
    "summary_table",
    "testable",
    "write_report",
]


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

    def sweep(n: int, rule: dict) -> SweepResult:
        return run_sweep(
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

    def record(rule: dict) -> None:
        mf = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        mf["replicate_rule"] = rule
        provenance.write_manifest(out, mf)

    checks = []
    if opts.replicates:
        n = opts.replicates
        rule = {"rule": "fixed", "replicates": n}
        res = sweep(n, rule)
        rule["tolerance"] = opts.cv_tolerance
        if not res.interrupted and n >= MIN_CHECK_REPLICATES:  # reported, not acted on
            rule["checks"] = [cv_check(res.runs, opts.outcomes, n, opts.cv_tolerance, lag=max(1, min(5, n // 4)))]
            record(rule)
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
            res = sweep(n, rule)
            if res.interrupted:
                break
            check = cv_check(res.runs, opts.outcomes, n, opts.cv_tolerance)
            checks.append(check)
            if check["stable"] or n >= opts.max_replicates:
                rule["outcome"] = "stable" if check["stable"] else "maximum reached"
                break
            n = min(opts.max_replicates, n + opts.step)
        record(rule)
    if not res.interrupted:
        analyse(out, plan, opts, rule, progress=progress)
    return res, rule
