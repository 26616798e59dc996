"""Tests of the territory: municipality table, lakes, grid assignment, population."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path as PolyPath
from scipy import ndimage

from model.territory import (
    CENSUS_DAY_2006,
    CENSUS_DAY_2011,
    OUTSIDE,
    WATER,
    load_territory,
    population_on,
)

CONFIG = Path(__file__).parents[1] / "configs" / "territory"
RCM_TOTAL_2011 = 48_551
ESTIMATED_2011_TOTAL = 7_216
NAMES_2011_MISSING = {"Orford", "Saint-Étienne-de-Bolton", "Hatley (township)", "North Hatley"}
NAMES_2006_MISSING = {"Orford", "Saint-Étienne-de-Bolton", "Hatley (township)"}


@pytest.fixture(scope="module")
def terr1():
    return load_territory(CONFIG, cell_km=1.0)


@pytest.fixture(scope="module")
def terr05():
    return load_territory(CONFIG, cell_km=0.5)


@pytest.fixture(params=["terr1", "terr05"])
def terr(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(CONFIG / "municipalities.csv", dtype={"code": str})


def expected_cells(area_km2: float, cell_km: float) -> int:
    return max(1, math.floor(area_km2 / cell_km**2 + 0.5))


# ------------------------------------------------------------------ municipality table


def test_seventeen_municipalities_with_unique_codes(terr1, table):
    assert len(table) == 17
    assert terr1.n_municipalities == 17
    assert table["code"].is_unique
    assert list(terr1.municipalities["code"]) == list(table["code"])
    assert "Stanstead-Est" not in set(table["name"])  # belongs to the Coaticook RCM


def test_columns_and_types(terr1):
    m = terr1.municipalities
    assert list(m.columns) == [
        "code",
        "name",
        "pop_2006",
        "pop_2011",
        "pop_2006_estimated",
        "pop_2011_estimated",
        "pop_2016",
        "land_km2",
        "lat",
        "lon",
        "source",
        "note",
    ]
    assert list(m.index) == list(range(17))
    assert m["pop_2006_estimated"].dtype == bool
    assert m["pop_2011_estimated"].dtype == bool
    assert m["pop_2006"].notna().all() and m["pop_2011"].notna().all()
    assert (m["source"].str.len() > 0).all()


def test_2011_total_matches_rcm(table):
    assert table["pop_2011"].sum() == RCM_TOTAL_2011


def test_estimated_2011_rows(table):
    est = table[table["pop_2011_estimated"]]
    assert set(est["name"]) == NAMES_2011_MISSING
    assert est["pop_2011"].sum() == ESTIMATED_2011_TOTAL
    assert table.loc[~table["pop_2011_estimated"], "pop_2011"].sum() == 41_335
    # proportional to the 2016 counts, largest-remainder rounding
    share = ESTIMATED_2011_TOTAL * est["pop_2016"] / est["pop_2016"].sum()
    assert (est["pop_2011"] - share).abs().max() < 1
    floor = np.floor(share)
    extra = int(ESTIMATED_2011_TOTAL - floor.sum())
    expected = floor.copy()
    expected.iloc[np.argsort(-(share - floor).to_numpy(), kind="stable")[:extra]] += 1
    assert est["pop_2011"].tolist() == expected.astype(int).tolist()
    assert est["note"].str.contains("7,216").all()


def test_estimated_2006_rows(table):
    est = table[table["pop_2006_estimated"]]
    assert set(est["name"]) == NAMES_2006_MISSING
    known = table[~table["pop_2011_estimated"]]
    assert len(known) == 13
    ratio = known["pop_2006"].sum() / known["pop_2011"].sum()
    assert (est["pop_2006"] == (est["pop_2011"] * ratio).round().astype(int)).all()
    assert est["note"].str.contains("2006/2011 ratio of the thirteen").all()


def test_derived_2006_rows_flagged_in_note(table):
    derived = {"Potton", "Stanstead (township)", "Ayer's Cliff", "Hatley (municipality)", "Sainte-Catherine-de-Hatley"}
    rows = table[table["name"].isin(derived)]
    assert len(rows) == len(derived)
    assert not rows["pop_2006_estimated"].any()
    assert rows["note"].str.contains("2006 derived from census figures").all()


def test_pop_2016_only_where_given(table):
    given = table[table["pop_2016"].notna()]
    assert set(given["name"]) == NAMES_2011_MISSING
    assert given.set_index("name")["pop_2016"].to_dict() == {
        "Orford": 4337,
        "Saint-Étienne-de-Bolton": 674,
        "Hatley (township)": 2106,
        "North Hatley": 632,
    }


# --------------------------------------------------------------------------- the grid


def test_cell_counts_match_land_area(terr):
    m = terr.municipalities
    counts = np.bincount(terr.cell_municipality[terr.cell_municipality >= 0].astype(int), minlength=17)
    expected = [expected_cells(a, terr.cell_km) for a in m["land_km2"]]
    wrong = {m["name"][i]: (int(counts[i]), expected[i]) for i in range(17) if counts[i] != expected[i]}
    assert not wrong, f"cell counts (got, expected): {wrong}"
    for i in range(17):
        assert len(terr.cells_of(i)) == expected[i]


def test_regions_are_8_connected(terr):
    moore = np.ones((3, 3), dtype=int)
    broken = {}
    for i in range(terr.n_municipalities):
        _, parts = ndimage.label(terr.cell_municipality == i, structure=moore)
        if parts != 1:
            broken[terr.municipalities["name"][i]] = parts
    assert not broken, f"municipalities in several pieces: {broken}"


def test_centre_cells_belong_to_their_municipality(terr):
    assert terr.centre_cell.shape == (17, 2)
    x, y = terr.centre_cell[:, 0], terr.centre_cell[:, 1]
    assert (terr.cell_municipality[x, y] == np.arange(17)).all()
    # with the shipped data the centre cell is the cell holding the centre coordinates
    cx, cy = terr.cell_of_latlon(terr.municipalities["lat"], terr.municipalities["lon"])
    assert (cx == x).all() and (cy == y).all()


def test_no_centre_in_water(terr):
    m = terr.municipalities
    points = np.column_stack([m["lon"], m["lat"]])
    for name, poly in terr.lakes.items():
        inside = PolyPath(poly[:, ::-1]).contains_points(points)
        assert not inside.any(), f"{list(m['name'][inside])} inside {name}"
    cx, cy = terr.cell_of_latlon(m["lat"], m["lon"])
    assert (terr.cell_municipality[cx, cy] != WATER).all()


def test_water_cells_are_the_lake_cells(terr):
    labels = terr.cell_municipality
    water = labels == WATER
    assert water.sum() > 0
    xs, ys = np.meshgrid(np.arange(terr.width), np.arange(terr.height), indexing="ij")
    lat, lon = terr.cell_latlon(xs, ys)
    points = np.column_stack([lon.ravel(), lat.ravel()])
    inside = np.zeros(points.shape[0], dtype=bool)
    assert set(terr.lakes) == {"Lake Memphrémagog", "Lake Massawippi"}
    for name, poly in terr.lakes.items():
        in_lake = PolyPath(poly[:, ::-1]).contains_points(points)
        assert in_lake.sum() > 0, f"{name} has no water cell"
        inside |= in_lake
    assert (inside.reshape(labels.shape) == water).all()
    assert (terr.cell_weight[water] == 0).all()


def test_lake_areas_plausible(terr1):
    # Québec part of Lake Memphrémagog and Lake Massawippi: tens of km² and ~10-20 km²
    lat, lon = terr1.cell_latlon(*np.meshgrid(np.arange(terr1.width), np.arange(terr1.height), indexing="ij"))
    points = np.column_stack([lon.ravel(), lat.ravel()])
    memph = PolyPath(terr1.lakes["Lake Memphrémagog"][:, ::-1]).contains_points(points).sum()
    massa = PolyPath(terr1.lakes["Lake Massawippi"][:, ::-1]).contains_points(points).sum()
    assert 40 <= memph <= 110
    assert 6 <= massa <= 25


def test_labels_in_range_and_types(terr):
    labels = terr.cell_municipality
    assert labels.dtype == np.int16
    assert labels.shape == (terr.width, terr.height) == terr.cell_weight.shape
    assert labels.min() >= WATER and labels.max() == 16
    assert (labels == OUTSIDE).any()


def test_weights_sum_to_one_per_municipality(terr):
    labels, w = terr.cell_municipality, terr.cell_weight
    assert w.dtype == np.float64
    assert (w[labels < 0] == 0).all()
    assert (w[labels >= 0] > 0).all()
    sums = np.bincount(labels[labels >= 0].astype(int), weights=w[labels >= 0], minlength=17)
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=1e-12)
    # densest at the centre cell
    for i in range(17):
        cells = terr.cells_of(i)
        cx, cy = terr.centre_cell[i]
        assert w[cx, cy] == pytest.approx(w[cells[:, 0], cells[:, 1]].max())


def test_density_scale_changes_concentration():
    tight = load_territory(CONFIG, cell_km=1.0, density_scale_km=0.5)
    loose = load_territory(CONFIG, cell_km=1.0, density_scale_km=10.0)
    magog = 0
    cx, cy = tight.centre_cell[magog]
    assert tight.cell_weight[cx, cy] > loose.cell_weight[cx, cy]
    assert np.array_equal(tight.cell_municipality, loose.cell_municipality)


def test_grid_is_deterministic():
    a = load_territory(CONFIG, cell_km=1.0)
    b = load_territory(CONFIG, cell_km=1.0)
    assert (a.width, a.height, a.lat0, a.lon0) == (b.width, b.height, b.lat0, b.lon0)
    assert np.array_equal(a.cell_municipality, b.cell_municipality)
    assert np.array_equal(a.cell_weight, b.cell_weight)
    assert np.array_equal(a.centre_cell, b.centre_cell)
    pd.testing.assert_frame_equal(a.municipalities, b.municipalities)


def test_grid_geometry(terr):
    # 111.2 km per degree of latitude; cells south of the US border are not in the grid
    lat_bottom, _ = terr.cell_latlon(0, 0)
    lat_top, _ = terr.cell_latlon(0, terr.height - 1)
    assert (lat_top - lat_bottom) * 111.2 == pytest.approx((terr.height - 1) * terr.cell_km)
    assert terr.lat0 >= 45.0
    _, lon_left = terr.cell_latlon(0, 0)
    _, lon_right = terr.cell_latlon(terr.width - 1, 0)
    km_lon = 111.2 * math.cos(math.radians(terr.lat_ref))
    assert (lon_right - lon_left) * km_lon == pytest.approx((terr.width - 1) * terr.cell_km)
    # the rectangle covers every centre
    m = terr.municipalities
    assert m["lat"].min() > terr.lat0 and m["lon"].min() > terr.lon0
    top, right = terr.cell_latlon(terr.width, terr.height)
    assert m["lat"].max() < top and m["lon"].max() < right


def test_layout_is_plausible(terr1):
    """Coarse geography: who lies west/east/south of whom."""
    names = list(terr1.municipalities["name"])
    mean = {n: terr1.cells_of(i).mean(axis=0) for i, n in enumerate(names)}
    # Potton is the south-west municipality, west of the lake; Stanstead town on the border
    assert mean["Potton"][0] < mean["Ogden"][0] and mean["Potton"][0] < mean["Magog"][0]
    assert mean["Stanstead (town)"][1] < mean["Magog"][1]
    assert terr1.cells_of(names.index("Stanstead (town)"))[:, 1].min() == 0
    # Massawippi lies east of Memphrémagog
    assert terr1.lakes["Lake Massawippi"][:, 1].mean() > terr1.lakes["Lake Memphrémagog"][:, 1].max()
    # Magog touches the lake (its centre is at the lake's north tip)
    magog = terr1.cell_municipality == names.index("Magog")
    near_magog = ndimage.binary_dilation(magog, structure=np.ones((3, 3)))
    assert (terr1.cell_municipality[near_magog] == WATER).any()


def test_cells_of_and_coordinates(terr1):
    cells = terr1.cells_of(0)
    assert cells.shape[1] == 2
    lat, lon = terr1.cell_latlon(cells[:, 0], cells[:, 1])
    x, y = terr1.cell_of_latlon(lat, lon)
    assert (x == cells[:, 0]).all() and (y == cells[:, 1]).all()
    with pytest.raises(IndexError):
        terr1.cells_of(17)


# ------------------------------------------------------------------------- population


def test_population_exact_on_census_days(terr1):
    m = terr1.municipalities
    np.testing.assert_allclose(population_on(terr1, CENSUS_DAY_2006), m["pop_2006"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(population_on(terr1, CENSUS_DAY_2011), m["pop_2011"], rtol=0, atol=1e-6)
    assert population_on(terr1, CENSUS_DAY_2011).sum() == pytest.approx(RCM_TOTAL_2011, abs=1e-6)


def test_population_log_linear_and_extrapolated(terr1):
    m = terr1.municipalities
    p06, p11 = m["pop_2006"].to_numpy(float), m["pop_2011"].to_numpy(float)
    span = (CENSUS_DAY_2011 - CENSUS_DAY_2006).days
    mid = CENSUS_DAY_2006 + timedelta(days=span // 2)
    f = (span // 2) / span
    np.testing.assert_allclose(population_on(terr1, mid), p06 * (p11 / p06) ** f, rtol=1e-12)
    # same per-municipality rate before 2006 and after 2011
    before = CENSUS_DAY_2006 - timedelta(days=span)
    after = CENSUS_DAY_2011 + timedelta(days=span)
    np.testing.assert_allclose(population_on(terr1, before), p06 * p06 / p11, rtol=1e-12)
    np.testing.assert_allclose(population_on(terr1, after), p11 * p11 / p06, rtol=1e-12)
    # Magog grew 2006-2011; Stanstead (town) shrank
    names = list(m["name"])
    p2003, p2015 = population_on(terr1, date(2003, 1, 1)), population_on(terr1, date(2015, 1, 1))
    assert p2015[names.index("Magog")] > p2003[names.index("Magog")]
    assert p2015[names.index("Stanstead (town)")] < p2003[names.index("Stanstead (town)")]
