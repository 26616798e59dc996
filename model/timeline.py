"""The closure timeline: plant closures and mass layoffs, read from ``configs/timeline``.

A closure has an announcement date, a closure date and layoff waves (date, workers).
``Timeline.waves_between(start, end, scale)`` gives the waves a run replays, with each
wave's workers scaled by ``scale`` and rounded half to even (``numpy.rint``), so that at
scale 1 every count is exactly the configured one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, StrictBool, StrictInt, StrictStr, ValidationError, field_validator

from .config import CONFIG_DIR, ConfigError, Strict, bounded, in_force, read_toml, schema_error

TIMELINE_FILE = CONFIG_DIR / "timeline" / "closures.toml"

MAX_SEVERANCE_WEEKS = 1_000
"""Longest severance in weeks: longer than any run (at most 16 years, 835 weeks), and with
the EI waiting weeks added still within the 16-bit integers that hold it
(``ei_wait``, ``severance_left`` in ``model/state.py``)."""

MAX_WORKERS = 1_000_000
"""Most workers of one layoff wave or one employer's workforce (the persons of a run are
counted in 32-bit integers; no employer of the territory comes near)."""

Workers = Annotated[StrictInt, AfterValidator(bounded(0, MAX_WORKERS, whole=True))]


def _as_date(value: Any) -> date:
    """A TOML date or a ``YYYY-MM-DD`` string; times of day are refused."""
    if isinstance(value, datetime):
        raise ValueError(f"{value.isoformat()!r} is not a date YYYY-MM-DD (no time of day)")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date YYYY-MM-DD")


class WaveSpec(Strict):
    """``{ date = "YYYY-MM-DD", workers = N }``: a layoff wave."""

    date: Any
    workers: Workers

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v):
        return _as_date(v)


class AlternativeSpec(Strict):
    """``[[closure.alternative]]``: another source's account of the same closure."""

    source: StrictStr
    waves: list[WaveSpec] = []
    note: StrictStr | None = None


class ClosureSpec(Strict):
    """One ``[[closure]]`` table of ``closures.toml``.

    ``workforce`` (optional) is the employer's workforce when the closure was announced;
    the waves may not lay off more workers than that."""

    id: StrictStr
    employer: StrictStr
    industry: StrictStr = ""
    sector: StrictStr
    municipality: StrictStr
    announced: Any
    closed: Any
    severance_weeks: Annotated[StrictInt, AfterValidator(bounded(0, MAX_SEVERANCE_WEEKS, whole=True))] = 0
    waves: list[WaveSpec]
    workforce: Workers | None = None
    in_default: StrictBool = True
    default_from: StrictStr = ""
    source: StrictStr
    alternative: list[AlternativeSpec] = []

    @field_validator("announced", "closed", mode="before")
    @classmethod
    def _date(cls, v):
        return _as_date(v)

    @field_validator("id", "employer", "sector", "municipality", "source")
    @classmethod
    def _not_blank(cls, v):
        if not v.strip():
            raise ValueError("must not be empty")
        return v


_CLOSURE_KEYS = set(ClosureSpec.model_fields)


@dataclass(frozen=True)
class Wave:
    date: date
    workers: int


@dataclass(frozen=True)
class Closure:
    id: str
    employer: str
    industry: str
    sector: str
    municipality: str
    announced: date
    closed: date
    severance_weeks: int
    waves: tuple[Wave, ...]
    in_default: bool
    default_from: str
    source: str
    alternatives: tuple[dict, ...] = ()

    @property
    def jobs(self) -> int:
        return sum(w.workers for w in self.waves)


@dataclass(frozen=True)
class ScheduledWave:
    """A layoff wave as a run replays it."""

    closure: int  # index into Timeline.closures
    date: date
    workers: int  # scaled


