"""The commands that run a design of parameter values: ``sweep``, ``sensitivity`` (Morris
and Sobol indices of the outcomes), ``robustness`` (of the conclusions, the scenario
differences) and ``calibrate`` (the targets, and an ABC search of free parameters)."""

from __future__ import annotations

import copy
from pathlib import Path

import click

from .common import (
    AT_LEAST_1,
    AT_LEAST_2,
    IN_FILE,
    OUT_DIR,
    SEED,
    PowerOfTwo,
    Share,
    apply_config,
    check_engine,
    check_writable,
    compile_notice,
    engine_options,
    finish_message,
    format_option,
    outcome_list,
    plan_options,
)


def _check_stage_sizes(plan, stages: dict[str, int]) -> None:
    """The size of each stage (design: samples) of an analysis, before its first run."""
    for design, samples in stages.items():
        stage = copy.copy(plan)
        stage.design, stage.samples = design, samples
        stage.check_size()


@click.command("sweep")
@click.argument("sweep_file", type=IN_FILE)
@click.option(
    "--config",
    "config_file",
    type=IN_FILE,
    help="TOML file of parameter overrides applied to every run (on top of the sweep file's [overrides]).",
)
@click.option("--scenarios", help="Comma-separated scenarios, or 'all' (default: the sweep file's).")
@plan_options
@click.option(
    "--out",
    type=OUT_DIR,
    help="Sweep directory (default results/sweeps/<file name>-<plan hash>/); rerunning into it continues the sweep.",
)
@format_option
@engine_options
def sweep_command(
    sweep_file,
    config_file,
    scenarios,
    replicates,
    seed,
    scale,
    start,
    end,
    out,
    formats,
    workers,
    scheduler,
    retries,
    quiet,
):
    """Run the design of SWEEP_FILE (full factorial, Latin hypercube, Morris or Sobol over
    parameters of configs/base.toml by dotted name) for every scenario and replicate.

    Writes runs.parquet (one row per run: run_id, scenario, the parameters, seed,
    replicate, status, summary outcomes), the weekly time series in timeseries/ (one row
    per run and week), manifest.json and design.parquet. Runs are written as they finish;
    Ctrl-C stops after the runs in flight, and the same command continues where it
    stopped. Exit status 1 if some runs failed, 130 if stopped. Example:
    configs/sweeps/example.toml."""
    from ..design import load_plan
    from ..sweep import run_sweep
    from ..sweep_report import write_sweep_report

    workers = check_engine(workers, scheduler)
    plan = load_plan(
        sweep_file, scenarios=scenarios, replicates=replicates, seed=seed, scale=scale, start=start, end=end
    )
    apply_config(plan, config_file)
    out = out or Path("results") / "sweeps" / f"{plan.name}-{plan.hash()[:8]}"
    check_writable(out)
    compile_notice(quiet)
    res = run_sweep(plan, out, workers=workers, scheduler=scheduler, retries=retries, progress=not quiet)
    if not res.interrupted and res.done:
        report = write_sweep_report(out, plan, res.runs, formats=formats)
        code = finish_message("sweep", res, out)
        click.echo(f"{report}: the main outcomes over the design, figures in {out / 'figures'}")
        return code
    return finish_message("sweep", res, out)


