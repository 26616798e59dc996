"""The ``cohesion`` command line as the tests call it: in a process of its own, as a user
runs it, or in this process (faster: no interpreter start, imports and kernels loaded once)
where a separate process is not what is tested."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def cohesion(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    configs: Path | None = None,
    bare: bool = False,
    timeout: float = 600,
    **kw,
) -> subprocess.CompletedProcess:
    """Run ``python -m experiments.cli *args`` in a new process with its output captured
    (standard error is not a terminal). ``configs`` sets ``COHESION_CONFIG_DIR``; ``bare``
    starts from an empty environment (only ``PATH``) instead of this one's."""
    base = {"PATH": "/usr/bin:/bin"} if bare else dict(os.environ)
    full = {**base, "PYTHONPATH": str(ROOT), **(env or {})}
    if configs is not None:
        full["COHESION_CONFIG_DIR"] = str(configs)
    return subprocess.run(
        [sys.executable, "-m", "experiments.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
        env=full,
        **kw,
    )


class Result(NamedTuple):
    """What an in-process call gives back, named as :class:`subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def invoke(
    *args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None, configs: Path | None = None
) -> Result:
    """Call the command line's entry point :func:`experiments.cli.main` in this process, with
    its standard output and error captured (not terminals), the working directory ``cwd``
    and the environment changed by ``env`` (``None`` removes a variable) for the call only."""
    from experiments.cli import main

    changes = dict(env or {})
    if configs is not None:
        changes["COHESION_CONFIG_DIR"] = str(configs)
    here = os.getcwd()
    with CliRunner().isolation(env=changes) as (out, err, _):
        os.chdir(cwd or ROOT)
        try:
            code = main(list(args))
        finally:
            os.chdir(here)
        sys.stdout.flush()
        sys.stderr.flush()
        return Result(code, out.getvalue().decode(), err.getvalue().decode())


# A scenario that differs visibly from the baseline, served beside the project's own.
TEST_SCENARIO = "browser_check"
TEST_SCENARIO_TOML = """# Made by the tests (tests/helpers.py): a scenario that differs visibly from the baseline.
[scenario]
description = "Browser test: jobs end four times as often as in the baseline."

[overrides]
labour.separation_rate = 0.016
"""

# The page's server as ``cohesion viz`` starts it, with the scenario folder replaced:
# ``python -c SERVE <folder> --port N``. On Linux the server ends with the test process
# (PR_SET_PDEATHSIG), even when that is killed before its fixtures can stop it.
SERVE = """
import ctypes, signal, sys
from pathlib import Path
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
import model.config
model.config.SCENARIO_DIR = Path(sys.argv[1])
from experiments.viz import main
sys.exit(main(sys.argv[2:]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def page_server(scenarios: Path, log: Path, wait: float = 120) -> Iterator[dict]:
    """The page's server in a process of its own on a free local port, serving the
    scenarios of the folder ``scenarios``, its output in ``log``; yields ``url``, ``port``
    and ``log`` once it answers, and stops it afterwards."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(scenarios), "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer within {wait:.0f} s:\n{log.read_text()}") from None
                time.sleep(0.3)
        yield {"url": url, "port": port, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