class Timeline:
    """All closures of the timeline file, validated."""

    def __init__(self, closures: list[Closure], path: Path):
        self.closures = closures
        self.path = path

    @classmethod
    def load(
        cls,
        path: Path | str | None = None,
        municipalities: Iterable[str] | None = None,
        sectors: Iterable[str] | None = None,
    ) -> Timeline:
        """Read and check a timeline file. With ``municipalities`` (the names and codes
        allowed) or ``sectors``, each closure's municipality and sector must be one of them.
        The default file is :data:`TIMELINE_FILE` (see :func:`~model.config.in_force`)."""
        path = in_force(TIMELINE_FILE, "timeline/closures.toml") if path is None else Path(path)
        tree = read_toml(path)
        unknown = set(tree) - {"closure"}
        if unknown:
            raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)}; expected [[closure]] tables")
        raw_closures = tree.get("closure", [])
        if not isinstance(raw_closures, list):
            raise ConfigError(f"{path}: closure must be an array of tables ([[closure]]), got {raw_closures!r}")
        allowed_munis = None if municipalities is None else set(municipalities)
        allowed_sectors = None if sectors is None else set(sectors)
        closures = []
        seen = set()
        for i, raw in enumerate(raw_closures):
            if not isinstance(raw, dict):
                raise ConfigError(f"{path}: closure {i + 1} must be a table, got {raw!r}")
            where = f"{path}: closure {raw.get('id', i + 1)!r}"
            extra = set(raw) - _CLOSURE_KEYS
            if extra:
                raise ConfigError(
                    f"{where}: unknown key(s) {sorted(extra)}; allowed: {', '.join(ClosureSpec.model_fields)}"
                )
            try:
                spec = ClosureSpec.model_validate(raw)
            except ValidationError as exc:
                raise schema_error(
                    exc, where, ClosureSpec, {"waves": WaveSpec, "alternative": AlternativeSpec}
                ) from None
            if spec.id in seen:
                raise ConfigError(f"{where}: duplicate id; each closure needs its own")
            seen.add(spec.id)
            announced, closed = spec.announced, spec.closed
            if closed < announced:
                raise ConfigError(
                    f"{where}: closed ({closed}) comes before announced ({announced}); "
                    f"a closure cannot precede its announcement"
                )
            for w in spec.waves:
                if w.date < announced or w.date > closed:
                    raise ConfigError(
                        f"{where}: wave on {w.date} falls outside announced..closed ({announced}..{closed})"
                    )
            jobs = sum(w.workers for w in spec.waves)
            if spec.workforce is not None and jobs > spec.workforce:
                raise ConfigError(
                    f"{where}: the waves lay off {jobs} workers, more than the employer's workforce of {spec.workforce}"
                )
            if allowed_munis is not None and spec.municipality not in allowed_munis:
                raise ConfigError(
                    f"{where}: unknown municipality {spec.municipality!r}; allowed: a code or "
                    f"name of territory/municipalities.csv"
                )
            if allowed_sectors is not None and spec.sector not in allowed_sectors:
                raise ConfigError(
                    f"{where}: sector {spec.sector!r} is not one of the model's sectors "
                    f"({', '.join(sorted(allowed_sectors))})"
                )
            closures.append(
                Closure(
                    id=spec.id,
                    employer=spec.employer,
                    industry=spec.industry,
                    sector=spec.sector,
                    municipality=spec.municipality,
                    announced=announced,
                    closed=closed,
                    severance_weeks=spec.severance_weeks,
                    waves=tuple(sorted((Wave(w.date, w.workers) for w in spec.waves), key=lambda w: w.date)),
                    in_default=spec.in_default,
                    default_from=spec.default_from,
                    source=spec.source,
                    alternatives=tuple(raw.get("alternative", ())),
                )
            )
        return cls(closures, path)

    @property
    def replayed(self) -> list[int]:
        """Indices of the closures the default timeline replays."""
        return [i for i, c in enumerate(self.closures) if c.in_default and c.waves]

    def closing_between(self, start: date, end: date) -> list[Closure]:
        """The closures the default timeline replays whose closing date is in [start, end],
        in the file's order."""
        return [self.closures[i] for i in self.replayed if start <= self.closures[i].closed <= end]

    def waves_between(self, start: date, end: date, scale: float) -> list[ScheduledWave]:
        """Scaled waves dated in [start, end], in date order."""
        out = []
        for i in self.replayed:
            for w in self.closures[i].waves:
                if start <= w.date <= end:
                    out.append(ScheduledWave(i, w.date, int(np.rint(w.workers * scale))))
        return sorted(out, key=lambda s: (s.date, s.closure))
