"""The territory as the page draws it: every land point of the RCM given to a municipality.

The model's own grid (``model/territory.py``) grows each municipality as a roughly round
patch of 1 km cells from its centre: that decides where residents live and is left as it
is. For display only, this module tessellates the RCM's footprint among the
municipalities, from the same data (``configs/territory/municipalities.csv`` and
``water.csv``), so that the map reads as the territory:

- *Footprint*: the cells of the model's grid that hold a municipality or a lake, closed
  over gaps up to ``CLOSING_KM`` and smoothed. This approximates the RCM's outline; it is
  not its legal boundary (no public boundary file could be fetched here).
- *Lakes*: Lake Memphrémagog (Québec part) and Lake Massawippi drawn from their outlines
  in ``water.csv`` at the picture's resolution.
- *Municipalities*: a weighted Voronoi diagram of the centres (each land pixel goes to
  the centre with the smallest distance divided by a weight), the weights adjusted until each
  municipality's share of the footprint's land is its share of the RCM's land area
  (``land_km2``); a piece cut off from its centre (across a lake) goes to the neighbour
  it borders most.

The result is a label image: a municipality index per pixel, ``WATER`` or ``OUTSIDE``.
Nothing here changes the model or its outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from model.territory import KM_PER_DEG_LAT, OUTSIDE, WATER, Territory, _points_in_polygon

PX_PER_KM = 11.0  # picture pixels per km
CLOSING_KM = 6.0  # gaps of the model's grid up to about twice this are closed in the footprint
SMOOTH_KM = 0.8  # the outline is smoothed over about this distance
AREA_ITERATIONS = 120
MARGIN_PX = 6
AREA_GAIN = 0.3


@dataclass(frozen=True, eq=False)
class Tessellation:
    """Label image of the territory for display (``[row, col]``, row 0 to the north)."""

    labels: np.ndarray  # int16: municipality index, WATER or OUTSIDE
    px_per_km: float
    cell_km: float
    anchors: np.ndarray  # (n, 2) (col, row) of the point deepest inside each municipality
    areas_km2: np.ndarray  # drawn land area of each municipality
    origin: tuple[int, int] = (0, 0)  # (col, row) of the picture's corner in the uncropped raster
    full_height: int = 0  # rows of the uncropped raster (the model grid's height in pixels)

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape

    def pixel_of_cell(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(col, row) of the centre of model cell (x, y)."""
        s = self.px_per_km * self.cell_km
        col = (np.asarray(x, float) + 0.5) * s - self.origin[0]
        row = self.full_height - (np.asarray(y, float) + 0.5) * s - self.origin[1]
        return col, row

    def cell_of_pixel(self, col, row) -> tuple[np.ndarray, np.ndarray]:
        """Model cell (x, y) under picture pixel (col, row)."""
        s = self.px_per_km * self.cell_km
        x = np.floor((np.asarray(col, float) + self.origin[0]) / s).astype(int)
        y = np.floor((self.full_height - np.asarray(row, float) - self.origin[1]) / s).astype(int)
        return x, y


def _footprint(territory: Territory, cols: np.ndarray, rows_km: np.ndarray) -> np.ndarray:
    """The RCM's footprint at the picture's pixels (``[row, col]``)."""
    cells = np.asarray(territory.cell_municipality) != OUTSIDE  # [x, y]
    radius = max(1, int(round(CLOSING_KM / territory.cell_km)))
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disk = xx**2 + yy**2 <= radius**2
    pad = radius + 1
    grown = np.pad(cells, pad)
    closed = ndimage.binary_closing(grown, structure=disk)[pad:-pad, pad:-pad]
    closed = ndimage.binary_fill_holes(closed | cells)
    soft = ndimage.gaussian_filter(closed.astype(float), SMOOTH_KM / territory.cell_km, mode="nearest")
    # bilinear sample at the pixels' centres (cell coordinates: centre of cell i at i + 0.5)
    gx = cols / territory.cell_km - 0.5
    gy = rows_km / territory.cell_km - 0.5
    X, Y = np.meshgrid(gx, gy)  # [row, col]
    values = ndimage.map_coordinates(soft, [X.ravel(), Y.ravel()], order=1, mode="constant")
    return values.reshape(X.shape) >= 0.5


