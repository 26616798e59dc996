"""Parameters: every default has a source; bad overrides are refused with a clear message."""

import math
import re

import pytest

from model.config import BASE_FILE, ConfigError, load_base, read_toml, resolve


def test_every_parameter_has_a_unit_and_a_source():
    cfg = load_base()
    assert len(cfg.defs) > 50
    for name, d in cfg.defs.items():
        assert d.source.strip(), name
        assert d.unit.strip(), name


def test_base_file_without_source_is_refused(tmp_path):
    text = BASE_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "base.toml"
    bad.write_text(
        text.replace(
            'min = 0.001, max = 4.0, source = "design choice', 'min = 0.001, max = 4.0, note = "design choice'
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="run.scale has no source"):
        load_base(bad)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"labour.no_such_rate": 0.1}, "unknown parameter 'labour.no_such_rate'"),
        ({"labour.separation_rat": 0.1}, "did you mean 'labour.separation_rate'"),
        ({"run.scale": -1.0}, "run.scale = -1.0 is below its minimum"),
        ({"run.scale": 0}, "run.scale = 0 is below its minimum"),
        ({"run.scale": "big"}, "run.scale must be a number"),
        ({"run.scale": math.nan}, "run.scale must be a finite number"),
        ({"ei.replacement_rate": 1.5}, "ei.replacement_rate = 1.5 is above its maximum 1"),
        ({"labour.separation_rate": -0.1}, "below its minimum"),
        ({"ei.extension_2009_weeks": 2.5}, "ei.extension_2009_weeks must be a whole number"),
        ({"run.start": "2003-13"}, "not a date of the form YYYY-MM"),
        ({"run.start": "2010-01", "run.end": "2005-01"}, "run.end (2005-01) must come after run.start (2010-01)"),
        ({"population.household_size_shares": [0.5, 0.5, 0.5, 0, 0, 0]}, "shares must add up to 1"),
        ({"population.household_size_shares": [0.5, 0.5]}, "must be a list of 6 values"),
        ({"strain.out_migration_after_weeks": True}, "must be a number"),
    ],
)
def test_bad_override_is_refused(overrides, message):
    with pytest.raises(ConfigError) as err:
        resolve(overrides=overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("population.tenure_mean_years", -1.0, "population.tenure_mean_years = -1.0 is below its minimum 0"),
        ("population.couple_share", 1.5, "population.couple_share = 1.5 is above its maximum 1"),
        ("labour.plant_manufacturing_weight", 0.0, "labour.plant_manufacturing_weight = 0.0 is below its minimum 0.1"),
        ("labour.plant_worker_age", [22.0, 80.0], "labour.plant_worker_age = 80.0 is above its maximum 75"),
        ("labour.plant_tenure_years", [5.0], "labour.plant_tenure_years must be a list of 2 values"),
        ("demography.fertility_rate", 9.0, "demography.fertility_rate = 9.0 is above its maximum 8"),
        (
            "demography.young_adult_leaving_rate",
            -0.5,
            "demography.young_adult_leaving_rate = -0.5 is below its minimum 0",
        ),
        ("support.memory_weeks", 0, "support.memory_weeks = 0 is below its minimum 1"),
        ("services.max_wait_weeks", 2.5, "services.max_wait_weeks must be a whole number"),
        ("cohesion.high_distress_share", 1.1, "cohesion.high_distress_share = 1.1 is above its maximum 1"),
        ("cohesion.marginalized_weights", [0.0, 2.0], "cohesion.marginalized_weights = 0.0 is below its minimum 0.1"),
        ("ei.long_tenured_max_extra_weeks", 5.5, "ei.long_tenured_max_extra_weeks must be a whole number"),
        ("ei.long_tenured_max_extra_weeks", 53, "ei.long_tenured_max_extra_weeks = 53 is above its maximum 52"),
    ],
)
def test_a_behavioural_parameter_outside_its_range_is_refused(name, value, message):
    with pytest.raises(ConfigError) as err:
        resolve(overrides={name: value})
    assert message in str(err.value)


@pytest.mark.parametrize("name", ["distress.negligible_state", "demography.working_age", "ei.min_weeks"])
def test_a_structural_constant_is_not_a_parameter(name):
    # Definitions, legal rules and tolerances are constants in code, not overridable.
    with pytest.raises(ConfigError, match=f"unknown parameter '{name}'"):
        resolve(overrides={name: 1})


def test_unknown_scenario_names_the_available_ones():
    with pytest.raises(ConfigError, match="unknown scenario 'nope'; available: baseline"):
        resolve("nope")


