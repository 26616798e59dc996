"""Property-based tests of the bad-input contract (issue 18): random malformed
configurations, closure tables, territory and organization tables and sweep files, each
given to the command line in this process. Every one must end with exit status 2, one
line on stderr, no traceback, nothing written, and within a time limit (no hang)."""

from __future__ import annotations

import json
import math
import shutil
import signal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.cli import main
from model.config import PACKAGE_CONFIG_DIR, load_base

CONFIGS = PACKAGE_CONFIG_DIR
BASE = load_base(CONFIGS / "base.toml")
SMALL = ["--scale", "0.02", "--start", "2005-01", "--end", "2005-06", "--no-figure", "--quiet"]
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
LIMIT_SECONDS = 30


class Hang(BaseException):
    """Raised by the alarm: the command did not end in time (not an Exception, so that the
    command line's catch-all cannot swallow it)."""


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    copy = tmp_path_factory.mktemp("configs") / "configs"
    shutil.copytree(CONFIGS, copy, ignore=shutil.ignore_patterns("sweeps"))
    return copy


@pytest.fixture
def env(configs, tmp_path, monkeypatch):
    monkeypatch.setenv("COHESION_CONFIG_DIR", str(configs))
    monkeypatch.delenv("COHESION_MEMORY_LIMIT", raising=False)
    monkeypatch.chdir(tmp_path)
    return configs


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


def check_refused(args: list[str], capsys, workdir: Path) -> None:
    """The contract: exit 2, one line, no traceback, nothing written, within the limit."""
    out = workdir / "out"
    before = sorted(p.name for p in workdir.iterdir())

    def alarm(signum, frame):
        raise Hang(f"no answer within {LIMIT_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(LIMIT_SECONDS)
    try:
        t0 = time.perf_counter()
        rc = main([*args, "--out", str(out)])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert not out.exists() and sorted(p.name for p in workdir.iterdir()) == before
    assert time.perf_counter() - t0 < LIMIT_SECONDS


# -- configurations ------------------------------------------------------------------------------
NUMERIC = [n for n, d in BASE.defs.items() if not isinstance(d.value, (bool, str)) and not n.startswith("run.")]
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def bad_override(draw):
    """A parameter and a value it must refuse: non-finite, out of range, the wrong type,
    a list of the wrong length or with a non-finite element."""
    name = draw(st.sampled_from(NUMERIC))
    d = BASE.defs[name]
    if isinstance(d.value, list):
        n = len(d.value)
        kind = draw(st.sampled_from(["nan-inside", "length", "text", "above"]))
        if kind == "nan-inside":
            values = list(d.value)
            values[draw(st.integers(0, n - 1))] = draw(NON_FINITE)
            return name, values
        if kind == "length":
            return name, [float(d.value[0])] * draw(st.sampled_from([0, n + 1, n + 5]).filter(lambda k: k != n))
        if kind == "text":
            return name, "many"
        return name, [d.max + draw(st.floats(1, 1e6))] * n
    kind = draw(st.sampled_from(["non-finite", "below", "above", "text", "bool"]))
    if kind == "non-finite":
        return name, draw(NON_FINITE)
    if kind == "below":
        return name, d.min - draw(st.integers(1, 10**6) if isinstance(d.value, int) else st.floats(1e-3, 1e30))
    if kind == "above":
        return name, d.max + draw(st.integers(1, 10**6) if isinstance(d.value, int) else st.floats(1e-3, 1e30))
    if kind == "text":
        return name, draw(st.text(min_size=0, max_size=8))
    return name, draw(st.booleans())


@SETTINGS
@given(bad=bad_override(), twice=st.booleans())
def test_a_malformed_config_file_is_refused(env, tmp_path, capsys, bad, twice):
    name, value = bad
    section, key = name.rsplit(".", 1)
    text = f"[{section}]\n{key} = {toml_value(value)}\n"
    if twice:  # the same parameter also as a quoted dotted key
        default = BASE.defs[name].value
        text = f'"{name}" = {toml_value(default)}\n' + text
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    check_refused(["run", *SMALL, "--config", str(config)], capsys, tmp_path)


# -- closure tables --------------------------------------------------------------------------------
TIMELINE = (CONFIGS / "timeline" / "closures.toml").read_text(encoding="utf-8")
BAD_COUNTS = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=1_000_001, max_value=2**62),
    NON_FINITE,
    st.floats(0.1, 1e9).filter(lambda x: not x.is_integer()),
    st.text(max_size=5),
    st.booleans(),
)


@SETTINGS
@given(field=st.sampled_from(["severance", "workers", "workforce"]), value=BAD_COUNTS, big_severance=st.booleans())
def test_a_malformed_closure_table_is_refused(env, tmp_path, capsys, field, value, big_severance):
    if field == "severance" and big_severance:
        value = 65536  # read as 0 by a 16-bit field, before the fix
    literal = toml_value(value)
    if field == "severance":
        text = TIMELINE.replace("severance_weeks = 16\n", f"severance_weeks = {literal}\n", 1)
    elif field == "workers":
        text = TIMELINE.replace(
            '{ date = "2008-03-31", workers = 400 }', f'{{ date = "2008-03-31", workers = {literal} }}', 1
        )
    else:
        text = TIMELINE.replace('closed = "2005-12-16"', f'closed = "2005-12-16"\nworkforce = {literal}', 1)
    assert text != TIMELINE
    path = env / "timeline" / "closures.toml"
    path.write_text(text, encoding="utf-8")
    try:
        check_refused(["run", *SMALL], capsys, tmp_path)
    finally:
        path.write_text(TIMELINE, encoding="utf-8")


