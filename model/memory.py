"""The memory a run needs, estimated before it starts, against the memory the machine has.

:func:`estimate_memory` adds up the state tables, the Mesa agents, the yearly persons
panel, the grid and the organizations of a run from its parameters and input tables;
:func:`check_memory` refuses a run (or several at once) whose estimate exceeds
:func:`available_memory`. Called by ``model/inputs.py`` before a run, by the sweeps and
by the browser page. A run too large is refused with :class:`~model.config.ConfigError`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .config import Config, ConfigError, config_root, parse_month
from .input_tables import MunicipalityRow, check_municipalities, read_organizations
from .state import HOUSEHOLD_FIELDS, PERSON_FIELDS

AGENT_BYTES = 310
"""Memory of one Mesa agent (a ``Worker`` or ``Household`` on a grid cell), measured once
with ``tracemalloc`` over 50,000 agents (Mesa 3.5, Python 3.12)."""

PROCESS_BASE_BYTES = 380 * 2**20
"""The interpreter with NumPy, pandas, pyarrow, Mesa and Numba loaded, the compiled
kernels, the grid, the territory and the collected weeks of a small run (peak resident
memory of a whole run written to disk at scale 0.05 is ~370 MB)."""

ROW_TURNOVER_PER_YEAR = 0.065
"""New person rows per initial person and year (births and in-migrants; rows of persons
who leave are kept), as measured over 2003-2018 with the default parameters."""

PANEL_ROW_BYTES = 46
"""One row of the yearly persons panel as the model keeps it (23 narrow columns)."""

PANEL_WRITE_BYTES = 110
"""Per panel row while ``persons.parquet`` is written: the Arrow table and the text
columns (municipality, status, sector) built on the way."""

TIE_SLOT_BYTES = 4
"""One tie slot of a person (an int32 row id; ``support.tie_slots`` slots per person)."""


def _row_bytes(fields) -> int:
    return int(sum(np.dtype(f.dtype).itemsize for f in fields))


def initial_persons(
    cfg: Config, municipalities: list[MunicipalityRow] | None = None, config_dir: Path | str | None = None
) -> int:
    """About how many persons a run starts with: the larger census count of each
    municipality, times the scale."""
    if municipalities is None:
        municipalities = check_municipalities(Path(config_dir or config_root()) / "territory" / "municipalities.csv")
    residents = sum(max(r.pop_2006, r.pop_2011) for r in municipalities)
    return int(math.ceil(residents * float(cfg["run.scale"])))


GRID_CELL_BYTES = 700
"""Per cell of the grid: Mesa's cell object with its neighbourhood and property layers."""

GRID_CELL_MUNICIPALITY_BYTES = 40
"""Per cell and municipality while the territory is laid out (the distance and growth
arrays of ``territory.load_territory``, float64, several at once). With
:data:`GRID_CELL_BYTES`, measured as peak resident memory over grids of 4,000 to 150,000
cells with 17 municipalities (about 1,370 bytes a cell)."""

ORG_BYTES = 2_000
"""One organization: its Mesa agent, its state row and its share of the organization
network."""


def grid_cells(cfg: Config, municipalities: list[MunicipalityRow]) -> int:
    """Cells of the grid a run lays over ``municipalities`` (``territory.grid_extent``)."""
    from .territory import GRID_CELL_KM, grid_extent

    rows = list(municipalities)
    _, _, width, height = grid_extent(
        [r.land_km2 for r in rows], [r.lat for r in rows], [r.lon for r in rows], GRID_CELL_KM
    )
    return width * height


def organization_count(cfg: Config, municipalities: list[MunicipalityRow], organizations: list[dict]) -> int:
    """About how many organizations of ``organizations.csv`` a run sets up (employers,
    one per few dozen workers, are in the per-person figures)."""
    residents = {r.code: max(r.pop_2006, r.pop_2011) * float(cfg["run.scale"]) for r in municipalities}
    total = 0.0
    for row in organizations:
        where = list(residents) if row["municipality_code"] == "*" else [row["municipality_code"]]
        for code in where:
            if row["per_residents"]:
                total += residents.get(code, 0.0) / float(row["per_residents"]) + 1
            else:
                total += int(row["count"])
    return int(total)


