"""The ``cohesion`` command line as the tests call it: in a process of its own, as a user
runs it, or in this process (faster: no interpreter start, imports and kernels loaded once)
where a separate process is not what is tested."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def cohesion(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
             configs: Path | None = None, bare: bool = False, timeout: float = 600,
             **kw) -> subprocess.CompletedProcess:
    """Run ``python -m experiments.cli *args`` in a new process with its output captured
    (standard error is not a terminal). ``configs`` sets ``COHESION_CONFIG_DIR``; ``bare``
    starts from an empty environment (only ``PATH``) instead of this one's."""
    base = {"PATH": "/usr/bin:/bin"} if bare else dict(os.environ)
    full = {**base, "PYTHONPATH": str(ROOT), **(env or {})}
    if configs is not None:
        full["COHESION_CONFIG_DIR"] = str(configs)
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout, env=full, **kw)


class Result(NamedTuple):
    """What an in-process call gives back, named as :class:`subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None,
           configs: Path | None = None) -> Result:
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
