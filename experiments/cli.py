"""The ``cohesion`` command line."""

from __future__ import annotations

import copy
import math
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

import click

from model.config import ConfigError, resolve, scenario_names

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SCHEDULER = re.compile(r"(tcp|tls|ucx|inproc|ws|wss)://[^\s/:]+(:\d{1,5})?")


FORMAT_HELP = "Figure file formats, comma-separated: png (300 dpi), pdf, svg (text kept as text); default png."


class Share(click.FloatRange):
    """A number from ``low`` to 1 (``low`` itself excluded with ``low_open``); NaN is refused."""

    name = "share"

    def __init__(self, low: float = 0.0, low_open: bool = False):
        super().__init__(low, 1.0, min_open=low_open)

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if math.isnan(rv):
            self.fail(f"{value} is not a number from {self.min:g} to 1", param, ctx)
        return rv


class PowerOfTwo(click.IntRange):
    """A whole number >= 2 that is a power of 2 (a Sobol base sample)."""

    name = "power of 2"

    def __init__(self):
        super().__init__(min=2)

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if rv & (rv - 1):
            self.fail(f"{rv} is not a power of 2", param, ctx)
        return rv


SEED = click.IntRange(min=0)
AT_LEAST_1, AT_LEAST_2 = click.IntRange(min=1), click.IntRange(min=2)
IN_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT_DIR = click.Path(file_okay=False, path_type=Path)


def _formats(ctx, param, text: str | None) -> tuple[str, ...]:
    """The figure formats of ``--format`` (default png)."""
    from .display import FormatError, parse_formats

    try:
        return parse_formats(text)
    except FormatError as exc:
        raise ConfigError(str(exc)) from None


format_option = click.option("--format", "formats", metavar="png,pdf,svg", callback=_formats, help=FORMAT_HELP)


def _compile_notice(quiet: bool = False) -> None:
    """Say that the kernels will be compiled before a run that has to (stderr)."""
    if quiet:
        return
    from .kernels import notice

    notice(lambda text: click.echo(text, err=True))


@click.group(context_settings=CONTEXT)
@click.option(
    "--debug",
    is_flag=True,
    help="On an unexpected error, show the Python traceback (may also be given after the command).",
)
def cli(debug: bool = False) -> None:
    """Agent-based model of Magog and the Memphrémagog RCM (Québec) after the 2003-2011
    plant closures. Every default number is in configs/ with its source; see README.md."""


@cli.command("run")
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

    from .progress import bar as progress_bar
    from .runner import default_out_dir, run_to_directory

    out = out or default_out_dir(scenario)
    _check_writable(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out}: already exists and is not empty")
    given = {"run.scale": scale, "run.start": start, "run.end": end}
    cfg = resolve(scenario, config_file, {k: v for k, v in given.items() if v is not None}, origin="command line")
    check_run_inputs(cfg)  # territory, organizations, timeline, dates, memory: before anything is written
    model = CohesionModel(scale=scale, start=start, end=end, scenario=scenario, config_file=config_file, rng=seed)
    _compile_notice(quiet)
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


def _cores() -> int:
    return max(1, os.cpu_count() or 1)


def engine_options(f):
    """Options shared by the commands that run many runs."""
    for opt in reversed(
        [
            click.option(
                "--workers",
                type=AT_LEAST_1,
                default=None,
                help="Worker processes on this machine (default: all cores); with --scheduler local, Dask workers.",
            ),
            click.option(
                "--scheduler",
                metavar="tcp://HOST:PORT|local",
                help="Run on a Dask cluster at this address (or 'local': a Dask LocalCluster here) instead of a "
                "local process pool.",
            ),
            click.option(
                "--retries",
                type=click.IntRange(min=0),
                default=0,
                show_default=True,
                help="Times a run that fails is tried again before it is recorded as failed.",
            ),
            click.option("--quiet", is_flag=True, help="No progress bar."),
        ]
    ):
        f = opt(f)
    return f


def plan_options(f):
    """Options that override a design file's settings (sweep, sensitivity, robustness)."""
    for opt in reversed(
        [
            click.option(
                "--replicates", type=AT_LEAST_1, help="Replicates per point and scenario (default: the file's)."
            ),
            click.option(
                "--seed",
                type=SEED,
                help="Root seed; replicate i gets the i-th SeedSequence child (default: the file's).",
            ),
            click.option("--scale", type=float, help="Model persons per resident (default: the file's)."),
            click.option("--start", help="First month, YYYY-MM (default: the file's)."),
            click.option("--end", help="Last month, YYYY-MM (default: the file's)."),
        ]
    ):
        f = opt(f)
    return f


