"""The parameters of ``base.toml`` and their values in force: the definition of one
parameter (:class:`ParamDef`) and the schema it is checked against (:class:`ParamSpec`),
flattening nested tables into dotted names (:func:`flatten`), the checks that involve
more than one parameter, and the resolved parameters of one run (:class:`Config`).
:mod:`model.config` loads them and re-exports these names."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from .config_checks import WHOLE_NUMBER_LIMIT, ConfigError, Strict, check_number, parse_month, schema_error

_META_KEYS = {"value", "unit", "source", "tier", "min", "max", "choices", "note", "years"}
TIERS = ("core", "detail")
"""Tiers of a parameter: ``core`` ones are what a reader needs to understand a scenario's
result (docs/parameters.md and the page list them first); ``detail`` ones are the rest."""
PROBABILITY_UNITS = {"share", "shares", "1/week", "1/year", "probability"}


@dataclass(frozen=True)
class ParamDef:
    """One parameter's definition from ``base.toml``."""

    name: str
    value: Any
    unit: str
    source: str
    tier: str  # "core" or "detail" (:data:`TIERS`)
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    extra: dict = field(default_factory=dict)

    def check(self, value: Any, origin: str) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ConfigError."""
        where = f"{origin}: {self.name}"
        default = self.value
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, got {value!r}")
            return value
        if isinstance(default, (int, float)):
            value = check_number(value, where, lo=self.min, hi=self.max, whole=isinstance(default, int))
            return type(default)(value) if isinstance(default, float) else value
        if isinstance(default, str):
            if not isinstance(value, str):
                raise ConfigError(f"{where} must be a string, got {value!r}")
            if self.choices and value not in self.choices:
                raise ConfigError(f"{where} must be one of {', '.join(map(str, self.choices))}; got {value!r}")
            if self.unit == "YYYY-MM":
                parse_month(value, where)
            return value
        if isinstance(default, list):
            if not isinstance(value, list) or len(value) != len(default):
                raise ConfigError(f"{where} must be a list of {len(default)} values, got {value!r}")
            out = []
            for v in value:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f"{where} must hold numbers only, got {v!r}")
                out.append(float(check_number(v, where, lo=self.min, hi=self.max)))
            return out
        raise ConfigError(f"{where}: unsupported parameter type")  # pragma: no cover


Number = StrictInt | StrictFloat


class ParamSpec(Strict):
    """The schema of one entry of ``base.toml`` (an inline table). NaN and infinity pass
    the schema so that :meth:`problems` can name them."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=True)

    value: StrictBool | StrictInt | StrictFloat | StrictStr | list[Number]
    unit: StrictStr = ""
    source: StrictStr
    tier: Literal["core", "detail"]
    min: Number | None = None
    max: Number | None = None
    choices: list[StrictStr] | None = None
    note: StrictStr | None = None
    years: tuple[StrictInt, StrictInt] | None = None

    def problems(self) -> str | None:
        """What is inconsistent between the keys of this entry, or None."""
        numeric = not isinstance(self.value, (bool, str))
        if isinstance(self.value, list) and not self.value:
            return "value: an empty list is not allowed"
        values = self.value if isinstance(self.value, list) else [self.value]
        if numeric and not all(math.isfinite(v) for v in values):
            return f"value must hold finite numbers only, got {self.value!r}"
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            if self.min is None or self.max is None or max(abs(self.min), abs(self.max)) > WHOLE_NUMBER_LIMIT:
                return (
                    f"a whole-number parameter needs min and max within +-{WHOLE_NUMBER_LIMIT} "
                    f"(it is stored in 16 bits), got [{self.min}, {self.max}]"
                )
        for key in ("min", "max"):
            bound = getattr(self, key)
            if bound is not None and not math.isfinite(bound):
                return f"{key} must be a finite number, got {bound!r}"
        if (self.min is not None or self.max is not None) and not numeric:
            return "min/max apply to numbers only"
        if self.min is not None and self.max is not None and self.min > self.max:
            return f"min ({self.min}) is above max ({self.max})"
        if self.unit in PROBABILITY_UNITS and numeric:
            if (self.min if self.min is not None else 0) < 0 or (self.max if self.max is not None else 1) > 1:
                return (
                    f"unit {self.unit!r} makes it a probability or share: min and max must lie "
                    f"within [0, 1], got [{self.min}, {self.max}]"
                )
        if self.choices is not None:
            if not isinstance(self.value, str):
                return "choices apply to text values only"
            if self.value not in self.choices:
                return f"value {self.value!r} is not one of its choices ({', '.join(self.choices)})"
        if self.years is not None:
            first, last = self.years
            if last < first:
                return f"years [{first}, {last}]: the last year comes before the first"
            if not isinstance(self.value, list) or len(self.value) != last - first + 1:
                n = len(self.value) if isinstance(self.value, list) else 1
                return f"years [{first}, {last}] needs one value per year ({last - first + 1}), got {n}"
        return None


