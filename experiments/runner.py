"""One model run written to a run directory (the data contract of docs/outputs.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from model import CohesionModel
from model.config import Config

from . import display, plots, provenance, storage

FIGURE = "unemployment_jobs_lost.png"


def default_out_dir(scenario: str, root: Path = Path("results")) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{scenario}-{stamp}"


def manifest(
    model: CohesionModel,
    config: Config,
    status: str,
    started: float,
    finished: float | None,
    files: list[str],
    error: str | None = None,
) -> dict:
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
        "started_utc": datetime.fromtimestamp(started, UTC).isoformat(),
        "wall_seconds": None if finished is None else round(finished - started, 3),
        "files": files,
        "error": error,
    }


def run_to_directory(
    model: CohesionModel, out: Path, progress=None, figure: bool = True, keep_failed: bool = True, formats=("png",)
) -> Path:
    """Run ``model`` to its end and write the run directory ``out`` atomically.

    The files are written into a hidden ``.<name>.*.partial`` directory beside ``out``
    whose ``manifest.json`` says ``running``; only when every file is written does the
    manifest say ``done`` and the directory take the name ``out``. A run that raises
    leaves the partial directory with ``status = "failed"`` and the error in its
    manifest (removed instead when ``keep_failed`` is false); an interrupted run (Ctrl-C)
    removes it; a killed process leaves it with ``status = "running"``. Nothing under the
    name ``out`` ever holds a partial run."""
    started = time.time()
    rd = storage.RunDirectory(out)
    files: list[str] = []
    try:
        storage.write_json(rd.path("manifest.json"), manifest(model, model.config, "running", started, None, []))
        model.run(progress)
        ts = storage.timeseries_table(model)
        lay = storage.layoffs_table(model)
        storage.write_parquet(ts, rd.path("timeseries.parquet"))
        files.append("timeseries.parquet")
        storage.write_parquet(lay, rd.path("layoffs.parquet"))
        files.append("layoffs.parquet")
        storage.write_parquet(storage.persons_table(model), rd.path("persons.parquet"))
        files.append("persons.parquet")
        storage.write_parquet(storage.cohorts_table(model), rd.path("cohorts.parquet"))
        files.append("cohorts.parquet")
        storage.write_parquet(storage.marginalized_table(model), rd.path("marginalized.parquet"))
        files.append("marginalized.parquet")
        if figure:
            scale = float(model.config["run.scale"])
            title = (
                f"Unemployment and jobs lost in closures: {display.scenario_name(model.config.scenario)}, "
                f"scale {scale:g}, seed {model.seed}"
            )
            for p in plots.unemployment_and_job_losses(ts, lay, rd.path(FIGURE), title, scale=scale, formats=formats):
                files.append(p.name)
        files.insert(0, "manifest.json")
        storage.write_json(rd.path("manifest.json"), manifest(model, model.config, "done", started, time.time(), files))
        return rd.commit()
    except Exception as exc:
        if not keep_failed:
            rd.abandon()
            raise
        try:
            storage.write_json(
                rd.path("manifest.json"),
                manifest(
                    model,
                    model.config,
                    "failed",
                    started,
                    time.time(),
                    ["manifest.json", *files],
                    error=f"{type(exc).__name__}: {exc}",
                ),
            )
        except Exception:  # a full disk, say: the directory stays marked running
            pass
        raise
    except BaseException:
        rd.abandon()
        raise
