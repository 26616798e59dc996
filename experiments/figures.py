"""Figures of sweeps and comparisons: series with 95% bands, forest plot, maps, calibration,
sensitivity indices."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .outcomes import SERIES_UNITS, SUMMARY_BY_NAME  # noqa: E402

COLOURS = plt.get_cmap("tab10").colors


def colour_of(scenarios: list[str]) -> dict[str, tuple]:
    out = {}
    for i, s in enumerate(scenarios):
        out[s] = (0.15, 0.15, 0.15) if s == "baseline" else COLOURS[(i + (i >= 7)) % 10]
    return out


def _percent_axis(column: str) -> bool:
    return SERIES_UNITS.get(column) == "share"


def series_with_bands(dates: pd.DatetimeIndex, bands: dict[str, tuple], column: str, path: Path,
                      closures: list[tuple[str, date, date]], periods: dict[str, list[tuple[str, date, date]]],
                      replicates: int, title: str = "") -> Path:
    """One weekly outcome: the mean over replicates of each scenario with its 95% bootstrap
    band; closures shaded grey; each scenario's intervention periods as bars underneath."""
    scen = list(bands)
    col = colour_of(scen)
    names = list(dict.fromkeys(name for s in scen for name, _, _ in periods.get(s, [])))
    if names:
        fig, (ax, gantt) = plt.subplots(2, 1, figsize=(10, 5.8 + 0.3 * len(names)), sharex=True,
                                        gridspec_kw={"height_ratios": [4, 0.5 + 0.35 * len(names)]},
                                        constrained_layout=True)
    else:
        fig, ax = plt.subplots(figsize=(10, 5), constrained_layout=True)
        gantt = None
    k = 100.0 if _percent_axis(column) else 1.0
    for s in scen:
        mean, lo, hi = bands[s]
        ax.plot(dates, k * mean, color=col[s], lw=1.3, label=s)
        ax.fill_between(dates, k * lo, k * hi, color=col[s], alpha=0.2, lw=0)
    for _, a, b in closures:
        for axis in (ax, gantt):
            if axis is not None:
                axis.axvspan(pd.Timestamp(a), pd.Timestamp(b), color="grey", alpha=0.15, lw=0)
    unit = SERIES_UNITS.get(column, "")
    ax.set_ylabel(f"{column.replace('_', ' ')}\n({'%' if k == 100 else unit})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="best")
    ax.set_title(title or f"{column.replace('_', ' ')}: mean of {replicates} replicates with 95% bootstrap band; "
                 "closures shaded", fontsize=10)
    bottom = ax
    if gantt is not None:
        # one row per intervention; within it, one thin bar per scenario that has it, in the scenario's colour
        for i, name in enumerate(names):
            having = [(s, a, b) for s in scen for n, a, b in periods.get(s, []) if n == name]
            h = 0.8 / max(1, len(having))
            for k, (s, a, b) in enumerate(having):
                gantt.barh(i - 0.4 + h * (k + 0.5), pd.Timestamp(b) - pd.Timestamp(a), left=pd.Timestamp(a),
                           height=h * 0.9, color=col[s])
        gantt.set_yticks(range(len(names)), [n.replace("_", " ") for n in names], fontsize=7)
        gantt.set_ylim(len(names) - 0.5, -0.5)
        gantt.set_title("interventions in force: one bar per scenario that has them, in its colour", fontsize=8,
                        loc="left")
        bottom = gantt
    bottom.set_xlabel("Date")
    locator = mdates.YearLocator(2 if (dates[-1] - dates[0]).days > 6 * 365 else 1)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def forest(effects: pd.DataFrame, path: Path, measure: str = "cohens_d") -> Path:
    """Effect of each scenario against the baseline on each outcome, with 95% intervals."""
    eff = effects[effects["available"]].copy()
    outcomes = list(dict.fromkeys(eff["outcome"]))
    scen = list(dict.fromkeys(eff["scenario"]))
    n = max(1, len(outcomes))
    ncol = min(3 if n <= 15 else 5, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 0.35 * len(scen) * nrow + 1.6 * nrow), squeeze=False,
                             constrained_layout=True)
    col = colour_of(["baseline"] + scen)
    null = 0.5 if measure == "vd_a" else 0.0
    label = {"cohens_d": "Cohen's d (scenario - baseline)", "vd_a": "Vargha-Delaney A",
             "mean_diff": "mean difference"}[measure]
    for i, ax in enumerate(axes.flat):
        if i >= len(outcomes):
            ax.axis("off")
            continue
        o = outcomes[i]
        sub = eff[eff["outcome"] == o].set_index("scenario").reindex(scen)
        y = np.arange(len(scen))[::-1]
        est, lo, hi = sub[measure].to_numpy(float), sub[f"{measure}_lo"].to_numpy(float), sub[f"{measure}_hi"].to_numpy(float)
        for j, s in enumerate(scen):
            ax.errorbar(est[j], y[j], xerr=[[max(0, est[j] - lo[j])], [max(0, hi[j] - est[j])]], fmt="o",
                        color=col[s], ms=4, capsize=2, lw=1)
        ax.axvline(null, color="k", lw=0.8)
        ax.set_yticks(y, scen, fontsize=7)
        ax.set_title(SUMMARY_BY_NAME[o].label if o in SUMMARY_BY_NAME else o, fontsize=8)
        ax.set_xlabel(label, fontsize=8)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle("Effects against the baseline with 95% bootstrap intervals", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def municipal_maps(territory, values: pd.DataFrame, column: str, path: Path, unit: str, title: str) -> Path:
    """Maps of ``values`` (rows: scenario, year, municipality, ``column``): one row of maps
    per scenario, one column per year, a shared colour scale."""
    scen = list(dict.fromkeys(values["scenario"]))
    years = sorted(values["year"].unique())
    names = list(territory.municipalities["name"])
    index = {n: i for i, n in enumerate(names)}
    cm = territory.cell_municipality
    vmin, vmax = np.nanmin(values[column]), np.nanmax(values[column])
    if not np.isfinite(vmin):
        vmin, vmax = 0.0, 1.0
    scale = 100.0 if unit == "%" else 1.0
    fig, axes = plt.subplots(len(scen), len(years), figsize=(2.4 * len(years) + 1, 2.3 * len(scen) + 0.6),
                             squeeze=False, constrained_layout=True)
    extent = [0, territory.width * territory.cell_km, 0, territory.height * territory.cell_km]
    image = None
    for i, s in enumerate(scen):
        for j, y in enumerate(years):
            ax = axes[i, j]
            sub = values[(values["scenario"] == s) & (values["year"] == y)]
            per = np.full(len(names) + 1, np.nan)
            for m, v in zip(sub["municipality"], sub[column]):
                if m in index:
                    per[index[m]] = v * scale
            grid = np.where(cm >= 0, per[np.where(cm >= 0, cm, len(names))], np.nan)
            image = ax.imshow(grid.T, origin="lower", extent=extent, cmap="magma_r", vmin=vmin * scale,
                              vmax=vmax * scale, interpolation="nearest")
            ax.tick_params(labelsize=6)
            if i == len(scen) - 1:
                ax.set_xlabel("km east", fontsize=7)
            if i == 0:
                ax.set_title(str(y), fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{s}\nkm north", fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.7, label=f"{column.replace('_', ' ')} ({unit})")
    fig.suptitle(title + f"\n(cells of {territory.cell_km:g} km; lakes and cells outside the RCM blank)", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def calibration(table: pd.DataFrame, path: Path) -> Path:
    """Each target's model value with its interval against the published value and tolerance."""
    t = table[table["evaluated"]].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.55 * max(1, len(t)) + 1.2), constrained_layout=True)
    for i, r in t.iterrows():
        # everything relative to the target: (model - target) / tolerance band
        tol = r["tolerance_abs"]
        ax.axhspan(i - 0.4, i + 0.4, xmin=0, xmax=1, color="0.95", lw=0)
        x = (r["model_mean"] - r["target"]) / tol if tol else np.nan
        lo = (r["model_lo"] - r["target"]) / tol if tol else np.nan
        hi = (r["model_hi"] - r["target"]) / tol if tol else np.nan
        c = "tab:green" if r["hit"] else "tab:red"
        ax.errorbar(x, i, xerr=[[max(0, x - lo)], [max(0, hi - x)]], fmt="o", color=c, capsize=3)
    ax.axvspan(-1, 1, color="tab:green", alpha=0.12, lw=0, label="within tolerance")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(range(len(t)), [f"{n} ({'hit' if h else 'miss'})" for n, h in zip(t["name"], t["hit"])], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("(model - published value) / tolerance  (model: mean and 95% interval over replicates)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Calibration targets: hit when the model's mean is within the tolerance", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sensitivity_bars(table: pd.DataFrame, path: Path) -> Path:
    """Morris mu* and Sobol S1/ST with their 95% intervals, one panel per outcome and method."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(len(outcomes), 2, figsize=(11, 0.5 * table["parameter"].nunique() * len(outcomes) + 2),
                             squeeze=False, constrained_layout=True)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
