"""Figures of sweeps and comparisons: series with 95% bands, forest plots, maps,
calibration, sensitivity indices. Names, units, palette and file formats come from
:mod:`experiments.display`; every function takes ``formats`` and writes one file per
format beside ``path`` (PNG at 300 dpi)."""

from __future__ import annotations

import string
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.transforms as transforms  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from . import display  # noqa: E402
from .display import save, scenario_name, styles_of  # noqa: E402
from .outcomes import COHORT_GROUPS, SERIES_UNITS, SUMMARY_BY_NAME  # noqa: E402

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "legend.fontsize": 7,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
    }
)

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


def _short_label(outcome: str) -> str:
    """An outcome's label without the group of people its panel is titled with."""
    label = SUMMARY_BY_NAME[outcome].label if outcome in SUMMARY_BY_NAME else outcome
    for prefix in sorted(COHORT_GROUPS.values(), key=len, reverse=True):
        if label.startswith(prefix + " "):
            return label[len(prefix) + 1 :]
    return label


def _wrap(text: str, width: int = 55) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")


def forest(
    effects: pd.DataFrame,
    path: Path,
    measure: str = "diff",
    formats=("png",),
    scale: float = 1.0,
    baseline: str = "baseline",
) -> list[Path]:
    """Each scenario's effect against the baseline on each outcome with its 95% interval:
    ``measure="diff"``, the paired difference in the outcome's unit; ``"pct"``, the
    difference as a percentage of the baseline. One panel per group of people and unit,
    the panels ordered by unit; the panels of a unit share one x axis (same limits, the
    scale drawn under the last of them). Hollow markers: interval not available; black
    edge: clear (Holm-adjusted p < 0.05). Counts of model persons are labelled as such
    when ``scale`` is not 1."""
    if measure not in ("diff", "pct"):
        raise ValueError(f"measure must be 'diff' or 'pct', got {measure!r}")
    est_col, lo_col, hi_col = (
        ("diff", "diff_lo", "diff_hi") if measure == "diff" else ("pct_baseline", "pct_lo", "pct_hi")
    )
    eff = effects[effects["available"] & effects[est_col].notna()].copy()
    if measure == "pct":
        eff["diff_unit"] = "% of the baseline's mean"
    else:
        eff["diff_unit"] = [display.count_unit(scale) if u in ("persons",) else u for u in eff["diff_unit"]]
    scen = list(dict.fromkeys(eff["scenario"]))
    st = styles_of([baseline] + scen, baseline)
    units = list(dict.fromkeys(eff["diff_unit"]))
    groups = list(dict.fromkeys(eff["group"]))
    panels = [(g, u) for u in units for g in groups if ((eff["group"] == g) & (eff["diff_unit"] == u)).any()]
    # a common x range for the panels of each unit
    xlim = {}
    for unit, sub in eff.groupby("diff_unit"):
        vals = np.r_[sub[est_col], sub[lo_col], sub[hi_col], 0.0].astype(float)
        vals = vals[np.isfinite(vals)]
        lo, hi = vals.min(), vals.max()
        pad = 0.06 * (hi - lo) if hi > lo else 1.0
        xlim[unit] = (lo - pad, hi + pad)
    last_of_unit = {u: max(i for i, (_, uu) in enumerate(panels) if uu == u) for u in units}
    n_out = [eff[(eff["group"] == g) & (eff["diff_unit"] == u)]["outcome"].nunique() for g, u in panels]
    row_h = max(0.22, 0.08 + 0.06 * len(scen))
    heights = [
        0.3 + row_h * k + (0.35 if i == last_of_unit[u] else 0.0) for i, (k, (_, u)) in enumerate(zip(n_out, panels))
    ] or [1.0]
    fig, axes = plt.subplots(
        max(1, len(panels)),
        1,
        figsize=(7.5, sum(heights) + 1.0),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
        layout="constrained",
    )
    for p, (ax, (group, unit)) in enumerate(zip(axes[:, 0], panels)):
        sub = eff[(eff["group"] == group) & (eff["diff_unit"] == unit)]
        outcomes = list(dict.fromkeys(sub["outcome"]))
        step = 0.8 / max(1, len(scen))
        for i, o in enumerate(outcomes):
            if i % 2:
                ax.axhspan(i - 0.5, i + 0.5, color="0.95", lw=0, zorder=0)
            for j, s in enumerate(scen):
                r = sub[(sub["outcome"] == o) & (sub["scenario"] == s)]
                if not len(r):
                    continue
                r = r.iloc[0]
                y = i + 0.4 - step * (j + 0.5)
                est, lo, hi = float(r[est_col]), float(r[lo_col]), float(r[hi_col])
                has_ci = np.isfinite(lo) and np.isfinite(hi)
                c = st[s]["color"]
                if has_ci:
                    ax.plot([lo, hi], [y, y], color=c, lw=1.1, solid_capstyle="butt")
                ax.plot(
                    est,
                    y,
                    MARKERS[j % len(MARKERS)],
                    ms=4.2 if r["clear"] else 3.4,
                    color=c,
                    mfc=c if has_ci else "white",
                    mec="k" if r["clear"] else c,
                    mew=0.9,
                    zorder=3,
                )
        ax.axvline(0, color="k", lw=0.7)
        ax.set_yticks(range(len(outcomes)), [_wrap(_short_label(o), 60) for o in outcomes], fontsize=6.5)
        ax.set_ylim(len(outcomes) - 0.5, -0.5)
        ax.set_xlim(*xlim[unit])
        ax.tick_params(axis="y", length=0)
        ax.set_title(f"{group}", fontsize=8, loc="left", pad=2)
        ax.grid(alpha=0.3, axis="x", lw=0.5)
        if p == last_of_unit[unit]:
            ax.set_xlabel(f"scenario minus baseline ({unit})", fontsize=7.5, fontweight="bold")
        else:
            ax.tick_params(axis="x", labelbottom=False, length=0)
    handles = [
        Line2D([], [], color=st[s]["color"], marker=MARKERS[j % len(MARKERS)], lw=1.1, label=scenario_name(s))
        for j, s in enumerate(scen)
    ]
    handles += [
        Line2D([], [], color="0.4", marker="o", mfc="white", lw=0, label="interval not available"),
        Line2D([], [], color="0.4", marker="o", mec="k", lw=0, label="clear (Holm-adjusted p < 0.05)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(3, len(handles)), fontsize=7, frameon=False)
    what = (
        "difference in the outcome's unit" if measure == "diff" else "difference as a percentage of the baseline's mean"
    )
    against = "the baseline" if baseline == "baseline" else f"the baseline ({scenario_name(baseline)})"
    fig.suptitle(f"Effects against {against}: {what}", x=0.01, ha="left", fontsize=10, fontweight="bold")
    if panels:
        axes[0, 0].set_title(
            "Paired by replicate, 95% bootstrap intervals.\nThe panels of a unit share one x "
            f"axis, drawn under the last of them.\n\n{panels[0][0]}",
            fontsize=8,
            loc="left",
            pad=2,
        )
    return save(fig, path, formats)


def _borders(cm: np.ndarray, cell_km: float):
    """Line segments (in km) between cells of different municipalities, and between the RCM
    and what is outside it."""
    segs = []
    w, h = cm.shape
    pad = np.full((w + 2, h + 2), -2)
    pad[1:-1, 1:-1] = cm
    dx = pad[1:, 1:-1] != pad[:-1, 1:-1]  # between column x-1 and x (x = 0..w)
    for x, y in zip(*np.nonzero(dx)):
        a, b = pad[x, y + 1], pad[x + 1, y + 1]
        if a < 0 and b < 0:
            continue
        segs.append([(x * cell_km, y * cell_km), (x * cell_km, (y + 1) * cell_km)])
    dy = pad[1:-1, 1:] != pad[1:-1, :-1]
    for x, y in zip(*np.nonzero(dy)):
        a, b = pad[x + 1, y], pad[x + 1, y + 1]
        if a < 0 and b < 0:
            continue
        segs.append([(x * cell_km, y * cell_km), ((x + 1) * cell_km, y * cell_km)])
    return segs


# Municipalities with fewer model persons than this (mean over replicates) are not coloured:
# a handful of persons swings the mean (Saint-Benoît-du-Lac, an abbey, has about 50 residents).
MIN_MAP_PERSONS = 30


def _map_panels(
    territory,
    values: pd.DataFrame,
    column: str,
    path: Path,
    rows: list[str],
    years: list,
    norm,
    cmap,
    colour_label: str,
    title: str,
    note: str,
    formats,
    residents: pd.DataFrame | None,
    scale_values: float = 1.0,
) -> list[Path]:
    from matplotlib.collections import LineCollection

    names = list(territory.municipalities["name"])
    index = {n: i for i, n in enumerate(names)}
    cm = np.asarray(territory.cell_municipality)
    ck = territory.cell_km
    extent = [0, territory.width * ck, 0, territory.height * ck]
    segs = _borders(cm, ck)
    # label positions: the mean of each municipality's cells
    pos = {}
    for m, n in enumerate(names):
        xy = np.argwhere(cm == m)
        if len(xy):
            pos[n] = ((xy[:, 0].mean() + 0.5) * ck, (xy[:, 1].mean() + 0.5) * ck)
    small = set()
    if residents is not None and len(residents):
        small = set(residents.loc[residents["residents"] < MIN_MAP_PERSONS, "municipality"])
    aspect = territory.height / max(1, territory.width)
    pw = 2.35 if len(years) > 2 else 3.2
    fig, axes = plt.subplots(
        len(rows),
        len(years),
        figsize=(pw * len(years) + 1.4, pw * aspect * len(rows) + 1.0),
        squeeze=False,
        layout="constrained",
    )
    image = None
    for i, s in enumerate(rows):
        for j, y in enumerate(years):
            ax = axes[i, j]
            sub = values[(values["scenario"] == s) & (values["year"] == y)]
            per = np.full(len(names) + 1, np.nan)
            for m, v in zip(sub["municipality"], sub[column]):
                if m in index and m not in small:
                    per[index[m]] = v * scale_values
            grid = np.where(cm >= 0, per[np.where(cm >= 0, cm, len(names))], np.nan)
            masked_small = np.isin(cm, [index[m] for m in small if m in index])
            ax.imshow(
                np.where(masked_small, 1.0, np.nan).T,
                origin="lower",
                extent=extent,
                cmap="Greys",
                vmin=0,
                vmax=5,
                interpolation="nearest",
            )
            image = ax.imshow(grid.T, origin="lower", extent=extent, cmap=cmap, norm=norm, interpolation="nearest")
            ax.add_collection(LineCollection(segs, colors="0.25", linewidths=0.35))
            for n, (px, py) in pos.items():
                ax.text(
                    px,
                    py,
                    display_municipality(n),
                    fontsize=4.2,
                    ha="center",
                    va="center",
                    color="k",
                    bbox={"boxstyle": "round,pad=0.08", "fc": "white", "alpha": 0.55, "lw": 0},
                )
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
            if i == 0:
                ax.set_title(str(y), fontsize=8)
            if j == 0:
                ax.set_ylabel(_wrap(scenario_name(s), 22), fontsize=7.5)
    if image is not None:
        shown = values.loc[~values["municipality"].isin(small), column].to_numpy(float) * scale_values
        clipped = bool(np.any(np.abs(shown[np.isfinite(shown)]) > max(abs(norm.vmin), abs(norm.vmax)) * 1.0001))
        cb = fig.colorbar(image, ax=axes, shrink=0.6, aspect=25, extend="both" if clipped else "neither")
        cb.set_label(colour_label, fontsize=7.5)
        cb.ax.tick_params(labelsize=6.5)
    fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
    full = note + (
        f" Grey: fewer than {MIN_MAP_PERSONS} model persons ({', '.join(sorted(small))}), not coloured."
        if small
        else ""
    )
    fig.supxlabel(_wrap(full, 160), x=0.01, ha="left", fontsize=6.5, color="0.3")
    return save(fig, path, formats)


def _robust_limit(values: pd.DataFrame, column: str, k: float = 1.0) -> float:
    """The half-width of a scale centred on zero: the largest ``|value|`` of any
    municipality, unless one municipality's exceeds every other's by more than half as
    much again; then the next one's (that municipality shows at the colour bar's end, which
    is drawn as an arrow). A single small municipality does not flatten the others."""
    v = values.assign(_a=np.abs(values[column].to_numpy(float) * k))
    per = v.groupby("municipality")["_a"].max().dropna().sort_values(ascending=False).to_numpy()
    if not len(per):
        return 1.0
    m = float(per[1]) if len(per) > 1 and per[0] > 1.5 * per[1] else float(per[0])
    return m if m > 0 else 1.0


def display_municipality(name: str) -> str:
    """A municipality's name on a map: the parenthesis shortened."""
    return (
        name.replace(" (municipality)", " (mun.)")
        .replace(" (township)", " (twp)")
        .replace("Saint-", "St-")
        .replace("Sainte-", "Ste-")
    )


def municipal_maps(
    territory,
    values: pd.DataFrame,
    column: str,
    path: Path,
    unit: str,
    title: str,
    formats=("png",),
    residents: pd.DataFrame | None = None,
) -> list[Path]:
    """Maps of ``values`` (rows: scenario, year, municipality, ``column``): one row of maps
    per scenario, one column per year, one shared colour scale (diverging and centred on
    zero for distress, whose zero is employed adults without a stressor; sequential from
    zero for a rate). Municipalities named and outlined; those with fewer than
    :data:`MIN_MAP_PERSONS` model persons (``residents``, by municipality) left grey."""
    scen = list(dict.fromkeys(values["scenario"]))
    years = sorted(values["year"].unique())
    k = 100.0 if unit == "%" else 1.0
    small = set() if residents is None else set(residents.loc[residents["residents"] < MIN_MAP_PERSONS, "municipality"])
    kept = values.loc[~values["municipality"].isin(small)]
    v = kept[column].to_numpy(float) * k
    v = v[np.isfinite(v)]
    if column == "mean_distress":
        m = _robust_limit(kept, column, k)
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)
        cmap = "PuOr_r"
        label = "Mean distress of adults (SD units; 0 = employed adults without a stressor)"
    else:
        from matplotlib.colors import Normalize

        norm = Normalize(vmin=0.0, vmax=float(v.max()) if len(v) else 1.0)
        cmap = "viridis"
        label = f"{display.series_label(column)} ({unit})"
    return _map_panels(
        territory,
        values,
        column,
        path,
        scen,
        years,
        norm,
        cmap,
        label,
        title,
        f"End of each year, mean over replicates. Municipalities outlined; lakes and land outside "
        f"the RCM white (cells of {territory.cell_km:g} km).",
        formats,
        residents,
        k,
    )


def difference_maps(
    territory,
    values: pd.DataFrame,
    column: str,
    path: Path,
    unit: str,
    baseline: str,
    formats=("png",),
    residents: pd.DataFrame | None = None,
) -> list[Path]:
    """Scenario minus baseline by municipality (``values`` as for :func:`municipal_maps`):
    one row per scenario other than the baseline, one column per year, on a diverging
    colour scale centred on zero and symmetric about it."""
    wide = values.pivot_table(index=["year", "municipality"], columns="scenario", values=column)
    others = [s for s in dict.fromkeys(values["scenario"]) if s != baseline and s in wide]
    k = 100.0 if unit == "%" else 1.0
    rows = []
    for s in others:
        d = (wide[s] - wide[baseline]).rename(column).reset_index()
        d["scenario"] = s
        rows.append(d)
    diff = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["scenario", "year", "municipality", column])
    )
    small = set() if residents is None else set(residents.loc[residents["residents"] < MIN_MAP_PERSONS, "municipality"])
    m = _robust_limit(diff.loc[~diff["municipality"].isin(small)], column, k)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)
    years = sorted(values["year"].unique())
    what = (
        "Mean distress, scenario minus baseline (SD units)"
        if column == "mean_distress"
        else f"{display.series_label(column)}, scenario minus baseline ({'percentage points' if k == 100 else unit})"
    )
    return _map_panels(
        territory,
        diff,
        column,
        path,
        others,
        years,
        norm,
        "PuOr_r",
        what,
        f"{display.series_label(column)} by municipality: each scenario minus the baseline"
        + ("" if baseline == "baseline" else f" ({scenario_name(baseline)})"),
        "End of each year; difference of the means over replicates (the same seeds in every "
        "scenario). Orange: higher than the baseline; purple: lower; white: no difference.",
        formats,
        residents,
        k,
    )


