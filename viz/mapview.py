"""The map: the territory tessellated for display (``tessellation``), coloured by
municipality (the default) or by the model's 1 km cells, with names, plants, a colour bar
and a complete legend; and what lies under a clicked pixel.

The map is drawn from a snapshot (``session.RunView``), never from a model. Its fixed
parts (outline, borders, names, legend, colour bar) are drawn once per layer and level;
each week only the colours of the municipalities or cells and the plants are painted.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass

import matplotlib.patheffects as path_effects
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from model.territory import OUTSIDE, WATER
from viz.session import MASK_RESIDENTS, RunView
from viz.tessellation import Tessellation, tessellate

DPI = 100
LEGEND_PX = 270  # width of the legend beside the map
PNG_COMPRESSION = 1
OUTSIDE_RGB = (255, 255, 255)
WATER_RGB = (158, 200, 232)
NO_DATA_RGB = (225, 225, 225)
HATCH_RGB = (190, 190, 190)
BORDER_RGB = (60, 60, 60)
PLANT_COLOURS = {"open": "#1f5fa8", "closure announced": "#f59f00", "closed": "#9a9a9a"}
PLANT_MARKERS = {"open": "s", "closure announced": "s", "closed": "X"}
PLANT_SPACING = 15  # px between plant markers
PLANT_PICK_PX = 9


def _transparent_map(h: int, w: int):
    """A transparent figure the size of the map plus its legend, with axes over the map's
    ``h`` x ``w`` pixels (rows downwards): (figure, canvas, axes)."""
    fig = Figure(figsize=((w + LEGEND_PX) / DPI, h / DPI), dpi=DPI)
    fig.patch.set_alpha(0.0)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, w / (w + LEGEND_PX), 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    ax.patch.set_alpha(0.0)
    return fig, canvas, ax


@dataclass(frozen=True)
class Layer:
    """A figure the map can colour: numerator / denominator of the snapshot's counts."""

    key: str
    label: str
    legend: str
    numerator: str
    denominator: str
    vmin: float
    vmax: float
    cmap: str
    percent: bool = True
    extend: str = "neither"


LAYERS = {
    "unemployment_rate": Layer(
        "unemployment_rate",
        "Unemployment rate",
        "unemployed / labour force (%)",
        "unemployed",
        "labour_force",
        0.0,
        0.2,
        "YlOrRd",
        extend="max",
    ),
    "distress": Layer(
        "distress",
        "Distress",
        "mean distress of adults (SD; 0: employed adults without a stressor)",
        "distress",
        "adults",
        -0.25,
        0.75,
        "PuRd",
        percent=False,
        extend="both",
    ),
    "support_received": Layer(
        "support_received",
        "Support received",
        "adults in high distress who received informal support (%)",
        "supported",
        "in_need",
        0.0,
        1.0,
        "YlGnBu",
    ),
    "belonging": Layer(
        "belonging",
        "Sense of belonging",
        "mean sense of belonging of adults (0-1)",
        "belonging",
        "adults",
        0.3,
        0.8,
        "BuGn",
        percent=False,
        extend="both",
    ),
}
DEFAULT_LAYER = "unemployment_rate"
LEVELS = {"municipality": "By municipality", "cell": "By 1 km cell (the model's grid)"}
DEFAULT_LEVEL = "municipality"


