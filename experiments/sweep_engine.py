"""Where the runs of a sweep run: one run to its record and tables (:func:`execute`, which
pool workers run), the executors (this process, a local pool of spawned worker
processes, a Dask cluster) behind one :class:`Engine`, and the memory check of the runs at
once on this machine. :mod:`experiments.sweep` drives them and re-exports these names."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from model.config import ConfigError

from .design import RunSpec
from .outcomes import Probes, calibration_measures, model_cohort_outcomes, municipal_table, panel_measures, summarize


# -- one run ---------------------------------------------------------------------------
def execute(spec: RunSpec) -> dict:
    """Run ``spec`` to its end; return its record, time series and municipal table.

    Never raises for a failure of the model: the record then has ``status = "failed"``
    and the error's last line and traceback."""
    import socket

    started = time.perf_counter()
    record: dict = {
        "run_id": spec.run_id,
        "point": spec.point,
        "scenario": spec.scenario,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **dict(spec.params),
    }
    ts = mun = None
    try:
        from model import CohesionModel

        from .storage import layoffs_table, timeseries_table

        model = CohesionModel(scenario=spec.scenario, overrides=spec.overrides, rng=spec.seed)
        probes = Probes()
        while model.running:
            model.step()
            probes(model)
        ts = timeseries_table(model)
        record.update(status="done", error=None, config_hash=model.config.hash())
        record.update(summarize(ts))
        record.update(model_cohort_outcomes(model))
        cal = calibration_measures(ts, layoffs_table(model), probes, scale=spec.scale)
        cal.update(panel_measures(model))
        record.update({f"cal_{k}": v for k, v in cal.items()})
        ts = compact_timeseries(ts, spec.run_id)
        mun = municipal_table(model)
        mun.insert(0, "run_id", spec.run_id)
    except Exception as exc:  # recorded, the sweep goes on
        record.update(status="failed", error=_error_text(exc))
        ts = mun = None
    record.update(
        version=spec.version,
        wall_seconds=round(time.perf_counter() - started, 3),
        host=socket.gethostname(),
        finished_utc=datetime.now(UTC).isoformat(),
    )
    return {"record": record, "timeseries": ts, "municipal": mun}


def _error_text(exc: BaseException) -> str:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-4:])
    return f"{type(exc).__name__}: {exc}\n{tb}".strip()


