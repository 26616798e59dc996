"""Parameters: loading, overriding and validating the model's configuration.

Every default lives in ``configs/base.toml`` as an inline table::

    separation_rate = { value = 0.0035, unit = "1/week", min = 0, max = 1, source = "..." }

``value`` is the default, ``unit`` its unit, ``source`` where it comes from (or the note
that it is an assumption for sensitivity analysis); ``min``/``max`` bound what an
override may set and ``choices`` lists allowed strings. Overrides (a scenario, a
``--config`` file, keyword arguments) give plain values at the same dotted names and
are checked against these definitions: an unknown name, a wrong type or a value out of
range raises :class:`ConfigError` naming the file and the field.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Mapping

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
BASE_FILE = CONFIG_DIR / "base.toml"
SCENARIO_DIR = CONFIG_DIR / "scenarios"

_META_KEYS = {"value", "unit", "source", "min", "max", "choices", "note", "years"}


class ConfigError(ValueError):
    """A configuration problem, described in one line naming the file and field."""


def read_toml(path: Path | str) -> dict:
    """Read a TOML file, turning every failure into a one-line :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None


@dataclass(frozen=True)
class ParamDef:
    """One parameter's definition from ``base.toml``."""

    name: str
    value: Any
    unit: str
    source: str
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
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where} must be a number, got {value!r}")
            if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float):
                if not value.is_integer():
                    raise ConfigError(f"{where} must be a whole number, got {value!r}")
                value = int(value)
            if value != value:  # NaN
                raise ConfigError(f"{where} must be a number, got NaN")
            self._check_range(value, where)
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
                self._check_range(v, where)
                out.append(float(v))
            return out
        raise ConfigError(f"{where}: unsupported parameter type")  # pragma: no cover

    def _check_range(self, value: float, where: str) -> None:
        if self.min is not None and value < self.min:
            raise ConfigError(f"{where} = {value} is below its minimum {self.min}")
        if self.max is not None and value > self.max:
            raise ConfigError(f"{where} = {value} is above its maximum {self.max}")


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


def _flatten_defs(tree: Mapping, prefix: str, origin: str, out: dict[str, ParamDef]) -> None:
    for key, item in tree.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and "value" in item:
            unknown = set(item) - _META_KEYS
            if unknown:
                raise ConfigError(f"{origin}: {name} has unknown keys {sorted(unknown)}")
            if not item.get("source"):
                raise ConfigError(f"{origin}: {name} has no source")
            extra = {k: item[k] for k in ("note", "years") if k in item}
            choices = tuple(item["choices"]) if "choices" in item else None
            out[name] = ParamDef(name, item["value"], item.get("unit", ""), item["source"],
                                 item.get("min"), item.get("max"), choices, extra)
        elif isinstance(item, Mapping):
            _flatten_defs(item, name + ".", origin, out)
        else:
            raise ConfigError(f"{origin}: {name} must be a table with value, unit and source")


def _flatten_overrides(tree: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in tree.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten_overrides(item, name + "."))
        else:
            out[name] = item
    return out


@dataclass(frozen=True)
class Config:
    """The resolved parameters of one run: definitions plus the values in force."""

    defs: Mapping[str, ParamDef]
    values: Mapping[str, Any]
    scenario: str
    description: str = ""
    origins: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def section(self, prefix: str) -> dict[str, Any]:
        """The values under ``prefix.`` with the prefix removed."""
        p = prefix.rstrip(".") + "."
        return {k[len(p):]: v for k, v in self.values.items() if k.startswith(p)}

    def with_overrides(self, overrides: Mapping[str, Any], origin: str = "overrides") -> "Config":
        """A new Config with dotted-name overrides applied and checked."""
        values = dict(self.values)
        for name, value in _flatten_overrides(overrides).items():
            if name not in self.defs:
                raise ConfigError(f"{origin}: unknown parameter {name!r}{_suggest(name, self.defs)}")
            values[name] = self.defs[name].check(value, origin)
        cfg = Config(self.defs, values, self.scenario, self.description, self.origins + (origin,))
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Checks that involve more than one parameter."""
        start = parse_month(self.values["run.start"], "run.start")
        end = parse_month(self.values["run.end"], "run.end")
        if end <= start:
            raise ConfigError(f"run.end ({self.values['run.end']}) must come after run.start ({self.values['run.start']})")
        for name, d in self.defs.items():
            if d.unit == "shares" and isinstance(self.values[name], list):
                total = sum(self.values[name])
                if abs(total - 1.0) > 1e-6:
                    raise ConfigError(f"{name}: shares must add up to 1, they add up to {total:.6g}")

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


def load_base(path: Path | str = BASE_FILE) -> Config:
    """The defaults of ``base.toml``."""
    tree = read_toml(path)
    defs: dict[str, ParamDef] = {}
    _flatten_defs(tree, "", str(path), defs)
    for d in defs.values():
        d.check(d.value, str(path))
    cfg = Config(defs, {k: copy.deepcopy(d.value) for k, d in defs.items()}, "baseline",
                 origins=(str(path),))
    cfg.validate()
    return cfg


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario_file(name: str) -> dict:
    path = SCENARIO_DIR / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown scenario {name!r}; available: {', '.join(scenario_names())}")
    return read_toml(path)


def resolve(scenario: str = "baseline", config_file: Path | str | None = None,
            overrides: Mapping[str, Any] | None = None, origin: str = "parameters") -> Config:
    """Base defaults, then the scenario's overrides, then a config file, then overrides."""
    cfg = load_base()
    tree = load_scenario_file(scenario)
    meta = tree.pop("scenario", {})
    if not isinstance(meta, Mapping):
        raise ConfigError(f"{SCENARIO_DIR / (scenario + '.toml')}: [scenario] must be a table")
    cfg = cfg.with_overrides(tree.get("overrides", {}), str(SCENARIO_DIR / f"{scenario}.toml"))
    cfg = Config(cfg.defs, cfg.values, scenario, str(meta.get("description", "")), cfg.origins)
    if config_file is not None:
        tree = read_toml(config_file)
        cfg = cfg.with_overrides(tree, str(config_file))
    if overrides:
        cfg = cfg.with_overrides(overrides, origin)
    return cfg


def parameter_table(cfg: Config | None = None) -> str:
    """Markdown table of every parameter: name, default, unit, source (docs/parameters.md)."""
    cfg = cfg or load_base()
    lines = ["# Parameters", "",
             "Generated from `configs/base.toml` by `python -m experiments.paramdoc > docs/parameters.md`;",
             "a test checks that it is up to date. Values marked *assumption* were not measured",
             "and are the first candidates for sensitivity analysis.", ""]
    section = None
    for name, d in cfg.defs.items():
        sec, _, short = name.partition(".")
        if sec != section:
            section = sec
            lines += ["", f"## [{sec}]", "", "| parameter | default | unit | source |", "| --- | --- | --- | --- |"]
        value = d.value if not isinstance(d.value, list) else ", ".join(f"{v:g}" for v in d.value)
        note = f" ({d.extra['note']})" if "note" in d.extra else ""
        years = f", years {d.extra['years'][0]}-{d.extra['years'][1]}" if "years" in d.extra else ""
        source = d.source.replace("|", "/")
        lines.append(f"| `{short}` | {value} | {d.unit}{years}{note} | {source} |")
    return "\n".join(lines) + "\n"