def layer_values(view: RunView, key: str, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of a layer (per municipality, or per cell ``[x, y]``) and where they are shown
    (a denominator above zero; for cells, also at least MASK_RESIDENTS residents)."""
    layer = LAYERS[key]
    counts = view.muni if level == "municipality" else view.cells
    num, den = counts[layer.numerator], counts[layer.denominator]
    values = np.full(den.shape, np.nan)
    np.divide(num, den, out=values, where=den > 0)
    shown = den > 0
    if level == "cell":
        shown &= counts["residents"] >= MASK_RESIDENTS
    return values, shown


_tessellations: dict[tuple, Tessellation] = {}
_tess_lock = threading.Lock()


def tessellation_for(territory) -> Tessellation:
    """The display tessellation of a territory (computed once per process and grid)."""
    key = (
        territory.width,
        territory.height,
        territory.cell_km,
        territory.lat0,
        territory.lon0,
        tuple(territory.municipalities["name"]),
    )
    with _tess_lock:
        if key not in _tessellations:
            _tessellations[key] = tessellate(territory)
        return _tessellations[key]


def _rgba(canvas: FigureCanvasAgg) -> np.ndarray:
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _over(top: np.ndarray, under: np.ndarray) -> np.ndarray:
    """``top`` (RGBA, straight alpha) over an opaque ``under``."""
    alpha = top[..., 3:4].astype(np.float32) / 255.0
    out = under.copy()
    out[..., :3] = np.rint(top[..., :3] * alpha + under[..., :3] * (1.0 - alpha))
    return out


def encode_png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buf, format="png", compress_level=PNG_COMPRESSION)
    return buf.getvalue()


def _borders(labels: np.ndarray) -> np.ndarray:
    """Pixels on a border between two municipalities, or between land and water or outside."""
    edge = np.zeros(labels.shape, bool)
    a, b = labels[:, :-1], labels[:, 1:]
    diff = (a != b) & ((a >= 0) | (b >= 0))
    edge[:, :-1] |= diff
    a, b = labels[:-1, :], labels[1:, :]
    diff = (a != b) & ((a >= 0) | (b >= 0))
    edge[:-1, :] |= diff
    return edge


class MapPainter:
    """The map of one territory, for one layer and level: fixed parts drawn once."""

    def __init__(self, tess: Tessellation, names: list[str], key: str, level: str, grid_shape: tuple[int, int]):
        self.tess = tess
        self.layer = LAYERS[key]
        self.level = level
        h, w = tess.shape
        self.size = (h, w + LEGEND_PX)
        fig, canvas, ax = _transparent_map(h, w)
        outline = [path_effects.withStroke(linewidth=2.6, foreground="white")]
        for name, (c, r) in zip(names, tess.anchors, strict=True):
            small = tess.areas_km2[names.index(name)] < 15
            ax.text(
                c,
                r,
                name,
                fontsize=7 if small else 8.5,
                ha="center",
                va="center",
                color="#1a1a1a",
                path_effects=outline,
                zorder=5,
                fontweight="bold" if not small else "normal",
            )
        # legend and colour bar, right of the map
        left = w / (w + LEGEND_PX)
        lw = LEGEND_PX / (w + LEGEND_PX)
        fig.text(
            left + 0.03 * lw,
            0.975,
            self.layer.label
            + ("\nby municipality" if level == "municipality" else "\nby 1 km cell of the model's grid"),
            fontsize=10,
            fontweight="bold",
            va="top",
        )
        cax = fig.add_axes((left + 0.06 * lw, 0.58, 0.08 * lw, 0.28))
        fmt = (lambda v, _: f"{100 * v:.0f}%") if self.layer.percent else (lambda v, _: f"{v:g}")
        bar = fig.colorbar(
            ScalarMappable(Normalize(self.layer.vmin, self.layer.vmax), self.layer.cmap),
            cax=cax,
            extend=self.layer.extend,
            format=fmt,
        )
        bar.ax.tick_params(labelsize=8)
        fig.text(left + 0.03 * lw, 0.555, _wrap(self.layer.legend, 40), fontsize=8, va="top")
        masked = f"fewer than {MASK_RESIDENTS} residents\n(too few to show)" if level == "cell" else "no one to count"
        handles = [
            Patch(
                facecolor=np.array(NO_DATA_RGB) / 255, edgecolor=np.array(HATCH_RGB) / 255, hatch="////", label=masked
            ),
            Patch(facecolor=np.array(WATER_RGB) / 255, edgecolor="none", label="lake"),
            Patch(facecolor="white", edgecolor="0.6", label="outside the RCM"),
            Line2D([], [], color=np.array(BORDER_RGB) / 255, lw=1, label="municipal border (approximate)"),
        ]
        handles += [
            Line2D(
                [],
                [],
                ls="none",
                marker=PLANT_MARKERS[s],
                markersize=8,
                markerfacecolor=c,
                markeredgecolor="black",
                label=f"plant, {s}",
            )
            for s, c in PLANT_COLOURS.items()
        ]
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(left + 0.01 * lw, 0.47),
            fontsize=8,
            frameon=False,
            handlelength=1.6,
            labelspacing=0.6,
        )
        fig.text(
            left + 0.03 * lw,
            0.035,
            "Click a municipality or a plant\nto see what it holds.",
            fontsize=8,
            color="#333333",
            va="bottom",
        )
        self.drawing = _rgba(canvas)
        self.cmap = colormaps[self.layer.cmap]
        self.norm = Normalize(self.layer.vmin, self.layer.vmax)
        labels = tess.labels
        self.land = labels >= 0
        rows, cols = np.indices(labels.shape)
        self.hatch = ((rows + cols) % 7) == 0
        base = np.full(labels.shape + (3,), 255, np.uint8)
        base[labels == WATER] = WATER_RGB
        base[labels == OUTSIDE] = OUTSIDE_RGB
        self.base = base
        self.border = _borders(labels)
        if level == "cell":
            x, y = tess.cell_of_pixel(cols + 0.5, rows + 0.5)
            inside = self.land & (x >= 0) & (y >= 0) & (x < grid_shape[0]) & (y < grid_shape[1])
            self.cell_index = np.where(
                inside, np.clip(x, 0, grid_shape[0] - 1) * grid_shape[1] + np.clip(y, 0, grid_shape[1] - 1), -1
            )
        self.plant_layers: dict[tuple, np.ndarray] = {}

    def plant_positions(self, plants) -> np.ndarray:
        """(col, row) of each plant marker: a row under its municipality's name."""
        out = np.zeros((len(plants), 2))
        by_muni: dict[int, list[int]] = {}
        for i, (_, _, m, _) in enumerate(plants):
            by_muni.setdefault(m, []).append(i)
        for m, idx in by_muni.items():
            c, r = self.tess.anchors[m]
            for k, i in enumerate(idx):
                out[i] = (c + (k - (len(idx) - 1) / 2) * PLANT_SPACING, r + 15)
        return out

    def _overlay(self, plants) -> tuple[np.ndarray, np.ndarray]:
        """The fixed drawing with the plants over it, premultiplied: (colour x alpha, 1 - alpha)."""
        key = tuple((row, state) for row, _, _, state in plants)
        if key not in self.plant_layers:
            self.plant_layers.clear()
            fig, canvas, ax = _transparent_map(*self.tess.shape)
            xy = self.plant_positions(plants)
            for state, colour in PLANT_COLOURS.items():
                sel = [i for i, p in enumerate(plants) if p[3] == state]
                if sel:
                    ax.scatter(
                        xy[sel, 0],
                        xy[sel, 1],
                        marker=PLANT_MARKERS[state],
                        s=60,
                        c=colour,
                        edgecolors="black",
                        linewidths=0.8,
                        zorder=6,
                    )
            top = _rgba(canvas)
            a_top = top[..., 3:4].astype(np.float32) / 255.0
            a_draw = self.drawing[..., 3:4].astype(np.float32) / 255.0
            colour = top[..., :3] * a_top + self.drawing[..., :3] * a_draw * (1.0 - a_top)
            alpha = a_top + a_draw * (1.0 - a_top)
            self.plant_layers[key] = (colour.astype(np.float32), (1.0 - alpha).astype(np.float32))
        return self.plant_layers[key]

    def picture(self, view: RunView) -> np.ndarray:
        values, shown = layer_values(view, self.layer.key, self.level)
        colours = self.cmap(self.norm(np.where(shown, values, 0.0)), bytes=True)[..., :3]
        colours[~shown] = NO_DATA_RGB
        labels = self.tess.labels
        page = self.base.copy()
        if self.level == "municipality":
            idx = labels[self.land].astype(np.int64)
            page[self.land] = colours[idx]
            masked = self.land & ~np.concatenate([shown, [True]])[np.where(self.land, labels, -1)]
        else:
            flat = colours.reshape(-1, 3)
            shown_flat = np.concatenate([shown.ravel(), [False]])
            cells = self.cell_index
            page[cells >= 0] = flat[cells[cells >= 0]]
            page[self.land & (cells < 0)] = NO_DATA_RGB
            masked = self.land & ~shown_flat[cells]
        page[masked & self.hatch] = HATCH_RGB
        page[self.border] = BORDER_RGB
        h, w = labels.shape
        full = np.full(self.size + (3,), 255, np.uint8)
        full[:, :w] = page
        colour, rest = self._overlay(view.plants)
        return np.rint(colour + full * rest).astype(np.uint8)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


class MapView:
    """The map pictures of one territory, one painter per layer and level."""

    def __init__(self, territory, names: list[str], grid_shape: tuple[int, int]):
        self.tess = tessellation_for(territory)
        self.names = names
        self.grid_shape = grid_shape
        self.painters: dict[tuple[str, str], MapPainter] = {}

    def painter(self, key: str, level: str) -> MapPainter:
        if (key, level) not in self.painters:
            self.painters[(key, level)] = MapPainter(self.tess, self.names, key, level, self.grid_shape)
        return self.painters[(key, level)]

    def png(self, view: RunView, key: str, level: str) -> bytes:
        return encode_png(self.painter(key, level).picture(view))

    def pick(self, view: RunView, col: float, row: float) -> tuple[str, int] | None:
        """What lies under picture pixel (col, row): ("plant", org row), ("municipality", index) or None."""
        painter = self.painter(DEFAULT_LAYER, DEFAULT_LEVEL)
        if view.plants:
            xy = painter.plant_positions(view.plants)
            d = np.hypot(xy[:, 0] - col, xy[:, 1] - row)
            if d.min() <= PLANT_PICK_PX:
                return "plant", int(view.plants[int(d.argmin())][0])
        h, w = self.tess.shape
        c, r = int(math.floor(col)), int(math.floor(row))
        if 0 <= r < h and 0 <= c < w and self.tess.labels[r, c] >= 0:
            return "municipality", int(self.tess.labels[r, c])
        return None
