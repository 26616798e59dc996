"""Property-based tests of the numeric fields of the configuration: any value outside a
field's allowed range is refused with a ConfigError naming the field, any value inside is
accepted (hypothesis)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from model.config import PACKAGE_CONFIG_DIR, ConfigError, load_base, load_targets
from model.inputs import (
    MAX_LAND_KM2,
    MAX_ORG_COUNT,
    MAX_POPULATION,
    MIN_PER_RESIDENTS,
    check_memory,
    check_municipalities,
    estimate_memory,
    read_organizations,
)
from model.timeline import MAX_SEVERANCE_WEEKS, MAX_WORKERS, Timeline

BASE = load_base(PACKAGE_CONFIG_DIR / "base.toml")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bounded(kind) -> list[str]:
    """Numeric parameters with both bounds, scalar or list, except the run's own."""
    out = []
    for name, d in BASE.defs.items():
        if d.min is None or d.max is None or name.startswith("run.") or isinstance(d.value, bool):
            continue
        if kind == "scalar" and isinstance(d.value, (int, float)):
            out.append(name)
        if kind == "list" and isinstance(d.value, list) and d.unit != "shares":
            out.append(name)
    return out


SCALARS = bounded("scalar")
LISTS = bounded("list")


def inside(d) -> st.SearchStrategy:
    if isinstance(d.value, int):
        return st.integers(math.ceil(d.min), math.floor(d.max))
    return st.floats(d.min, d.max, allow_nan=False)


def outside(d) -> st.SearchStrategy:
    below = st.floats(max_value=d.min, exclude_max=True, allow_nan=False, allow_infinity=True)
    above = st.floats(min_value=d.max, exclude_min=True, allow_nan=False, allow_infinity=True)
    if isinstance(d.value, int) and not isinstance(d.value, bool):
        below = st.integers(max_value=math.ceil(d.min) - 1)
        above = st.integers(min_value=math.floor(d.max) + 1)
    return below | above


def test_the_properties_cover_many_parameters():
    assert len(SCALARS) >= 40 and len(LISTS) >= 5


@SETTINGS
@given(data=st.data())
def test_a_scalar_inside_its_range_is_accepted(data):
    name = data.draw(st.sampled_from(SCALARS), label="parameter")
    value = data.draw(inside(BASE.defs[name]), label="value")
    cfg = BASE.with_overrides({name: value}, "sweep.toml")
    assert cfg[name] == value
    assert type(cfg[name]) is type(BASE.defs[name].value)


@SETTINGS
@given(data=st.data())
def test_a_scalar_outside_its_range_is_refused_naming_it(data):
    name = data.draw(st.sampled_from(SCALARS), label="parameter")
    d = BASE.defs[name]
    value = data.draw(outside(d), label="value")
    with pytest.raises(ConfigError) as err:
        BASE.with_overrides({name: value}, "sweep.toml")
    message = str(err.value)
    assert message.startswith(f"sweep.toml: {name}")
    assert "minimum" in message or "maximum" in message or "finite" in message
    assert "\n" not in message


@SETTINGS
@given(data=st.data())
def test_a_list_is_accepted_exactly_when_every_element_is_inside(data):
    name = data.draw(st.sampled_from(LISTS), label="parameter")
    d = BASE.defs[name]
    values = data.draw(st.lists(inside(d) | outside(d), min_size=len(d.value), max_size=len(d.value)), label="values")
    ok = all(d.min <= v <= d.max for v in values)
    if ok:
        assert BASE.with_overrides({name: values}, "x.toml")[name] == [float(v) for v in values]
    else:
        with pytest.raises(ConfigError, match=f"x.toml: {name.replace('.', '[.]')}"):
            BASE.with_overrides({name: values}, "x.toml")


@SETTINGS
@given(data=st.data())
def test_a_fraction_is_refused_for_a_whole_number_parameter(data):
    ints = [n for n in SCALARS if isinstance(BASE.defs[n].value, int)]
    name = data.draw(st.sampled_from(ints), label="parameter")
    d = BASE.defs[name]
    value = data.draw(st.floats(d.min, d.max, allow_nan=False).filter(lambda v: not float(v).is_integer()))
    with pytest.raises(ConfigError, match="must be a whole number"):
        BASE.with_overrides({name: value}, "x.toml")


@SETTINGS
@given(value=st.floats(0.001, 4.0), limit_mb=st.integers(50, 4000))
def test_memory_is_refused_exactly_when_the_estimate_exceeds_the_limit(value, limit_mb):
    cfg = BASE.with_overrides({"run.scale": value})
    need = estimate_memory(cfg)
    available = limit_mb * 2**20
    if need > available:
        with pytest.raises(ConfigError, match="needs about .* of memory"):
            check_memory(cfg, available=available)
    else:
        assert check_memory(cfg, available=available) == need


@SETTINGS
@given(a=st.floats(0.001, 4.0), b=st.floats(0.001, 4.0))
def test_the_memory_estimate_grows_with_the_scale(a, b):
    assume(a < b)
    ea = estimate_memory(BASE.with_overrides({"run.scale": a}))
    eb = estimate_memory(BASE.with_overrides({"run.scale": b}))
    assert ea <= eb


