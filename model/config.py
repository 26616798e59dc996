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
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import StrictBool, StrictStr, ValidationError, field_validator

from .config_checks import (
    WHOLE_NUMBER_LIMIT,
    ConfigError,
    Strict,
    bounded,
    check_number,
    parse_month,
    read_toml,
    schema_error,
)
from .parameters import (
    PROBABILITY_UNITS,
    TIERS,
    Config,
    Number,
    ParamDef,
    ParamSpec,
    _flatten_defs,
    date_pairs,
    flatten,
    supported_period,
)

__all__ = [
    "BASE_FILE",
    "CONFIG_DIR",
    "PACKAGE_CONFIG_DIR",
    "PROBABILITY_UNITS",
    "REFERENCE_KEY",
    "SCENARIO_DIR",
    "TARGETS_FILE",
    "TARGET_ROLES",
    "TIERS",
    "WHOLE_NUMBER_LIMIT",
    "Config",
    "ConfigError",
    "ParamDef",
    "ParamSpec",
    "ScenarioFile",
    "ScenarioMeta",
    "Strict",
    "Target",
    "bounded",
    "check_number",
    "config_root",
    "date_pairs",
    "flatten",
    "in_force",
    "load_base",
    "load_scenario_file",
    "load_targets",
    "parameter_table",
    "parse_month",
    "read_toml",
    "resolve",
    "scenario_file",
    "scenario_names",
    "schema_error",
    "supported_period",
]

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