@click.command("sensitivity")
@click.argument("spec_file", type=IN_FILE, default=Path("configs/sweeps/sensitivity.toml"))
@click.option(
    "--outcomes",
    help="Comma-separated summary outcomes (default: unemployment, re-employment after 12 "
    "months, strain out-migration, distress, cohesion).",
)
@click.option(
    "--method",
    "methods",
    type=click.Choice(["both", "morris", "sobol"]),
    default="both",
    show_default=True,
    help="Morris screening, Sobol indices, or Morris then Sobol.",
)
@click.option("--trajectories", type=AT_LEAST_2, default=10, show_default=True, help="Morris trajectories.")
@click.option("--levels", type=AT_LEAST_2, default=4, show_default=True, help="Morris grid levels.")
@click.option(
    "--sobol-samples",
    type=PowerOfTwo(),
    default=64,
    show_default=True,
    help="Sobol base sample N (a power of 2); N x (parameters + 2) points.",
)
@click.option(
    "--top", type=AT_LEAST_2, default=6, show_default=True, help="At most this many parameters go on to Sobol."
)
@click.option(
    "--threshold",
    type=Share(),
    default=0.1,
    show_default=True,
    help="A parameter goes on to Sobol when its mu* reaches this share of the largest mu* of an outcome.",
)
@click.option("--sobol-parameters", help="Comma-separated parameters for the Sobol stage (instead of the screening's).")
@plan_options
@click.option("--config", "config_file", type=IN_FILE, help="TOML file of parameter overrides applied to every run.")
@click.option(
    "--out", type=OUT_DIR, help="Output directory (default results/sensitivity-<plan hash>/); rerunning continues it."
)
@engine_options
def sensitivity_command(
    spec_file,
    outcomes,
    methods,
    trajectories,
    levels,
    sobol_samples,
    top,
    threshold,
    sobol_parameters,
    replicates,
    seed,
    scale,
    start,
    end,
    config_file,
    out,
    workers,
    scheduler,
    retries,
    quiet,
):
    """Global sensitivity analysis of the parameter ranges in SPEC_FILE (a sweep file whose
    [parameters] are ranges; default configs/sweeps/sensitivity.toml): Morris screening of
    every parameter, then Sobol first-order and total indices with 95% intervals for the
    most influential ones. Replicates are averaged per point and their noise reported.
    Writes sensitivity.csv, noise.csv, figures/sensitivity.png, report.md and the runs of
    each stage in morris/ and sobol/."""
    from ..design import load_plan
    from ..sensitivity import run_sensitivity

    workers = check_engine(workers, scheduler)
    chosen = outcome_list(
        outcomes,
        (
            "unemployment_rate_mean",
            "cal_reemployed_12m",
            "strain_out_migrants_total",
            "mean_distress_mean",
            "share_high_distress_mean",
            "cohesion_index_mean",
        ),
    )
    plan = load_plan(
        spec_file, replicates=replicates, seed=seed, scale=scale, start=start, end=end, design="lhs", samples=2
    )
    apply_config(plan, config_file)
    _check_stage_sizes(
        plan, {d: n for d, n in (("morris", trajectories), ("sobol", sobol_samples)) if methods in ("both", d)}
    )
    out = out or Path("results") / f"sensitivity-{plan.hash()[:8]}"
    check_writable(out)
    res = run_sensitivity(
        plan,
        out,
        chosen,
        trajectories=trajectories,
        levels=levels,
        sobol_samples=sobol_samples,
        top=top,
        threshold=threshold,
        sobol_parameters=[x.strip() for x in sobol_parameters.split(",")] if sobol_parameters else None,
        methods=methods,
        workers=workers,
        scheduler=scheduler,
        retries=retries,
        progress=not quiet,
    )
    if res["interrupted"]:
        return finish_message("sensitivity", res["result"], out)
    click.echo(f"{out / 'report.md'}: indices in {out / 'sensitivity.csv'}, replicate noise in {out / 'noise.csv'}")
    return 0


@click.command("robustness")
@click.argument("spec_file", type=IN_FILE, default=Path("configs/sweeps/robustness.toml"))
@click.option(
    "--outcomes",
    help="Comma-separated outcomes whose differences are analysed (default: the key cohort "
    "outcomes, the cohesion index, and participation and cohesion from 2017).",
)
@click.option(
    "--method",
    "methods",
    type=click.Choice(["both", "morris"]),
    default="both",
    show_default=True,
    help="Morris screening only, or Morris then Sobol indices.",
)
@click.option("--trajectories", type=AT_LEAST_2, help="Morris trajectories (default: the file's samples).")
@click.option("--levels", type=AT_LEAST_2, help="Morris grid levels (default: the file's levels).")
@click.option(
    "--sobol-samples",
    type=PowerOfTwo(),
    default=8,
    show_default=True,
    help="Sobol base sample N (a power of 2); N x (parameters + 2) points.",
)
@click.option(
    "--top", type=AT_LEAST_2, default=4, show_default=True, help="At most this many parameters go on to Sobol."
)
@click.option(
    "--threshold",
    type=Share(),
    default=0.1,
    show_default=True,
    help="A parameter goes on to Sobol when its mu* reaches this share of the largest mu* of a conclusion "
    "clear at the defaults.",
)
@click.option(
    "--default-replicates",
    type=AT_LEAST_2,
    default=4,
    show_default=True,
    help="Paired replicates at the defaults (the sign of each conclusion and its noise).",
)
@plan_options
@click.option(
    "--out", type=OUT_DIR, help="Output directory (default results/robustness-<plan hash>/); rerunning continues it."
)
@engine_options
def robustness_command(
    spec_file,
    outcomes,
    methods,
    trajectories,
    levels,
    sobol_samples,
    top,
    threshold,
    default_replicates,
    replicates,
    seed,
    scale,
    start,
    end,
    out,
    workers,
    scheduler,
    retries,
    quiet,
):
    """Robustness of the conclusions: global sensitivity of the scenario differences
    (each scenario minus the baseline, withdrawal_2015 minus no_withdrawal; paired by seed
    at every design point) over the ranges of SPEC_FILE (default
    configs/sweeps/robustness.toml). Runs the scenarios at the defaults, then Morris
    screening over every range, then Sobol indices for the influential parameters. For each
    conclusion (the sign of an effect at the defaults), the share of the design's points
    where it holds, and the PRIM box (EMA Workbench) where it flips. Writes robustness.csv,
    indices.csv, differences_*.parquet, figures/robustness.png, report.md and the runs of
    each stage in defaults/, morris/ and sobol/."""
    from ..design import load_plan
    from ..robustness import LATE_OUTCOMES, ROBUSTNESS_OUTCOMES, check_plan, run_robustness

    workers = check_engine(workers, scheduler)
    chosen = outcome_list(outcomes, ROBUSTNESS_OUTCOMES, more=LATE_OUTCOMES)
    plan = load_plan(
        spec_file,
        replicates=replicates,
        seed=seed,
        scale=scale,
        start=start,
        end=end,
        design="morris",
        samples=trajectories,
        levels=levels,
    )
    check_plan(plan, chosen)
    _check_stage_sizes(plan, {"morris": plan.samples, **({"sobol": sobol_samples} if methods == "both" else {})})
    out = out or Path("results") / f"robustness-{plan.hash()[:8]}"
    check_writable(out)
    res = run_robustness(
        plan,
        out,
        chosen,
        trajectories=plan.samples,
        levels=plan.levels,
        sobol_samples=sobol_samples,
        top=top,
        threshold=threshold,
        default_replicates=default_replicates,
        methods=methods,
        workers=workers,
        scheduler=scheduler,
        retries=retries,
        progress=not quiet,
    )
    if res["interrupted"]:
        return finish_message("robustness", res["result"], out)
    t = res["table"]
    clear = t[t["default_clear"]]
    robust = int((clear["share_holds"] >= 0.9).sum())
    click.echo(
        f"{out / 'report.md'}: {robust} of {len(clear)} conclusions clear at the defaults hold in at least 90% "
        f"of the space; table in {out / 'robustness.csv'}, indices in {out / 'indices.csv'} "
        f"({res['wall_seconds'] / 60:.1f} min)"
    )
    return 0


