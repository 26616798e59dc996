"""Figures of the parameter studies: calibration targets against the model, sensitivity
indices (Morris and Sobol), and the robustness of each conclusion over the assumptions'
ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .display import save
from .figures_base import plt


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