def _check_engine(workers, scheduler) -> int:
    """The number of workers (default: all cores), once ``scheduler`` is checked."""
    if scheduler is not None and scheduler != "local" and not SCHEDULER.fullmatch(scheduler):
        raise ConfigError(
            f"--scheduler must be 'local' or the address of a Dask scheduler such as tcp://HOST:8786, got {scheduler!r}"
        )
    return _cores() if workers is None else workers


def _apply_config(plan, config_file) -> None:
    """Add the overrides of a ``--config`` file to every run of ``plan``, checked and
    reported under the file's own name."""
    if config_file is None:
        return
    from model.config import flatten, load_base, read_toml

    tree = read_toml(config_file)
    load_base().with_overrides(tree, str(config_file))
    plan.fixed = {**plan.fixed, **flatten(tree, str(config_file))}
    plan.validate()


def _check_stage_sizes(plan, stages: dict[str, int]) -> None:
    """The size of each stage (design: samples) of an analysis, before its first run."""
    for design, samples in stages.items():
        stage = copy.copy(plan)
        stage.design, stage.samples = design, samples
        stage.check_size()


def _finish_message(kind: str, res, out) -> int:
    if res.interrupted:
        click.echo(
            f"{out}: stopped after {res.executed} runs ({res.done} done, {res.failed} failed, "
            f"{res.remaining} not run); run the same command again to continue",
            err=True,
        )
        return 130
    if res.failed:
        click.echo(
            f"{out}: {res.done} runs done, {res.failed} failed (status and error in runs.parquet); "
            f"run the same command again to retry the failed runs",
            err=True,
        )
        return 1
    click.echo(f"{out}: {res.done} runs done ({res.skipped} already done before, {res.executed} run now)")
    return 0


@cli.command("sweep")
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
    from .design import load_plan
    from .sweep import run_sweep
    from .sweep_report import write_sweep_report

    workers = _check_engine(workers, scheduler)
    plan = load_plan(
        sweep_file, scenarios=scenarios, replicates=replicates, seed=seed, scale=scale, start=start, end=end
    )
    _apply_config(plan, config_file)
    out = out or Path("results") / "sweeps" / f"{plan.name}-{plan.hash()[:8]}"
    _check_writable(out)
    _compile_notice(quiet)
    res = run_sweep(plan, out, workers=workers, scheduler=scheduler, retries=retries, progress=not quiet)
    if not res.interrupted and res.done:
        report = write_sweep_report(out, plan, res.runs, formats=formats)
        code = _finish_message("sweep", res, out)
        click.echo(f"{report}: the main outcomes over the design, figures in {out / 'figures'}")
        return code
    return _finish_message("sweep", res, out)


def _check_writable(out: Path) -> None:
    """Refuse an output path that cannot be created, before any work is done: a dangling
    symbolic link, a path under a file, a directory where nothing can be created (no
    permission, a read-only or virtual file system such as /proc)."""
    if out.is_symlink() and not out.exists():
        raise ConfigError(f"--out {out}: a symbolic link to {os.readlink(out)}, which does not exist")
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"--out {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {out}: no permission to write in {parent}")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".cohesion-probe-", dir=parent))
    except OSError as exc:
        raise ConfigError(f"--out {out}: nothing can be created in {parent} ({exc.strerror})") from None


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


@cli.command("compare")
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

    from .compare import CompareOptions, run_comparison
    from .design import load_plan
    from .outcomes import KEY_OUTCOMES

    workers = _check_engine(workers, scheduler)
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
    chosen = _outcome_list(outcomes, KEY_OUTCOMES, calibration=False)
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
    _apply_config(plan, config_file)
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
    _check_writable(out)
    _compile_notice(quiet)
    res, rule = run_comparison(
        plan, out, opts, workers=workers, scheduler=scheduler, retries=retries, progress=not quiet
    )
    code = _finish_message("compare", res, out)
    if not res.interrupted:
        click.echo(
            f"{out / 'report.md'}: {rule['replicates']} replicates per scenario; effects in "
            f"{out / 'effects.csv'}, figures in {out / 'figures'}"
        )
    return code


