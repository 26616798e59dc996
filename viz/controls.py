"""The page's controls, built from the configuration: plain-language labels, a tooltip for
each with its unit, range, default and source from ``configs/base.toml``, and the values a
scenario gives them (so that the switches show what the chosen scenario switches on)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from model.config import Config, ConfigError, ParamDef, load_base, load_scenario_file, resolve, scenario_names

# Main parameters listed first, before the rest of the core tier (base.toml's ``tier``)
MAIN_PARAMETERS = (
    "labour.separation_rate",
    "labour.matching_efficiency",
    "strain.out_migration_rate",
    "regional_economy.job_replacement_share",
)

INTERVENTION_LABELS = {
    "in_plant_services": "Social worker in the plant before it closes",
    "recovery_committee": "Economic recovery committee",
    "support_committee": "Community support committee",
    "guide": "Guide de l'aidant handed out",
    "helper_training": "Residents trained as helpers",
    "csss_structural": "Health centre 2011: new jobs in services",
    "csss_cross_sectoral": "Health centre 2011: organizations work together",
    "csss_reinforcement": "Health centre 2011: less red tape, stronger networks",
    "regional_conference": "Regional conference funding",
}
INTERVENTION_SHORT = {
    "in_plant_services": "Social worker in the plant",
    "recovery_committee": "Recovery committee",
    "support_committee": "Support committee",
    "guide": "Guide",
    "helper_training": "Helper training",
    "csss_structural": "Health centre (jobs)",
    "csss_cross_sectoral": "Health centre (together)",
    "csss_reinforcement": "Health centre (red tape)",
    "regional_conference": "Regional conference",
}
PLAIN_LABELS = {
    "labour.separation_rate": "Jobs that end each week",
    "labour.matching_efficiency": "How easily job seekers are hired",
    "strain.out_migration_rate": "Households under money strain that move away",
    "regional_economy.job_replacement_share": "Lost jobs the regional economy replaces",
}
WORDS = {"smd": "effect", "csss": "health centre", "org": "organization", "ei": "EI"}


@dataclass(frozen=True)
class Control:
    """One parameter's control: its dotted name, plain label, tooltip and kind."""

    name: str
    label: str
    tooltip: str
    kind: str  # "switch", "choice" or "text"
    choices: tuple = ()


def _words(text: str) -> str:
    out = " ".join(WORDS.get(w, w) for w in text.split("_"))
    return out[:1].upper() + out[1:]


def bounds_text(d: ParamDef) -> str:
    if d.min is None and d.max is None:
        return ""
    lo = "" if d.min is None else f"{d.min:g}"
    hi = "" if d.max is None else f"{d.max:g}"
    return f"{lo} to {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")


def plain_label(d: ParamDef) -> str:
    """A label a community partner can read, e.g. "Guide: read share (share of copies)"."""
    parts = d.name.split(".")
    if d.name in PLAIN_LABELS:
        label = PLAIN_LABELS[d.name]
    elif parts[0] == "interventions" and len(parts) == 3:
        if parts[2] == "enabled":
            return INTERVENTION_LABELS.get(parts[1], _words(parts[1]))
        what = {"start": "from (year-month)", "end": "until (year-month, not included)"}.get(
            parts[2], _words(parts[2]).lower()
        )
        label = f"{INTERVENTION_SHORT.get(parts[1], _words(parts[1]))}: {what}"
    else:
        label = _words(parts[-1])
    unit = d.unit if d.unit and d.unit not in ("-", "YYYY-MM") else ""
    return f"{label} ({unit})" if unit and len(label) + len(unit) < 60 else label


def tooltip(d: ParamDef) -> str:
    """Unit, range, default and source of a parameter, from ``base.toml``."""
    bits = [d.name]
    if d.unit and d.unit != "-":
        bits.append(f"unit: {d.unit}")
    if bounds_text(d):
        bits.append(f"range: {bounds_text(d)}")
    bits.append(f"default: {display(d.value)}")
    return "; ".join(bits) + f". Source: {d.source}"


