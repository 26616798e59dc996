"""Parameters: loading, overriding and validating the model's configuration.

Every default lives in ``configs/base.toml`` as an inline table::

    separation_rate = { value = 0.0035, unit = "1/week", min = 0, max = 1, source = "..." }

``value`` is the default, ``unit`` its unit, ``source`` where it comes from (or the note
that it is an assumption for sensitivity analysis), ``tier`` either ``core`` (what a
reader needs to understand a scenario's result: the main rates and effect sizes, the
interventions' switches and sizes) or ``detail`` (the rest); ``min``/``max`` bound what an
override may set and ``choices`` lists allowed strings. Overrides (a scenario, a
``--config`` file, keyword arguments) give plain values at the same dotted names and
are checked against these definitions: an unknown name, a wrong type or a value out of
range raises :class:`ConfigError` naming the file and the field.

The definitions themselves are checked when ``base.toml`` is read (:class:`ParamSpec`):
every entry needs a source and a tier, ``min <= max``, ``years = [first, last]`` matching the length
of a yearly series, and a parameter whose unit makes it a probability (``share``,
``shares``, ``1/week``, ``1/year``, ``probability``) is bounded by [0, 1].

The configuration directory is ``configs/`` beside the package, or the directory named by
the environment variable ``COHESION_CONFIG_DIR`` (:func:`config_root`); the loaders also
take explicit paths (``load_base(path)``, ``resolve(config_dir=...)``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

PACKAGE_CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def config_root() -> Path:
    """The configuration directory in force: ``COHESION_CONFIG_DIR`` if set, else ``configs/``."""
    return Path(os.environ.get("COHESION_CONFIG_DIR") or PACKAGE_CONFIG_DIR)


CONFIG_DIR = config_root()  # as at import time


def in_force(default: Path, relative: str) -> Path:
    """A configuration file or folder: ``relative`` under ``COHESION_CONFIG_DIR`` when that
    is set, else ``default`` (a module constant such as :data:`SCENARIO_DIR`, which a
    program embedding the model may reassign)."""
    env = os.environ.get("COHESION_CONFIG_DIR")
    return Path(env) / relative if env else Path(default)


BASE_FILE = CONFIG_DIR / "base.toml"
SCENARIO_DIR = CONFIG_DIR / "scenarios"
TARGETS_FILE = CONFIG_DIR / "calibration" / "targets.toml"

_META_KEYS = {"value", "unit", "source", "tier", "min", "max", "choices", "note", "years"}
TIERS = ("core", "detail")
"""Tiers of a parameter: ``core`` ones are what a reader needs to understand a scenario's
result (docs/parameters.md and the page list them first); ``detail`` ones are the rest."""
PROBABILITY_UNITS = {"share", "shares", "1/week", "1/year", "probability"}


class ConfigError(ValueError):
    """A configuration problem, described in one line naming the file and field."""


class Strict(BaseModel):
    """Base of the schemas of the configuration files: unknown keys are refused, and so
    are NaN and infinity in any number field."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# -- numbers -------------------------------------------------------------------------------
# Every number the model reads, from whichever file, goes through :func:`check_number`:
# finite, within its bounds, and (for whole numbers) within what the model stores it in.

WHOLE_NUMBER_LIMIT = 32_767
"""Largest magnitude of a whole-number input: the narrowest storage of counts and weeks in
``model/state.py`` is a 16-bit integer (``numpy.int16``). A whole-number parameter of
``base.toml`` must have ``min`` and ``max`` within +-this; other whole numbers (closure
weeks, organization counts) have narrower limits of their own."""