def estimate_memory(
    cfg: Config,
    persons: int | None = None,
    *,
    municipalities: list[MunicipalityRow] | None = None,
    organizations: list[dict] | None = None,
    config_dir: Path | str | None = None,
) -> int:
    """Estimated peak memory of one run in bytes.

    Per person the estimate counts the state tables of ``model/state.py`` (person and
    household rows, which accumulate over the run and sit in arrays that grow by
    doubling) and the person's tie slots, one Mesa agent per person and per household,
    and the yearly persons panel with the copy made when it is written; it adds the grid
    (:data:`GRID_CELL_BYTES` a cell, :data:`GRID_CELL_MUNICIPALITY_BYTES` a cell and
    municipality), the organizations (:data:`ORG_BYTES` each), when the territory and
    organization tables are given or found in ``config_dir``, and
    :data:`PROCESS_BASE_BYTES`. Compared with the peak resident memory of full
    2003-2018 runs it errs on the high side by 0-10%."""
    root = Path(config_dir or config_root())
    if municipalities is None:
        municipalities = check_municipalities(root / "territory" / "municipalities.csv")
    if persons is None:
        persons = initial_persons(cfg, municipalities)
    if organizations is None:
        organizations = read_organizations(root / "organizations.csv")
    start = parse_month(cfg["run.start"], "run.start")
    end = parse_month(cfg["run.end"], "run.end")
    years = max((end - start).days / 365.25, 1 / 12)
    hh_size = 2.2
    if "population.household_size_shares" in cfg.values:
        shares = np.asarray(cfg["population.household_size_shares"], float)
        hh_size = max(float(np.dot(shares, np.arange(1, len(shares) + 1))), 1.0)
    slots = sum(cfg["support.tie_slots"]) if "support.tie_slots" in cfg.values else 0
    rows = persons * (1 + ROW_TURNOVER_PER_YEAR * years)
    per_row = _row_bytes(PERSON_FIELDS) + TIE_SLOT_BYTES * slots + _row_bytes(HOUSEHOLD_FIELDS) / hh_size
    state = 2 * rows * per_row
    agents = AGENT_BYTES * 1.1 * persons * (1 + 1 / hh_size)
    panel_rows = 1.15 * persons * (math.floor(years) + 1)
    panel = panel_rows * (PANEL_ROW_BYTES + PANEL_WRITE_BYTES)
    grid = grid_cells(cfg, municipalities) * (GRID_CELL_BYTES + GRID_CELL_MUNICIPALITY_BYTES * len(municipalities))
    orgs = ORG_BYTES * organization_count(cfg, municipalities, organizations)
    return int(PROCESS_BASE_BYTES + state + agents + panel + grid + orgs)


def parse_bytes(text: str, where: str) -> int:
    """``2G``, ``500M``, ``1048576`` … as bytes (K, M, G, T are powers of 1024)."""
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    mult = 1
    if t[-1:] in "KMGT" and t[-1:]:
        mult = 1024 ** ("KMGT".index(t[-1]) + 1)
        t = t[:-1]
    try:
        value = float(t)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{where}: {text!r} is not an amount of memory such as 2G, 512M or 1000000")
    return int(value * mult)


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_memory() -> tuple[int | None, str]:
    """Memory a run may use, and where the figure comes from: ``MemAvailable`` of
    ``/proc/meminfo``, lowered to ``COHESION_MEMORY_LIMIT`` when that is set and smaller
    (a cap for shared machines: it can never raise the limit above what the machine
    has); ``(None, ...)`` when neither is known."""
    limit = os.environ.get("COHESION_MEMORY_LIMIT")
    cap = parse_bytes(limit, "environment variable COHESION_MEMORY_LIMIT") if limit else None
    free = _mem_available()
    if cap is not None and (free is None or cap <= free):
        return cap, "COHESION_MEMORY_LIMIT"
    if free is not None:
        return free, "MemAvailable in /proc/meminfo"
    return None, "unknown"


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def check_memory(cfg: Config, workers: int = 1, available: int | None = None, **kwargs) -> int:
    """Refuse a run (``workers`` of them at once) whose estimated memory exceeds what the
    machine has; returns the estimate for one run in bytes."""
    root = Path(kwargs.get("config_dir") or config_root())
    munis = kwargs.get("municipalities") or check_municipalities(root / "territory" / "municipalities.csv")
    persons = initial_persons(cfg, munis)
    need = estimate_memory(
        cfg, persons, municipalities=munis, organizations=kwargs.get("organizations"), config_dir=root
    )
    where = "memory limit"
    if available is None:
        available, where = available_memory()
    if available is None:
        return need
    if need * workers > available:
        per_person = (need - PROCESS_BASE_BYTES) / max(persons, 1)
        room = available / workers - PROCESS_BASE_BYTES
        scale = float(cfg["run.scale"])
        fits = scale * room / (per_person * persons) if room > 0 and persons else 0.0
        many = f" x {workers} workers" if workers > 1 else ""
        hint = f"a --scale of at most about {fits:.2g}" if fits > 0 else "more memory"
        raise ConfigError(
            f"run.scale = {scale:g}: the run needs about {_mb(need)}{many} of memory "
            f"(estimate for {persons:,} persons), more than the {_mb(available)} available "
            f"({where}); use {hint}"
        )
    return need
