"""Every malformed input file gives exit status 2 and a short message naming the file and
the field, with no traceback and no output directory.

Each case copies ``configs/`` into a temporary directory, breaks one file (or writes a bad
``--config`` file) and runs ``cohesion run`` against it (``COHESION_CONFIG_DIR``). The
calibration targets, which a run does not read, are checked through their loader.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from experiments.cli import main
from model.config import ConfigError, load_targets

from helpers import ROOT, cohesion

CONFIGS = ROOT / "configs"
SMALL = ["--scale", "0.02", "--start", "2005-01", "--end", "2006-12", "--no-figure", "--quiet"]


@dataclass
class Case:
    """A malformed input: ``edit`` changes one file of the copied configs (``old`` replaced
    by ``new``, or the whole text when ``old`` is None); ``config`` is the text of a
    ``--config`` file instead. The message must contain every string of ``expect``."""

    id: str
    file: str | None
    old: str | None = None
    new: str = ""
    expect: tuple[str, ...] = ()
    config: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


B, S, T = "base.toml", "scenarios/baseline.toml", "timeline/closures.toml"
M, W, O = "territory/municipalities.csv", "territory/water.csv", "organizations.csv"
SCALE = 'scale = { value = 1.0, unit = "model persons per resident", min = 0.001, max = 4.0,'
SEPARATION = 'separation_rate = { value = 0.0040, unit = "1/week", min = 0, max = 1,'
MAX_BENEFIT_YEARS = 'years = [2003, 2018], unit = "CAD/week"'
OLYMEL_CLOSED = 'closed = "2005-12-16"'
OLYMEL_WAVE = '{ date = "2005-07-04", workers = 120 }'
MAGOG = "45072,Magog,23880,25358,false,false,,144.19,45.267,-72.150,"
EASTMAN = "45093,Eastman,1585,1740,false,false,,73.98,45.300,-72.320,"
CSSS = "CSSS de Memphrémagog (Magog),public_service,social,45072,1,,"
SALON = "Hair salon,informal_place,community,*,,1500,"

CASES = [
    # base.toml: the parameter definitions
    Case("base-malformed-toml", B, "[labour]", "[labour", ("base.toml", "malformed TOML")),
    Case(
        "base-no-source",
        B,
        SCALE + ' source = "design choice',
        SCALE + ' note = "design choice',
        ("base.toml", "run.scale", "has no source"),
    ),
    Case(
        "base-unknown-key",
        B,
        SCALE,
        SCALE + " default = 1.0,",
        ("base.toml", "run.scale", "unknown keys ['default']", "allowed"),
    ),
    Case(
        "base-min-above-max",
        B,
        SCALE,
        SCALE.replace("min = 0.001, max = 4.0", "min = 5.0, max = 4.0"),
        ("base.toml", "run.scale", "min (5.0) is above max (4.0)"),
    ),
    Case(
        "base-default-out-of-range",
        B,
        SCALE,
        SCALE.replace("value = 1.0", "value = 9.0"),
        ("base.toml", "run.scale", "above its maximum 4.0"),
    ),
    Case(
        "base-probability-bound",
        B,
        SEPARATION,
        SEPARATION.replace("max = 1,", "max = 2,"),
        ("base.toml", "labour.separation_rate", "within [0, 1]"),
    ),
    Case(
        "base-years-length",
        B,
        MAX_BENEFIT_YEARS,
        MAX_BENEFIT_YEARS.replace("2018", "2019"),
        ("base.toml", "ei.max_weekly_benefit", "one value per year"),
    ),
    Case(
        "base-bare-value",
        B,
        'density_scale_km = { value = 2.0, unit = "km", min = 0.1, max = 50.0,',
        "density_scale_km = 2.0 #",
        ("base.toml", "run.density_scale_km", "must be a table with value, unit and source"),
    ),
    Case(
        "base-value-wrong-type",
        B,
        SCALE,
        SCALE.replace("value = 1.0", 'value = "one"'),
        ("base.toml", "run.scale", "min/max apply to numbers only"),
    ),
    Case(
        "base-run-backwards",
        B,
        'end = { value = "2018-12"',
        'end = { value = "2002-12"',
        ("base.toml", "run.end (2002-12) must come after run.start"),
    ),
    # the scenario file
    Case(
        "scenario-unknown-key",
        S,
        "[scenario]\n",
        '[scenario]\ntitle = "x"\n',
        ("baseline.toml", "scenario", "unknown key 'title'", "allowed: description"),
    ),
    Case(
        "scenario-unknown-table",
        S,
        "[overrides]",
        "[override]",
        ("baseline.toml", "unknown key 'override'", "allowed: scenario, overrides"),
    ),
    Case(
        "scenario-unknown-parameter",
        S,
        "[overrides]",
        "[overrides]\nlabour.mystery = 1",
        ("baseline.toml", "unknown parameter 'labour.mystery'"),
    ),
    Case(
        "scenario-out-of-range",
        S,
        "[overrides]",
        "[overrides]\nei.replacement_rate = 1.5",
        ("baseline.toml", "ei.replacement_rate = 1.5 is above its maximum 1"),
    ),
    Case(
        "scenario-description-type",
        S,
        'description = "Baseline',
        'description = 3\nnote = "Baseline',
        ("baseline.toml", "scenario.description: must be a valid string, got 3"),
    ),
    # a --config file
    Case(
        "config-unknown-parameter",
        None,
        config="[labour]\nseparation_rat = 0.005\n",
        expect=("bad.toml", "labour.separation_rat", "did you mean 'labour.separation_rate'"),
    ),
    Case(
        "config-wrong-type",
        None,
        config='[labour]\nseparation_rate = "high"\n',
        expect=("bad.toml", "labour.separation_rate must be a number"),
    ),
    Case(
        "config-probability-above-1",
        None,
        config="[ei]\nreplacement_rate = 1.5\n",
        expect=("bad.toml", "ei.replacement_rate = 1.5 is above its maximum 1"),
    ),
    Case(
        "config-negative-rate",
        None,
        config="[labour]\nseparation_rate = -0.01\n",
        expect=("bad.toml", "labour.separation_rate = -0.01 is below its minimum 0"),
    ),
    Case(
        "config-table-not-value",
        None,
        config="[labour.separation_rate]\nvalue = 0.005\n",
        expect=("bad.toml", "labour.separation_rate takes a plain value"),
    ),
    Case(
        "config-scenario-table",
        None,
        config='[scenario]\ndescription = "mine"\n',
        expect=("bad.toml", "[scenario] belongs in a scenario file"),
    ),
    Case(
        "config-list-length",
        None,
        config="[labour]\nwage_loss_men = [0.2]\n",
        expect=("bad.toml", "labour.wage_loss_men must be a list of 2 values"),
    ),
    Case(
        "config-shares-sum",
        None,
        config="[population]\nhousehold_size_shares = [0.5, 0.5, 0.5, 0, 0, 0]\n",
        expect=("bad.toml", "population.household_size_shares", "shares must add up to 1"),
    ),
    Case(
        "config-period-backwards",
        None,
        config='[interventions.guide]\nend = "2005-01"\n',
        expect=("bad.toml", "interventions.guide.end (2005-01) comes before interventions.guide.start"),
    ),
    Case(
        "config-date-after-run",
        None,
        config='[interventions.guide]\nstart = "2007-03"\n',
        expect=(
            "bad.toml",
            "interventions.guide.start = 2007-03 begins after the end of the run",
            "2006-12 or earlier",
        ),
    ),
    Case(
        "config-bad-month",
        None,
        config='[interventions.guide]\nstart = "2009-13"\n',
        expect=("bad.toml", "interventions.guide.start", "not a date of the form YYYY-MM"),
    ),
    Case(
        "config-whole-number",
        None,
        config="[services]\nmax_wait_weeks = 2.5\n",
        expect=("bad.toml", "services.max_wait_weeks must be a whole number"),
    ),
    Case(
        "config-run-backwards",
        None,
        config='[run]\nstart = "2010-01"\nend = "2005-01"\n',
        args=["--scale", "0.02", "--no-figure"],
        expect=("bad.toml", "run.end (2005-01) must come after run.start (2010-01)"),
    ),
    Case("config-malformed-toml", None, config="[labour\n", expect=("bad.toml", "malformed TOML")),
    # the command line and the machine
    Case(
        "scale-zero", None, args=["--scale", "0"], expect=("command line", "run.scale = 0.0 is below its minimum 0.001")
    ),
    Case(
        "scale-too-large-for-memory",
        None,
        args=["--scale", "1"],
        env={"COHESION_MEMORY_LIMIT": "450M"},
        expect=(
            "run.scale = 1",
            "needs about",
            "MB of memory",
            "450 MB available",
            "COHESION_MEMORY_LIMIT",
            "--scale of at most about",
        ),
    ),
    Case(
        "memory-limit-malformed",
        None,
        env={"COHESION_MEMORY_LIMIT": "lots"},
        expect=("COHESION_MEMORY_LIMIT", "'lots' is not an amount of memory"),
    ),
    # the closure timeline
    Case(
        "closure-before-announcement",
        T,
        OLYMEL_CLOSED,
        'closed = "2005-04-16"',
        ("closures.toml", "closure 'olymel'", "closed (2005-04-16) comes before announced (2005-05-02)"),
    ),
    Case(
        "closure-layoffs-above-workforce",
        T,
        OLYMEL_CLOSED,
        OLYMEL_CLOSED + "\nworkforce = 300",
        ("closures.toml", "closure 'olymel'", "lay off 520 workers, more than the employer's workforce of 300"),
    ),
    Case(
        "closure-wave-date-malformed",
        T,
        OLYMEL_WAVE,
        OLYMEL_WAVE.replace("2005-07-04", "2005-07-32"),
        ("closures.toml", "closure 'olymel'", "waves.0.date", "'2005-07-32' is not a date YYYY-MM-DD"),
    ),
    Case(
        "closure-wave-date-with-time",
        T,
        OLYMEL_WAVE,
        OLYMEL_WAVE.replace('"2005-07-04"', "2005-07-04T08:00:00"),
        ("closures.toml", "closure 'olymel'", "waves.0.date", "no time of day"),
    ),
    Case(
        "closure-negative-workers",
        T,
        OLYMEL_WAVE,
        OLYMEL_WAVE.replace("120", "-120"),
        ("closures.toml", "closure 'olymel'", "waves.0.workers", "whole number from 0 to 1,000,000"),
    ),
    Case(
        "closure-fractional-workers",
        T,
        OLYMEL_WAVE,
        OLYMEL_WAVE.replace("120", "120.5"),
        ("closures.toml", "closure 'olymel'", "waves.0.workers", "valid integer"),
    ),
    Case(
        "closure-wave-unknown-key",
        T,
        OLYMEL_WAVE,
        OLYMEL_WAVE.replace(" }", ", plant = 2 }"),
        ("closures.toml", "closure 'olymel'", "waves.0: unknown key 'plant'", "allowed: date, workers"),
    ),
    Case(
        "closure-wave-outside",
        T,
        OLYMEL_WAVE,
        OLYMEL_WAVE.replace("2005-07-04", "2004-07-04"),
        ("closures.toml", "closure 'olymel'", "falls outside announced..closed"),
    ),
    Case(
        "closure-unknown-key",
        T,
        'industry = "printing"',
        'industry = "printing"\nowner = "x"',
        ("closures.toml", "closure 'quebecor'", "unknown key(s) ['owner']", "allowed"),
    ),
    Case(
        "closure-unknown-municipality",
        T,
        'id = "quebecor"\nemployer = "Quebecor World printing plant"\nindustry = "printing"\nsector = "manufacturing"\nmunicipality = "Magog"',
        'id = "quebecor"\nemployer = "Quebecor World printing plant"\nindustry = "printing"\nsector = "manufacturing"\nmunicipality = "Sherbrooke"',
        ("closures.toml", "closure 'quebecor'", "unknown municipality 'Sherbrooke'", "municipalities.csv"),
    ),
    Case(
        "closure-unknown-sector",
        T,
        'industry = "printing"\nsector = "manufacturing"',
        'industry = "printing"\nsector = "mining"',
        ("closures.toml", "closure 'quebecor'", "sector 'mining' is not one of the model's sectors"),
    ),
    Case(
        "closure-waves-not-a-list",
        T,
        'waves = [ { date = "2008-03-31", workers = 400 } ]',
        "waves = 400",
        ("closures.toml", "closure 'quebecor'", "waves", "valid list"),
    ),
    Case(
        "closure-negative-severance",
        T,
        'severance_weeks = 16\nwaves = [ { date = "2008-03-31"',
        'severance_weeks = -16\nwaves = [ { date = "2008-03-31"',
        ("closures.toml", "closure 'quebecor'", "severance_weeks", "whole number from 0 to 1,000"),
    ),
    # the territory tables
    Case(
        "municipalities-missing-column",
        M,
        "pop_2016,land_km2,lat,lon",
        "pop_2016,land_km2,latitude,lon",
        ("municipalities.csv", "missing column(s) ['lat']"),
    ),
    Case(
        "municipalities-negative-population",
        M,
        MAGOG,
        MAGOG.replace("23880", "-23880"),
        ("municipalities.csv", "line 2", "pop_2006", "whole number from 1 to 1,000,000"),
    ),
    Case(
        "municipalities-text-population",
        M,
        MAGOG,
        MAGOG.replace("23880", "about 24k"),
        ("municipalities.csv", "line 2", "pop_2006", "valid integer"),
    ),
    Case(
        "municipalities-zero-area",
        M,
        MAGOG,
        MAGOG.replace("144.19", "0"),
        ("municipalities.csv", "line 2", "land_km2", "> 0"),
    ),
    Case(
        "municipalities-duplicate-code",
        M,
        EASTMAN,
        EASTMAN.replace("45093", "45072"),
        ("municipalities.csv", "column code", "'45072' appears twice"),
    ),
    Case(
        "municipalities-far-centre",
        M,
        EASTMAN,
        EASTMAN.replace("45.300", "4.530"),
        ("municipalities.csv", "column lat", "km apart", "within 300 km"),
    ),
    Case(
        "municipalities-latitude",
        M,
        EASTMAN,
        EASTMAN.replace("45.300", "145.300"),
        ("municipalities.csv", "line 4", "lat", "within [-90, 90]"),
    ),
    Case(
        "municipalities-flag",
        M,
        MAGOG,
        MAGOG.replace(",false,false,", ",no,false,"),
        ("municipalities.csv", "line 2", "pop_2006_estimated", "true or false"),
    ),
    Case(
        "water-bad-coordinate",
        W,
        "Lake Memphrémagog,0,45.2615",
        "Lake Memphrémagog,0,north",
        ("water.csv", "line 2", "lat"),
    ),
    # the organizations
    Case(
        "organizations-unknown-municipality",
        O,
        CSSS,
        CSSS.replace("45072", "99999"),
        ("organizations.csv", "line 2", "municipality_code '99999'", "allowed: * or one of"),
    ),
    Case(
        "organizations-count-and-rate",
        O,
        SALON,
        SALON.replace(",,1500,", ",3,1500,"),
        ("organizations.csv", "give exactly one of count and per_residents"),
    ),
    Case(
        "organizations-negative-count",
        O,
        CSSS,
        CSSS.replace(",1,,", ",-1,,"),
        ("organizations.csv", "line 2", "count", "whole number from 0 to 1,000"),
    ),
    Case(
        "organizations-unknown-kind",
        O,
        CSSS,
        CSSS.replace("public_service", "hospital"),
        ("organizations.csv", "line 2", "kind", "must be one of"),
    ),
    Case(
        "organizations-unknown-column",
        O,
        "name,kind,domain",
        "name,type,domain",
        ("organizations.csv", "missing column(s) ['kind']"),
    ),
    Case(
        "organizations-no-source",
        O,
        "Social-development round table,community,community,45072,1,,,support,local listings [local-organizations]",
        "Social-development round table,community,community,45072,1,,,support,",
        ("organizations.csv", "source", "missing"),
    ),
]


def break_file(configs: Path, case: Case) -> None:
    path = configs / case.file
    text = path.read_text(encoding="utf-8")
    assert case.old in text, f"{case.id}: the text to break is no longer in {case.file}"
    path.write_text(text.replace(case.old, case.new, 1), encoding="utf-8")


def test_the_copied_configuration_runs_as_is(configs, capsys):
    """The cases below fail because of their one change, not because of the copy."""
    from model.config import resolve
    from model.inputs import check_run_inputs

    check_run_inputs(resolve(overrides={"run.scale": 0.02}))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_exits_2_naming_file_and_field(case, configs, tmp_path, monkeypatch, capsys):
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    args = list(case.args or SMALL)
    if case.file:
        break_file(configs, case)
    if case.config is not None:
        bad = tmp_path / "bad.toml"
        bad.write_text(case.config, encoding="utf-8")
        args += ["--config", str(bad)]
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    code = main(["run", *args, "--out", str(out)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert 1 <= len(lines) <= 3, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for text in case.expect:
        assert text in err, f"{text!r} not in {err!r}"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not list(tmp_path.glob("results"))


TARGET_CASES = [
    (
        "negative-tolerance",
        "tolerance = 0.07",
        "tolerance = -0.07",
        ("targets.toml", "[reemployed_12m]", "tolerance must be >= 0"),
    ),
    (
        "unknown-key",
        "tolerance = 0.07",
        "tolerance = 0.07\nweight = 2",
        ("targets.toml", "[reemployed_12m]", "unknown key 'weight'", "allowed: value, tolerance"),
    ),
    ("missing-value", "value = 0.43\n", "", ("targets.toml", "[reemployed_12m]", "value: missing")),
    ("text-value", "value = 0.43", 'value = "43%"', ("targets.toml", "[reemployed_12m]", "value")),
    (
        "relative-too-wide",
        "tolerance = 0.03\nrelative = true",
        "tolerance = 3\nrelative = true",
        ("targets.toml", "[population_2006]", "relative tolerance"),
    ),
    ("not-a-table", "[reemployed_12m]", "stray = 1\n[reemployed_12m]", ("targets.toml", "stray must be a table")),
]


@pytest.mark.parametrize("old, new, expect", [c[1:] for c in TARGET_CASES], ids=[c[0] for c in TARGET_CASES])
def test_malformed_calibration_target_is_refused(configs, old, new, expect):
    path = configs / "calibration" / "targets.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_targets()
    message = str(err.value)
    assert "\n" not in message
    for part in expect:
        assert part in message


def test_shipped_calibration_targets_load():
    targets = load_targets()
    assert targets["population_2011"].relative and targets["reemployed_12m"].tolerance > 0


def test_missing_file_names_it(configs, tmp_path, monkeypatch, capsys):
    (configs / "timeline" / "closures.toml").unlink()
    monkeypatch.chdir(tmp_path)
    assert main(["run", *SMALL, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert re.search(r"closures\.toml: file not found", err) and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in CASES
        if c.id
        in ("closure-layoffs-above-workforce", "municipalities-negative-population", "scale-too-large-for-memory")
    ],
    ids=lambda c: c.id,
)
def test_the_installed_command_exits_2_without_traceback(case, tmp_path):
    """The same, through a separate process as a user runs it."""
    copy = tmp_path / "configs"
    shutil.copytree(CONFIGS, copy, ignore=shutil.ignore_patterns("sweeps"))
    if case.file:
        break_file(copy, case)
    res = cohesion(
        "run",
        *(case.args or SMALL),
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
        configs=copy,
        env=case.env,
        bare=True,
        timeout=300,
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert len([line for line in res.stderr.splitlines() if line.strip()]) <= 3
    for text in case.expect:
        assert text in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["configs"]
