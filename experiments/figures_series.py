"""Figures of weekly series: each scenario's mean over replicates with its 95% band, the
closures' layoff waves shaded and lettered, and the interventions in force in a panel
underneath."""

from __future__ import annotations

import string
from datetime import date
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.transforms as transforms
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from . import display
from .display import save, scenario_name, styles_of
from .figures_base import _wrap, plt
from .outcomes import SERIES_UNITS

# Weeks at the start of a run not drawn in the series figures: the run starts from a social
# spin-up, but the formal services start with no clients and take about six weeks to fill
# (reach 1.9% in week 0, 2.8% from week 6 at scale 0.05); no other series moves in them.
START_UP_WEEKS = 8
# Weekly means are drawn as centred moving averages over a quarter: at small scales a week's
# mean over a few replicates swings by several points, and the lines would hide each other.
SMOOTH_WEEKS = 13


def colour_of(scenarios: list[str]) -> dict[str, str]:
    """Each scenario's colour (the baseline black, the others Okabe-Ito)."""
    return {s: st["color"] for s, st in styles_of(scenarios).items()}


def _percent_axis(column: str) -> bool:
    return SERIES_UNITS.get(column) in ("share",)


def closure_letters(closures) -> list[tuple]:
    """Each closure with its letter: (letter, employer, first wave, end of the last, wave
    dates or None)."""
    letters = string.ascii_uppercase
    return [(letters[i % 26], c[0], c[1], c[2], c[3] if len(c) > 3 else None) for i, c in enumerate(closures)]


def _closure_label(letter: str, employer: str, a: date, b: date, waves=None) -> str:
    years = f"{a.year}" if a.year == (b - pd.Timedelta(days=7)).year else f"{a.year}-{(b - pd.Timedelta(days=7)).year}"
    n = f", {len(waves)} waves" if waves is not None and len(waves) > 2 else ""
    return f"{letter}  {display.employer_name(employer, short=True)}, {years}{n}"


def draw_closures(axes, closures, top_ax=None) -> list[Patch]:
    """Mark each closure on ``axes``: its layoff waves shaded (each wave two weeks wide; a
    closure given without its waves, its whole period), a line at its first wave, its
    letter above ``top_ax``; return the legend handles naming them."""
    handles = []
    top_ax = top_ax if top_ax is not None else axes[0]
    last_x, row = None, 0
    for letter, employer, a, b, waves in closure_letters(closures):
        spans = (
            [(pd.Timestamp(w), pd.Timestamp(w) + pd.Timedelta(days=14)) for w in waves]
            if waves
            else [(pd.Timestamp(a), max(pd.Timestamp(b), pd.Timestamp(a) + pd.Timedelta(days=14)))]
        )
        for ax in axes:
            for x0, x1 in spans:
                ax.axvspan(x0, x1, color="0.5", alpha=0.22, lw=0, zorder=0)
            ax.axvline(pd.Timestamp(a), color="0.5", lw=0.5, zorder=0.5)
        x = mdates.date2num(pd.Timestamp(a))
        row = 1 - row if last_x is not None and x - last_x < 200 else 0  # close letters on two rows
        last_x = x
        top_ax.annotate(
            letter,
            (pd.Timestamp(a), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2 + 8 * row),
            textcoords="offset points",
            fontsize=7,
            fontweight="bold",
            color="0.3",
            va="bottom",
            ha="center",
            annotation_clip=False,
        )
        handles.append(
            Patch(facecolor="0.5", alpha=0.4, edgecolor="none", label=_closure_label(letter, employer, a, b, waves))
        )
    return handles


def _intervention_rows(periods: dict[str, list], scenarios: list[str], baseline: str):
    """The interventions panel's rows: (label, [(scenario, start, end)]), and the
    background resources not drawn. An intervention the baseline has (the regional
    conference, an outside resource) is background: it gets a row only for the scenarios
    whose period of it differs from the baseline's."""
    base = {n: (a, b) for n, a, b in periods.get(baseline, [])}
    rows, background = [], []
    names = list(dict.fromkeys(n for s in scenarios for n, _, _ in periods.get(s, [])))
    for name in names:
        having = [(s, a, b) for s in scenarios for n, a, b in periods.get(s, []) if n == name]
        label = display.intervention_name(name)
        if name in base or name in display.BACKGROUND:
            differ = [(s, a, b) for s, a, b in having if s != baseline and (a, b) != base.get(name)]
            if name in base:
                background.append((label, *base[name], bool(differ)))
            if differ:
                rows.append((f"{label} (background)", differ))
            continue
        rows.append((label, having))
    return rows, background


def _smooth(x: np.ndarray, weeks: int) -> np.ndarray:
    """Centred moving average over ``weeks`` weeks (shorter at the ends)."""
    if weeks <= 1:
        return x
    return pd.Series(x).rolling(weeks, center=True, min_periods=1).mean().to_numpy()


