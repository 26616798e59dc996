"""Sweeps under faults: a pool worker killed, a run that raises, a full disk, a Dask worker
lost. Each time the failure is recorded, tried again up to ``retries``, and a rerun
completes what is missing; nothing finished is lost or stored twice. Also: results stream
to disk run by run, and a scale too large for the memory is refused before anything is
written."""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import sweep as sweep_module
from experiments import sweep_store
from experiments.sweep import execute, read_table, run_sweep

from helpers import invoke
from sweep_plans import small_plan

ROOT = Path(__file__).resolve().parents[1]


def target(spec) -> bool:
    """The run the faults strike: point 0, replicate 1."""
    return spec.point == 0 and spec.replicate == 1


def strikes(spec) -> int:
    """How many times the fault has struck this run so far (counted in files, across processes)."""
    d = Path(os.environ["FAULT_DIR"])
    return len(list(d.glob(f"{spec.run_id}.*")))


def strike(spec) -> None:
    (Path(os.environ["FAULT_DIR"]) / f"{spec.run_id}.{strikes(spec)}").write_text("struck")


def killing_runner(spec):
    """Kills its own worker process on the target's first ``FAULT_TIMES`` attempts."""
    if target(spec) and strikes(spec) < int(os.environ["FAULT_TIMES"]):
        strike(spec)
        os.kill(os.getpid(), signal.SIGKILL)
    return execute(spec)


def raising_runner(spec):
    if target(spec):
        strike(spec)
        raise ValueError("deliberate failure")
    return execute(spec)


def check_complete(out: Path, n: int) -> pd.DataFrame:
    """Every planned run done, once, with its weekly series once."""
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == n and runs["run_id"].is_unique
    assert (runs["status"] == "done").all(), runs[["run_id", "status", "error"]]
    design = pd.read_parquet(out / "design.parquet")
    assert sorted(runs["run_id"]) == sorted(design["run_id"])  # one row per design point and replicate
    ts = read_table(out)
    assert set(ts["run_id"]) == set(runs["run_id"])
    assert not ts.duplicated(["run_id", "week"]).any()
    assert ts.groupby("run_id").size().nunique() == 1
    assert sorted(p.stem for p in (out / "timeseries").iterdir()) == sorted(runs["run_id"])
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    return runs


def check_recorded_once(out: Path, n: int) -> pd.DataFrame:
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == n and runs["run_id"].is_unique
    done = set(runs.loc[runs["status"] == "done", "run_id"])
    assert set(read_table(out)["run_id"]) == done  # series only for the runs that are done
    return runs


