"""Checking a run's input files and resources before the run starts.

Every table the model reads is checked against a schema (pydantic models with
unknown keys refused), so that a bad file gives one line naming the file, the row or
field and what is allowed, instead of a failure deep inside the set-up:

* ``territory/municipalities.csv`` and ``territory/water.csv`` (:func:`check_municipalities`,
  :func:`check_water`), also called by ``territory.load_territory``;
* ``organizations.csv`` (:func:`read_organizations`, used by the population set-up);
* ``timeline/closures.toml`` (``Timeline.load``) against the territory and the sectors;
* the resolved parameters against the run they are for (:func:`check_run_inputs`), and
  the memory a run needs against the memory the machine has (:func:`check_memory`).

The tables' schemas and checks are in ``model/input_tables.py``, the memory estimate in
``model/memory.py``; their names are importable from here too. This module checks a run
as a whole (:func:`check_run_inputs`).

All problems are raised as :class:`~model.config.ConfigError`.
"""

from __future__ import annotations

from pathlib import Path

from .config import Config, ConfigError, config_root, date_pairs, parse_month
from .constants import SECTORS
from .input_tables import (
    MAX_EXTENT_KM,
    MAX_LAND_KM2,
    MAX_ORG_COUNT,
    MAX_POPULATION,
    MIN_PER_RESIDENTS,
    MunicipalityRow,
    OrganizationRow,
    WaterRow,
    check_municipalities,
    check_water,
    municipality_keys,
    read_csv_rows,
    read_organizations,
)
from .memory import (
    GRID_CELL_BYTES,
    available_memory,
    check_memory,
    estimate_memory,
    grid_cells,
    initial_persons,
    parse_bytes,
)

__all__ = [
    "GRID_CELL_BYTES",
    "MAX_EXTENT_KM",
    "MAX_LAND_KM2",
    "MAX_ORG_COUNT",
    "MAX_POPULATION",
    "MIN_PER_RESIDENTS",
    "MunicipalityRow",
    "OrganizationRow",
    "WaterRow",
    "available_memory",
    "check_dates_in_run",
    "check_memory",
    "check_municipalities",
    "check_run_inputs",
    "check_water",
    "estimate_memory",
    "grid_cells",
    "initial_persons",
    "municipality_keys",
    "parse_bytes",
    "read_csv_rows",
    "read_organizations",
]


def _from_scenario(cfg: Config, origin: str) -> bool:
    p = Path(origin)
    return p.parent.name == "scenarios" and p.stem == cfg.scenario


def check_dates_in_run(cfg: Config) -> None:
    """Month parameters set by a ``--config`` file or the command line must matter to the
    run: an event date inside the run, a period's start no later than the run's end and a
    period's end no earlier than the run's start."""
    start = parse_month(cfg["run.start"], "run.start")
    end = parse_month(cfg["run.end"], "run.end")
    role: dict[str, str] = {}
    for a, b in date_pairs(cfg.defs):
        if a != "run.start":
            role[a], role[b] = "start", "end"
    for name, origin in cfg.set_by.items():
        d = cfg.defs.get(name)
        if d is None or d.unit != "YYYY-MM" or name.startswith("run.") or _from_scenario(cfg, origin):
            continue
        when = parse_month(cfg[name], f"{origin}: {name}")
        kind = role.get(name, "event")
        run = f"the run ({cfg['run.start']} to {cfg['run.end']})"
        if kind == "start" and when > end:
            raise ConfigError(
                f"{origin}: {name} = {cfg[name]} begins after the end of {run}; allowed: {cfg['run.end']} or earlier"
            )
        if kind == "end" and when < start:
            raise ConfigError(
                f"{origin}: {name} = {cfg[name]} ends before the start of {run}; allowed: {cfg['run.start']} or later"
            )
        if kind == "event" and not start <= when <= end:
            raise ConfigError(
                f"{origin}: {name} = {cfg[name]} falls outside {run}; allowed: {cfg['run.start']} to {cfg['run.end']}"
            )


def check_run_inputs(cfg: Config, config_dir: Path | str | None = None, workers: int = 1, memory: bool = True) -> None:
    """Everything a run reads, checked before it starts: the territory tables, the
    organizations, the closure timeline (municipalities and sectors it names), the dates
    the user set, and (with ``memory``) the memory the run needs."""
    from .timeline import Timeline

    root = Path(config_dir or config_root())
    munis = check_municipalities(root / "territory" / "municipalities.csv")
    check_water(root / "territory" / "water.csv")
    codes = [r.code for r in munis]
    orgs = read_organizations(root / "organizations.csv", codes)
    Timeline.load(root / "timeline" / "closures.toml", municipalities=municipality_keys(munis), sectors=SECTORS)
    check_dates_in_run(cfg)
    if memory:
        check_memory(cfg, workers=workers, municipalities=munis, organizations=orgs, config_dir=root)
