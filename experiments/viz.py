"""``cohesion viz``: serve the interactive model (``viz/app.py``) in the browser.

Starts Solara's server in production mode on ``--host``/``--port`` (default
http://127.0.0.1:8765) with the page of ``viz/app.py``: Mesa's SolaraViz for
``CohesionModel``. Everything the page loads is served from this machine: Solara's
front-end files come from the environment's Solara cache, filled at install time by
``.ci/solara_assets.py``, and Solara's usage reporting is switched off.

    python -m experiments.viz [--host H] [--port P]

A port out of range, already in use or an address that cannot be served on stops it
with a one-line message and exit status 2.

Other web sites cannot drive the page: a browser opens the page's WebSocket (through
which the page builds and runs models) with the ``Origin`` of the page that asks, and
:class:`OriginGuard` refuses every origin but the server's own (and those given with
``--allow-origin``) with HTTP 403. On a loopback address the ``Host`` must also be a
loopback name, so that a site whose name is made to resolve to 127.0.0.1 (DNS
rebinding) is refused too.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import click

ROOT = Path(__file__).resolve().parents[1]
APP_MODULE = "viz.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _origin(text: str) -> str | None:
    """``scheme://host[:port]`` in lower case, or None when ``text`` is not an origin."""
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


class OriginGuard:
    """ASGI middleware: a WebSocket opened from another origin than the server's own is
    refused before it reaches Solara (which would start a kernel and build a model for it).

    Allowed: no ``Origin`` header (not a browser, so not a web site acting through one),
    an origin listed in ``allowed``, or the same origin as the request's ``Host``; when
    the server listens on a loopback address (``loopback``), that ``Host`` must itself be
    a loopback name."""

    def __init__(self, app, allowed: tuple[str, ...] = (), loopback: bool = True):
        self.app = app
        self.allowed = {o for o in (_origin(a) for a in allowed) if o}
        self.loopback = loopback

    def allows(self, headers: dict[bytes, bytes]) -> bool:
        origin = headers.get(b"origin")
        if origin is None:
            return True
        origin_text = _origin(origin.decode("latin-1"))
        if origin_text is None:
            return False
        if origin_text in self.allowed:
            return True
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if origin_text.split("://", 1)[1] != host:
            return False
        return not self.loopback or (urlsplit(origin_text).hostname or "") in LOOPBACK_NAMES

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not self.allows(dict(scope.get("headers") or [])):
            await send({"type": "websocket.close", "code": 1008})  # before the handshake: HTTP 403
            return
        await self.app(scope, receive, send)


def guard_solara(host: str, allowed: tuple[str, ...] = ()) -> None:
    """Put :class:`OriginGuard` in front of Solara's application (before it starts).

    Solara's server module reads the page to serve from ``SOLARA_APP`` when it is
    imported, so that is set first (to what ``solara run`` sets it to)."""
    os.environ["SOLARA_APP"] = APP_MODULE
    from solara.server.starlette import app

    if not any(getattr(m, "cls", None) is OriginGuard for m in app.user_middleware):
        app.add_middleware(OriginGuard, allowed=tuple(allowed), loopback=host in LOOPBACK_NAMES)


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
                raise click.BadParameter(
                    f"port {port} on {host} is already in use; choose another", ctx=ctx, param_hint="'--port'"
                ) from None
            if exc.errno == errno.EACCES:
                raise click.BadParameter(
                    f"no permission to listen on port {port} (ports below 1024 need root)",
                    ctx=ctx,
                    param_hint="'--port'",
                ) from None
            raise click.BadParameter(
                f"cannot listen on {host}:{port}: {exc.strerror}", ctx=ctx, param_hint="'--host'"
            ) from None


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


def check_origins(origins) -> tuple[str, ...]:
    """The ``--allow-origin`` values, each ``http(s)://HOST[:PORT]``."""
    ctx = click.get_current_context(silent=True)
    for o in origins:
        if _origin(o) is None:
            raise click.BadParameter(
                f"{o!r} is not an origin such as http://myhost:8765", ctx=ctx, param_hint="'--allow-origin'"
            )
    return tuple(origins)


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_origins: tuple[str, ...] = ()) -> None:
    """Serve the page until interrupted (Ctrl-C); WebSockets from other origins than the
    page's own and ``allow_origins`` are refused (:class:`OriginGuard`)."""
    check_address(host, port)
    allow_origins = check_origins(allow_origins)
    missing = missing_front_end()
    if missing:
        click.echo(
            f"warning: {len(missing)} front-end file(s) missing (e.g. {missing[0]}); without network "
            f"access the page stays blank. Run: {sys.executable} {ROOT / '.ci' / 'solara_assets.py'}",
            err=True,
        )
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if str(ROOT) not in sys.path:  # the page is the module viz.app of this source tree
        sys.path.insert(0, str(ROOT))
    # Solara warns at each page load from a numeric address that its cookie falls back to
    # SameSite=Lax, which is what a local page wants.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    from solara.__main__ import cli as solara_cli

    guard_solara(host, allow_origins)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"Magog cohesion model: open http://{shown}:{port}/ in a browser (Ctrl-C stops the server)")
    solara_cli.main(args=solara_arguments(host, port), prog_name="solara", standalone_mode=False)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to serve on; 0.0.0.0 serves every network interface.",
)
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port to serve on.")
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Also accept the page's connection from this origin (http://HOST:PORT, e.g. behind a proxy); "
    "by default only the page's own origin. May be repeated.",
)
def command(host: str, port: int, allow_origins: tuple[str, ...]) -> None:
    """Serve the interactive model in the browser (Mesa's SolaraViz): the territory map,
    the plots over time, and controls to step, play and reset a run. See docs/viz.md."""
    serve(host, port, allow_origins)


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
