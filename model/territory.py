"""Territory of the Memphrémagog RCM: municipalities, lakes and a square-cell grid.

The territory is read from two CSV files in ``configs/territory/`` (see the README
there for sources and estimates):

* ``municipalities.csv``: the 17 municipalities with their 2006/2011 census
  populations, land area and centre coordinates;
* ``water.csv``: approximate outlines of Lake Memphrémagog (Québec part) and
  Lake Massawippi as polygon vertices.

``load_territory`` lays a grid of square cells (``cell_km`` on a side) over the RCM
and assigns every land cell to at most one municipality so that each municipality
holds ``max(1, round(land_km2 / cell_km**2))`` cells, grown contiguously from its
centre. Cells inside a lake are ``WATER``; cells belonging to no municipality are
``OUTSIDE``. Each municipality also gets a residential density weight per cell that
decays exponentially with distance from its centre, used to place households.

Coordinates: an equirectangular projection with 111.2 km per degree of latitude
and ``111.2 * cos(lat_ref)`` km per degree of longitude, where ``lat_ref`` is the
latitude of the grid's middle row. Arrays indexed by cell are laid out ``[x, y]``
with ``x`` running west to east and ``y`` south to north; cell ``(0, 0)`` is the
south-west corner of the grid.

Cell assignment (deterministic, no randomness):

1. *Centre cell*: the cell containing the municipality's centre coordinates; if
   that cell is water, or already the centre cell of a smaller municipality, the
   nearest free land cell is used instead.
2. *Protected discs*: each municipality first grows from its centre cell, one
   4-neighbour ring at a time and nearest cells first, inside a protected disc. Its
   radius is the distance to the municipality's n_m-th nearest land cell (the disc
   that would hold all its cells), cut back, from the smallest such disc to the
   largest, so that no disc overlaps a smaller one. Small villages next to a larger
   township (North Hatley beside Hatley township, Saint-Benoît-du-Lac beside
   Austin) thus keep the cells around their centre instead of being surrounded.
3. *Scaled growth*: municipalities that still need cells grow competitively from the
   cells they hold, claiming free land cells in order of distance to their centre
   divided by ``sqrt(land_km2)``, so large municipalities reach farther. A contested
   cell goes to the smallest scaled distance. Growth proceeds in rounds: each round,
   a municipality takes the neighbouring free cells it wins whose scaled distance is
   within one step of the smallest on offer (one cell of the largest municipality's
   reach), nearest first, up to its remaining need.
4. If a municipality is enclosed (water, the grid edge and other municipalities all
   around it) before it has its cells, step 3 is replayed with that municipality's
   reach multiplied by 1.5, up to 8 times. Should it still be enclosed, it starts a
   new patch at the free land cell nearest its centre and a ``RuntimeWarning`` is
   issued (this does not happen with the shipped configuration).

Growth only ever claims a cell sharing an edge with a cell the municipality already
holds, so regions are 4-connected (hence 8-connected). Ties are broken by
municipality index, then by cell index.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ConfigError
from .inputs import check_municipalities, check_water

__all__ = [
    "CENSUS_DAY_2006",
    "CENSUS_DAY_2011",
    "KM_PER_DEG_LAT",
    "OUTSIDE",
    "US_BORDER_LAT",
    "WATER",
    "Territory",
    "cell_quota",
    "load_territory",
    "population_on",
]

CENSUS_DAY_2006 = date(2006, 5, 16)
CENSUS_DAY_2011 = date(2011, 5, 10)

WATER = -2
OUTSIDE = -1

KM_PER_DEG_LAT = 111.2
GRID_CELL_KM = 1.0  # side of a grid cell in km: the resolution of the map (a structural constant)
# The Québec-Vermont line along the RCM's southern edge runs close to 45.005° N
# (approximate; it was surveyed in the 18th century slightly north of the 45th
# parallel). Cells south of it are left out of the grid.
US_BORDER_LAT = 45.005

# Scaled growth: how often it is replayed with a longer reach for municipalities
# that got enclosed, and by how much their reach is multiplied each time.
MAX_RETRIES = 8
REACH_BOOST = 1.5

MUNICIPALITY_COLUMNS = [
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
WATER_COLUMNS = ["lake", "order", "lat", "lon", "source"]


@dataclass(frozen=True, eq=False)
class Territory:
    """The RCM's municipalities laid on a grid of square cells.

    Cell arrays are indexed ``[x, y]`` (x west→east, y south→north) and are
    read-only. Compare two territories field by field (``eq`` is identity because
    the fields are arrays and a data frame).
    """

    municipalities: pd.DataFrame
    cell_km: float
    width: int
    height: int
    lat0: float
    lon0: float
    cell_municipality: np.ndarray
    cell_weight: np.ndarray
    centre_cell: np.ndarray
    lakes: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Lake outlines: name → (k, 2) array of (lat, lon) polygon vertices."""

    @property
    def n_municipalities(self) -> int:
        return len(self.municipalities)

    @property
    def lat_ref(self) -> float:
        """Latitude of the grid's middle row, used for the longitude scale."""
        return self.lat0 + 0.5 * self.height * self.cell_km / KM_PER_DEG_LAT

    @property
    def km_per_deg_lon(self) -> float:
        return KM_PER_DEG_LAT * math.cos(math.radians(self.lat_ref))

    def cell_latlon(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude of the centres of cells ``(x, y)`` (broadcasts)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        lat = self.lat0 + (y + 0.5) * self.cell_km / KM_PER_DEG_LAT
        lon = self.lon0 + (x + 0.5) * self.cell_km / self.km_per_deg_lon
        return lat, lon

    def cell_of_latlon(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """Cell ``(x, y)`` containing each point (may fall outside the grid)."""
        x = np.floor((np.asarray(lon, float) - self.lon0) * self.km_per_deg_lon / self.cell_km)
        y = np.floor((np.asarray(lat, float) - self.lat0) * KM_PER_DEG_LAT / self.cell_km)
        return x.astype(int), y.astype(int)

    def cells_of(self, m: int) -> np.ndarray:
        """``(k, 2)`` array of the ``(x, y)`` cells of municipality ``m``, sorted by x then y."""
        if not 0 <= m < self.n_municipalities:
            raise IndexError(f"no municipality {m}")
        return np.argwhere(self.cell_municipality == m)


def cell_quota(land_km2, cell_km: float) -> np.ndarray:
    """Cells each municipality gets: ``max(1, round(land_km2 / cell_km**2))``, halves rounded up."""
    area = np.asarray(land_km2, dtype=float)
    return np.maximum(1, np.floor(area / cell_km**2 + 0.5)).astype(np.int64)


# --------------------------------------------------------------------------- reading


def _read_municipalities(path: Path) -> pd.DataFrame:
    check_municipalities(path)  # every row and column, as a ConfigError naming file, line and column
    df = pd.read_csv(
        path,
        dtype={"code": str, "name": str, "source": str, "note": str},
        keep_default_na=False,
        na_values={"pop_2016": [""]},
    )
    missing = [c for c in MUNICIPALITY_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: missing columns {missing}")
    df = df[MUNICIPALITY_COLUMNS].copy()
    for col in ("pop_2006", "pop_2011"):
        if df[col].astype(str).str.strip().eq("").any():
            raise ConfigError(f"{path}: column {col} has blanks")
        df[col] = df[col].astype(np.int64)
        if (df[col] <= 0).any():
            raise ConfigError(f"{path}: column {col} must be positive")
    for col in ("pop_2006_estimated", "pop_2011_estimated"):
        text = df[col].astype(str).str.strip().str.lower()
        if not text.isin(["true", "false"]).all():
            raise ConfigError(f"{path}: column {col} must be true/false")
        df[col] = text.eq("true")
    df["pop_2016"] = pd.to_numeric(df["pop_2016"]).astype("Int64")
    for col in ("land_km2", "lat", "lon"):
        df[col] = df[col].astype(float)
    if (df["land_km2"] <= 0).any():
        raise ConfigError(f"{path}: land_km2 must be positive")
    if df["code"].duplicated().any():
        raise ConfigError(f"{path}: duplicate municipality codes")
    return df.reset_index(drop=True)


def _read_lakes(path: Path) -> dict[str, np.ndarray]:
    check_water(path)
    df = pd.read_csv(path)
    missing = [c for c in WATER_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: missing columns {missing}")
    lakes: dict[str, np.ndarray] = {}
    for name, group in df.groupby("lake", sort=False):
        group = group.sort_values("order", kind="stable")
        if len(group) < 3:
            raise ConfigError(f"{path}: lake {name!r} has fewer than 3 vertices")
        lakes[str(name)] = group[["lat", "lon"]].to_numpy(float)
    return lakes


# ------------------------------------------------------------------------- geometry


def _points_in_polygon(px: np.ndarray, py: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd rule, vectorised over points; ``poly`` is (k, 2) of (x, y) vertices."""
    inside = np.zeros(px.shape, dtype=bool)
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    for ax, ay, bx, by in zip(x1, y1, x2, y2):  # loop over edges, not points
        if ay == by:
            continue
        crosses = (ay > py) != (by > py)
        x_cross = ax + (py - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (px < x_cross)
    return inside


def _dilate4(held: np.ndarray) -> np.ndarray:
    """Cells sharing an edge with a held cell, for a stack of (…, W, H) masks."""
    out = np.zeros_like(held)
    out[..., 1:, :] |= held[..., :-1, :]
    out[..., :-1, :] |= held[..., 1:, :]
    out[..., :, 1:] |= held[..., :, :-1]
    out[..., :, :-1] |= held[..., :, 1:]
    return out


# ----------------------------------------------------------------------- assignment


def _grow(
    labels: np.ndarray,
    land: np.ndarray,
    count: np.ndarray,
    quota: np.ndarray,
    key: np.ndarray,
    step: float,
    allowed: np.ndarray | None,
    names: list[str],
    stop_on_enclosure: bool = False,
) -> np.ndarray:
    """Competitive contiguous growth, in place on ``labels`` and ``count``.

    Each round, every municipality still short of its quota looks at the free land
    cells sharing an edge with its region (restricted to ``allowed`` if given). Each
    such cell goes to the candidate with the smallest ``key``; a municipality then
    takes the cells it won whose key is at most ``t = (smallest key on offer) +
    step``, nearest first, up to its remaining need. With ``allowed`` given, growth
    stops when no municipality can reach an allowed cell; without it, a municipality
    left with no free neighbour either makes the call return at once with the
    enclosed municipalities (``stop_on_enclosure``) or starts a new patch at its
    nearest free land cell. Returns the enclosed municipalities (empty when done).
    """
    n, _, height = key.shape
    while True:
        need = quota - count
        active = np.flatnonzero(need > 0)
        if active.size == 0:
            return np.empty(0, dtype=np.int64)
        free = land & (labels == OUTSIDE)
        held = labels[None, :, :] == active[:, None, None]
        front = _dilate4(held) & free[None]
        if allowed is not None:
            front &= allowed[active]
        elif stop_on_enclosure:
            stuck = ~front.any(axis=(1, 2))
            if stuck.any():
                return active[stuck]
        cand = np.where(front, key[active], np.inf)
        winner = cand.argmin(axis=0)  # ties -> lowest municipality index
        best = np.take_along_axis(cand, winner[None], axis=0)[0]
        t_min = best.min()
        if not np.isfinite(t_min):
            if allowed is not None:
                return np.empty(0, dtype=np.int64)
            _seed_enclosed(labels, free, count, active, key, names)
            continue
        cx, cy = np.nonzero(best <= t_min + step)
        who = winner[cx, cy]
        k = best[cx, cy]
        order = np.lexsort((cx * height + cy, k, who))  # by municipality, key, cell
        cx, cy, who = cx[order], cy[order], who[order]
        rank = np.arange(who.size) - np.searchsorted(who, who, side="left")
        keep = rank < need[active][who]
        m = active[who[keep]]
        labels[cx[keep], cy[keep]] = m
        count += np.bincount(m, minlength=n)


def _seed_enclosed(labels, free, count, active, key, names) -> None:
    """Give each enclosed municipality its nearest free land cell as a new seed."""
    for m in active:
        free_now = free & (labels == OUTSIDE)
        if not free_now.any():
            raise RuntimeError("the grid has no free land cell left; increase the margin or the grid size")
        k = np.where(free_now, key[m], np.inf)
        x, y = np.unravel_index(np.argmin(k), k.shape)
        labels[x, y] = m
        count[m] += 1
        warnings.warn(
            f"municipality {names[m]!r} was enclosed before reaching its cell count; its region is not contiguous",
            RuntimeWarning,
            stacklevel=4,
        )


def _centre_cells(cx_km, cy_km, area, water, cell_km, xs_km, ys_km) -> np.ndarray:
    """Centre cell of each municipality (see module docstring, step 1)."""
    width, height = water.shape
    n = len(cx_km)
    cells = np.zeros((n, 2), dtype=np.int64)
    taken = water.copy()
    for m in np.lexsort((np.arange(n), area)):  # smallest municipality first
        x = int(np.clip(np.floor(cx_km[m] / cell_km), 0, width - 1))
        y = int(np.clip(np.floor(cy_km[m] / cell_km), 0, height - 1))
        if taken[x, y]:
            d2 = (xs_km[:, None] - cx_km[m]) ** 2 + (ys_km[None, :] - cy_km[m]) ** 2
            d2[taken] = np.inf
            x, y = np.unravel_index(np.argmin(d2), d2.shape)
        cells[m] = (x, y)
        taken[x, y] = True
    return cells


def _assign_cells(
    land: np.ndarray,
    centre: np.ndarray,
    quota: np.ndarray,
    area: np.ndarray,
    dist: np.ndarray,
    cell_km: float,
    names: list[str],
) -> np.ndarray:
    """Municipality label of every cell (``OUTSIDE`` where none); see module docstring.

    ``dist[m, x, y]`` is the distance in km from cell ``(x, y)`` to municipality
    ``m``'s centre cell.
    """
    n = len(quota)
    if quota.sum() > land.sum():
        raise RuntimeError("the grid is too small for the municipalities' land area")
    labels = np.full(land.shape, OUTSIDE, dtype=np.int16)
    labels[centre[:, 0], centre[:, 1]] = np.arange(n, dtype=np.int16)
    count = np.ones(n, dtype=np.int64)

    # Protected discs. A municipality's core radius is the distance to its n_m-th
    # nearest land cell (the disc that would hold all its cells). Going from the
    # smallest core to the largest, each protects its core radius, cut back where
    # needed so that its disc does not overlap the disc of any smaller one.
    land_dist = np.sort(dist[:, land], axis=1)
    core_radius = land_dist[np.arange(n), quota - 1]
    ccx, ccy = centre[:, 0] * cell_km, centre[:, 1] * cell_km
    centre_gap = np.hypot(ccx[:, None] - ccx[None], ccy[:, None] - ccy[None])
    protect_radius = np.zeros(n)
    done: list[int] = []
    for m in np.lexsort((np.arange(n), core_radius)):
        room = centre_gap[m, done] - protect_radius[done]
        protect_radius[m] = max(0.0, min(core_radius[m], room.min(initial=np.inf)))
        done.append(m)
    protected = dist <= protect_radius[:, None, None] + 1e-9
    _grow(labels, land, count, quota, dist, cell_km, protected, names)

    # Scaled growth; municipalities that get enclosed are given a longer reach and
    # the phase is replayed from the protected discs.
    base_labels, base_count = labels, count
    reach = np.sqrt(area)
    for attempt in range(MAX_RETRIES + 1):
        labels, count = base_labels.copy(), base_count.copy()
        enclosed = _grow(
            labels,
            land,
            count,
            quota,
            dist / reach[:, None, None],
            cell_km / reach.max(),
            None,
            names,
            stop_on_enclosure=attempt < MAX_RETRIES,
        )
        if enclosed.size == 0:
            break
        reach = reach.copy()
        reach[enclosed] *= REACH_BOOST
    return labels


def grid_extent(
    area, lat, lon, cell_km: float, us_border_lat: float | None = US_BORDER_LAT
) -> tuple[float, float, int, int]:
    """South-west corner ``(lat0, lon0)`` and size ``(width, height)`` in cells of the grid:
    the centres' bounding box plus a margin as wide as the largest municipality's side if
    it were a square, cut at the US border (used as well by the memory estimate)."""
    area, lat, lon = (np.asarray(a, dtype=float) for a in (area, lat, lon))
    margin_km = float(np.sqrt(area.max()))
    lat_lo = lat.min() - margin_km / KM_PER_DEG_LAT
    if us_border_lat is not None:
        lat_lo = max(lat_lo, us_border_lat)
    lat_hi = lat.max() + margin_km / KM_PER_DEG_LAT
    height = int(math.ceil((lat_hi - lat_lo) * KM_PER_DEG_LAT / cell_km))
    lat0 = float(lat_lo)
    lat_ref = lat0 + 0.5 * height * cell_km / KM_PER_DEG_LAT
    km_lon = KM_PER_DEG_LAT * math.cos(math.radians(lat_ref))
    lon0 = float(lon.min() - margin_km / km_lon)
    width = int(math.ceil(((lon.max() - lon0) * km_lon + margin_km) / cell_km))
    return lat0, lon0, width, height


def load_territory(
    config_dir: Path | str,
    cell_km: float = GRID_CELL_KM,
    density_scale_km: float = 2.0,
    *,
    us_border_lat: float | None = US_BORDER_LAT,
) -> Territory:
    """Read ``municipalities.csv`` and ``water.csv`` from ``config_dir`` and build the grid.

    ``cell_km`` is the side of a square cell in km; ``density_scale_km`` the e-folding
    distance of the residential density weight around each municipality's centre.
    Cells south of ``us_border_lat`` (the US border) are left out of the grid; pass
    ``None`` to keep a margin to the south as on the other sides.
    """
    if not (cell_km > 0 and density_scale_km > 0):
        raise ConfigError(f"cell_km and density_scale_km must be positive, got {cell_km} and {density_scale_km}")
    config_dir = Path(config_dir)
    muni = _read_municipalities(config_dir / "municipalities.csv")
    lakes = _read_lakes(config_dir / "water.csv")
    n = len(muni)
    area = muni["land_km2"].to_numpy(float)
    lat = muni["lat"].to_numpy(float)
    lon = muni["lon"].to_numpy(float)

    lat0, lon0, width, height = grid_extent(area, lat, lon, cell_km, us_border_lat)
    km_lon = KM_PER_DEG_LAT * math.cos(math.radians(lat0 + 0.5 * height * cell_km / KM_PER_DEG_LAT))

    # Cell centres in km east / north of (lat0, lon0).
    xs_km = (np.arange(width) + 0.5) * cell_km
    ys_km = (np.arange(height) + 0.5) * cell_km
    gx, gy = np.meshgrid(xs_km, ys_km, indexing="ij")

    water = np.zeros((width, height), dtype=bool)
    for poly in lakes.values():
        poly_km = np.column_stack([(poly[:, 1] - lon0) * km_lon, (poly[:, 0] - lat0) * KM_PER_DEG_LAT])
        water |= _points_in_polygon(gx, gy, poly_km)
    land = ~water

    cx_km = (lon - lon0) * km_lon
    cy_km = (lat - lat0) * KM_PER_DEG_LAT
    centre = _centre_cells(cx_km, cy_km, area, water, cell_km, xs_km, ys_km)

    # Distance (km) from every cell centre to each municipality's centre cell.
    ccx, ccy = xs_km[centre[:, 0]], ys_km[centre[:, 1]]
    dist = np.hypot(gx[None] - ccx[:, None, None], gy[None] - ccy[:, None, None])

    quota = cell_quota(area, cell_km)
    labels = _assign_cells(land, centre, quota, area, dist, cell_km, muni["name"].tolist())
    labels[water] = WATER

    # Residential density weight, normalised within each municipality.
    weight = np.zeros((width, height), dtype=np.float64)
    ix, iy = np.nonzero(labels >= 0)
    owner = labels[ix, iy].astype(np.intp)
    w = np.exp(-dist[owner, ix, iy] / density_scale_km)
    weight[ix, iy] = w / np.bincount(owner, weights=w, minlength=n)[owner]

    for arr in (labels, weight, centre):
        arr.setflags(write=False)
    lakes = {name: poly.copy() for name, poly in lakes.items()}
    for poly in lakes.values():
        poly.setflags(write=False)
    return Territory(
        municipalities=muni,
        cell_km=float(cell_km),
        width=width,
        height=height,
        lat0=lat0,
        lon0=lon0,
        cell_municipality=labels,
        cell_weight=weight,
        centre_cell=centre,
        lakes=lakes,
    )


# ----------------------------------------------------------------------- population


def population_on(territory: Territory, day: date) -> np.ndarray:
    """Population of each municipality on ``day`` (float array, CSV order).

    Log-linear interpolation between the 2006 and 2011 census days, i.e. a constant
    per-municipality growth rate, extrapolated at that rate before 2006 and after
    2011. Exact at both census days.
    """
    if isinstance(day, datetime):
        day = day.date()
    f = (day - CENSUS_DAY_2006).days / (CENSUS_DAY_2011 - CENSUS_DAY_2006).days
    p06 = territory.municipalities["pop_2006"].to_numpy(float)
    p11 = territory.municipalities["pop_2011"].to_numpy(float)
    return p06 ** (1.0 - f) * p11**f
