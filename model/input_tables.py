"""The input tables a run reads, checked row by row: the territory and the organizations.

Each CSV table is validated against a schema (pydantic models with unknown keys
refused, :func:`read_csv_rows`), so that a bad file gives one line naming the file, the
line or column and what is allowed:

* ``territory/municipalities.csv`` and ``territory/water.csv`` (:func:`check_municipalities`,
  :func:`check_water`), also called by ``territory.load_territory``;
* ``organizations.csv`` (:func:`read_organizations`, used by the population set-up).

The checks of a run as a whole are in ``model/inputs.py``. All problems are raised as
:class:`~model.config.ConfigError`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, ValidationError, field_validator, model_validator

from .config import ConfigError, Strict, bounded, schema_error
from .state import COMMITTEES, DOMAINS, ORG_KINDS, SERVICES


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
