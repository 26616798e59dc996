"""Charts over time, the organization network and the laid-off workers' paths, drawn from
snapshots (``session.RunView``).

A chart's fixed parts (axes, titles, closure marks, legends) are drawn once and again
only when an axis range changes; each week only its lines are painted (matplotlib
blitting). The network is redrawn only when its links change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.display import employer_name
from model.state import DOMAINS
from viz.mapview import encode_png
from viz.session import PATHS, RunView

DPI = 100
MAIN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b")
BASELINE_STYLE = {"color": "0.45", "ls": "--", "lw": 1.2}
DIFF_COLOUR = "#7b3294"


@dataclass(frozen=True)
class Series:
    column: str
    label: str


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    series: tuple[Series, ...]
    unit: str  # y-axis label
    percent: bool = True
    closures: bool = False
    floor_zero: bool = True  # the axis starts at 0 unless the values stay far above it


CHARTS = (
    ChartSpec(
        "unemployment",
        "Unemployment rate",
        (Series("unemployment_rate", "unemployment rate"),),
        "% of the labour force",
        closures=True,
    ),
    ChartSpec(
        "distress",
        "Adults in high distress",
        (Series("share_high_distress", "in high distress"),),
        "% of adults",
        floor_zero=False,
    ),
    ChartSpec(
        "support",
        "Help for adults in high distress",
        (
            Series("support_received_share", "informal support received"),
            Series("formal_service_reach", "in a formal service"),
            Series("unmet_need_share", "neither"),
        ),
        "% of adults in high distress",
    ),
    ChartSpec(
        "cohesion",
        "Cohesion and its parts",
        (
            Series("cohesion_index", "cohesion index"),
            Series("belonging_mean", "sense of belonging"),
            Series("participation_rate", "participation"),
            Series("tie_integrity", "ties intact"),
            Series("org_partnership_density", "organizations linked"),
        ),
        "index (0-1)",
        percent=False,
    ),
)
GUIDE_CHART = ChartSpec(
    "guide",
    "The Guide de l'aidant and the helpers",
    (
        Series("guide_copies_cumulative", "Guide copies handed out (total)"),
        Series("guide_readers_cumulative", "Guide readers (total)"),
        Series("helpers_trained", "helpers trained, living here"),
    ),
    "model persons",
    percent=False,
)


def nice_top(value: float) -> float:
    """An axis end above ``value`` that changes rarely as the value grows: 1, 2 or 5 x 10^k."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    k = math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10.0**k >= value:
            return m * 10.0**k
    return 10.0 ** (k + 1)  # pragma: no cover


def nice_range(values: np.ndarray, floor_zero: bool, symmetric: bool = False) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return (-1.0, 1.0) if symmetric else (0.0, 1.0)
    hi, lo = float(finite.max()), float(finite.min())
    if symmetric:
        top = nice_top(1.15 * max(abs(hi), abs(lo), 1e-9))
        return -top, top
    top = nice_top(1.1 * hi) if hi > 0 else 1.0
    if floor_zero or lo < 0.5 * hi or lo <= 0:
        return (min(0.0, -nice_top(-1.1 * lo)) if lo < 0 else 0.0), top
    step = top / 10
    return step * math.floor(0.9 * lo / step), top


def dates_of(view: RunView) -> np.ndarray:
    weeks = view.series.get("week", np.zeros(0)).astype(np.int64)
    return np.datetime64(view.start, "D") + 7 * weeks


