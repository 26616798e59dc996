"""The ``cohesion`` command line: the command group, and its entry point :func:`main`,
which turns every error into one line and an exit status. The commands are in
:mod:`experiments.commands`."""

from __future__ import annotations

import sys
import traceback

import click

from model.config import ConfigError

from .commands.designs import calibrate_command, robustness_command, sensitivity_command, sweep_command
from .commands.scenarios import compare_command, run_command, viz_command

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.option(
    "--debug",
    is_flag=True,
    help="On an unexpected error, show the Python traceback (may also be given after the command).",
)
def cli(debug: bool = False) -> None:
    """Agent-based model of Magog and the Memphrémagog RCM (Québec) after the 2003-2011
    plant closures. Every default number is in configs/ with its source; see README.md."""


for _command in (
    run_command,
    sweep_command,
    compare_command,
    sensitivity_command,
    robustness_command,
    calibrate_command,
    viz_command,
):
    cli.add_command(_command)


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