def _lakes(territory: Territory, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    water = np.zeros(X.shape, bool)
    for poly in territory.lakes.values():
        poly_km = np.column_stack(
            [(poly[:, 1] - territory.lon0) * territory.km_per_deg_lon, (poly[:, 0] - territory.lat0) * KM_PER_DEG_LAT]
        )
        water |= _points_in_polygon(X, Y, poly_km)
    return water


def _weighted_labels(X, Y, cx, cy, weight) -> np.ndarray:
    """Index of the centre with the smallest distance divided by its weight, at each point."""
    x, y = np.ravel(X), np.ravel(Y)
    d = np.hypot(x[None] - cx[:, None], y[None] - cy[:, None]) / weight[:, None]
    return d.argmin(axis=0).reshape(np.shape(X))


def _area_weights(X, Y, land, cx, cy, target) -> np.ndarray:
    """Weights that give each centre about its target share of ``land``: each weight is
    multiplied by the square root of the ratio of its target to its share, from the
    square roots of the targets, keeping the weights with the smallest largest relative
    error."""
    x, y = X[land], Y[land]
    weight = np.sqrt(target)
    best, best_error = weight.copy(), np.inf
    for _ in range(AREA_ITERATIONS):
        lab = _weighted_labels(x, y, cx, cy, weight)
        share = np.bincount(lab, minlength=len(cx)) / len(x)
        error = np.abs(np.log(np.maximum(share, 1e-6) / target)).max()
        if error < best_error:
            best, best_error = weight.copy(), error
        weight = weight * (np.maximum(target, 1e-6) / np.maximum(share, 0.25 * target)) ** AREA_GAIN
    return best


PX_PER_KM_COARSE = 3.0


def _reattach(labels: np.ndarray, centre_px: np.ndarray) -> np.ndarray:
    """Give every piece of a municipality not holding its centre to the neighbour it borders most."""
    out = labels.copy()
    n = len(centre_px)
    for _ in range(3):
        changed = False
        for m in range(n):
            pieces, count = ndimage.label(out == m)
            if count <= 1:
                continue
            keep = pieces[centre_px[m, 1], centre_px[m, 0]]
            if keep == 0:  # the centre fell in the lake or off the land: keep the largest piece
                keep = 1 + int(np.argmax(np.bincount(pieces.ravel())[1:]))
            for k in range(1, count + 1):
                if k == keep:
                    continue
                piece = pieces == k
                ring = ndimage.binary_dilation(piece) & ~piece
                neighbours = out[ring]
                neighbours = neighbours[(neighbours >= 0) & (neighbours != m)]
                if len(neighbours):
                    out[piece] = np.bincount(neighbours).argmax()
                    changed = True
        if not changed:
            break
    return out


def tessellate(territory: Territory, px_per_km: float = PX_PER_KM) -> Tessellation:
    """The display tessellation of ``territory`` (see the module docstring)."""
    width_km = territory.width * territory.cell_km
    height_km = territory.height * territory.cell_km
    muni = territory.municipalities
    cx = (muni["lon"].to_numpy(float) - territory.lon0) * territory.km_per_deg_lon
    cy = (muni["lat"].to_numpy(float) - territory.lat0) * KM_PER_DEG_LAT
    area = muni["land_km2"].to_numpy(float)

    def pixels(scale):
        cols_km = (np.arange(int(math.ceil(width_km * scale))) + 0.5) / scale
        rows_km = (np.arange(int(math.ceil(height_km * scale)))[::-1] + 0.5) / scale  # row 0 to the north
        X, Y = np.meshgrid(cols_km, rows_km)
        return cols_km, rows_km, X, Y

    # weights on a coarse raster, then the labels at the picture's resolution
    cols_c, rows_c, Xc, Yc = pixels(PX_PER_KM_COARSE)
    land_c = _footprint(territory, cols_c, rows_c) & ~_lakes(territory, Xc, Yc)
    weight = _area_weights(Xc, Yc, land_c, cx, cy, area / area.sum())

    cols, rows, X, Y = pixels(px_per_km)
    inside = _footprint(territory, cols, rows)
    water = _lakes(territory, X, Y) & inside
    land = inside & ~water
    labels = np.full(X.shape, OUTSIDE, np.int16)
    labels[land] = _weighted_labels(X[land], Y[land], cx, cy, weight)
    labels[water] = WATER
    centre_px = np.column_stack(
        [
            np.clip((cx * px_per_km).astype(int), 0, X.shape[1] - 1),
            np.clip(X.shape[0] - 1 - (cy * px_per_km).astype(int), 0, X.shape[0] - 1),
        ]
    )
    labels = _reattach(labels, centre_px)
    anchors = np.zeros((len(cx), 2))
    for m in range(len(cx)):
        own = labels == m
        depth = ndimage.distance_transform_edt(np.pad(own, 1))[1:-1, 1:-1]
        r, c = np.unravel_index(np.argmax(depth), depth.shape)
        anchors[m] = (c, r)
    areas = np.bincount(labels[labels >= 0].astype(np.int64), minlength=len(cx)) / px_per_km**2
    # crop to the footprint, with a margin
    rr, cc = np.nonzero(labels != OUTSIDE)
    r0, r1 = max(rr.min() - MARGIN_PX, 0), min(rr.max() + MARGIN_PX + 1, labels.shape[0])
    c0, c1 = max(cc.min() - MARGIN_PX, 0), min(cc.max() + MARGIN_PX + 1, labels.shape[1])
    return Tessellation(
        labels[r0:r1, c0:c1].copy(),
        px_per_km,
        territory.cell_km,
        anchors - (c0, r0),
        areas,
        (int(c0), int(r0)),
        labels.shape[0],
    )