def series_with_bands(
    dates: pd.DatetimeIndex,
    bands: dict[str, tuple],
    column: str,
    path: Path,
    closures: list[tuple[str, date, date]],
    periods: dict[str, list[tuple[str, date, date]]],
    replicates: int,
    title: str = "",
    formats=("png",),
    baseline: str = "baseline",
    trim_weeks: int = START_UP_WEEKS,
    smooth_weeks: int = SMOOTH_WEEKS,
) -> list[Path]:
    """One weekly outcome: the mean over replicates of each scenario with its 95% bootstrap
    band, each as a centred ``smooth_weeks``-week moving average (the baseline black and
    dashed, drawn on top; the others in Okabe-Ito colours (then two of Tol's muted ones) and their
    own line styles);
    each closure's layoff period shaded, lettered and named in a legend; the interventions
    each scenario has in force in a thin panel underneath. The first ``trim_weeks`` weeks
    (start-up) are not drawn."""
    scen = list(bands)
    st = styles_of(scen, baseline)
    rows, background = _intervention_rows(periods, scen, baseline)
    keep = np.arange(len(dates)) >= (trim_weeks if len(dates) > 4 * trim_weeks else 0)
    dates = dates[keep]
    smooth_weeks = smooth_weeks if len(dates) > 4 * smooth_weeks else 1
    letters = closure_letters(closures)
    n_leg = max(len(scen) + 2, (len(letters) if len(letters) <= 8 else (len(letters) + 1) // 2) + 1)
    panel_h = 0.3 + 0.15 * len(rows) if rows else 0.0
    leg_h = 0.165 * n_leg + 0.15  # room for every legend row (none clipped at ten scenarios)
    heights = [3.0] + ([panel_h] if rows else []) + [leg_h]
    fig, axes = plt.subplots(
        len(heights),
        1,
        figsize=(7.5, sum(heights) + 0.75),
        layout="constrained",
        gridspec_kw={"height_ratios": heights},
    )
    ax, leg_ax = axes[0], axes[-1]
    gantt = axes[1] if rows else None
    if gantt is not None:
        gantt.sharex(ax)
    k = 100.0 if _percent_axis(column) else 1.0
    for s in scen:
        mean, lo, hi = (_smooth(np.asarray(x, float)[keep], smooth_weeks) for x in bands[s])
        if s == baseline:  # the baseline's band filled grey; the others' outlined in their colour and style
            ax.fill_between(dates, k * lo, k * hi, color="0.55", alpha=0.3, lw=0, zorder=1)
        else:
            ax.fill_between(dates, k * lo, k * hi, color=st[s]["color"], alpha=0.1, lw=0, zorder=1)
            for edge in (lo, hi):
                ax.plot(dates, k * edge, color=st[s]["color"], ls=st[s]["ls"], lw=0.5, alpha=0.8, zorder=2)
        ax.plot(
            dates,
            k * mean,
            color=st[s]["color"],
            ls=st[s]["ls"],
            lw=st[s]["lw"],
            zorder=st[s]["zorder"],
            label=scenario_name(s),
        )
    closure_handles = draw_closures([a for a in (ax, gantt) if a is not None], closures, top_ax=ax)
    ax.set_ylabel(_wrap(display.series_axis_label(column), 40))
    ax.grid(alpha=0.25, lw=0.5)
    leg_ax.axis("off")
    # the legends start at the figure's left edge, not the axes' (the interventions' names widen the margin)
    at = transforms.blended_transform_factory(fig.transFigure, leg_ax.transAxes)
    handles, labels = ax.get_legend_handles_labels()
    handles[0:0] = [Patch(facecolor="0.55", alpha=0.3, label="Baseline's 95% band")]
    labels[0:0] = ["Baseline's 95% band"]
    first = leg_ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(0.01, 1.0),
        bbox_transform=at,
        title="Scenario",
        frameon=False,
        handlelength=3.2,
        alignment="left",
        borderaxespad=0,
        fontsize=6.5,
        title_fontsize=7,
    )
    if closure_handles:
        leg_ax.add_artist(first)
        leg_ax.legend(
            handles=closure_handles,
            loc="upper left",
            bbox_to_anchor=(0.42, 1.0),
            bbox_transform=at,
            frameon=False,
            title="Closures (layoff waves shaded)",
            alignment="left",
            handlelength=1.0,
            ncol=1 if len(closure_handles) <= 8 else 2,
            borderaxespad=0,
            columnspacing=0.8,
            fontsize=6.5,
            title_fontsize=7,
        )
    trimmed = int((~keep).sum())
    note = (
        f"Mean of {replicates} replicates per scenario with its 95% bootstrap band (the baseline's grey, the "
        f"others' outlined in their colour)"
        + (f", as {smooth_weeks}-week moving averages" if smooth_weeks > 1 else "")
        + "."
        + (f" The first {trimmed} weeks (start-up) are not drawn." if trimmed else "")
    )
    for label, a, b, differs in background:
        note += f" Background in every scenario: the {label.lower()} (outside resources), {a.year}-{b.year}" + (
            " (a row shows where a scenario's period differs)." if differs else "."
        )
    fig.suptitle(title or display.series_label(column), x=0.01, ha="left", fontsize=10, fontweight="bold")
    ax.set_title(_wrap(note, 115), loc="left", fontsize=7, color="0.3", pad=22)
    if gantt is not None:
        for i, (_label, having) in enumerate(rows):
            h = 0.8 / max(1, len(having))
            for j, (s, a, b) in enumerate(having):
                gantt.barh(
                    i - 0.4 + h * (j + 0.5),
                    pd.Timestamp(b) - pd.Timestamp(a),
                    left=pd.Timestamp(a),
                    height=h * 0.85,
                    color=st[s]["color"],
                    lw=0,
                )
        gantt.set_yticks(range(len(rows)), [lab for lab, _ in rows], fontsize=6.5)
        gantt.set_ylim(len(rows) - 0.5, -0.5)
        gantt.tick_params(axis="y", length=0)
        gantt.set_title("Interventions in force (one bar per scenario, in its colour)", fontsize=7, loc="left", pad=2)
        for side in ("top", "right"):
            gantt.spines[side].set_visible(False)
        ax.tick_params(axis="x", labelbottom=False)
    bottom = gantt if gantt is not None else ax
    locator = mdates.YearLocator(2 if (dates[-1] - dates[0]).days > 6 * 365 else 1)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    bottom.set_xlim(dates[0], dates[-1])
    return save(fig, path, formats)