def display(value) -> str:
    """A value as a text field shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, item in tree.items():
        if isinstance(item, dict):
            out.update(_flatten(item, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = item
    return out


def exposed_parameters(base: Config | None = None) -> list[str]:
    """Dotted names of the parameters the page has a control for, in ``base.toml`` order:
    every true/false parameter, every intervention parameter, every parameter a scenario
    sets, and every single-valued parameter of the core tier."""
    base = base or load_base()
    set_by_scenarios: set[str] = set()
    for name in scenario_names():
        try:
            set_by_scenarios.update(_flatten(load_scenario_file(name).get("overrides", {})))
        except ConfigError:
            continue  # a broken scenario file is reported when it is chosen
    out = []
    for name, d in base.defs.items():
        if isinstance(d.value, list) or name.startswith("run."):
            continue
        if (
            isinstance(d.value, bool)
            or name.startswith("interventions.")
            or name in set_by_scenarios
            or name in MAIN_PARAMETERS
            or d.tier == "core"
        ):
            out.append(name)
    return out


def control_for(d: ParamDef) -> Control:
    if isinstance(d.value, bool):
        kind = "switch"
    elif isinstance(d.value, str) and d.choices:
        kind = "choice"
    else:
        kind = "text"
    return Control(d.name, plain_label(d), tooltip(d), kind, tuple(d.choices or ()))


@lru_cache(maxsize=1)
def controls() -> tuple[list[Control], list[Control], list[Control]]:
    """The switches of the interventions, the main parameters (the core tier outside the
    interventions, :data:`MAIN_PARAMETERS` first) and the advanced ones (the interventions'
    core parameters first, then the detail tier)."""
    base = load_base()
    names = exposed_parameters(base)
    switches = [control_for(base.defs[n]) for n in names if n.startswith("interventions.") and n.endswith(".enabled")]
    core = [n for n in names if base.defs[n].tier == "core" and not n.startswith("interventions.")]
    main = [control_for(base.defs[n]) for n in dict.fromkeys([*MAIN_PARAMETERS, *core]) if n in base.defs]
    taken = {c.name for c in switches + main}
    rest = [n for n in names if n not in taken]
    advanced = [control_for(base.defs[n]) for n in sorted(rest, key=lambda n: base.defs[n].tier != "core")]
    return switches, main, advanced


def scenario_description(name: str) -> str:
    try:
        return str(load_scenario_file(name).get("scenario", {}).get("description", ""))
    except ConfigError as exc:
        return f"This scenario cannot be read: {exc}"


def scenario_values(name: str) -> dict[str, object]:
    """The value of every control under scenario ``name`` (base.toml with its overrides);
    a scenario that cannot be read gives base.toml's."""
    try:
        values = resolve(name, None, {}).values
    except ConfigError:
        values = load_base().values
    switches, main, advanced = controls()
    return {c.name: values[c.name] for c in switches + main + advanced}


def number(text, what: str) -> float:
    """A finite number from a control's value, or ConfigError naming ``what``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what}: {text!r} is not a finite number")
    return value


def parse_value(d: ParamDef, value):
    """A control's value as the parameter's type (text fields give strings)."""
    if not isinstance(value, str) or isinstance(d.value, str):
        return value
    if isinstance(d.value, bool):
        text = value.strip().lower()
        if text not in ("true", "false"):
            raise ConfigError(f"{d.name}: {value!r} is not true or false")
        return text == "true"
    value_n = number(value, d.name)
    if isinstance(d.value, int) and value_n.is_integer():
        return int(value_n)
    return value_n


def parse_controls(values: dict) -> dict:
    """Dotted overrides from control values keyed by dotted name or ``section__name``;
    raises ConfigError for an unknown name or a value of the wrong kind."""
    base = load_base()
    out = {}
    for key, value in values.items():
        name = key.replace("__", ".")
        if name not in base.defs:
            raise ConfigError(f"page controls: unknown parameter {name!r}")
        out[name] = parse_value(base.defs[name], value)
    return out


def changed_values(values: dict, scenario: str) -> dict:
    """The control values (dotted name -> value or typed text) that differ from the
    scenario's, i.e. what the user changed."""
    defaults = scenario_values(scenario)
    return {k: v for k, v in values.items() if display(v) != display(defaults.get(k))}
