"""``cohesion viz``: serve the interactive model (``model/app.py``) in the browser.

Starts Solara's server in production mode on ``--host``/``--port`` (default
http://127.0.0.1:8765) with the page of ``model/app.py``: Mesa's SolaraViz for
``CohesionModel``. Everything the page loads is served from this machine: Solara's
front-end files come from the environment's Solara cache, filled at install time by
``.ci/solara_assets.py``, and Solara's usage reporting is switched off.

    python -m experiments.viz [--host H] [--port P]

A port out of range, already in use or an address that cannot be served on stops it
with a one-line message and exit status 2.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import warnings
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
APP_MODULE = "model.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def check_address(host: str, port: int) -> None:
    """Raise ``click.BadParameter`` unless the server can listen on ``host:port``."""
    ctx = click.get_current_context(silent=True)
    if not 1 <= port <= 65535:
        raise click.BadParameter(f"{port} is not a port number (1 to 65535)", ctx=ctx, param_hint="'--port'")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise click.BadParameter(f"cannot serve on {host!r}: {exc.strerror}", ctx=ctx, param_hint="'--host'") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.BadParameter(f"port {port} on {host} is already in use; choose another",
                                         ctx=ctx, param_hint="'--port'") from None
            if exc.errno == errno.EACCES:
                raise click.BadParameter(f"no permission to listen on port {port} (ports below 1024 need root)",
                                         ctx=ctx, param_hint="'--port'") from None
            raise click.BadParameter(f"cannot listen on {host}:{port}: {exc.strerror}", ctx=ctx,
                                     param_hint="'--host'") from None


def missing_front_end() -> list[str]:
    """Front-end files the page needs that are not in this environment's Solara cache.

    Empty when everything is there, or when the checker (``.ci/solara_assets.py``, part
    of the source tree) is not available."""
    script = ROOT / ".ci" / "solara_assets.py"
    if not script.is_file():
        return []
    import importlib.util

    spec = importlib.util.spec_from_file_location("_solara_assets", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return module.fill(Path(sys.prefix), check_only=True, log=lambda msg: None)
    except module.AssetError as exc:
        return [str(exc)]


def solara_arguments(host: str, port: int) -> list[str]:
    return ["run", APP_MODULE, "--host", host, "--port", str(port), "--production", "--no-open"]


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the page until interrupted (Ctrl-C)."""
    check_address(host, port)
    missing = missing_front_end()
    if missing:
        click.echo(f"warning: {len(missing)} front-end file(s) missing (e.g. {missing[0]}); without network "
                   f"access the page stays blank. Run: {sys.executable} {ROOT / '.ci' / 'solara_assets.py'}", err=True)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if str(ROOT) not in sys.path:  # the page is the module model.app of this source tree
        sys.path.insert(0, str(ROOT))
    # Solara warns at each page load from a numeric address that its cookie falls back to
    # SameSite=Lax, which is what a local page wants.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    from solara.__main__ import cli as solara_cli

    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"Magog cohesion model: open http://{shown}:{port}/ in a browser (Ctrl-C stops the server)")
    solara_cli.main(args=solara_arguments(host, port), prog_name="solara", standalone_mode=False)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to serve on; 0.0.0.0 serves every network interface.")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port to serve on.")
def command(host: str, port: int) -> None:
    """Serve the interactive model in the browser (Mesa's SolaraViz): the territory map,
    the plots over time, and controls to step, play and reset a run. See docs/viz.md."""
    serve(host, port)


def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.viz``: a one-line error and exit status 2 for a bad option."""
    try:
        command.main(args=argv, prog_name="python -m experiments.viz", standalone_mode=False)
    except click.UsageError as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2
    except (click.Abort, KeyboardInterrupt):
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