def test_config_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="missing.toml: file not found"):
        resolve(config_file=missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[labour\nseparation_rate = 0.1\n")
    with pytest.raises(ConfigError, match="broken.toml: malformed TOML"):
        resolve(config_file=broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[labour]\nseparation_rate = 0.005\nmystery = 1\n")
    with pytest.raises(ConfigError, match=r"unknown.toml: unknown parameter 'labour.mystery'"):
        resolve(config_file=unknown)


def test_overrides_apply_in_order_and_change_the_hash(tmp_path):
    f = tmp_path / "o.toml"
    f.write_text("[labour]\nseparation_rate = 0.005\n")
    base = resolve()
    cfg = resolve(config_file=f)
    assert cfg["labour.separation_rate"] == 0.005
    assert cfg.hash() != base.hash()
    later = resolve(config_file=f, overrides={"labour.separation_rate": 0.006})
    assert later["labour.separation_rate"] == 0.006
    assert resolve().hash() == base.hash()


def test_read_toml_turns_failures_into_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        read_toml(tmp_path)


def test_parameter_document_is_up_to_date():
    from pathlib import Path

    from model.config import parameter_table

    doc = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
    assert doc.read_text(encoding="utf-8") == parameter_table(), (
        "docs/parameters.md is stale: run python -m experiments.paramdoc > docs/parameters.md"
    )


# -- the schema of base.toml, scenario files and the checks against the run ----------------


def test_a_new_section_needs_no_change_to_the_loader(tmp_path):
    from model.config import BASE_FILE

    text = BASE_FILE.read_text(encoding="utf-8")
    extra = (
        '\n[brand_new.sub]\nrate = { value = 0.2, unit = "probability", source = "test", tier = "detail" }\n'
        'mode = { value = "a", unit = "-", choices = ["a", "b"], source = "test", tier = "core" }\n'
    )
    (tmp_path / "base.toml").write_text(text + extra, encoding="utf-8")
    cfg = load_base(tmp_path / "base.toml")
    rate = cfg.defs["brand_new.sub.rate"]
    assert (rate.min, rate.max) == (0, 1)  # a probability is bounded even without min/max
    with pytest.raises(ConfigError, match="brand_new.sub.rate = 1.2 is above its maximum 1"):
        cfg.with_overrides({"brand_new.sub.rate": 1.2})
    with pytest.raises(ConfigError, match="brand_new.sub.mode must be one of a, b"):
        cfg.with_overrides({"brand_new": {"sub": {"mode": "c"}}})


def test_resolve_reads_another_configuration_directory(tmp_path):
    import shutil

    from model.config import PACKAGE_CONFIG_DIR, scenario_names

    shutil.copy(PACKAGE_CONFIG_DIR / "base.toml", tmp_path / "base.toml")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "faster.toml").write_text(
        '[scenario]\ndescription = "jobs end more often"\n[overrides]\nlabour.separation_rate = 0.008\n'
    )
    assert scenario_names(tmp_path) == ["faster"]
    cfg = resolve("faster", config_dir=tmp_path)
    assert cfg["labour.separation_rate"] == 0.008 and cfg.description == "jobs end more often"
    assert cfg.set_by == {"labour.separation_rate": str(tmp_path / "scenarios" / "faster.toml")}
    with pytest.raises(ConfigError, match="unknown scenario 'baseline'; available: faster"):
        resolve("baseline", config_dir=tmp_path)


def test_every_shipped_scenario_is_valid():
    from model.config import scenario_names

    for name in scenario_names():
        assert resolve(name).scenario == name


def _with_dates(extra: dict):
    """The base configuration plus month parameters made up for the test."""
    from model.config import Config, ParamDef

    base = load_base()
    defs = dict(base.defs)
    for name, value in extra.items():
        defs[name] = ParamDef(name, value, "YYYY-MM", "test", "detail")
    return Config(defs, {k: d.value for k, d in defs.items()}, "baseline")


def test_period_pairs_must_not_run_backwards():
    from model.config import date_pairs

    cfg = _with_dates({"x.start": "2005-01", "x.end": "2006-01", "y_start": "2004-01", "y_end": "2004-06"})
    assert {("x.start", "x.end"), ("y_start", "y_end"), ("run.start", "run.end")} <= set(date_pairs(cfg.defs))
    with pytest.raises(ConfigError, match=r"my.toml: x.end \(2004-12\) comes before x.start \(2005-01\)"):
        cfg.with_overrides({"x.end": "2004-12"}, "my.toml")
    cfg.with_overrides({"x.end": "2005-01"}, "my.toml")  # the same month is allowed


def test_dates_a_user_sets_must_fall_in_the_run():
    from model.inputs import check_dates_in_run

    cfg = _with_dates({"x.start": "2005-01", "x.end": "2006-01", "event": "2005-06"})
    short = cfg.with_overrides({"run.start": "2005-01", "run.end": "2005-12"}, "command line")
    check_dates_in_run(short)  # defaults outside the run are fine
    check_dates_in_run(short.with_overrides({"x.start": "2004-01", "x.end": "2019-01"}, "my.toml"))
    for name, value, message in [
        ("x.start", "2006-01", "begins after the end of the run"),
        ("event", "2004-12", "falls outside the run (2005-01 to 2005-12)"),
    ]:
        with pytest.raises(ConfigError, match=f"my.toml: {name} = {value} {re.escape(message)}"):
            check_dates_in_run(short.with_overrides({name: value, "x.end": "2019-01"}, "my.toml"))
    ends_early = cfg.with_overrides({"run.start": "2007-01", "run.end": "2008-12"}, "command line")
    with pytest.raises(ConfigError, match="x.end = 2006-12 ends before the start of the run"):
        check_dates_in_run(ends_early.with_overrides({"x.end": "2006-12"}, "my.toml"))
    # a scenario's own dates are its business: a shortened run may leave them out
    from_scenario = ends_early.with_overrides({"event": "2003-01"}, "configs/scenarios/baseline.toml")
    check_dates_in_run(from_scenario)


# -- tiers, and every entry sourced or explored ----------------------------------------------
SENSITIVITY_FILES = ("sensitivity.toml", "social.toml", "social_detail.toml", "robustness.toml")
"""The default sensitivity files of configs/sweeps/: together they give a range to every
assumption of base.toml."""


def test_every_parameter_has_a_tier_and_the_core_tier_is_the_smaller():
    from model.config import TIERS

    defs = load_base().defs
    tiers = {t: [n for n, d in defs.items() if d.tier == t] for t in TIERS}
    assert sum(map(len, tiers.values())) == len(defs)
    assert 30 <= len(tiers["core"]) < len(tiers["detail"])
    # Every intervention's switch is core: a scenario is read by what it switches on.
    switches = [n for n in defs if n.startswith("interventions.") and n.endswith(".enabled")]
    assert len(switches) >= 9 and all(defs[n].tier == "core" for n in switches)


@pytest.mark.parametrize(
    "old, new, message",
    [
        (', tier = "core" }', " }", "tier: missing"),
        (', tier = "core" }', ', tier = "main" }', "tier"),
    ],
)
def test_base_file_without_a_valid_tier_is_refused(tmp_path, old, new, message):
    text = BASE_FILE.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("job_loss = "))
    bad = tmp_path / "base.toml"
    bad.write_text(text.replace(line, line.replace(old, new)), encoding="utf-8")
    with pytest.raises(ConfigError, match=f"distress.job_loss: {message}"):
        load_base(bad)


def test_the_parameter_document_lists_the_core_tier_first():
    from model.config import parameter_table

    doc = parameter_table()
    core, detail = doc.index("## Core parameters"), doc.index("## Detail parameters")
    assert core < detail
    for name, d in load_base().defs.items():
        row = f"| `{name.partition('.')[2]}` |"
        assert row in (doc[core:detail] if d.tier == "core" else doc[detail:]), name


def _swept() -> dict[str, dict]:
    from pathlib import Path

    from experiments.design import load_plan

    sweeps = Path(BASE_FILE).parent / "sweeps"
    ranges: dict[str, dict] = {}
    for f in SENSITIVITY_FILES:
        ranges.update(load_plan(sweeps / f, design="morris", samples=2).parameters)
    return ranges


def test_every_entry_is_sourced_or_an_assumption_with_a_range_in_the_sensitivity_files():
    from model.config import REFERENCE_KEY

    swept = _swept()
    unexplored, unsourced = [], []
    for name, d in load_base().defs.items():
        if isinstance(d.value, (bool, str)):
            continue  # switches, dates and choices: scenario settings, which a design cannot sample
        source = d.source.strip().lower()
        if source.startswith("assumption"):
            if name not in swept:
                unexplored.append(name)
        elif not (REFERENCE_KEY.search(d.source) or source.startswith(("calibrated", "design choice"))):
            unsourced.append(name)
    assert not unexplored, f"assumptions without a range in configs/sweeps/{SENSITIVITY_FILES}: {unexplored}"
    assert not unsourced, f"entries neither citing a reference key, calibrated nor assumptions: {unsourced}"


def test_each_range_contains_the_default():
    defs = load_base().defs
    for name, spec in _swept().items():
        lo, hi, value = spec["min"], spec["max"], defs[name].value
        if isinstance(value, list):
            assert all(min(a, b) <= v <= max(a, b) for a, b, v in zip(lo, hi, value)), name
        else:
            assert lo <= value <= hi, name
