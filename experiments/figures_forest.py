"""Forest plots of a comparison's effects: each scenario against the baseline on each
outcome with its 95% interval, one panel per group of people and unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import display
from .display import save, scenario_name, styles_of
from .figures_base import _wrap, plt
from .outcomes import COHORT_GROUPS, SUMMARY_BY_NAME


def _short_label(outcome: str) -> str:
    """An outcome's label without the group of people its panel is titled with."""
    label = SUMMARY_BY_NAME[outcome].label if outcome in SUMMARY_BY_NAME else outcome
    for prefix in sorted(COHORT_GROUPS.values(), key=len, reverse=True):
        if label.startswith(prefix + " "):
            return label[len(prefix) + 1 :]
    return label


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