def _outcome_list(text: str | None, default, calibration: bool = True, more=()) -> list[str]:
    """The outcomes of ``--outcomes`` (default ``default``), each a summary outcome, a
    calibration measure (``cal_*``, with ``calibration``) or one of ``more``."""
    from .outcomes import CALIBRATION_MEASURES, SUMMARY_BY_NAME

    chosen = [x.strip() for x in text.split(",") if x.strip()] if text else list(default)
    known = list(SUMMARY_BY_NAME) + ([f"cal_{m}" for m in CALIBRATION_MEASURES] if calibration else [])
    for o in chosen:
        if o not in known and o not in more:
            raise ConfigError(f"--outcomes: unknown outcome {o!r}; known: {', '.join([*known, *more])}")
    return chosen


@cli.command("sensitivity")
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
    from .design import load_plan
    from .sensitivity import run_sensitivity

    workers = _check_engine(workers, scheduler)
    chosen = _outcome_list(
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
    _apply_config(plan, config_file)
    _check_stage_sizes(
        plan, {d: n for d, n in (("morris", trajectories), ("sobol", sobol_samples)) if methods in ("both", d)}
    )
    out = out or Path("results") / f"sensitivity-{plan.hash()[:8]}"
    _check_writable(out)
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
        return _finish_message("sensitivity", res["result"], out)
    click.echo(f"{out / 'report.md'}: indices in {out / 'sensitivity.csv'}, replicate noise in {out / 'noise.csv'}")
    return 0


@cli.command("robustness")
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
    from .design import load_plan
    from .robustness import LATE_OUTCOMES, ROBUSTNESS_OUTCOMES, check_plan, run_robustness

    workers = _check_engine(workers, scheduler)
    chosen = _outcome_list(outcomes, ROBUSTNESS_OUTCOMES, more=LATE_OUTCOMES)
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
    _check_writable(out)
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
        return _finish_message("robustness", res["result"], out)
    t = res["table"]
    clear = t[t["default_clear"]]
    robust = int((clear["share_holds"] >= 0.9).sum())
    click.echo(
        f"{out / 'report.md'}: {robust} of {len(clear)} conclusions clear at the defaults hold in at least 90% "
        f"of the space; table in {out / 'robustness.csv'}, indices in {out / 'indices.csv'} "
        f"({res['wall_seconds'] / 60:.1f} min)"
    )
    return 0


@cli.command("calibrate")
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

    from .calibrate import check_free, run_calibration, summary
    from .design import load_plan

    workers = _check_engine(workers, scheduler)
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
    _apply_config(plan, config_file)
    abc_plan = None
    if abc_file is not None:
        abc_plan = load_plan(abc_file)
        if plan.fixed:
            abc_plan.fixed = {**plan.fixed, **abc_plan.fixed}
            abc_plan.validate()
        check_free(abc_plan, allow_sourced)
    out = out or Path("results") / f"calibration-{plan.hash()[:8]}"
    _check_writable(out)
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
        return _finish_message("calibrate", res["result"], out)
    click.echo(f"{out / 'report.md'}: {summary(res['table'])}")
    return 0


@cli.command("viz")
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
    from .viz import serve

    serve(host, port, allow_origins)


def describe_os_error(exc: OSError) -> str:
    """An operating-system error in words: what failed on which file, without Python's
    ``[Errno N]`` prefix."""
    what = exc.strerror or str(exc)
    names = [n for n in (exc.filename, exc.filename2) if n]
    return f"{' -> '.join(map(str, names))}: {what}" if names else what


def main(argv: list[str] | None = None) -> int:
    """Entry point: a one-line error and exit status 2 for any bad input, 1 for a failure
    of the machine (a full disk) or an unexpected error, whose traceback ``--debug`` shows."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        rv = cli.main(args=args, prog_name="cohesion", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else "cohesion"
        click.echo(f"error: {cmd}: {exc.format_message()} (see {cmd} --help)", err=True)
        return 2
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.Abort:
        click.echo("interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except OSError as exc:  # a full disk, a lost mount: what was stored is kept, and the same command continues
        if debug:
            traceback.print_exc()
        click.echo(f"error: {describe_os_error(exc)}", err=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
        if debug:
            traceback.print_exc()
        text = " ".join(str(exc).split()) or "(no message)"
        click.echo(
            f"error: unexpected {type(exc).__name__}: {text[:300]} (a bug; run the same command with "
            f"--debug for the traceback)",
            err=True,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())


def console() -> None:
    """Console-script wrapper of :func:`main`."""
    sys.exit(main())
