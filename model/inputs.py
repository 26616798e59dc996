"""Checking a run's input files and resources before the run starts.

Every table the model reads is checked here against a schema (pydantic models with
unknown keys refused), so that a bad file gives one line naming the file, the row or
field and what is allowed, instead of a failure deep inside the set-up:

* ``territory/municipalities.csv`` and ``territory/water.csv`` (:func:`check_municipalities`,
  :func:`check_water`), also called by ``territory.load_territory``;
* ``organizations.csv`` (:func:`read_organizations`, used by the population set-up);
* ``timeline/closures.toml`` (``Timeline.load``) against the territory and the sectors;
* the resolved parameters against the run they are for (:func:`check_run_inputs`), and
  the memory a run needs against the memory the machine has (:func:`check_memory`).

All problems are raised as :class:`~model.config.ConfigError`.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, ValidationError, field_validator, model_validator

from .config import Config, ConfigError, Strict, bounded, config_root, date_pairs, parse_month, schema_error
from .constants import SECTORS
from .state import COMMITTEES, DOMAINS, HOUSEHOLD_FIELDS, ORG_KINDS, PERSON_FIELDS, SERVICES

# ----------------------------------------------------------------------------- CSV tables


def read_csv_rows(path: Path | str, schema: type[BaseModel], optional: Iterable[str] = ()) -> list[Any]:
    """Rows of a CSV file validated one by one against ``schema``.

    Every field of the schema is a column; columns in ``optional`` may be left out of the
    file. A missing or unknown column, or a bad value, raises ConfigError naming the file,
    the line and the column. Empty cells are passed as ``None``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:  # a byte-order mark is dropped
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            columns = list(schema.model_fields)
            dup = sorted({c for c in header if header.count(c) > 1})
            if dup:
                raise ConfigError(f"{path}: column(s) {dup} appear more than once")
            missing = [c for c in columns if c not in header and c not in optional]
            if missing:
                raise ConfigError(f"{path}: missing column(s) {missing}; the columns are {', '.join(columns)}")
            unknown = [c for c in header if c not in columns]
            if unknown:
                raise ConfigError(f"{path}: unknown column(s) {unknown}; the columns are {', '.join(columns)}")
            rows = []
            for record in reader:
                line = reader.line_num
                if None in record:
                    raise ConfigError(f"{path}: line {line}: more cells than the {len(header)} columns")
                values = {k: (None if v is None or v.strip() == "" else v.strip()) for k, v in record.items()}
                try:
                    rows.append(schema.model_validate(values))
                except ValidationError as exc:
                    raise schema_error(exc, f"{path}: line {line}", schema) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except csv.Error as exc:
        raise ConfigError(f"{path}: malformed CSV: {exc}") from None
    if not rows:
        raise ConfigError(f"{path}: no rows")
    return rows


def _latitude(v: float) -> float:
    if not -90 <= v <= 90:
        raise ValueError(f"latitude must lie within [-90, 90], got {v}")
    return v


def _longitude(v: float) -> float:
    if not -180 <= v <= 180:
        raise ValueError(f"longitude must lie within [-180, 180], got {v}")
    return v


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError(f"must be a finite number, got {v}")
    return v


MAX_POPULATION = 1_000_000
"""Largest census population of one municipality (forty times Magog's): the persons of a
run are counted in 32-bit integers, and the memory check refuses far smaller runs."""

MAX_LAND_KM2 = 5_000.0
"""Largest land area of one municipality in km² (the whole Memphrémagog RCM has about
1,300): the grid, and the memory and time its set-up takes, grow with the largest area."""

MAX_ORG_COUNT = 1_000
"""Most organizations of one row of ``organizations.csv`` in one municipality."""

MIN_PER_RESIDENTS = 10.0
"""Fewest residents per organization a ``per_residents`` row may give (one per ten
residents; the shipped rows give one per 1,500 or more)."""

Population = Annotated[int, AfterValidator(bounded(1, MAX_POPULATION, whole=True))]


class MunicipalityRow(Strict):
    """A row of ``territory/municipalities.csv`` (see ``configs/territory/README.md``)."""

    code: str
    name: str
    pop_2006: Population
    pop_2011: Population
    pop_2006_estimated: bool
    pop_2011_estimated: bool
    pop_2016: Population | None = None
    land_km2: Annotated[float, AfterValidator(bounded(0, MAX_LAND_KM2))]
    lat: float
    lon: float
    source: str
    note: str | None = None

    @field_validator("land_km2")
    @classmethod
    def _area(cls, v):
        if not v > 0:
            raise ValueError(f"land area must be a number of km² > 0, got {v}")
        return v

    @field_validator("pop_2006_estimated", "pop_2011_estimated", mode="before")
    @classmethod
    def _true_false(cls, v):
        if not isinstance(v, str) or v.lower() not in ("true", "false"):
            raise ValueError(f"must be true or false, got {v!r}")
        return v.lower() == "true"

    @field_validator("lat")
    @classmethod
    def _lat(cls, v):
        return _latitude(_finite(v))

    @field_validator("lon")
    @classmethod
    def _lon(cls, v):
        return _longitude(_finite(v))


class WaterRow(Strict):
    """A vertex of a lake outline in ``territory/water.csv``."""

    lake: str
    order: Annotated[int, AfterValidator(bounded(0, whole=True))]
    lat: float
    lon: float
    source: str

    @field_validator("lat")
    @classmethod
    def _lat(cls, v):
        return _latitude(_finite(v))

    @field_validator("lon")
    @classmethod
    def _lon(cls, v):
        return _longitude(_finite(v))


