"""The commands ``run`` (one scenario, week by week), ``compare`` (scenarios against the
baseline with common random numbers) and ``viz`` (the model in the browser)."""

from __future__ import annotations

from pathlib import Path

import click

from model.config import ConfigError, resolve, scenario_names

from .common import (
    AT_LEAST_1,
    IN_FILE,
    OUT_DIR,
    SEED,
    apply_config,
    check_engine,
    check_writable,
    compile_notice,
    engine_options,
    finish_message,
    format_option,
    outcome_list,
)


@click.command("run")
@click.option(
    "--config",
    "config_file",
    type=IN_FILE,
    help="TOML file of parameter overrides on configs/base.toml (dotted sections, as in base.toml).",
)
@click.option(
    "--scenario",
    default="baseline",
    show_default=True,
    help="Scenario in configs/scenarios/ (" + ", ".join(scenario_names()) + ").",
)
@click.option(
    "--scale", type=float, help="Model persons per resident; 1 is the real territory at 1:1 (default from configs)."
)
@click.option(
    "--seed", type=SEED, default=0, show_default=True, help="Seed of the run; the same seed gives the same output."
)
@click.option("--start", help="First month, YYYY-MM (default 2003-01).")
@click.option("--end", help="Last month, YYYY-MM (default 2018-12).")
@click.option(
    "--out",
    type=OUT_DIR,
    help="Output directory (must not exist or be empty); default results/<scenario>-<timestamp>/.",
)
@click.option("--no-figure", is_flag=True, help="Do not draw the unemployment and job-loss figure.")
@format_option
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def run_command(config_file, scenario, scale, seed, start, end, out, no_figure, formats, quiet) -> None:
    """Run one scenario week by week and write a run directory: manifest.json,
    timeseries.parquet (one row per week), layoffs.parquet (one row per layoff wave),
    persons.parquet (one row per person per year) and a figure of unemployment and
    cumulative job losses. Columns and units: docs/outputs.md."""
    from model import CohesionModel
    from model.inputs import check_run_inputs

    from ..progress import bar as progress_bar
    from ..runner import default_out_dir, run_to_directory

    out = out or default_out_dir(scenario)
    check_writable(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out}: already exists and is not empty")
    given = {"run.scale": scale, "run.start": start, "run.end": end}
    cfg = resolve(scenario, config_file, {k: v for k, v in given.items() if v is not None}, origin="command line")
    check_run_inputs(cfg)  # territory, organizations, timeline, dates, memory: before anything is written
    model = CohesionModel(scale=scale, start=start, end=end, scenario=scenario, config_file=config_file, rng=seed)
    compile_notice(quiet)
    bar = progress_bar(model.n_weeks, scenario, "week", enabled=not quiet)

    def progress(week: int) -> None:
        bar.set_postfix_str(model.date.isoformat()[:7])
        bar.update(1)

    try:
        path = run_to_directory(model, out, progress, figure=not no_figure, formats=formats)
    finally:
        bar.close()
    if not quiet:
        s = model.stats
        k = float(model.config["run.scale"])
        persons = (lambda n: f"{n:,}") if k == 1 else (lambda n: f"{n:,} model persons (about {n / k:,.0f} residents)")
        click.echo(
            f"{path}: {model.n_weeks} weeks to {model.date.isoformat()}, population {persons(s.population)}, "
            f"unemployment {100 * s.unemployment_rate:.1f}%, jobs lost in closures "
            f"{persons(s.jobs_lost_cumulative)}"
        )


def _int_list(text: str | None, option: str, lo: int | None = None, hi: int | None = None) -> list[int] | None:
    """Comma-separated whole numbers, each within [lo, hi] when given."""
    if not text:
        return None
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{option}: expected whole numbers separated by commas, got {text!r}") from None
    for v in values:
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ConfigError(f"{option}: {v} is outside {lo} to {hi}, the years of the runs")
    return values


def _run_years(plan) -> tuple[int, int]:
    from model.config import load_base, parse_month

    base = load_base()
    return (
        parse_month(plan.start or base["run.start"], "--start").year,
        parse_month(plan.end or base["run.end"], "--end").year,
    )