# -- a pool worker killed ---------------------------------------------------------------------
def test_a_killed_pool_worker_is_recorded_retried_and_completed_by_a_rerun(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULT_DIR", str(tmp_path))
    monkeypatch.setenv("FAULT_TIMES", "2")
    out = tmp_path / "out"
    plan = small_plan()
    res = run_sweep(plan, out, workers=2, retries=1, progress=False, runner=killing_runner)
    assert res.planned == 4 and not res.interrupted
    runs = check_recorded_once(out, 4)
    (hit,) = [s for s in plan.specs() if target(s)]
    row = runs.set_index("run_id").loc[hit.run_id]
    assert row["status"] == "failed" and row["attempts"] == 2  # tried once more, then recorded
    assert "worker process died" in row["error"]
    assert strikes(hit) == 2
    failed = int((runs["status"] == "failed").sum())
    assert res.failed == failed >= 1
    mf = json.loads((out / "manifest.json").read_text())
    assert mf["status"] == "done_with_failures" and mf["counts"]["failed"] == failed
    # the rerun (here in this process) runs the failed runs again and nothing else
    res = run_sweep(plan, out, workers=1, progress=False, runner=killing_runner)
    assert (res.skipped, res.executed, res.done, res.failed) == (4 - failed, failed, 4, 0)
    check_complete(out, 4)


def test_a_broken_pool_at_submission_is_replaced(monkeypatch):
    """A worker can die between two results: submitting to the broken pool starts a fresh one."""
    from concurrent.futures.process import BrokenProcessPool

    engine = sweep_module.open_engine(2, None)
    try:
        first_pool = engine.executor

        def broken(fn, *args):
            raise BrokenProcessPool("a child process terminated abruptly")

        monkeypatch.setattr(first_pool, "submit", broken)
        fut = engine.submit(abs, -3)
        assert engine.executor is not first_pool and fut.result(timeout=120) == 3
        engine.renew(first_pool)  # a late failure of a run of the old pool leaves the fresh one alone
        assert engine.executor.submit(abs, -4).result(timeout=120) == 4
    finally:
        engine.close()


# -- a run that raises, every time --------------------------------------------------------------
def test_a_run_that_always_raises_uses_its_retries_then_a_rerun_completes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULT_DIR", str(tmp_path))
    out = tmp_path / "out"
    plan = small_plan()
    res = run_sweep(plan, out, workers=1, retries=2, progress=False, runner=raising_runner)
    assert (res.done, res.failed) == (3, 1)
    runs = check_recorded_once(out, 4)
    bad = runs[runs["status"] == "failed"]
    assert bad["attempts"].item() == 3 and "ValueError: deliberate failure" in bad["error"].item()
    (hit,) = [s for s in plan.specs() if target(s)]
    assert strikes(hit) == 3 and bad["run_id"].item() == hit.run_id
    res = run_sweep(plan, out, workers=1, progress=False)
    assert (res.skipped, res.executed, res.done, res.failed) == (3, 1, 4, 0)
    check_complete(out, 4)


# -- a full disk ----------------------------------------------------------------------------------
def fill_disk(monkeypatch, refuse, times: int = 2) -> list[str]:
    """Make the sweep's parquet writes to the first ``times`` paths that ``refuse`` picks fail
    as on a full disk, leaving half a file behind; return those paths as they are refused."""
    real_write = sweep_store.pq.write_table
    refused: list[str] = []

    def write_table(table, where, *args, **kwargs):
        if len(refused) < times and refuse(Path(where)):
            refused.append(str(where))
            Path(where).write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
        return real_write(table, where, *args, **kwargs)

    monkeypatch.setattr(sweep_store.pq, "write_table", write_table)
    return refused


def test_a_full_disk_fails_the_run_leaves_nothing_half_written_and_a_rerun_completes_it(tmp_path, monkeypatch):
    plan = small_plan()
    (hit,) = [s for s in plan.specs() if target(s)]
    refused = fill_disk(monkeypatch, lambda where: hit.run_id in str(where))  # this run's first two attempts
    out = tmp_path / "out"
    res = run_sweep(plan, out, workers=1, retries=1, progress=False)
    assert len(refused) == 2 and (res.done, res.failed) == (3, 1)
    runs = check_recorded_once(out, 4)
    row = runs.set_index("run_id").loc[hit.run_id]
    assert row["status"] == "failed" and row["attempts"] == 2
    assert "No space left on device" in row["error"]
    # nothing of the run is left that could pass for its results: only its record of the failure
    leftovers = [p for p in out.rglob("*") if hit.run_id in p.name or p.name.endswith(".tmp")]
    assert leftovers == [out / "runs" / f"{hit.run_id}.json"]
    assert json.loads(leftovers[0].read_text())["status"] == "failed"
    assert hit.run_id not in set(read_table(out, run_ids=[hit.run_id])["run_id"])
    # the disk has room again: the rerun completes the run
    res = run_sweep(plan, out, workers=1, retries=1, progress=False)
    assert (res.skipped, res.executed, res.done, res.failed) == (3, 1, 4, 0)
    check_complete(out, 4)


# -- a Dask worker lost ----------------------------------------------------------------------------
@pytest.mark.slow  # starts a local Dask cluster
def test_a_lost_dask_worker_is_recorded_retried_and_completed_by_a_rerun(tmp_path, monkeypatch):
    import cloudpickle
    import dask
    import distributed  # noqa: F401 - its defaults are in dask's configuration before the override below

    monkeypatch.setenv("FAULT_DIR", str(tmp_path))
    monkeypatch.setenv("FAULT_TIMES", "2")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers need not import this file
    out = tmp_path / "out"
    plan = small_plan()
    (hit,) = [s for s in plan.specs() if target(s)]
    try:
        # a task whose worker dies is given up at once (Dask would otherwise try it on another worker)
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            res = run_sweep(plan, out, workers=2, scheduler="local", retries=1, progress=False, runner=killing_runner)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert strikes(hit) == 2
    runs = check_recorded_once(out, 4)
    row = runs.set_index("run_id").loc[hit.run_id]
    assert row["status"] == "failed" and row["attempts"] == 2
    assert "KilledWorker" in row["error"]
    failed = int((runs["status"] == "failed").sum())
    assert res.failed == failed >= 1
    # the rerun (here on one local worker) completes what is missing
    res = run_sweep(plan, out, workers=1, progress=False)
    assert (res.skipped, res.executed, res.done, res.failed) == (4 - failed, failed, 4, 0)
    check_complete(out, 4)


# -- far larger than memory: streamed to disk ------------------------------------------------------
WEEKS = 2000


def synthetic_runner(spec):
    """A run's record and a large weekly table, without the model."""
    rng = np.random.default_rng(spec.seed + spec.point)
    ts = pd.DataFrame(
        {
            "run_id": spec.run_id,
            "week": np.arange(WEEKS, dtype=np.int32),
            **{f"x{i}": rng.random(WEEKS, dtype=np.float32) for i in range(20)},
        }
    )
    mun = pd.DataFrame({"run_id": [spec.run_id], "year": [2005], "municipality": ["Magog"], "residents": [1]})
    record = {
        "run_id": spec.run_id,
        "point": spec.point,
        "scenario": spec.scenario,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **dict(spec.params),
        "status": "done",
        "error": None,
        "x0_mean": float(ts["x0"].mean()),
        "version": spec.version,
        "wall_seconds": 0.0,
        "host": "test",
        "finished_utc": "2026-01-01T00:00:00",
    }
    return {"record": record, "timeseries": ts, "municipal": mun}


def test_results_stream_to_disk_and_are_not_held(tmp_path):
    out = tmp_path / "out"
    plan = small_plan(replicates=60)  # 120 runs
    alive: set[int] = set()
    most = {"alive": 0}

    def runner(spec):
        most["alive"] = max(most["alive"], len(alive))  # results of earlier runs still referenced
        result = synthetic_runner(spec)
        key = id(result["timeseries"])
        alive.add(key)
        weakref.finalize(result["timeseries"], alive.discard, key)
        return result

    res = run_sweep(plan, out, workers=1, progress=False, runner=runner)
    assert (res.done, res.failed) == (120, 0)
    assert most["alive"] <= 2  # the parent lets go of each result once it is written
    assert len(list((out / "timeseries").glob("*.parquet"))) == 120
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 120 and runs["run_id"].is_unique
    ts = read_table(out, columns=["week", "x0"])
    assert len(ts) == 120 * WEEKS and not ts.duplicated(["run_id", "week"]).any()


# -- a scale too large for the memory ----------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["sweep", "{sweep}", "--scale", "1", "--workers", "2"],
        ["compare", "--scenarios", "baseline,helper_training", "--scale", "1", "--replicates", "3", "--workers", "2"],
    ],
)
def test_a_sweep_too_large_for_the_memory_is_refused_before_anything_is_written(tmp_path, command):
    (tmp_path / "s.toml").write_text('[sweep]\ndesign = "none"\nreplicates = 4\nstart = "2005-01"\nend = "2005-12"\n')
    args = [a.replace("{sweep}", str(tmp_path / "s.toml")) for a in command]
    # one run of 2005 at scale 1 needs about 430 MB: one worker fits in 700 MB, two do not
    res = invoke(*args, "--out", str(tmp_path / "out"), cwd=tmp_path, env={"COHESION_MEMORY_LIMIT": "700M"})
    assert res.returncode == 2, res.stderr
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: run.scale = 1"), res.stderr
    assert "x 2 workers" in lines[0] and "700 MB available" in lines[0] and lines[0].endswith("or --workers 1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_the_memory_check_counts_the_runs_at_once_on_this_machine(monkeypatch):
    from model.config import ConfigError

    monkeypatch.setenv("COHESION_MEMORY_LIMIT", "700M")
    specs = small_plan(scale=1.0, replicates=1).specs()  # two runs of 2005 at scale 1, about 430 MB each
    sweep_module.check_sweep_memory(specs, 1, None)
    sweep_module.check_sweep_memory(specs[:1], 2, None)  # one run: one worker busy
    with pytest.raises(ConfigError, match="x 2 workers"):
        sweep_module.check_sweep_memory(specs, 2, None)
    with pytest.raises(ConfigError, match="x 2 workers"):
        sweep_module.check_sweep_memory(specs, 2, "local")
    sweep_module.check_sweep_memory(specs, 2, "tcp://scheduler:8786")  # remote workers: their own limits


def test_a_disk_that_stays_full_stops_the_sweep_with_one_line_and_a_rerun_completes_it(tmp_path, monkeypatch, capsys):
    from experiments.cli import main

    (tmp_path / "s.toml").write_text(
        '[sweep]\ndesign = "factorial"\nreplicates = 2\nseed = 3\nscale = 0.02\n'
        'start = "2005-01"\nend = "2005-12"\n[parameters]\n'
        '"labour.separation_rate" = [0.003, 0.004, 0.005]\n'
    )  # 6 runs
    out = tmp_path / "out"
    real_write, real_text = sweep_store.pq.write_table, sweep_store._atomic_text
    room = {"files": 5}  # the series and municipal tables of two runs and a third's series fit, then nothing
    series = []

    def write_table(table, where, *args, **kwargs):
        if out in Path(where).parents and not Path(where).name.startswith(".design.parquet"):
            series.extend([where] if Path(where).parent.name == "timeseries" else [])
            if room["files"] <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
            room["files"] -= 1
        return real_write(table, where, *args, **kwargs)

    def atomic_text(path, text):
        if room["files"] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_text(path, text)

    monkeypatch.setattr(sweep_store.pq, "write_table", write_table)
    monkeypatch.setattr(sweep_store, "_atomic_text", atomic_text)
    args = ["sweep", str(tmp_path / "s.toml"), "--workers", "1", "--out", str(out), "--quiet"]
    assert main(args) == 1
    lines = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "No space left on device" in lines[0], lines
    assert len(series) == 3  # the third run found the disk full, and no run was started after it
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.setattr(sweep_store.pq, "write_table", real_write)  # room again
    monkeypatch.setattr(sweep_store, "_atomic_text", real_text)
    assert main(args) == 0
    mf = json.loads((out / "manifest.json").read_text())
    assert mf["sessions"][-1]["skipped"] == 2 and mf["sessions"][-1]["executed"] == 4  # the two stored runs kept
    check_complete(out, 6)
