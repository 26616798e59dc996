"""The files of a sweep directory (laid out as :mod:`experiments.sweep` describes): each
run's record and tables written atomically (:class:`SweepStore`), and the directory's
claim: the checks that it is empty or holds this sweep (:func:`prepare_directory`) and
the exclusive lock of its one writer (:class:`SweepLock`, :func:`claim_directory`).
:mod:`experiments.sweep` re-exports these names."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.config import ConfigError

from .design import SweepPlan, model_version
from .storage import atomic

ID_COLUMNS = ["run_id", "point", "scenario", "replicate", "seed"]
VOLATILE_COLUMNS = ["wall_seconds", "host", "attempts", "finished_utc"]  # differ between identical runs


# -- the directory ---------------------------------------------------------------------
def _atomic_parquet(df: pd.DataFrame | pa.Table, path: Path) -> None:
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    with atomic(path) as tmp:
        pq.write_table(table, tmp)


def _atomic_text(path: Path, text: str) -> None:
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


class SweepStore:
    """The files of a sweep directory (see :mod:`experiments.sweep`): a record and tables per run."""

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


# -- claiming the directory -----------------------------------------------------------
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