@click.command("compare")
@click.option("--scenarios", help="Comma-separated scenarios (default: every file in configs/scenarios/).")
@click.option("--baseline", default="baseline", show_default=True, help="The scenario the others are compared with.")
@click.option(
    "--replicates",
    type=AT_LEAST_1,
    help="Replicates per scenario (default: chosen by coefficient-of-variation stability, at least 20).",
)
@click.option(
    "--min-replicates", type=click.IntRange(min=3), default=20, show_default=True, help="Replicate rule: first batch."
)
@click.option(
    "--max-replicates", type=click.IntRange(min=3), default=60, show_default=True, help="Replicate rule: upper limit."
)
@click.option(
    "--seed",
    type=SEED,
    default=0,
    show_default=True,
    help="Root seed; replicate i of every scenario gets the i-th SeedSequence child.",
)
@click.option("--scale", type=float, help="Model persons per resident (default 1, the real territory).")
@click.option("--start", help="First month, YYYY-MM (default 2003-01).")
@click.option("--end", help="Last month, YYYY-MM (default 2018-12).")
@click.option(
    "--config", "config_file", type=IN_FILE, help="TOML file of parameter overrides applied to every scenario."
)
@click.option(
    "--outcomes",
    help="Comma-separated summary outcomes for the effects table (default: the key outcomes; see docs/outputs.md).",
)
@click.option("--map-years", help="Comma-separated years of the maps by municipality (default 2004,2006,2009,2016).")
@click.option(
    "--bootstrap", "n_boot", type=click.IntRange(min=100), default=2000, show_default=True, help="Bootstrap resamples."
)
@format_option
@click.option(
    "--out",
    type=OUT_DIR,
    help="Output directory (default results/compare-<plan hash>/); rerunning into it reuses finished runs.",
)
@engine_options
def compare_command(
    scenarios,
    baseline,
    replicates,
    min_replicates,
    max_replicates,
    seed,
    scale,
    start,
    end,
    config_file,
    outcomes,
    map_years,
    n_boot,
    formats,
    out,
    workers,
    scheduler,
    retries,
    quiet,
):
    """Compare scenarios with common random numbers: every scenario against the baseline.

    Writes runs.parquet, the weekly time series (timeseries/), effects.csv (paired
    difference in the outcome's unit and as a percentage of the baseline, with 95%
    bootstrap intervals over replicate pairs; paired Wilcoxon p with Holm correction),
    summary.csv, figures/ (each weekly outcome with 95% bands and the closures and
    interventions shaded, forest plots of the effects, maps by municipality) and
    report.md, the findings in words with the replicate stability check. Interrupted
    comparisons continue when the same command is run again."""
    from model.config import scenario_names

    from ..compare import CompareOptions, run_comparison
    from ..design import load_plan
    from ..outcomes import KEY_OUTCOMES

    workers = check_engine(workers, scheduler)
    names = [x.strip() for x in scenarios.split(",") if x.strip()] if scenarios else scenario_names()
    if baseline not in names:
        names = [baseline, *names]
    names = [baseline] + [x for x in names if x != baseline]
    if len(names) < 2:
        raise ConfigError(
            f"compare needs at least one scenario besides {baseline!r}; available: {', '.join(scenario_names())}"
        )
    if max_replicates < min_replicates:
        raise ConfigError(f"--max-replicates must be >= --min-replicates ({min_replicates}), got {max_replicates}")
    chosen = outcome_list(outcomes, KEY_OUTCOMES, calibration=False)
    plan = load_plan(
        None,
        scenarios=names,
        seed=seed,
        scale=scale if scale is not None else 1.0,
        start=start,
        end=end,
        design="none",
        replicates=replicates or min_replicates,
        name="compare",
    )
    apply_config(plan, config_file)
    plan.check_size(replicates or max_replicates)
    opts = CompareOptions(
        baseline=baseline,
        replicates=replicates,
        min_replicates=min_replicates,
        max_replicates=max_replicates,
        outcomes=chosen,
        map_years=_int_list(map_years, "--map-years", *_run_years(plan)),
        n_boot=n_boot,
        formats=formats,
    )
    out = out or Path("results") / f"compare-{plan.hash()[:8]}"
    check_writable(out)
    compile_notice(quiet)
    res, rule = run_comparison(
        plan, out, opts, workers=workers, scheduler=scheduler, retries=retries, progress=not quiet
    )
    code = finish_message("compare", res, out)
    if not res.interrupted:
        click.echo(
            f"{out / 'report.md'}: {rule['replicates']} replicates per scenario; effects in "
            f"{out / 'effects.csv'}, figures in {out / 'figures'}"
        )
    return code


@click.command("viz")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on; 0.0.0.0 serves every network interface.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to serve on.")
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Also accept the page's connection from this origin (http://HOST:PORT, e.g. behind a proxy); "
    "by default only the page's own origin, so that other web sites cannot drive it. May be repeated.",
)
def viz_command(host, port, allow_origins) -> None:
    """Serve the interactive model in the browser (Mesa's SolaraViz): the territory map,
    plots over time, and controls to step, play and reset a run. See docs/viz.md."""
    from ..viz import serve

    serve(host, port, allow_origins)