# -- the tables ------------------------------------------------------------------------------

TIMELINE = (PACKAGE_CONFIG_DIR / "timeline" / "closures.toml").read_text(encoding="utf-8")
MUNICIPALITIES = (PACKAGE_CONFIG_DIR / "territory" / "municipalities.csv").read_text(encoding="utf-8")
ORGS = (PACKAGE_CONFIG_DIR / "organizations.csv").read_text(encoding="utf-8")
TARGETS = (PACKAGE_CONFIG_DIR / "calibration" / "targets.toml").read_text(encoding="utf-8")


def written(name: str, text: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix="cohesion-prop-"))
    path = d / name
    path.write_text(text, encoding="utf-8")
    return path


@SETTINGS
@given(workers=st.integers(-2 * 10**6, 2 * 10**6), severance=st.integers(-200, 70_000))
def test_wave_workers_and_severance_weeks_must_not_be_negative_or_overflow(workers, severance):
    """Negative counts, and counts beyond what their storage holds (severance weeks are
    16-bit: 65,536 weeks once read as 0), are refused."""
    text = TIMELINE.replace(
        '{ date = "2008-03-31", workers = 400 }', f'{{ date = "2008-03-31", workers = {workers} }}', 1
    )
    text = text.replace(
        'severance_weeks = 16\nwaves = [ { date = "2008-03-31"',
        f'severance_weeks = {severance}\nwaves = [ {{ date = "2008-03-31"',
        1,
    )
    path = written("closures.toml", text)
    if 0 <= workers <= MAX_WORKERS and 0 <= severance <= MAX_SEVERANCE_WEEKS:
        quebecor = next(c for c in Timeline.load(path).closures if c.id == "quebecor")
        assert quebecor.jobs == workers and quebecor.severance_weeks == severance
    else:
        with pytest.raises(ConfigError, match="closure 'quebecor': (waves.0.workers|severance_weeks)"):
            Timeline.load(path)


@SETTINGS
@given(workforce=st.integers(0, 2000))
def test_layoffs_may_not_exceed_the_workforce(workforce):
    text = TIMELINE.replace('closed = "2005-12-16"', f'closed = "2005-12-16"\nworkforce = {workforce}', 1)
    path = written("closures.toml", text)
    if workforce >= 520:
        Timeline.load(path)
    else:
        with pytest.raises(ConfigError, match="more than the employer's workforce"):
            Timeline.load(path)


MAGOG = "45072,Magog,23880,25358,false,false,,144.19,45.267,-72.150,"


@SETTINGS
@given(pop=st.integers(-(10**7), 10**7), area=st.floats(-1e4, 1e4, allow_nan=False))
def test_populations_and_areas_must_be_positive(pop, area):
    row = MAGOG.replace("23880", str(pop)).replace("144.19", repr(area))
    path = written("municipalities.csv", MUNICIPALITIES.replace(MAGOG, row, 1))
    if 0 < pop <= MAX_POPULATION and 0 < area <= MAX_LAND_KM2:
        rows = check_municipalities(path)
        assert rows[0].pop_2006 == pop and rows[0].land_km2 == area
    else:
        with pytest.raises(ConfigError, match="line 2: (pop_2006|land_km2)"):
            check_municipalities(path)


@SETTINGS
@given(lat=st.floats(-1000, 1000, allow_nan=False))
def test_a_latitude_far_from_the_territory_is_refused(lat):
    """Within a degree of the RCM is accepted; off the globe, or so far from the other
    centres that the grid would span more than 300 km, is refused."""
    near, far = abs(lat - 45.267) < 1, abs(lat) > 90 or abs(lat - 45.2) > 3
    assume(near or far)
    path = written("municipalities.csv", MUNICIPALITIES.replace(MAGOG, MAGOG.replace("45.267", repr(lat)), 1))
    if near:
        assert check_municipalities(path)[0].lat == lat
    else:
        with pytest.raises(ConfigError, match="lat"):
            check_municipalities(path)


SALON = "Hair salon,informal_place,community,*,,1500,"


@SETTINGS
@given(per=st.floats(-1e5, 1e5, allow_nan=False), count=st.integers(-50, 50))
def test_organization_counts(per, count):
    rows = ORGS.replace(SALON, SALON.replace(",,1500,", f",,{per!r},"), 1)
    rows = rows.replace(
        "School board,public_service,education,45072,1,", f"School board,public_service,education,45072,{count},", 1
    )
    path = written("organizations.csv", rows)
    if per >= MIN_PER_RESIDENTS and 0 <= count <= MAX_ORG_COUNT:
        read_organizations(path)
    else:
        with pytest.raises(ConfigError, match="(per_residents|count)"):
            read_organizations(path)


@SETTINGS
@given(tolerance=st.floats(-10, 10, allow_nan=False))
def test_a_target_tolerance_must_not_be_negative(tolerance):
    path = written("targets.toml", TARGETS.replace("tolerance = 0.07", f"tolerance = {tolerance!r}", 1))
    if tolerance >= 0:
        assert load_targets(path)["reemployed_12m"].tolerance == tolerance
    else:
        with pytest.raises(ConfigError, match=r"\[reemployed_12m\]: tolerance must be >= 0"):
            load_targets(path)
