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

import json
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import wait as cf_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from . import provenance
from .design import RunSpec, SweepPlan, model_version
from .sweep_engine import (
    Engine,
    InlineExecutor,
    check_sweep_memory,
    compact_timeseries,
    execute,
    failed_result,
    open_engine,
    process_pool,
)
from .sweep_store import (
    ID_COLUMNS,
    LOCK_NAME,
    VOLATILE_COLUMNS,
    SweepLock,
    SweepStore,
    _atomic_parquet,
    claim_directory,
    prepare_directory,
    records_frame,
)

__all__ = [
    "ID_COLUMNS",
    "LOCK_NAME",
    "SWEEP_SCHEMA",
    "VOLATILE_COLUMNS",
    "Engine",
    "InlineExecutor",
    "SweepLock",
    "SweepResult",
    "SweepStore",
    "check_sweep_memory",
    "claim_directory",
    "compact_timeseries",
    "execute",
    "failed_result",
    "open_engine",
    "prepare_directory",
    "process_pool",
    "read_runs",
    "read_table",
    "records_frame",
    "run_sweep",
]

SWEEP_SCHEMA = "2.0"


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