def compact_timeseries(ts: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """The weekly table with the run id in front, floats as float32 and counts as int32."""
    out = {"run_id": run_id}
    for c in ts.columns:
        x = ts[c]
        if c == "date":
            out[c] = pd.to_datetime(x).dt.date
        elif pd.api.types.is_float_dtype(x):
            out[c] = x.astype(np.float32)
        elif pd.api.types.is_integer_dtype(x):
            out[c] = x.astype(np.int32)
        else:
            out[c] = x
    return pd.DataFrame(out)


def failed_result(spec: RunSpec, exc: BaseException) -> dict:
    record = {
        "run_id": spec.run_id,
        "point": spec.point,
        "scenario": spec.scenario,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **dict(spec.params),
        "status": "failed",
        "error": _error_text(exc),
        "version": spec.version,
        "wall_seconds": float("nan"),
        "host": None,
        "finished_utc": datetime.now(UTC).isoformat(),
    }
    return {"record": record, "timeseries": None, "municipal": None}


# -- executors -------------------------------------------------------------------------
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _worker_init() -> None:
    """Pool workers ignore Ctrl-C (the parent decides when to stop) and die with their
    parent: on Linux the kernel sends them SIGKILL when it ends (``PR_SET_PDEATHSIG``);
    everywhere, a thread checks once a second that the parent is still there."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread below suffices
            pass
    if os.getppid() != parent or parent == 1:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class InlineExecutor(Executor):
    """A ``concurrent.futures`` executor that runs each call at once in the calling
    process (``--workers 1``), so that a run sees the caller's process as it is."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller; Ctrl-C is not caught
            fut.set_exception(exc)
        return fut


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A local pool of worker processes: spawned, so nothing is shared by accident, and
    each started by :func:`_worker_init`."""
    import multiprocessing

    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init
    )


class Engine:
    """Where the runs go: a ``concurrent.futures`` executor (:class:`InlineExecutor`, a
    :func:`process_pool` or a Dask client's executor) and what the sweep needs besides:
    how many runs to keep in flight, a fresh pool when a worker process has died, and
    the end of the workers when the runs in flight are abandoned."""

    def __init__(
        self,
        name: str,
        start: Callable[[], Executor],
        slots: int,
        address: str | None = None,
        close: Callable[[], None] | None = None,
    ):
        import multiprocessing

        self.name, self.slots, self.address = name, slots, address
        self._start, self._close = start, close
        self._children_before = set(multiprocessing.active_children())
        self.executor = start()

    def submit(self, fn, spec: RunSpec) -> Future:
        try:
            return self.executor.submit(fn, spec)
        except BrokenProcessPool:  # a worker died since the last result: go on with a fresh pool
            self.renew(self.executor)
            return self.executor.submit(fn, spec)

    def renew(self, broken: Executor) -> None:
        """Replace ``broken`` (a pool a worker of which died; its runs in flight all fail
        with BrokenProcessPool) by a fresh one, unless that was done already."""
        if broken is self.executor:
            broken.shutdown(wait=False, cancel_futures=True)
            self.executor = self._start()

    def close(self, abort: bool = False) -> None:
        """Shut the executor down; with ``abort``, without waiting for the runs in flight,
        whose local worker processes are ended."""
        import multiprocessing

        if abort:
            started = [p for p in multiprocessing.active_children() if p not in self._children_before]
            if self.name == "dask":
                self.executor.shutdown(wait=False)
            else:
                self.executor.shutdown(wait=False, cancel_futures=True)
            if self.name == "processes":
                for p in started:
                    p.terminate()
        else:
            self.executor.shutdown(wait=True)
        if self._close is not None:
            self._close()


def open_engine(workers: int, scheduler: str | None) -> Engine:
    """The executor of ``--workers`` and ``--scheduler``: a Dask cluster at ``scheduler``
    (``tcp://HOST:PORT``, or ``local``: a LocalCluster of ``workers`` single-threaded
    processes on this machine), else a local pool of ``workers`` processes, or this
    process alone for one worker."""
    if scheduler == "local" or (not scheduler and workers > 1):
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")  # one core per worker process: no threaded numerical libraries
    if scheduler:
        return _dask_engine(scheduler, workers)
    if workers <= 1:
        return Engine("inline", InlineExecutor, slots=1)
    return Engine("processes", lambda: process_pool(workers), slots=2 * workers)


def _dask_engine(scheduler: str, workers: int) -> Engine:
    import logging

    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="5s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ConfigError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler ({exc})") from None

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    # pure=False: every submission is a task of its own, so a retry runs again rather than
    # returning the failed attempt's result (each run carries its own seed)
    return Engine(
        "dask",
        lambda: client.get_executor(pure=False),
        slots=max(2, 2 * sum(client.nthreads().values())),
        address=client.scheduler.address,
        close=close,
    )


def check_sweep_memory(specs: list[RunSpec], workers: int, scheduler: str | None) -> None:
    """Refuse runs whose estimated memory, times the runs at once on this machine, exceeds
    the memory available (``model.inputs.check_memory``). On a remote Dask cluster each
    worker's own memory limit applies instead."""
    if not specs or (scheduler and scheduler != "local"):
        return
    from model.config import config_root, resolve
    from model.inputs import available_memory, check_memory, check_municipalities

    munis = check_municipalities(Path(config_root()) / "territory" / "municipalities.csv")
    at_once = max(1, min(workers, len(specs)))
    first = {}
    for s in specs:
        first.setdefault(s.scenario, s)
    for s in first.values():
        cfg = resolve(s.scenario, None, s.overrides)
        try:
            check_memory(cfg, workers=at_once, municipalities=munis)
        except ConfigError as exc:
            need = check_memory(cfg, workers=1, municipalities=munis)  # raises when not even one run fits
            fit = max(1, int(available_memory()[0] // need))
            raise ConfigError(f"{exc}, or --workers {fit}") from None
