"""An interrupted or failing ``cohesion run`` never leaves anything that looks complete:
the run is written in a hidden ``.partial`` directory whose manifest says ``running``
(``failed`` when the run raised) and takes its final name only when done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LONG = ["--scale", "0.05", "--start", "2003-01", "--end", "2018-12", "--no-figure", "--quiet"]


def start_run(out: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", "run", *LONG, "--out", str(out)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )


def wait_for_partial(parent: Path, proc: subprocess.Popen, name: str = "out") -> Path:
    """The partial directory, once its 'running' manifest is written (the model is built
    and stepping)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = list(parent.glob(f".{name}.*.partial/manifest.json"))
        if found:
            return found[0].parent
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be interrupted: {proc.stderr.read()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no partial run directory appeared")


def test_killed_run_leaves_only_a_hidden_partial_marked_running(tmp_path):
    out = tmp_path / "out"
    proc = start_run(out, tmp_path)
    partial = wait_for_partial(tmp_path, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [partial.name]
    manifest = json.loads((partial / "manifest.json").read_text())
    assert manifest["status"] == "running" and manifest["wall_seconds"] is None
    assert not (partial / "persons.parquet").exists()


def test_ctrl_c_removes_the_partial_run(tmp_path):
    out = tmp_path / "out"
    proc = start_run(out, tmp_path)
    wait_for_partial(tmp_path, proc)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    assert proc.returncode == 130, proc.stderr.read()
    assert "interrupted" in proc.stderr.read()
    assert list(tmp_path.iterdir()) == []


class Boom(RuntimeError):
    pass


def test_a_run_that_raises_is_marked_failed_and_never_takes_the_final_name(tmp_path, monkeypatch):
    from experiments import runner
    from model import CohesionModel

    model = CohesionModel(scale=0.02, start="2005-01", end="2005-06", rng=1)
    step = model.step

    def failing_step():
        if model.week == 5:
            raise Boom("a submodel failed")
        step()

    monkeypatch.setattr(model, "step", failing_step)
    out = tmp_path / "out"
    with pytest.raises(Boom):
        runner.run_to_directory(model, out, figure=False)
    assert not out.exists()
    (partial,) = tmp_path.glob(".out.*.partial")
    manifest = json.loads((partial / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"] == "Boom: a submodel failed"
    assert manifest["wall_seconds"] is not None


def test_without_keep_failed_nothing_is_left(tmp_path, monkeypatch):
    from experiments import runner
    from model import CohesionModel

    model = CohesionModel(scale=0.02, start="2005-01", end="2005-03", rng=1)
    monkeypatch.setattr(model, "step", lambda: (_ for _ in ()).throw(Boom("x")))
    with pytest.raises(Boom):
        runner.run_to_directory(model, tmp_path / "out", figure=False, keep_failed=False)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_stops_model_run_at_the_end_of_a_week():
    """SIGINT during ``CohesionModel.run`` raises KeyboardInterrupt after the week under
    way, whatever the step was doing when it arrived, and the default handler is back."""
    import threading

    from model import CohesionModel

    model = CohesionModel(scale=0.02, rng=0)
    model.step()  # compiled kernels loaded
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.run()
    timer.join()
    assert 1 < model.week < model.n_weeks - 1 and model.running
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
