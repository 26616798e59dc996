"""The closure timeline: plant closures and mass layoffs, read from ``configs/timeline``.

A closure has an announcement date, a closure date and layoff waves (date, workers).
``Timeline.waves_between(start, end, scale)`` gives the waves a run replays, with each
wave's workers scaled by ``scale`` and rounded half to even (``numpy.rint``), so that at
scale 1 every count is exactly the configured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from .config import CONFIG_DIR, ConfigError, read_toml

TIMELINE_FILE = CONFIG_DIR / "timeline" / "closures.toml"
_CLOSURE_KEYS = {"id", "employer", "industry", "sector", "municipality", "announced", "closed",
                 "severance_weeks", "waves", "in_default", "default_from", "source", "alternative"}


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


def _date(value, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


class Timeline:
    """All closures of the timeline file, validated."""

    def __init__(self, closures: list[Closure], path: Path):
        self.closures = closures
        self.path = path

    @classmethod
    def load(cls, path: Path | str = TIMELINE_FILE, municipalities: set[str] | None = None) -> "Timeline":
        path = Path(path)
        tree = read_toml(path)
        unknown = set(tree) - {"closure"}
        if unknown:
            raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)}; expected [[closure]] tables")
        closures = []
        seen = set()
        for i, raw in enumerate(tree.get("closure", [])):
            where = f"{path}: closure {raw.get('id', i)!r}"
            extra = set(raw) - _CLOSURE_KEYS
            if extra:
                raise ConfigError(f"{where}: unknown key(s) {sorted(extra)}")
            missing = {"id", "employer", "sector", "municipality", "announced", "closed", "waves", "source"} - set(raw)
            if missing:
                raise ConfigError(f"{where}: missing key(s) {sorted(missing)}")
            if raw["id"] in seen:
                raise ConfigError(f"{where}: duplicate id")
            seen.add(raw["id"])
            announced = _date(raw["announced"], f"{where}.announced")
            closed = _date(raw["closed"], f"{where}.closed")
            if closed < announced:
                raise ConfigError(f"{where}: closed ({closed}) comes before announced ({announced})")
            waves = []
            for w in raw["waves"]:
                if set(w) != {"date", "workers"}:
                    raise ConfigError(f"{where}: each wave needs exactly 'date' and 'workers'")
                workers = w["workers"]
                if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
                    raise ConfigError(f"{where}: wave workers must be a whole number >= 0, got {workers!r}")
                wd = _date(w["date"], f"{where}.waves")
                if wd < announced or wd > closed:
                    raise ConfigError(f"{where}: wave on {wd} falls outside announced..closed ({announced}..{closed})")
                waves.append(Wave(wd, workers))
            if municipalities is not None and raw["municipality"] not in municipalities:
                raise ConfigError(f"{where}: unknown municipality {raw['municipality']!r}")
            sev = raw.get("severance_weeks", 0)
            if isinstance(sev, bool) or not isinstance(sev, int) or sev < 0:
                raise ConfigError(f"{where}: severance_weeks must be a whole number >= 0")
            closures.append(Closure(
                id=raw["id"], employer=raw["employer"], industry=raw.get("industry", ""),
                sector=raw["sector"], municipality=raw["municipality"], announced=announced,
                closed=closed, severance_weeks=sev, waves=tuple(sorted(waves, key=lambda w: w.date)),
                in_default=bool(raw.get("in_default", True)), default_from=raw.get("default_from", ""),
                source=raw["source"], alternatives=tuple(raw.get("alternative", ())),
            ))
        return cls(closures, path)

    @property
    def replayed(self) -> list[int]:
        """Indices of the closures the default timeline replays."""
        return [i for i, c in enumerate(self.closures) if c.in_default and c.waves]

    def waves_between(self, start: date, end: date, scale: float) -> list[ScheduledWave]:
        """Scaled waves dated in [start, end], in date order."""
        out = []
        for i in self.replayed:
            for w in self.closures[i].waves:
                if start <= w.date <= end:
                    out.append(ScheduledWave(i, w.date, int(np.rint(w.workers * scale))))
        return sorted(out, key=lambda s: (s.date, s.closure))
