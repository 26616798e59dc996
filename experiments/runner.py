"""One model run written to a run directory (the data contract of docs/outputs.md)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from model import CohesionModel
from model.config import Config

from . import plots, provenance, storage

FIGURE = "unemployment_jobs_lost.png"


def default_out_dir(scenario: str, root: Path = Path("results")) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{scenario}-{stamp}"


def manifest(model: CohesionModel, config: Config, status: str, started: float, finished: float | None,
             files: list[str]) -> dict:
    return {
        "schema_version": provenance.SCHEMA_VERSION,
        "status": status,
        "scenario": config.scenario,
        "scenario_description": config.description,
        "seed": model.seed,
        "scale": config["run.scale"],
        "start": model.start_date.isoformat(),
        "end": model.end_date.isoformat(),
        "weeks": model.n_weeks,
        "config_hash": config.hash(),
        "config": config.to_dict(),
        "config_sources": list(config.origins),
        "git": provenance.git_state(),
        "packages": provenance.package_versions(),
        "command": provenance.command_line(),
        "started_utc": datetime.fromtimestamp(started, timezone.utc).isoformat(),
        "wall_seconds": None if finished is None else round(finished - started, 3),
        "files": files,
    }


def run_to_directory(model: CohesionModel, out: Path, progress=None, figure: bool = True) -> Path:
    """Run ``model`` to its end and write the run directory ``out`` atomically."""
    started = time.time()
    rd = storage.RunDirectory(out)
    try:
        storage.write_json(rd.path("manifest.json"), manifest(model, model.config, "running", started, None, []))
        model.run(progress)
        ts = storage.timeseries_table(model)
        lay = storage.layoffs_table(model)
        storage.write_parquet(ts, rd.path("timeseries.parquet"))
        storage.write_parquet(lay, rd.path("layoffs.parquet"))
        storage.write_parquet(storage.persons_table(model), rd.path("persons.parquet"))
        files = ["manifest.json", "timeseries.parquet", "layoffs.parquet", "persons.parquet"]
        if figure:
            title = (f"{model.config.scenario}, scale {model.config['run.scale']:g}, seed {model.seed}")
            plots.unemployment_and_job_losses(ts, lay, rd.path(FIGURE), title)
            files.append(FIGURE)
        storage.write_json(rd.path("manifest.json"), manifest(model, model.config, "done", started, time.time(), files))
        return rd.commit()
    except BaseException:
        rd.abandon()
        raise
