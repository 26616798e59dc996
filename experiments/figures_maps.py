"""Maps by municipality: levels of an outcome per scenario and year, and each scenario
minus the baseline on a scale centred on zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from . import display
from .display import save, scenario_name
from .figures_base import _wrap, plt


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
