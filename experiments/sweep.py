"""The sweep engine: many runs, on a local process pool or a Dask cluster, streamed to disk.

A sweep directory holds::

    manifest.json           provenance: the plan, seeds, model version, git, packages,
                            command lines and timings of every session, status, counts
    design.parquet          every planned run in design order (run id, point, scenario,
                            replicate, seed, parameters)
    runs.parquet            one row per finished run (done or failed), in design order
    runs/<run id>.json      the record of each finished run, which runs.parquet gathers
    timeseries/<run id>.parquet   its weekly time series, one row per week
    municipal/<run id>.parquet    its yearly figures, one row per year and municipality

Only one process writes to a sweep directory at a time: it holds an exclusive lock
(``flock``) on the directory's ``.lock`` file for as long as it runs, which the operating
system releases when the process ends, however it ends; a second process is refused with
one line. The directory is created and locked, then ``manifest.json`` is written
(atomically) before anything else, so a directory killed at any point of its creation
holds either nothing but the lock file, which counts as empty, or a manifest, and the
same command continues it.

Each finished run is written at once, each file atomically (a temporary file renamed
into place): its time series and municipal table first, then its record, which marks it
complete. Every file is named by the run id, so no run is ever stored twice; the tables
of a run without a done record (a crash in between) are deleted on the next start. A
rerun reads the records, skips every run that is done, and runs the rest (including
failed ones). The parent process holds only run ids and their status, so its memory does
not grow with the sweep. ``pyarrow.dataset`` reads the tables of many runs as one.

A run that raises, whose worker process or Dask worker dies, or that cannot be written (a
full disk: nothing of it is left) is recorded with ``status = "failed"`` and its ``error``;
with ``retries`` it is tried again first. A dead pool worker fails every run in flight and
the pool is replaced. Pool workers end with the process that started them, even when
it is killed outright (``kill -9``). When not even a failed run's record can be written, no more runs are
started and the error is raised once the runs in flight are done. Ctrl-C (SIGINT) stops submitting and waits for the
runs in flight, which are written; a second Ctrl-C abandons them.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor
from concurrent.futures import wait as cf_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.config import ConfigError

from . import provenance
from .design import RunSpec, SweepPlan, model_version
from .outcomes import Probes, calibration_measures, model_cohort_outcomes, municipal_table, panel_measures, summarize
from .storage import atomic

SWEEP_SCHEMA = "2.0"
ID_COLUMNS = ["run_id", "point", "scenario", "replicate", "seed"]
VOLATILE_COLUMNS = ["wall_seconds", "host", "attempts", "finished_utc"]  # differ between identical runs


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


# -- the directory ---------------------------------------------------------------------
def _atomic_parquet(df: pd.DataFrame | pa.Table, path: Path) -> None:
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    with atomic(path) as tmp:
        pq.write_table(table, tmp)


def _atomic_text(path: Path, text: str) -> None:
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


class SweepStore:
    """The files of a sweep directory (see the module docstring): a record and tables per run."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.tables = {"timeseries": self.root / "timeseries", "municipal": self.root / "municipal"}
        for d in (self.runs_dir, *self.tables.values()):
            d.mkdir(parents=True, exist_ok=True)
        for p in self.root.rglob(".*.tmp"):
            p.unlink(missing_ok=True)
        self.status: dict[str, str] = {}  # run id -> status of its record
        for rec in self._read_records():
            self.status[rec["run_id"]] = rec["status"]
        for d in self.tables.values():  # tables of a run whose done record was never written
            for p in d.glob("*.parquet"):
                if self.status.get(p.stem) != "done":
                    p.unlink()

    def _read_records(self) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.runs_dir.glob("*.json"))]

    def done_ids(self) -> set[str]:
        return {rid for rid, st in self.status.items() if st == "done"}

    def write_run(self, result: dict) -> None:
        """Write one finished run (its tables first, its record last), unless it is done
        already. When it cannot be written (a full disk), nothing of it is left but an
        earlier failed record."""
        rec = result["record"]
        rid = rec["run_id"]
        if self.status.get(rid) == "done":
            return
        try:
            for kind, d in self.tables.items():
                if result[kind] is not None:
                    _atomic_parquet(result[kind], d / f"{rid}.parquet")
            _atomic_text(self.runs_dir / f"{rid}.json", json.dumps(rec, default=_json_default))
        except OSError:
            for d in self.tables.values():
                (d / f"{rid}.parquet").unlink(missing_ok=True)
            raise
        self.status[rid] = rec["status"]

    def records(self) -> pd.DataFrame:
        """Every stored record, one per run id."""
        recs = self._read_records()
        return records_frame(recs) if recs else pd.DataFrame(columns=ID_COLUMNS + ["status", "error"])


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def records_frame(recs: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(recs)
    if "error" in df:
        df["error"] = df["error"].astype("string")
    if "host" in df:
        df["host"] = df["host"].astype("string")
    return df


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


class _Interrupt:
    """First Ctrl-C: stop submitting, let the runs in flight finish. Second: abandon them."""

    def __init__(self, say: Callable[[str], None]):
        self.stop = False
        self.say = say
        self._prev = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._prev = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.stop:
            raise KeyboardInterrupt
        self.stop = True
        self.say("Ctrl-C: stopping after the runs in flight (Ctrl-C again to abandon them)")

    def __exit__(self, *exc):
        if self._prev is not None:
            signal.signal(signal.SIGINT, self._prev)
        return False


# -- the sweep -------------------------------------------------------------------------
@dataclass
class SweepResult:
    out: Path
    planned: int
    skipped: int
    executed: int
    done: int
    failed: int
    interrupted: bool
    runs: pd.DataFrame

    @property
    def remaining(self) -> int:
        return self.planned - self.done - self.failed


LOCK_NAME = ".lock"


def _leftover(p: Path) -> bool:
    """Files of ours that an interrupted start may leave: the lock file, a temporary file."""
    return p.name == LOCK_NAME or (p.name.startswith(".") and p.name.endswith(".tmp"))


def _is_empty(out: Path) -> bool:
    return not any(not _leftover(p) for p in out.iterdir())


def prepare_directory(out: Path, plan: SweepPlan, kind: str) -> None:
    """Refuse a directory that holds something other than this sweep: not a directory,
    files but no sweep manifest, or the manifest of another sweep, of another kind, or of
    the same sweep with another model version or configuration."""
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise ConfigError(f"--out {out}: a symbolic link to {os.readlink(out)}, which does not exist")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    if out.exists() and not _is_empty(out):
        mf = out / "manifest.json"
        if not mf.is_file():
            raise ConfigError(f"--out {out}: already exists, is not empty and holds no sweep")
        try:
            old = json.loads(mf.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise ConfigError(f"--out {out}: manifest.json cannot be read") from None
        if old.get("kind") != kind:
            raise ConfigError(f"--out {out}: holds a {old.get('kind', 'output')}, not a {kind}; choose another --out")
        if old.get("plan_hash") != plan.hash():
            if old.get("model_version") != model_version() or old.get("config_hashes") != plan.config_hashes():
                raise ConfigError(
                    f"--out {out}: holds runs of another version of the model or its configuration (model "
                    f"{old.get('model_version')}, this one {model_version()}); they are not mixed with new runs: "
                    f"choose another --out (the default one changes with the version) or remove it"
                )
            raise ConfigError(
                f"--out {out}: holds a different {kind} (plan {old.get('plan_hash')}, this one "
                f"{plan.hash()}); choose another --out"
            )


class SweepLock:
    """An exclusive ``flock`` on ``out/.lock``, held until :meth:`release` or the end of the
    process; a second process (or a second lock in this one) is refused with a
    ConfigError naming the holder."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK_NAME
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(self.fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(self.fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ConfigError(
                    f"--out {out}: another cohesion command ({holder}) is writing to this directory; "
                    f"wait for it to end or choose another --out"
                ) from None
            raise
        import socket

        os.ftruncate(self.fd, 0)
        os.pwrite(
            self.fd,
            f"pid {os.getpid()} on {socket.gethostname()}, since "
            f"{datetime.now(UTC).isoformat(timespec='seconds')}\n".encode(),
            0,
        )

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


def claim_directory(out: Path, plan: SweepPlan, kind: str) -> SweepLock:
    """Create ``out`` if need be and lock it, then check again under the lock that it is
    empty or holds this sweep (another process may have come first)."""
    out = Path(out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        lock = SweepLock(out)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    try:
        prepare_directory(out, plan, kind)
    except BaseException:
        lock.release()
        raise
    return lock


def run_sweep(
    plan: SweepPlan,
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    retries: int = 0,
    replicates: int | None = None,
    progress: bool = True,
    kind: str = "sweep",
    runner: Callable[[RunSpec], dict] = execute,
    extra_manifest: dict | None = None,
    specs: list[RunSpec] | None = None,
) -> SweepResult:
    """Run every planned run not yet done in ``out`` and write the sweep directory."""
    out = Path(out)
    prepare_directory(out, plan, kind)
    specs = specs if specs is not None else plan.specs(replicates)
    check_sweep_memory(specs, workers, scheduler)  # a scale too large for the memory stops here, nothing written
    engine = open_engine(workers, scheduler)  # a scheduler that cannot be reached stops here, nothing written
    try:
        lock = claim_directory(out, plan, kind)  # a second writer stops here
    except BaseException:
        engine.close()
        raise
    try:
        return _run_locked(
            plan,
            out,
            specs,
            engine,
            retries=retries,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            kind=kind,
            runner=runner,
            extra_manifest=extra_manifest,
        )
    finally:
        lock.release()


def _run_locked(
    plan: SweepPlan,
    out: Path,
    specs: list[RunSpec],
    engine: Engine | None,
    *,
    retries: int,
    workers: int,
    scheduler: str | None,
    progress: bool,
    kind: str,
    runner: Callable[[RunSpec], dict],
    extra_manifest: dict | None,
) -> SweepResult:
    from tqdm import tqdm

    from .progress import bar as progress_bar

    manifest = _manifest(out, plan, specs, kind, extra_manifest)
    session = {
        "started_utc": datetime.now(UTC).isoformat(),
        "command": provenance.command_line(),
        "git": provenance.git_state(),
        "workers": workers,
        "scheduler": scheduler,
        "retries": retries,
    }
    manifest["sessions"].append(session)
    manifest["status"] = "running"
    try:
        provenance.write_manifest(out, manifest)  # first, so that the directory is always a sweep's
        store = SweepStore(out)
        _write_design(out, specs)
    except BaseException:
        engine.close()
        raise
    done_before = store.done_ids()
    todo = deque(s for s in specs if s.run_id not in done_before)
    skipped = len(specs) - len(todo)
    session["skipped"] = skipped
    t0 = time.perf_counter()
    executed = failed_now = 0
    interrupted = False
    bar = progress_bar(len(specs), kind, "run", enabled=progress, initial=skipped, dynamic_ncols=True)
    write_error: list[OSError] = []  # nothing more can be written: start no more runs
    try:
        session["backend"] = engine.name
        if engine.address:
            session["scheduler_address"] = engine.address
        attempts: dict[str, int] = {}
        inflight: dict = {}
        with _Interrupt(lambda msg: tqdm.write(msg, file=sys.stderr)) as intr:

            def fill() -> None:
                while todo and len(inflight) < engine.slots and not intr.stop and not write_error:
                    spec = todo.popleft()
                    attempts[spec.run_id] = attempts.get(spec.run_id, 0) + 1
                    fut = engine.submit(runner, spec)
                    inflight[fut] = (spec, engine.executor)

            fill()
            while inflight:
                done, _ = cf_wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    spec, executor = inflight.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool as exc:  # a worker process died: every run in flight is lost
                        result = failed_result(spec, RuntimeError(f"a worker process died ({exc})"))
                        engine.renew(executor)
                    except Exception as exc:  # noqa: BLE001 - a worker lost, a transfer failed
                        result = failed_result(spec, exc)
                    del fut
                    rec = result["record"]
                    rec["attempts"] = attempts[spec.run_id]
                    if rec["status"] == "done":
                        try:
                            store.write_run(result)
                        except OSError as exc:  # a full disk: the run is not stored, and fails
                            result = failed_result(spec, exc)
                            rec = result["record"]
                            rec["attempts"] = attempts[spec.run_id]
                    if rec["status"] != "done" and attempts[spec.run_id] <= retries and not intr.stop:
                        todo.appendleft(spec)
                        continue
                    if rec["status"] != "done":
                        try:
                            store.write_run(result)
                        except OSError as exc:  # not even its record fits: the run stays missing, a rerun does it
                            write_error.append(exc)
                    executed += 1
                    failed_now += rec["status"] != "done"
                    bar.update(1)
                    if failed_now:
                        bar.set_postfix_str(f"{failed_now} failed")
                fill()
            interrupted = intr.stop and bool(todo)
    except KeyboardInterrupt:
        if engine is not None:
            engine.close(abort=True)
            engine = None
        _finish(out, store, specs, manifest, session, t0, executed, "aborted")
        raise
    finally:
        bar.close()
        if engine is not None:
            engine.close()
    if write_error:  # the disk is full: what is stored is kept, the same command continues
        try:
            _finish(out, store, specs, manifest, session, t0, executed, "aborted")
        except OSError:
            pass
        raise write_error[0]
    runs = _finish(out, store, specs, manifest, session, t0, executed, "interrupted" if interrupted else None)
    n_done = int((runs["status"] == "done").sum()) if len(runs) else 0
    return SweepResult(out, len(specs), skipped, executed, n_done, len(runs) - n_done, interrupted, runs)


def _write_design(out: Path, specs: list[RunSpec]) -> None:
    rows = [
        {
            "run_id": s.run_id,
            "point": s.point,
            "scenario": s.scenario,
            "replicate": s.replicate,
            "seed": s.seed,
            **dict(s.params),
        }
        for s in specs
    ]
    _atomic_parquet(pd.DataFrame(rows), out / "design.parquet")


def _manifest(out: Path, plan: SweepPlan, specs: list[RunSpec], kind: str, extra: dict | None) -> dict:
    mf = out / "manifest.json"
    old = json.loads(mf.read_text(encoding="utf-8")) if mf.is_file() else {}
    from model.config import resolve

    scenarios = {}
    run_keys = {k: v for k, v in specs[0].overrides.items() if k.startswith("run.")} if specs else {}
    for s in plan.scenarios:
        cfg = resolve(s, None, {**plan.fixed, **run_keys})
        scenarios[s] = {"description": cfg.description, "config_hash": cfg.hash(), "config": cfg.to_dict()}
    seeds = {}
    for s in specs:
        seeds.setdefault(str(s.replicate), int(s.seed))
    replicates = sorted(seeds, key=int)
    return {
        "schema_version": SWEEP_SCHEMA,
        "kind": kind,
        "plan": plan.to_dict(),
        "plan_hash": plan.hash(),
        "model_version": model_version(),
        "config_hashes": plan.config_hashes(),
        "root_seed": plan.seed,
        "replicate_seeds": {r: seeds[r] for r in replicates},
        "scenarios": scenarios,
        "design": {"points": len({s.point for s in specs}), "replicates": len(replicates), "runs": len(specs)},
        "packages": provenance.package_versions(),
        "created_utc": old.get("created_utc", datetime.now(UTC).isoformat()),
        "sessions": old.get("sessions", []),
        **(extra or {}),
    }


def _finish(
    out: Path,
    store: SweepStore,
    specs: list[RunSpec],
    manifest: dict,
    session: dict,
    t0: float,
    executed: int,
    status: str | None,
) -> pd.DataFrame:
    recs = store.records()
    order = {s.run_id: i for i, s in enumerate(specs)}
    runs = recs[recs["run_id"].isin(order)].copy()
    runs["_o"] = runs["run_id"].map(order)
    runs = runs.sort_values("_o").drop(columns="_o").reset_index(drop=True)
    front = [c for c in ID_COLUMNS if c in runs] + [c for s in specs[:1] for c, _ in s.params if c in runs]
    front += [c for c in ("status", "error", "attempts", "wall_seconds", "config_hash") if c in runs]
    runs = runs[front + [c for c in runs.columns if c not in front]]
    _atomic_parquet(runs, out / "runs.parquet")
    n_done = int((runs["status"] == "done").sum()) if len(runs) else 0
    n_failed = len(runs) - n_done
    if status is None:
        status = "done" if n_failed == 0 and n_done == len(specs) else "done_with_failures"
    session.update(wall_seconds=round(time.perf_counter() - t0, 3), executed=executed, status=status)
    manifest.update(
        status=status,
        counts={"planned": len(specs), "done": n_done, "failed": n_failed, "remaining": len(specs) - n_done - n_failed},
        files=sorted(p.name for p in out.iterdir() if not p.name.startswith(".")),
    )
    provenance.write_manifest(out, manifest)
    return runs


# -- reading ---------------------------------------------------------------------------
def read_runs(out: Path) -> pd.DataFrame:
    return pd.read_parquet(Path(out) / "runs.parquet")


def read_table(
    out: Path, kind: str = "timeseries", columns: Iterable[str] | None = None, run_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """The ``timeseries`` or ``municipal`` tables of ``run_ids`` (default: the runs done in
    runs.parquet) as one table, restricted to ``columns`` (plus ``run_id``)."""
    import pyarrow.dataset as ds

    out = Path(out)
    if run_ids is None:
        run_ids = read_runs(out).query("status == 'done'")["run_id"].tolist()
    files = [str(f) for f in (out / kind / f"{rid}.parquet" for rid in dict.fromkeys(run_ids)) if f.is_file()]
    if not files:
        return pd.DataFrame(columns=["run_id", *(columns or [])])
    dataset = ds.dataset(files, format="parquet")
    cols = None
    if columns is not None:
        names = set(dataset.schema.names)
        cols = ["run_id"] + [c for c in columns if c in names and c != "run_id"]
    return dataset.to_table(columns=cols).to_pandas()