def calibration(table: pd.DataFrame, path: Path, formats=("png",)) -> list[Path]:
    """Each target's model value with its interval against the published value and tolerance."""
    t = table[table["evaluated"]].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.55 * max(1, len(t)) + 1.2), constrained_layout=True)
    for i, r in t.iterrows():
        # everything relative to the target: (model - target) / tolerance band
        tol = r["tolerance_abs"]
        ax.axhspan(i - 0.4, i + 0.4, xmin=0, xmax=1, color="0.95" if r.get("role") != "validate" else "0.88", lw=0)
        x = (r["model_mean"] - r["target"]) / tol if tol else np.nan
        lo = (r["model_lo"] - r["target"]) / tol if tol else np.nan
        hi = (r["model_hi"] - r["target"]) / tol if tol else np.nan
        c = "tab:green" if r["hit"] else "tab:red"
        ax.errorbar(x, i, xerr=[[max(0, x - lo)], [max(0, hi - x)]], fmt="o", color=c, capsize=3)
    ax.axvspan(-1, 1, color="tab:green", alpha=0.12, lw=0, label="within the source's uncertainty")
    ax.axvline(0, color="k", lw=0.8)
    roles = t["role"] if "role" in t else pd.Series("calibrate", index=t.index)
    ax.set_yticks(
        range(len(t)),
        [
            f"{n}{' [held aside]' if r == 'validate' else ''} ({'hit' if h else 'miss'})"
            for n, r, h in zip(t["name"], roles, t["hit"])
        ],
        fontsize=8,
    )
    ax.invert_yaxis()
    ax.set_xlabel("(model - published value) / tolerance  (model: mean and 95% interval over replicates)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Targets: hit when the model's interval meets the source's uncertainty", fontsize=10)
    return save(fig, path, formats)