class LineChart:
    """A chart of series over the run: one panel, or with ``difference`` a second panel
    of the scenario less the baseline. Lines of the baseline beside the run are dashed."""

    def __init__(self, spec: ChartSpec, view: RunView, closures, size=(5.0, 2.05), compare=False, difference=False):
        self.spec = spec
        self.compare = compare
        self.difference = difference
        self.size = size
        self.start = np.datetime64(view.start, "D")
        self.end = np.datetime64(view.end, "D")
        self.closures = closures
        self.factor = 100.0 if spec.percent else 1.0
        self.limits: tuple | None = None

    def _build(self, limits) -> None:
        fig = Figure(figsize=self.size, dpi=DPI)
        fig.patch.set_facecolor("white")
        self.canvas = FigureCanvasAgg(fig)
        spec = self.spec
        if self.difference:
            ax = fig.add_axes((0.12, 0.45, 0.85, 0.45))
            dax = fig.add_axes((0.12, 0.12, 0.85, 0.25), sharex=ax)
            dax.axhline(0, color="0.3", lw=0.8)
            dax.set_ylabel("scenario\n− baseline", fontsize=7)
            dax.tick_params(labelsize=7)
            dax.grid(alpha=0.3)
            dax.set_ylim(*limits[1])
            ax.tick_params(labelbottom=False)
        else:
            ax = fig.add_axes((0.12, 0.15, 0.85, 0.70))
            dax = None
        ax.set_xlim(self.start, self.end)
        ax.set_ylim(*limits[0])
        ax.set_title(spec.title, fontsize=10, loc="left", fontweight="bold")
        ax.set_ylabel(spec.unit, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if spec.closures:
            for k, (day, name) in enumerate(self.closures):
                x = np.datetime64(day, "D")
                ax.axvline(x, color="0.55", lw=0.7, ls=":", zorder=0)
                ax.text(
                    x,
                    (0.97, 0.62, 0.27)[k % 3],
                    " " + name,
                    transform=ax.get_xaxis_transform(),
                    fontsize=6,
                    va="top",
                    ha="left",
                    color="0.3",
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
                )
        self.lines = []
        handles = []
        for i, s in enumerate(spec.series):
            colour = MAIN_COLOURS[i % len(MAIN_COLOURS)]
            (main,) = ax.plot([], [], color=colour, lw=1.5, animated=True)
            (dot,) = ax.plot([], [], "o", ms=3.5, color=colour, animated=True)
            twin = None
            if self.compare:
                (twin,) = ax.plot([], [], animated=True, **{**BASELINE_STYLE, "color": colour, "alpha": 0.7})
            diff = None
            if dax is not None:
                (diff,) = dax.plot([], [], color=colour, lw=1.3, animated=True)
            self.lines.append((s.column, main, dot, twin, diff))
            handles.append(Line2D([], [], color=colour, lw=1.5, label=s.label))
        if self.compare:
            handles.append(Line2D([], [], **BASELINE_STYLE, label="baseline (same seed)"))
        ax.legend(
            handles=handles, fontsize=6.5, loc="upper left", frameon=True, framealpha=0.8, ncol=2, borderaxespad=0.3
        )
        self.now = ax.axvline(self.start, color="0.25", lw=0.8, alpha=0.6, animated=True)
        self.ax, self.dax = ax, dax
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)
        self.limits = limits

    def _data(self, view: RunView | None):
        if view is None:
            return None, {}
        return dates_of(view), {
            s.column: self.factor * view.series.get(s.column, np.zeros(0)) for s in self.spec.series
        }

    def png(self, view: RunView, twin: RunView | None = None) -> bytes:
        x, main = self._data(view)
        tx, other = self._data(twin if self.compare else None)
        values = np.concatenate([v for v in main.values()] + [v for v in other.values()] + [np.zeros(0)])
        diffs = {}
        if self.difference and twin is not None:
            for c, v in main.items():
                n = min(len(v), len(other[c]))
                diffs[c] = v[:n] - other[c][:n]
        limits = (
            nice_range(values, self.spec.floor_zero),
            nice_range(np.concatenate(list(diffs.values()) + [np.zeros(0)]), False, symmetric=True),
        )
        if limits != self.limits:
            self._build(limits)
        self.canvas.restore_region(self.background)
        if view.week:
            day = np.datetime64(view.day, "D")
            self.now.set_xdata([day, day])
            self.ax.draw_artist(self.now)
        for column, line, dot, twin_line, diff_line in self.lines:
            if twin_line is not None and tx is not None:
                twin_line.set_data(tx, other[column])
                self.ax.draw_artist(twin_line)
            line.set_data(x, main[column])
            dot.set_data(x[-1:], main[column][-1:])
            self.ax.draw_artist(line)
            self.ax.draw_artist(dot)
            if diff_line is not None and column in diffs:
                d = diffs[column]
                diff_line.set_data(x[: len(d)], d)
                self.dax.draw_artist(diff_line)
        return encode_png(np.asarray(self.canvas.buffer_rgba()))