def _flatten_defs(tree: Mapping, prefix: str, origin: str, out: dict[str, ParamDef]) -> None:
    for key, item in tree.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and "value" in item:
            unknown = set(item) - _META_KEYS
            if unknown:
                raise ConfigError(
                    f"{origin}: {name} has unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(_META_KEYS))}"
                )
            if not isinstance(item.get("source"), str) or not item["source"].strip():
                raise ConfigError(f"{origin}: {name} has no source")
            try:
                spec = ParamSpec.model_validate(dict(item))
            except ValidationError as exc:
                raise schema_error(exc, f"{origin}: {name}", ParamSpec) from None
            problem = spec.problems()
            if problem:
                raise ConfigError(f"{origin}: {name}: {problem}")
            lo, hi = spec.min, spec.max
            if spec.unit in PROBABILITY_UNITS and not isinstance(spec.value, (bool, str)):
                lo = 0 if lo is None else lo
                hi = 1 if hi is None else hi
            extra = {k: item[k] for k in ("note", "years") if k in item}
            choices = tuple(spec.choices) if spec.choices is not None else None
            out[name] = ParamDef(name, item["value"], spec.unit, spec.source, spec.tier, lo, hi, choices, extra)
        elif isinstance(item, Mapping):
            _flatten_defs(item, name + ".", origin, out)
        else:
            raise ConfigError(f"{origin}: {name} must be a table with value, unit and source, got {item!r}")


def flatten(tree: Mapping, origin: str, prefix: str = "", leaf=None) -> dict[str, Any]:
    """Nested tables as dotted names: ``{"labour": {"x": 1}}`` and ``{"labour.x": 1}`` both
    give ``{"labour.x": 1}``. A name given twice (a quoted dotted key and a table entry)
    is refused rather than one silently winning. ``leaf(item)`` says whether a table is a
    value in its own right (a sweep range ``{ min, max }``)."""
    out: dict[str, Any] = {}
    _flatten_into(tree, origin, prefix, leaf, out)
    return out


def _flatten_into(tree: Mapping, origin: str, prefix: str, leaf, out: dict[str, Any]) -> None:
    for key, item in tree.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and not (leaf is not None and leaf(item)):
            _flatten_into(item, origin, name + ".", leaf, out)
        elif name in out:
            raise ConfigError(f"{origin}: {name} is given twice (as a quoted dotted key and in a table); give it once")
        else:
            out[name] = item


def _flatten_overrides(tree: Mapping, origin: str = "overrides") -> dict[str, Any]:
    return flatten(tree, origin)