# The grid covers the municipalities' centres plus a margin; centres farther apart than
# this would make a grid far larger than the RCM (a typo in lat or lon, for instance).
MAX_EXTENT_KM = 300.0


def check_municipalities(path: Path | str) -> list[MunicipalityRow]:
    """Check ``municipalities.csv``: columns, types, positive populations and areas, unique
    codes and names, and centres within :data:`MAX_EXTENT_KM` of one another."""
    rows = read_csv_rows(path, MunicipalityRow)
    for col in ("code", "name"):
        seen: set[str] = set()
        for r in rows:
            v = getattr(r, col)
            if v in seen:
                raise ConfigError(f"{path}: column {col}: {v!r} appears twice; each municipality once")
            seen.add(v)
    lat = np.array([r.lat for r in rows])
    lon = np.array([r.lon for r in rows])
    ns = (lat.max() - lat.min()) * 111.2
    ew = (lon.max() - lon.min()) * 111.2 * math.cos(math.radians(float(lat.mean())))
    if max(ns, ew) > MAX_EXTENT_KM:
        col = "lat" if ns >= ew else "lon"
        far = [
            r.name
            for r in rows
            if getattr(r, col) in ((lat if col == "lat" else lon).min(), (lat if col == "lat" else lon).max())
        ]
        raise ConfigError(
            f"{path}: column {col}: the centres of {' and '.join(far[:2])} are "
            f"{max(ns, ew):.0f} km apart; all centres must lie within {MAX_EXTENT_KM:.0f} km"
        )
    return rows


def check_water(path: Path | str) -> list[WaterRow]:
    """Check ``water.csv``: columns, coordinates, and at least 3 distinct vertices per lake."""
    rows = read_csv_rows(path, WaterRow)
    lakes: dict[str, list[WaterRow]] = {}
    for r in rows:
        lakes.setdefault(r.lake, []).append(r)
    for name, vertices in lakes.items():
        orders = [v.order for v in vertices]
        if len(set(orders)) != len(orders):
            raise ConfigError(f"{path}: lake {name!r}: column order repeats a number; each vertex needs its own")
        if len({(v.lat, v.lon) for v in vertices}) < 3:
            raise ConfigError(f"{path}: lake {name!r} has fewer than 3 distinct vertices")
    return rows


class OrganizationRow(Strict):
    """A row of ``organizations.csv``: a kind of organization, where and how many.

    ``municipality_code`` is a code of ``territory/municipalities.csv`` or ``*`` (one set
    in every municipality); exactly one of ``count`` (whole number >= 0) and
    ``per_residents`` (one per that many residents, > 0) is given."""

    name: str
    kind: str
    domain: str
    municipality_code: str
    count: Annotated[int, AfterValidator(bounded(0, MAX_ORG_COUNT, whole=True))] | None = None
    per_residents: Annotated[float, AfterValidator(bounded(MIN_PER_RESIDENTS))] | None = None
    service: str | None = None
    committees: str | None = None
    source: str

    @field_validator("kind", "domain", "service")
    @classmethod
    def _known(cls, v, info):
        allowed = {"kind": ORG_KINDS, "domain": DOMAINS, "service": SERVICES}[info.field_name]
        if v is not None and v not in allowed:
            empty = "empty or " if info.field_name == "service" else ""
            raise ValueError(f"must be {empty}one of {', '.join(allowed)}; got {v!r}")
        return v

    @field_validator("committees")
    @classmethod
    def _committees(cls, v):
        for c in filter(None, (v or "").split(";")):
            if c not in COMMITTEES:
                raise ValueError(f"must be ';'-separated names from {', '.join(COMMITTEES)}; got {c!r}")
        return v

    @model_validator(mode="after")
    def _one_count(self):
        if (self.count is None) == (self.per_residents is None):
            raise ValueError(f"{self.name!r}: give exactly one of count and per_residents")
        return self


ORG_OPTIONAL_COLUMNS = ("service", "committees")


def read_organizations(path: Path | str, municipality_codes: Iterable[str] | None = None) -> list[dict]:
    """The rows of ``organizations.csv`` as dicts of text (as ``csv.DictReader`` gives
    them), after checking every row; with ``municipality_codes``, each row's
    ``municipality_code`` must be one of them or ``*``."""
    rows = read_csv_rows(path, OrganizationRow, optional=ORG_OPTIONAL_COLUMNS)
    codes = None if municipality_codes is None else {str(c) for c in municipality_codes}
    out = []
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        key = (r.name, r.municipality_code)
        if key in seen:
            raise ConfigError(
                f"{path}: line {i + 2} ({r.name!r}, municipality_code {r.municipality_code!r}) "
                f"repeats line {seen[key]}; give each organization once (use count for several)"
            )
        seen[key] = i + 2
        if codes is not None and r.municipality_code != "*" and r.municipality_code not in codes:
            raise ConfigError(
                f"{path}: line {i + 2} ({r.name!r}): municipality_code {r.municipality_code!r} "
                f"is not in municipalities.csv; allowed: * or one of {', '.join(sorted(codes))}"
            )
        d = r.model_dump()
        out.append({k: "" if v is None else (str(v) if not isinstance(v, str) else v) for k, v in d.items()})
    return out


def municipality_keys(rows: Iterable[MunicipalityRow]) -> set[str]:
    """What a closure or organization may name a municipality by: its code, its name, or
    its name without the parenthesised kind when that is unambiguous."""
    rows = list(rows)
    keys = {r.code for r in rows} | {r.name for r in rows}
    short = [r.name.split(" (")[0] for r in rows]
    keys |= {s for s in short if short.count(s) == 1}
    return keys


# --------------------------------------------------------------------------------- memory

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


# ---------------------------------------------------------------------- the run as a whole


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