PATH_COLOURS = ("#2ca02c", "#17becf", "#ff7f0e", "#8c564b", "#bcbd22", "#7f7f7f", "#222222")


class PathsChart:
    """The laid-off workers of the timeline by path, stacked, week by week."""

    def __init__(self, view: RunView, size=(6.4, 2.9)):
        fig = Figure(figsize=size, dpi=DPI)
        fig.patch.set_facecolor("white")
        self.canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.09, 0.14, 0.60, 0.74))
        ax.set_xlim(np.datetime64(view.start, "D"), np.datetime64(view.end, "D"))
        ax.set_title("What became of the laid-off workers", fontsize=10, loc="left", fontweight="bold")
        ax.set_ylabel(f"laid-off workers\n(model persons, scale {view.scale:g})", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        handles = [Line2D([], [], color=c, lw=6, label=p) for p, c in zip(PATHS, PATH_COLOURS, strict=True)]
        fig.legend(
            handles=handles[::-1],
            loc="center left",
            bbox_to_anchor=(0.70, 0.5),
            fontsize=7.5,
            frameon=False,
            title="now (top to bottom)",
            title_fontsize=7.5,
        )
        self.ax = ax
        self.top = None
        self.fig = fig

    def png(self, view: RunView) -> bytes:
        paths = view.paths
        x = np.datetime64(view.start, "D") + 7 * np.arange(len(paths))
        total = paths.sum(axis=1) if len(paths) else np.zeros(1)
        top = nice_top(1.05 * float(total.max())) if total.max() > 0 else 10.0
        if top != self.top:
            self.ax.set_ylim(0, top)
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            self.top = top
        self.canvas.restore_region(self.background)
        if len(paths) > 1:
            stacks = self.ax.stackplot(x, paths.T, colors=PATH_COLOURS, animated=True, lw=0)
            for s in stacks:
                self.ax.draw_artist(s)
                s.remove()
        return encode_png(np.asarray(self.canvas.buffer_rgba()))


DOMAIN_COLOURS = {
    "economic": "#1f5fa8",
    "social": "#7b3294",
    "education": "#1b9e3e",
    "community": "#d6207a",
    "government": "#555555",
}


class NetworkChart:
    """The organizations of the partnership network on a circle, grouped by sector, with
    their links: kept from before the closures (grey) or formed in a committee or under
    the 2011 cross-sectoral mode (green). Redrawn only when the links change."""

    def __init__(self, names: list[str], domains: np.ndarray, size=(6.4, 5.6)):
        self.names = names
        self.domains = domains
        order = np.lexsort((np.arange(len(names)), domains))
        angle = np.empty(len(names))
        angle[order] = np.linspace(0, 2 * np.pi, len(names), endpoint=False) + np.pi / 2
        self.xy = np.column_stack([np.cos(angle), np.sin(angle)])
        self.angle = angle
        self.size = size
        self.key = None
        self.cached = b""
        self.pixel_xy = np.zeros((len(names), 2))
        self.picture_size = (0, 0)

    def png(self, view: RunView) -> bytes:
        key = (view.links.tobytes(), view.committees_on)
        if key == self.key:
            return self.cached
        fig = Figure(figsize=self.size, dpi=DPI)
        fig.patch.set_facecolor("white")
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.2, 0.12, 0.6, 0.72))
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
        ax.set_aspect("equal")
        ax.set_axis_off()
        links = np.triu(view.links | view.links.T, 1)
        base = np.triu(view.base_links | view.base_links.T, 1)
        i, j = np.nonzero(links & base)
        ax.add_collection(LineCollection(np.stack([self.xy[i], self.xy[j]], 1), colors="0.7", linewidths=0.6))
        i, j = np.nonzero(links & ~base)
        ax.add_collection(LineCollection(np.stack([self.xy[i], self.xy[j]], 1), colors="#2ca02c", linewidths=1.3))
        n_formed = len(i)
        colours = [DOMAIN_COLOURS.get(DOMAINS[d], "0.5") for d in self.domains]
        edge = np.where(view.recovery, "#f59f00", np.where(view.support, "#7b3294", "white"))
        width = np.where(view.recovery | view.support, 2.2, 0.5)
        ax.scatter(self.xy[:, 0], self.xy[:, 1], s=70, c=colours, edgecolors=edge, linewidths=width, zorder=3)
        for (x, y), a, name in zip(self.xy, self.angle, self.names, strict=True):
            deg = math.degrees(a) % 360
            flip = 90 < deg < 270
            ax.text(
                1.08 * x,
                1.08 * y,
                _org_short(name),
                rotation=deg + (180 if flip else 0),
                rotation_mode="anchor",
                ha="right" if flip else "left",
                va="center",
                fontsize=6,
            )
        rec, sup, cross = view.committees_on
        on = [
            n
            for n, f in (
                ("recovery committee", rec),
                ("support committee", sup),
                ("health centre's cross-sectoral mode", cross),
            )
            if f
        ]
        fig.text(0.02, 0.98, "Organizations that know each other's missions", fontsize=10, fontweight="bold", va="top")
        fig.text(
            0.02,
            0.935,
            f"{int(links.sum())} links, {n_formed} formed in committees or the 2011 mode; "
            + ("meeting now: " + ", ".join(on) if on else "no committee meets now"),
            fontsize=7.5,
            va="top",
        )
        handles = [
            Line2D([], [], color="0.7", lw=1, label="known before the closures"),
            Line2D([], [], color="#2ca02c", lw=1.5, label="formed since (fades once no longer sustained)"),
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                markerfacecolor="white",
                markeredgecolor="#f59f00",
                markeredgewidth=2,
                markersize=7,
                label="recovery committee member",
            ),
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                markerfacecolor="white",
                markeredgecolor="#7b3294",
                markeredgewidth=2,
                markersize=7,
                label="support committee member",
            ),
        ]
        handles += [
            Line2D([], [], ls="none", marker="o", color=c, markersize=6, label=f"sector: {d}")
            for d, c in DOMAIN_COLOURS.items()
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=6.5, frameon=False, bbox_to_anchor=(0.5, 0.0))
        canvas.draw()
        h = canvas.get_width_height()[1]
        px = ax.transData.transform(self.xy)
        self.pixel_xy = np.column_stack([px[:, 0], h - px[:, 1]])
        self.picture_size = canvas.get_width_height()
        self.cached = encode_png(np.asarray(canvas.buffer_rgba()))
        self.key = key
        return self.cached

    def pick(self, col: float, row: float) -> int | None:
        """Index (among the network's members) of the node at picture pixel (col, row)."""
        if not len(self.pixel_xy):
            return None
        d = np.hypot(self.pixel_xy[:, 0] - col, self.pixel_xy[:, 1] - row)
        return int(d.argmin()) if d.min() <= 10 else None


def _org_short(name: str) -> str:
    name = name.replace("Municipal council", "Council").replace(
        "Office of the member of the National Assembly", "MNA's office"
    )
    name = name.replace("Office of the member of Parliament", "MP's office")
    return name if len(name) <= 34 else name[:33] + "…"


def closures_of(model) -> tuple[tuple[date, str], ...]:
    """The run's closures as (closing date, employer's short name), for the charts' marks."""
    return tuple(
        (c.closed, employer_name(c.employer, short=True))
        for c in model.timeline.closing_between(model.start_date, model.end_date)
    )
