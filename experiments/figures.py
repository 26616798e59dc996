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

from .outcomes import COHORT_GROUPS, SERIES_UNITS, SUMMARY_BY_NAME  # noqa: E402

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


def _short_label(outcome: str) -> str:
    """An outcome's label without the group of people its panel is titled with."""
    label = SUMMARY_BY_NAME[outcome].label if outcome in SUMMARY_BY_NAME else outcome
    for prefix in sorted(COHORT_GROUPS.values(), key=len, reverse=True):
        if label.startswith(prefix + " "):
            return label[len(prefix) + 1:]
    return label


def _wrap(text: str, width: int = 55) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def forest(effects: pd.DataFrame, path: Path, measure: str = "diff") -> Path:
    """Each scenario's effect against the baseline on each outcome with its 95% interval:
    ``measure="diff"``, the paired difference in the outcome's unit (one panel per group of
    people and unit of the difference; panels in the same unit share their x axis);
    ``"pct"``, the difference as a percentage of the baseline (one panel per group, one
    shared axis). Hollow markers: interval not available; black edge: clear (Holm-adjusted
    p < 0.05)."""
    if measure not in ("diff", "pct"):
        raise ValueError(f"measure must be 'diff' or 'pct', got {measure!r}")
    est_col, lo_col, hi_col = ("diff", "diff_lo", "diff_hi") if measure == "diff" else ("pct_baseline", "pct_lo",
                                                                                          "pct_hi")
    eff = effects[effects["available"] & effects[est_col].notna()].copy()
    if measure == "pct":
        eff["diff_unit"] = "% of the baseline's mean"
    scen = list(dict.fromkeys(eff["scenario"]))
    col = colour_of(["baseline"] + scen)
    panels = list(dict.fromkeys(zip(eff["group"], eff["diff_unit"])))
    # a common x range for the panels of each unit
    xlim = {}
    for unit, sub in eff.groupby("diff_unit"):
        vals = np.r_[sub[est_col], sub[lo_col], sub[hi_col], 0.0].astype(float)
        vals = vals[np.isfinite(vals)]
        lo, hi = vals.min(), vals.max()
        pad = 0.06 * (hi - lo) if hi > lo else 1.0
        xlim[unit] = (lo - pad, hi + pad)
    n_out = [eff[(eff["group"] == g) & (eff["diff_unit"] == u)]["outcome"].nunique() for g, u in panels]
    row_h = max(0.34, 0.12 + 0.08 * len(scen))
    heights = [0.75 + row_h * k for k in n_out] or [1.0]
    fig, axes = plt.subplots(max(1, len(panels)), 1, figsize=(10, sum(heights) + 0.8), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, constrained_layout=True)
    for ax, (group, unit) in zip(axes[:, 0], panels):
        sub = eff[(eff["group"] == group) & (eff["diff_unit"] == unit)]
        outcomes = list(dict.fromkeys(sub["outcome"]))
        step = 0.8 / max(1, len(scen))
        for i, o in enumerate(outcomes):
            for j, s in enumerate(scen):
                r = sub[(sub["outcome"] == o) & (sub["scenario"] == s)]
                if not len(r):
                    continue
                r = r.iloc[0]
                y = i + 0.4 - step * (j + 0.5)
                est, lo, hi = float(r[est_col]), float(r[lo_col]), float(r[hi_col])
                has_ci = np.isfinite(lo) and np.isfinite(hi)
                if has_ci:
                    ax.plot([lo, hi], [y, y], color=col[s], lw=1.2)
                ax.plot(est, y, "o", ms=4.5 if r["clear"] else 3.5, color=col[s],
                        mfc=col[s] if has_ci else "white", mec="k" if r["clear"] else col[s], mew=1.0)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(outcomes)),
                      [_wrap(_short_label(o)) for o in outcomes], fontsize=7)
        ax.set_ylim(len(outcomes) - 0.5, -0.5)
        ax.set_xlim(*xlim[unit])
        ax.set_xlabel(f"scenario - baseline ({unit})", fontsize=8)
        ax.set_title(f"{group}: {unit}", fontsize=9, loc="left")
        ax.grid(alpha=0.3, axis="x")
        ax.tick_params(axis="x", labelsize=7)
    handles = [plt.Line2D([], [], color=col[s], marker="o", lw=1.2, label=s) for s in scen]
    handles += [plt.Line2D([], [], color="0.4", marker="o", mfc="white", lw=0, label="interval not available"),
                plt.Line2D([], [], color="0.4", marker="o", mec="k", lw=0, label="clear (Holm p < 0.05)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(4, len(handles)), fontsize=7)
    what = "difference in the outcome's unit" if measure == "diff" else "difference as a percentage of the baseline"
    fig.suptitle(f"Effects against the baseline: {what}, paired by replicate, 95% bootstrap intervals", fontsize=10)
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


def robustness_grid(table: pd.DataFrame, path: Path) -> Path:
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
        ax.text(j, i, text, ha="center", va="center", fontsize=8,
                color="black" if r.default_clear else "dimgrey", style="normal" if r.default_clear else "italic")
        if not r.default_clear:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="grey", lw=0))
    ax.set_xticks(range(len(outcomes)), outcomes, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(pairs)), pairs, fontsize=8)
    fig.colorbar(im, ax=ax, label="share of the design's points where the sign at the defaults holds")
    ax.set_title("Robustness of each conclusion over the assumptions' ranges\n"
                 "(sign at the defaults, share of Morris points; hatched: default effect within noise)", fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