@click.command("calibrate")
@click.option(
    "--targets", "targets_file", type=IN_FILE, help="Calibration targets (default configs/calibration/targets.toml)."
)
@click.option("--scenario", default="baseline", show_default=True, help="Scenario to run.")
@click.option("--replicates", type=AT_LEAST_1, default=10, show_default=True, help="Runs, each with its own seed.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Root seed of the replicates.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Model persons per resident.")
@click.option("--start", help="First month, YYYY-MM (default 2003-01).")
@click.option("--end", help="Last month, YYYY-MM (default 2018-12).")
@click.option("--config", "config_file", type=IN_FILE, help="TOML file of parameter overrides applied to every run.")
@click.option(
    "--abc",
    "abc_file",
    type=IN_FILE,
    help="Sweep file over free parameters: score every point against the targets and keep the closest "
    "(approximate Bayesian computation, rejection).",
)
@click.option(
    "--accept", type=Share(0.0, low_open=True), default=0.1, show_default=True, help="Share of ABC points accepted."
)
@click.option("--allow-sourced", is_flag=True, help="Let --abc search parameters that have a published source.")
@click.option(
    "--out", type=OUT_DIR, help="Output directory (default results/calibration-<plan hash>/); rerunning continues it."
)
@engine_options
def calibrate_command(
    targets_file,
    scenario,
    replicates,
    seed,
    scale,
    start,
    end,
    config_file,
    abc_file,
    accept,
    allow_sourced,
    out,
    workers,
    scheduler,
    retries,
    quiet,
):
    """Evaluate every calibration target: the model's mean with its 95% interval against
    the published value, hit or miss, as calibration.csv, figures/calibration.png and
    report.md. With --abc, also search free parameters by ABC rejection over a sweep
    (abc.csv); configs/ is never changed."""
    from model.config import TARGETS_FILE, load_targets

    from ..calibrate import check_free, run_calibration, summary
    from ..design import load_plan

    workers = check_engine(workers, scheduler)
    targets_file = targets_file or TARGETS_FILE
    load_targets(targets_file)  # a bad targets file stops here
    plan = load_plan(
        None,
        scenarios=[scenario],
        replicates=replicates,
        seed=seed,
        scale=scale,
        start=start,
        end=end,
        design="none",
        name="calibration",
    )
    apply_config(plan, config_file)
    abc_plan = None
    if abc_file is not None:
        abc_plan = load_plan(abc_file)
        if plan.fixed:
            abc_plan.fixed = {**plan.fixed, **abc_plan.fixed}
            abc_plan.validate()
        check_free(abc_plan, allow_sourced)
    out = out or Path("results") / f"calibration-{plan.hash()[:8]}"
    check_writable(out)
    res = run_calibration(
        plan,
        out,
        targets_file=targets_file,
        workers=workers,
        scheduler=scheduler,
        retries=retries,
        progress=not quiet,
        abc_plan=abc_plan,
        accept=accept,
        allow_sourced=allow_sourced,
    )
    if res["interrupted"]:
        return finish_message("calibrate", res["result"], out)
    click.echo(f"{out / 'report.md'}: {summary(res['table'])}")
    return 0