# -- territory and organization tables -------------------------------------------------------------
MUNICIPALITIES = (CONFIGS / "territory" / "municipalities.csv").read_text(encoding="utf-8")
ORGANIZATIONS = (CONFIGS / "organizations.csv").read_text(encoding="utf-8")
COLUMNS = {"pop_2006": 2, "pop_2011": 3, "land_km2": 7, "lat": 8, "lon": 9}
BAD_CELL = {
    "pop_2006": ["0", "-5", "1.5", "1e7", "nan", "inf", "many", "2000000"],
    "pop_2011": ["0", "-1", "nan", "9999999999", "x"],
    "land_km2": ["0", "-3", "nan", "inf", "1e300", "1000000", "90000", "5000.5", "km"],
    "lat": ["nan", "inf", "91", "-1000", "north"],
    "lon": ["nan", "-inf", "181", "east"],
}


@SETTINGS
@given(row=st.integers(1, 17), data=st.data())
def test_a_malformed_municipality_table_is_refused(env, tmp_path, capsys, row, data):
    column = data.draw(st.sampled_from(sorted(COLUMNS)), label="column")
    cell = data.draw(st.sampled_from(BAD_CELL[column]), label="cell")
    lines = MUNICIPALITIES.splitlines()
    cells = lines[row].split(",")
    cells[COLUMNS[column]] = cell
    lines[row] = ",".join(cells)
    path = env / "territory" / "municipalities.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        check_refused(["run", *SMALL], capsys, tmp_path)
    finally:
        path.write_text(MUNICIPALITIES, encoding="utf-8")


@SETTINGS
@given(
    row=st.integers(1, 17),
    count=st.sampled_from(["-1", "1.5", "nan", "100000000", "1001", "lots"]),
    per=st.sampled_from(["0", "-3", "nan", "inf", "0.000001", "9.99", "x"]),
    which=st.booleans(),
    duplicate=st.booleans(),
)
def test_a_malformed_organization_table_is_refused(env, tmp_path, capsys, row, count, per, which, duplicate):
    lines = ORGANIZATIONS.splitlines()
    if duplicate:
        lines.append(lines[row])
    else:
        cells = lines[row].split(",")
        if cells[4]:
            cells[4] = count
        else:
            cells[5] = per
        if which:  # both columns at once
            cells[4], cells[5] = cells[4] or "1", cells[5] or "1500"
        lines[row] = ",".join(cells)
    path = env / "organizations.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        check_refused(["run", *SMALL], capsys, tmp_path)
    finally:
        path.write_text(ORGANIZATIONS, encoding="utf-8")


# -- sweep files ------------------------------------------------------------------------------------
BAD_SWEEP_VALUES = {
    "replicates": [0, -1, "3", 1.5, True, 10**9],
    "samples": [0, -2, "8", 2.5, 10**7],
    "levels": [1, 0, "4", 4.5],
    "seed": [-1, "x", 1.5, False],
    "scale": [math.nan, math.inf, 0, -1, 100, "big", True],
    "start": ["1800-01", "2003-13", "x", 5, "2100-01"],
    "end": ["9999-12", "2002-12", "", 7],
    "scenarios": [5, ["nope"], [], [1], True],
    "name": ["/tmp/x", "../../x", "", "a/b", ".hidden", 3],
    "design": ["grid", 3, ""],
    "second_order": ["yes", 1, "true"],
    "description": [42, ["x"], True],
    "mystery": [1],
}


@SETTINGS
@given(key=st.sampled_from(sorted(BAD_SWEEP_VALUES)), data=st.data(), nan_range=st.booleans())
def test_a_malformed_sweep_file_is_refused(env, tmp_path, capsys, key, data, nan_range):
    value = data.draw(st.sampled_from(BAD_SWEEP_VALUES[key]), label="value")
    design = "lhs" if key in ("samples", "second_order") else "factorial"
    sweep = {"design": design, "scale": 0.02, "start": "2005-01", "end": "2005-06"}
    if key == "second_order":
        sweep["design"] = "sobol"
    sweep[key] = value
    lines = ["[sweep]"] + [f"{k} = {toml_value(v)}" for k, v in sweep.items()]
    if sweep["design"] == "factorial":
        lines += ["[parameters]", '"labour.separation_rate" = [0.003, 0.004]']
    else:
        lo = "nan" if nan_range else "0.003"
        lines += [
            "[parameters]",
            f'"labour.separation_rate" = {{ min = {lo}, max = 0.005 }}',
            '"labour.matching_efficiency" = { min = 0.15, max = 0.27 }',
        ]
    path = tmp_path / "s.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check_refused(["sweep", str(path), "--workers", "1", "--quiet"], capsys, tmp_path)