def check_number(
    value: Any, where: str, *, lo: float | None = None, hi: float | None = None, whole: bool = False
) -> int | float:
    """``value`` as a finite number within ``[lo, hi]`` (a whole number if ``whole``), or a
    one-line :class:`ConfigError` starting with ``where``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    if whole:
        if isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(f"{where} must be a whole number, got {value!r}")
            value = int(value)
        lo = -WHOLE_NUMBER_LIMIT if lo is None else lo
        hi = WHOLE_NUMBER_LIMIT if hi is None else hi
    if lo is not None and value < lo:
        raise ConfigError(f"{where} = {value} is below its minimum {lo}")
    if hi is not None and value > hi:
        raise ConfigError(f"{where} = {value} is above its maximum {hi}")
    return value


def bounded(lo: float | None = None, hi: float | None = None, whole: bool = False):
    """A pydantic validator (for ``Annotated[..., AfterValidator(...)]``) applying the
    checks of :func:`check_number`, so that the CSV and TOML tables check their numbers as
    ``base.toml`` parameters are checked."""
    kind = "a whole number" if whole else "a number"

    def fmt(v: float) -> str:
        return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"

    if lo is not None and hi is not None:
        allowed = f"{kind} from {fmt(lo)} to {fmt(hi)}"
    else:
        allowed = f"{kind} >= {fmt(lo)}" if lo is not None else f"{kind} <= {fmt(hi)}" if hi is not None else kind

    def validate(value):
        if value is None:
            return value
        try:
            return check_number(value, "value", lo=lo, hi=hi, whole=whole)
        except ConfigError:
            raise ValueError(f"must be {allowed}, got {value!r}") from None

    return validate


def _allowed_keys(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def schema_error(
    exc: ValidationError,
    where: str,
    model: type[BaseModel] | None = None,
    names: Mapping[str, type[BaseModel]] | None = None,
) -> ConfigError:
    """A pydantic error as a one-line :class:`ConfigError`: ``where: field: what is allowed``.

    ``model`` is the schema validated (to list the keys allowed when one is unknown);
    ``names`` maps a field holding nested tables to their schema, for the same purpose.
    """
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = [str(p) for p in err["loc"]]
    field_name = ".".join(loc) if loc else "(whole table)"
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = model
        for part in loc[:-1]:
            if names and part in names:
                owner = names[part]
        allowed = f"; allowed: {_allowed_keys(owner)}" if owner is not None else ""
        msg = f"unknown key {loc[-1]!r}{allowed}"
        if len(loc) > 1:
            msg = f"{'.'.join(loc[:-1])}: {msg}"
    elif kind == "missing" or (err.get("input", "") is None and kind.endswith("_type")):
        msg = f"{field_name}: missing (a value is required)"
    else:
        text = err["msg"]
        if text.startswith("Value error, "):
            text = text[len("Value error, ") :]
        got = err.get("input")
        shown = f", got {got!r}" if not isinstance(got, (dict, list)) and kind != "value_error" else ""
        msg = f"{field_name}: {_plain(text)}{shown}" if loc else f"{text}{shown}"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return ConfigError(f"{where}: {msg}{more}")


def _plain(text: str) -> str:
    """Pydantic's wording, to read on after a field name."""
    text = text[:1].lower() + text[1:] if text else text
    return text.replace("input should be", "must be", 1)


