"""Writing a run directory: atomic files, the data contract's tables, the manifest.

A run is written into a hidden temporary directory next to its destination and renamed
into place when complete, so a directory under the destination name is always whole.
``manifest.json`` records ``status``: ``done`` for a complete run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.state import Status

PANEL_SOCIAL = {
    # Columns of the persons panel from the distress, support, services and belonging submodels.
    "distress": pa.float32(),
    "support_ties": pa.int16(),
    "supported_weeks_ago": pa.int16(),
    "in_service": pa.bool_(),
    "knows_services": pa.bool_(),
    "trained_helper": pa.bool_(),
    "helps": pa.int32(),
    "belonging": pa.float32(),
    "participates": pa.bool_(),
    "marginalized": pa.bool_(),
}


def timeseries_table(model) -> pd.DataFrame:
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df["date"] = pd.to_datetime(df["date"])
    return df


def layoffs_table(model) -> pd.DataFrame:
    cols = [
        "date",
        "employer",
        "municipality",
        "workers",
        "closure_id",
        "week",
        "workers_scheduled",
        "reemployed_12m",
        "training_12m",
        "retired_12m",
        "searching_12m",
        "other_12m",
    ]
    df = pd.DataFrame(model.shocks.events, columns=cols)
    df["date"] = pd.to_datetime(df["date"])
    for c in cols[-5:]:
        df[c] = df[c].astype("Int32")
    return df


def cohorts_table(model) -> pd.DataFrame:
    """One row per cohort (layoff wave), group and horizon, then the pooled rows
    (``employer = "all"``); see ``model/cohorts.py`` and docs/outputs.md."""
    return model.cohorts.table()


def marginalized_table(model) -> pd.DataFrame:
    """One row per year and group of adults (marginalized or not); see ``model/cohorts.py``."""
    return model.cohorts.residents_table()


def persons_table(model) -> pa.Table:
    chunks = model.panel
    if not chunks:
        cols = {}
    else:
        cols = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    n = len(cols.get("person_id", []))
    names = np.array(model.municipality_names, dtype=object)
    status_names = np.array(Status.NAMES, dtype=object)
    arrays = {
        "person_id": pa.array(cols.get("person_id", np.zeros(0, np.int32)), pa.int32()),
        "household_id": pa.array(cols.get("household_id", np.zeros(0, np.int32)), pa.int32()),
        "municipality": pa.array(names[cols["municipality"]] if n else [], pa.string()).dictionary_encode(),
        "year": pa.array(cols.get("year", np.zeros(0, np.int16)), pa.int16()),
        "age": pa.array(cols.get("age", np.zeros(0, np.int16)), pa.int16()),
        "female": pa.array(cols.get("female", np.zeros(0, bool)), pa.bool_()),
        "employment_status": pa.array(
            status_names[cols["employment_status"]] if n else [], pa.string()
        ).dictionary_encode(),
        "sector": pa.array(
            _sector_names(model, cols.get("sector", np.zeros(0, np.int8))), pa.string()
        ).dictionary_encode(),
        "hourly_wage": pa.array(cols.get("hourly_wage", np.zeros(0, np.float32)), pa.float32()),
        "ever_displaced": pa.array(cols.get("ever_displaced", np.zeros(0, bool)), pa.bool_()),
        "ei_exhausted": pa.array(cols.get("ei_exhausted", np.zeros(0, bool)), pa.bool_()),
        "moved_out": pa.array(cols.get("moved_out", np.zeros(0, bool)), pa.bool_()),
        "died": pa.array(cols.get("died", np.zeros(0, bool)), pa.bool_()),
    }
    for name, typ in PANEL_SOCIAL.items():
        arrays[name] = pa.array(cols[name] if n else [], typ)
    return pa.table(arrays)


def _sector_names(model, codes: np.ndarray) -> list:
    names = np.array([None, *model.sectors], dtype=object)
    return list(names[codes.astype(np.int64) + 1])


@contextmanager
def atomic(path: Path):
    """Write ``path`` atomically: the block writes the temporary file it is given (hidden,
    next to ``path``), which is renamed into place when the block ends, or removed when it
    raises (a full disk leaves no empty or half file behind)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as JSON atomically (:func:`atomic`)."""
    with atomic(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")


class RunDirectory:
    """A run directory written under a temporary name and renamed into place when done."""

    def __init__(self, final: Path):
        self.final = Path(final)
        if self.final.exists() and (not self.final.is_dir() or any(self.final.iterdir())):
            raise FileExistsError(f"{self.final} already exists and is not empty")
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.", suffix=".partial", dir=self.final.parent))

    def path(self, name: str) -> Path:
        return self.tmp / name

    def commit(self) -> Path:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o777 & ~umask)
        if self.final.exists():
            self.final.rmdir()  # empty, checked above
        os.replace(self.tmp, self.final)
        return self.final

    def abandon(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_parquet(df, path: Path) -> None:
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path)