def sensitivity_bars(table: pd.DataFrame, path: Path, formats=("png",)) -> list[Path]:
    """Morris mu* and Sobol S1/ST with their 95% intervals, one panel per outcome and method."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(
        len(outcomes),
        2,
        figsize=(11, 0.5 * table["parameter"].nunique() * len(outcomes) + 2),
        squeeze=False,
        constrained_layout=True,
    )
    for i, o in enumerate(outcomes):
        sub = table[table["outcome"] == o]
        m = sub[sub["method"] == "morris"].sort_values("mu_star")
        ax = axes[i, 0]
        if len(m):
            ax.barh(m["parameter"], m["mu_star"], xerr=m["mu_star_conf"], color="tab:blue", alpha=0.7, capsize=2)
        ax.set_xlabel("Morris mu* (units of the outcome)")
        ax.set_title(f"{o}: screening", fontsize=9)
        ax.tick_params(labelsize=7)
        s = sub[sub["method"] == "sobol"].sort_values("ST")
        ax = axes[i, 1]
        if len(s):
            y = np.arange(len(s))
            ax.barh(y - 0.2, s["S1"], 0.4, xerr=s["S1_conf"], label="first order S1", color="tab:orange", capsize=2)
            ax.barh(y + 0.2, s["ST"], 0.4, xerr=s["ST_conf"], label="total ST", color="tab:purple", capsize=2)
            ax.set_yticks(y, s["parameter"])
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no Sobol stage", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("Sobol index (share of output variance)")
        ax.set_title(f"{o}: Sobol indices with 95% intervals", fontsize=9)
        ax.tick_params(labelsize=7)
    return save(fig, path, formats)


def robustness_grid(table: pd.DataFrame, path: Path, formats=("png",)) -> list[Path]:
    """Share of the parameter space where each conclusion holds: one row per scenario pair,
    one column per outcome, the effect's sign at the defaults in each cell (+, -, 0);
    cells whose default effect is within noise are hatched."""
    pairs = list(dict.fromkeys(table["pair"]))
    outcomes = list(dict.fromkeys(table["outcome"]))
    grid = np.full((len(pairs), len(outcomes)), np.nan)
    fig, ax = plt.subplots(figsize=(1.1 * len(outcomes) + 3, 0.7 * len(pairs) + 2.6), constrained_layout=True)
    for r in table.itertuples():
        i, j = pairs.index(r.pair), outcomes.index(r.outcome)
        grid[i, j] = r.share_holds
    im = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for r in table.itertuples():
        i, j = pairs.index(r.pair), outcomes.index(r.outcome)
        sign = {1: "+", -1: "-", 0: "0"}.get(int(r.default_sign), "?")
        text = "n/a" if not np.isfinite(r.share_holds) else f"{sign} {100 * r.share_holds:.0f}%"
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=8,
            color="black" if r.default_clear else "dimgrey",
            style="normal" if r.default_clear else "italic",
        )
        if not r.default_clear:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="grey", lw=0))
    ax.set_xticks(range(len(outcomes)), outcomes, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(pairs)), pairs, fontsize=8)
    fig.colorbar(im, ax=ax, label="share of the design's points where the sign at the defaults holds")
    ax.set_title(
        "Robustness of each conclusion over the assumptions' ranges\n"
        "(sign at the defaults, share of Morris points; hatched: default effect within noise)",
        fontsize=9,
    )
    return save(fig, path, formats)