def read_toml(path: Path | str) -> dict:
    """Read a TOML file, turning every failure into a one-line :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark, as some editors write, is dropped
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None


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


def parse_month(text: str, where: str = "date") -> date:
    """Parse ``YYYY-MM`` (or ``YYYY-MM-DD``) into a date, as a ConfigError if malformed."""
    parts = str(text).split("-")
    try:
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 1)
        if len(parts) == 3:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        pass
    raise ConfigError(f"{where}: {text!r} is not a date of the form YYYY-MM")


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


def load_base(path: Path | str | None = None) -> Config:
    """The defaults of ``base.toml`` (by default :data:`BASE_FILE`; see :func:`in_force`)."""
    path = in_force(BASE_FILE, "base.toml") if path is None else path
    tree = read_toml(path)
    defs: dict[str, ParamDef] = {}
    _flatten_defs(tree, "", str(path), defs)
    if "run.start" not in defs or "run.end" not in defs:
        raise ConfigError(f"{path}: [run] must define start and end")
    for d in defs.values():
        d.check(d.value, str(path))
    cfg = Config(defs, {k: copy.deepcopy(d.value) for k, d in defs.items()}, "baseline", origins=(str(path),))
    cfg.validate(str(path))
    return cfg


class ScenarioMeta(Strict):
    """``[scenario]`` of a scenario file."""

    description: StrictStr

    @field_validator("description")
    @classmethod
    def _not_blank(cls, v):
        if not v.strip():
            raise ValueError("must say what the scenario is (it is empty)")
        return v


class ScenarioFile(Strict):
    """A scenario file: ``[scenario]`` (a description, required) and ``[overrides]`` (dotted
    names)."""

    scenario: ScenarioMeta
    overrides: dict[str, Any] = {}


def _scenario_dir(config_dir: Path | str | None) -> Path:
    return in_force(SCENARIO_DIR, "scenarios") if config_dir is None else Path(config_dir) / "scenarios"


def scenario_names(config_dir: Path | str | None = None) -> list[str]:
    return sorted(p.stem for p in _scenario_dir(config_dir).glob("*.toml"))


def scenario_file(name: str, config_dir: Path | str | None = None) -> Path:
    """The file of scenario ``name``, or a ConfigError listing the scenarios there are."""
    names = scenario_names(config_dir)
    if not isinstance(name, str) or name not in names:
        raise ConfigError(
            f"unknown scenario {name!r}; available: {', '.join(names) or 'none'} (files in {_scenario_dir(config_dir)})"
        )
    return _scenario_dir(config_dir) / f"{name}.toml"


def load_scenario_file(name: str, config_dir: Path | str | None = None) -> dict:
    """The checked contents of a scenario file (``scenario`` and ``overrides`` tables)."""
    path = scenario_file(name, config_dir)
    tree = read_toml(path)
    try:
        ScenarioFile.model_validate(tree)
    except ValidationError as exc:
        raise schema_error(exc, str(path), ScenarioFile, {"scenario": ScenarioMeta}) from None
    return tree


def _check_config_file_shape(tree: Mapping, path: Path | str, defs: Mapping[str, ParamDef]) -> None:
    sections = {name.split(".", 1)[0] for name in defs}
    for key in ("scenario", "overrides"):
        if key in tree and key not in sections:
            raise ConfigError(
                f"{path}: [{key}] belongs in a scenario file (configs/scenarios/, chosen "
                f"with --scenario); a --config file gives values by section, "
                f"e.g. [labour] separation_rate = 0.005"
            )


def resolve(
    scenario: str = "baseline",
    config_file: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    origin: str = "parameters",
    config_dir: Path | str | None = None,
) -> Config:
    """Base defaults, then the scenario's overrides, then a config file, then overrides.

    ``config_dir`` reads ``base.toml`` and ``scenarios/`` from another directory than
    ``configs/``."""
    cfg = load_base(None if config_dir is None else Path(config_dir) / "base.toml")
    path = scenario_file(scenario, config_dir)
    tree = load_scenario_file(scenario, config_dir)
    meta = tree.get("scenario", {})
    cfg = cfg.with_overrides(tree.get("overrides", {}), str(path))
    cfg = Config(cfg.defs, cfg.values, scenario, str(meta.get("description", "")), cfg.origins, cfg.set_by)
    if config_file is not None:
        tree = read_toml(config_file)
        _check_config_file_shape(tree, config_file, cfg.defs)
        cfg = cfg.with_overrides(tree, str(config_file))
    if overrides:
        cfg = cfg.with_overrides(overrides, origin)
    return cfg


TARGET_ROLES = ("calibrate", "validate")


class Target(Strict):
    """One target of ``configs/calibration/targets.toml``: a published value, the model
    measure it is compared with (``measure``, a calibration measure of
    ``experiments/outcomes.py``; the target's own name when not given), the period, the
    scenario whose runs measure it (when not given, the scenario the calibration runs),
    and a tolerance: the source's own uncertainty (a 95%
    half-width, absolute or, with ``relative = true``, a share of the value), whose basis
    ``uncertainty`` states. ``role`` says whether the target calibrates (a parameter was set
    or searched to meet it) or is held aside to validate."""

    value: Number
    tolerance: Number
    unit: StrictStr
    source: StrictStr
    relative: StrictBool = False
    role: StrictStr = "calibrate"
    measure: StrictStr = ""
    period: StrictStr = ""
    scenario: StrictStr = ""
    uncertainty: StrictStr = ""

    def problems(self) -> str | None:
        if self.role not in TARGET_ROLES:
            return f"role must be one of {', '.join(TARGET_ROLES)}, got {self.role!r}"
        if not math.isfinite(self.value) or not math.isfinite(self.tolerance):
            return "value and tolerance must be finite numbers"
        if self.tolerance < 0:
            return f"tolerance must be >= 0, got {self.tolerance}"
        if self.relative and (self.value == 0 or self.tolerance > 1):
            return "a relative tolerance needs a value other than 0 and a tolerance within [0, 1]"
        if not self.source.strip() or not self.unit.strip():
            return "unit and source must not be empty"
        return None


def load_targets(path: Path | str | None = None) -> dict[str, Target]:
    """The calibration targets, checked: each a table with value, tolerance (>= 0), unit,
    source, and ``relative = true`` when the tolerance is a share of the value."""
    path = in_force(TARGETS_FILE, "calibration/targets.toml") if path is None else path
    tree = read_toml(path)
    out = {}
    for name, item in tree.items():
        if not isinstance(item, Mapping):
            raise ConfigError(f"{path}: {name} must be a table with value, tolerance, unit and source, got {item!r}")
        try:
            target = Target.model_validate(dict(item))
        except ValidationError as exc:
            raise schema_error(exc, f"{path}: [{name}]", Target) from None
        problem = target.problems()
        if problem:
            raise ConfigError(f"{path}: [{name}]: {problem}")
        out[name] = target
    if not out:
        raise ConfigError(f"{path}: no targets")
    return out


REFERENCE_KEY = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]")
"""A reference key cited in a source, e.g. ``[paul-moser-2009]`` (docs/references.md)."""


def parameter_table(cfg: Config | None = None) -> str:
    """Markdown tables of every parameter, the core tier first, then the detail tier, each
    by section: name, default, unit, source (docs/parameters.md)."""
    cfg = cfg or load_base()
    tiers = {t: [n for n, d in cfg.defs.items() if d.tier == t] for t in TIERS}
    lines = [
        "# Parameters",
        "",
        "Generated from `configs/base.toml` by `python -m experiments.paramdoc > docs/parameters.md`;",
        "a test checks that it is up to date. Values marked *assumption* were not measured:",
        "each has a range in the sensitivity files of `configs/sweeps/` (a test checks this).",
        "A key in square brackets links to the full citation in [references.md](references.md).",
        "",
        f"{len(cfg.defs)} parameters: {len(tiers['core'])} in the **core** tier, what a reader needs to",
        "understand a scenario's result (the main rates and effect sizes, the interventions'",
        f"switches and sizes), and {len(tiers['detail'])} in the **detail** tier. Definitions, legal rules,",
        "age bands and numerical tolerances are named constants in the code",
        "(`model/constants.py` and the top of each module), not parameters.",
    ]
    titles = {"core": "Core parameters", "detail": "Detail parameters"}
    for tier in TIERS:
        lines += ["", f"## {titles[tier]}"]
        section = None
        for name in tiers[tier]:
            d = cfg.defs[name]
            sec, _, short = name.partition(".")
            if sec != section:
                section = sec
                lines += [
                    "",
                    f"### [{sec}]",
                    "",
                    "| parameter | default | unit | source |",
                    "| --- | --- | --- | --- |",
                ]
            value = d.value if not isinstance(d.value, list) else ", ".join(f"{v:g}" for v in d.value)
            note = f" ({d.extra['note']})" if "note" in d.extra else ""
            years = f", years {d.extra['years'][0]}-{d.extra['years'][1]}" if "years" in d.extra else ""
            source = REFERENCE_KEY.sub(r"[\1](references.md#\1)", d.source.replace("|", "/"))
            lines.append(f"| `{short}` | {value} | {d.unit}{years}{note} | {source} |")
    return "\n".join(lines) + "\n"