def _table_hint(name: str, defs: Mapping[str, ParamDef]) -> str:
    """Why an unknown dotted name may have been meant as something else."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        if head in defs:
            return f"; {head} takes a plain value ({parts[i - 1]} = ...), not a table"
    return _suggest(name, defs)


def date_pairs(defs: Mapping[str, ParamDef]) -> list[tuple[str, str]]:
    """Pairs of month parameters that open and close a period: ``x.start``/``x.end`` or
    ``x_start``/``x_end`` in the same section."""
    pairs = []
    for name, d in defs.items():
        if d.unit != "YYYY-MM":
            continue
        for a, b in ((".start", ".end"), ("_start", "_end")):
            if name.endswith(a):
                other = name[: -len(a)] + b
                if other in defs and defs[other].unit == "YYYY-MM":
                    pairs.append((name, other))
    return pairs


def supported_period(defs: Mapping[str, ParamDef]) -> tuple[date, date] | None:
    """The months a run may cover: those of the years every yearly series of ``base.toml``
    (``years = [first, last]``, e.g. the EI maximum benefit) has a value for; None when
    there are no yearly series."""
    spans = [d.extra["years"] for d in defs.values() if "years" in d.extra]
    if not spans:
        return None
    first = max(int(a) for a, _ in spans)
    last = min(int(b) for _, b in spans)
    return date(first, 1, 1), date(last, 12, 1)


@dataclass(frozen=True)
class Config:
    """The resolved parameters of one run: definitions plus the values in force.

    ``set_by`` maps each overridden name to the origin (file or ``command line``) of the
    value in force; names at their ``base.toml`` default are absent."""

    defs: Mapping[str, ParamDef]
    values: Mapping[str, Any]
    scenario: str
    description: str = ""
    origins: tuple[str, ...] = ()
    set_by: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def section(self, prefix: str) -> dict[str, Any]:
        """The values under ``prefix.`` with the prefix removed."""
        p = prefix.rstrip(".") + "."
        return {k[len(p) :]: v for k, v in self.values.items() if k.startswith(p)}

    def with_overrides(self, overrides: Mapping[str, Any], origin: str = "overrides") -> Config:
        """A new Config with dotted-name overrides applied and checked."""
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"{origin}: overrides must be a table of parameter names and values, got {overrides!r}")
        values = dict(self.values)
        set_by = dict(self.set_by)
        for name, value in _flatten_overrides(overrides, origin).items():
            if name not in self.defs:
                raise ConfigError(f"{origin}: unknown parameter {name!r}{_table_hint(name, self.defs)}")
            values[name] = self.defs[name].check(value, origin)
            set_by[name] = origin
        cfg = Config(self.defs, values, self.scenario, self.description, self.origins + (origin,), set_by)
        cfg.validate(origin)
        return cfg

    def validate(self, origin: str | None = None) -> None:
        """Checks that involve more than one parameter; ``origin`` names the file (or the
        command line) whose values are being applied, for the message."""
        at = f"{origin}: " if origin else ""
        start = parse_month(self.values["run.start"], f"{at}run.start")
        end = parse_month(self.values["run.end"], f"{at}run.end")
        if end <= start:
            raise ConfigError(
                f"{at}run.end ({self.values['run.end']}) must come after run.start ({self.values['run.start']})"
            )
        period = supported_period(self.defs)
        if period is not None:
            first, last = period
            for name, when in (("run.start", start), ("run.end", end)):
                if not first <= when <= last:
                    raise ConfigError(
                        f"{at}{name} = {self.values[name]} is outside the period the model has data "
                        f"for ({first:%Y-%m} to {last:%Y-%m}, the years of the yearly series in "
                        f"base.toml)"
                    )
        for name, d in self.defs.items():
            if d.unit == "shares" and isinstance(self.values[name], list):
                total = sum(self.values[name])
                if not abs(total - 1.0) <= 1e-6:  # false for NaN too
                    raise ConfigError(f"{at}{name}: shares must add up to 1, they add up to {total:.6g}")
        for first, last in date_pairs(self.defs):
            if first == "run.start":
                continue
            a = parse_month(self.values[first], f"{at}{first}")
            b = parse_month(self.values[last], f"{at}{last}")
            if b < a:
                raise ConfigError(
                    f"{at}{last} ({self.values[last]}) comes before {first} "
                    f"({self.values[first]}); it must be the same month or later"
                )

    def to_dict(self) -> dict[str, Any]:
        return dict(sorted(self.values.items()))

    def hash(self) -> str:
        """Content hash of the values in force (hex, 16 characters)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _suggest(name: str, names) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
