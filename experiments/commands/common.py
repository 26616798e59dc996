"""What the commands of the ``cohesion`` command line share: option types, option
decorators, and the checks and messages of the commands that write an output directory
or run many runs."""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

import click

from model.config import ConfigError

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
    from ..display import FormatError, parse_formats

    try:
        return parse_formats(text)
    except FormatError as exc:
        raise ConfigError(str(exc)) from None


format_option = click.option("--format", "formats", metavar="png,pdf,svg", callback=_formats, help=FORMAT_HELP)


def compile_notice(quiet: bool = False) -> None:
    """Say that the kernels will be compiled before a run that has to (stderr)."""
    if quiet:
        return
    from ..kernels import notice

    notice(lambda text: click.echo(text, err=True))


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


def check_engine(workers, scheduler) -> int:
    """The number of workers (default: all cores), once ``scheduler`` is checked."""
    if scheduler is not None and scheduler != "local" and not SCHEDULER.fullmatch(scheduler):
        raise ConfigError(
            f"--scheduler must be 'local' or the address of a Dask scheduler such as tcp://HOST:8786, got {scheduler!r}"
        )
    return _cores() if workers is None else workers


def apply_config(plan, config_file) -> None:
    """Add the overrides of a ``--config`` file to every run of ``plan``, checked and
    reported under the file's own name."""
    if config_file is None:
        return
    from model.config import flatten, load_base, read_toml

    tree = read_toml(config_file)
    load_base().with_overrides(tree, str(config_file))
    plan.fixed = {**plan.fixed, **flatten(tree, str(config_file))}
    plan.validate()


def finish_message(kind: str, res, out) -> int:
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


def check_writable(out: Path) -> None:
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


def outcome_list(text: str | None, default, calibration: bool = True, more=()) -> list[str]:
    """The outcomes of ``--outcomes`` (default ``default``), each a summary outcome, a
    calibration measure (``cal_*``, with ``calibration``) or one of ``more``."""
    from ..outcomes import CALIBRATION_MEASURES, SUMMARY_BY_NAME

    chosen = [x.strip() for x in text.split(",") if x.strip()] if text else list(default)
    known = list(SUMMARY_BY_NAME) + ([f"cal_{m}" for m in CALIBRATION_MEASURES] if calibration else [])
    for o in chosen:
        if o not in known and o not in more:
            raise ConfigError(f"--outcomes: unknown outcome {o!r}; known: {', '.join([*known, *more])}")
    return chosen
