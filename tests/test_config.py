"""Parameters: every default has a source; bad overrides are refused with a clear message."""

import math

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
    bad.write_text(text.replace('min = 0.001, max = 4.0, source = "DESIGN.md', 'min = 0.001, max = 4.0, note = "DESIGN.md'),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="run.scale has no source"):
        load_base(bad)


@pytest.mark.parametrize("overrides, message", [
    ({"labour.no_such_rate": 0.1}, "unknown parameter 'labour.no_such_rate'"),
    ({"labour.separation_rat": 0.1}, "did you mean 'labour.separation_rate'"),
    ({"run.scale": -1.0}, "run.scale = -1.0 is below its minimum"),
    ({"run.scale": 0}, "run.scale = 0 is below its minimum"),
    ({"run.scale": "big"}, "run.scale must be a number"),
    ({"run.scale": math.nan}, "run.scale must be a number"),
    ({"ei.replacement_rate": 1.5}, "ei.replacement_rate = 1.5 is above its maximum 1"),
    ({"labour.separation_rate": -0.1}, "below its minimum"),
    ({"ei.waiting_weeks": 2.5}, "ei.waiting_weeks must be a whole number"),
    ({"run.start": "2003-13"}, "not a date of the form YYYY-MM"),
    ({"run.start": "2010-01", "run.end": "2005-01"}, "run.end (2005-01) must come after run.start (2010-01)"),
    ({"population.household_size_shares": [0.5, 0.5, 0.5, 0, 0, 0]}, "shares must add up to 1"),
    ({"population.household_size_shares": [0.5, 0.5]}, "must be a list of 6 values"),
    ({"strain.out_migration_after_weeks": True}, "must be a number"),
])
def test_bad_override_is_refused(overrides, message):
    with pytest.raises(ConfigError) as err:
        resolve(overrides=overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


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
    assert doc.read_text(encoding="utf-8") == parameter_table(), \
        "docs/parameters.md is stale: run python -m experiments.paramdoc > docs/parameters.md"
