"""The comparison's tables: each scenario's paired effects against the baseline (the
difference in the outcome's unit and as a percentage, bootstrap intervals, Wilcoxon and
Holm-adjusted p), what the tests can show, and each scenario's means."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
from .outcomes import SUMMARY_BY_NAME

# The unit of a difference, by the outcome's unit: (unit of the difference, factor from
# the outcome's unit). Distress is in SD units of the distress scale (1 is the spread
# between employed adults, configs/base.toml `distress.trait_sd`), so its difference is
# already standardized against the spread between persons.
DIFF_UNITS = {
    "share": ("percentage points", 100.0),
    "distress score": ("SD of distress between persons", 1.0),
    "index 0-1": ("points of a 0-1 scale", 1.0),
    "score 0-1": ("points of a 0-1 scale", 1.0),
}
# Outcomes with no natural zero get no percentage of the baseline: distress (0 is the mean
# of employed adults without a stressor) and gaps between groups (a difference already).
NO_RELATIVE_UNITS = ("distress score",)
EFFECT_COLUMNS = [
    "scenario",
    "outcome",
    "label",
    "group",
    "unit",
    "available",
    "n",
    "baseline_mean",
    "scenario_mean",
    "diff_unit",
    "diff",
    "diff_lo",
    "diff_hi",
    "diff_ci",
    "pct_baseline",
    "pct_lo",
    "pct_hi",
    "pct_ci",
    "wilcoxon_p",
    "min_p",
    "p_holm",
    "clear",
]
ALPHA = 0.05


def diff_unit(unit: str) -> tuple[str, float]:
    """The unit a difference of an outcome in ``unit`` is reported in, and the factor."""
    return DIFF_UNITS.get(unit, (unit, 1.0))


def has_relative(outcome: str, unit: str) -> bool:
    """Whether a difference in ``outcome`` is also given as a percentage of the baseline."""
    return unit not in NO_RELATIVE_UNITS and "_gap_" not in outcome


def effects_table(
    runs: pd.DataFrame, scenarios: list[str], baseline: str, outcomes: list[str], n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Each scenario against the baseline on each outcome, paired by replicate: the
    difference in the outcome's own unit and as a percentage of the baseline's mean, each
    with a 95% bootstrap interval over replicate pairs (not available: NaN and an empty
    ``_ci``), the Wilcoxon p, the smallest p attainable with these pairs, and the
    Holm-adjusted p over the table; ``clear`` when that is below 0.05."""
    done = runs[runs["status"] == "done"]
    rows = []
    for i, s in enumerate(x for x in scenarios if x != baseline):
        for j, o in enumerate(outcomes):
            info = SUMMARY_BY_NAME.get(o)
            unit = info.unit if info else ""
            du, k = diff_unit(unit)
            row = {
                "scenario": s,
                "outcome": o,
                "label": info.label if info else o,
                "group": section_of(o),
                "unit": unit,
                "diff_unit": du,
            }
            if o not in done:
                rows.append({**row, "available": False})
                continue
            wide = done.pivot_table(index="replicate", columns="scenario", values=o, aggfunc="first", dropna=False)
            if baseline not in wide or s not in wide:
                rows.append({**row, "available": False})
                continue
            a, b = wide[baseline].to_numpy(float), wide[s].to_numpy(float)
            ok = ~(np.isnan(a) | np.isnan(b))
            if ok.sum() < 2:
                rows.append({**row, "available": False, "n": int(ok.sum())})
                continue
            est = stats.paired_effect(
                a,
                b,
                n_resamples=n_boot,
                rng=np.random.SeedSequence(seed, spawn_key=(i, j)),
                relative=has_relative(o, unit),
            )
            rows.append(
                {
                    **row,
                    "available": True,
                    "n": est["n"],
                    "baseline_mean": est["mean_a"],
                    "scenario_mean": est["mean_b"],
                    "diff": k * est["diff"],
                    "diff_lo": k * est["diff_lo"],
                    "diff_hi": k * est["diff_hi"],
                    "diff_ci": est["diff_ci"],
                    "pct_baseline": est["pct"],
                    "pct_lo": est["pct_lo"],
                    "pct_hi": est["pct_hi"],
                    "pct_ci": est["pct_ci"],
                    "wilcoxon_p": est["wilcoxon_p"],
                    "min_p": est["min_p"],
                }
            )
    df = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    df["available"] = df["available"].fillna(False).astype(bool)
    for c in ("diff_ci", "pct_ci"):
        df[c] = df[c].fillna("")
    df["p_holm"] = stats.holm(df["wilcoxon_p"].where(df["available"]).to_numpy(float))
    df["clear"] = df["available"] & (df["p_holm"] < ALPHA)
    return df[EFFECT_COLUMNS]


def testable(eff: pd.DataFrame, alpha: float = ALPHA) -> dict:
    """What the table's tests can show: the most pairs of any comparison, the smallest
    Wilcoxon p with that many, the same Holm-adjusted over the table's family, whether it
    can fall below ``alpha``, and the fewest pairs with which it could."""
    avail = eff[eff["available"]]
    m = len(avail)
    n = int(avail["n"].max()) if m else 0
    p = stats.min_wilcoxon_p(n) if n else float("nan")
    adj = min(1.0, m * p) if m else float("nan")
    return {
        "pairs": n,
        "family": m,
        "min_p": p,
        "min_p_holm": adj,
        "can_reject": bool(m) and adj < alpha,
        "pairs_needed": stats.pairs_needed(alpha, max(1, m)),
    }


def summary_table(
    runs: pd.DataFrame, scenarios: list[str], outcomes: list[str], n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    done = runs[runs["status"] == "done"]
    rows = []
    for i, s in enumerate(scenarios):
        sub = done[done["scenario"] == s]
        for j, o in enumerate(outcomes):
            x = sub[o].to_numpy(float) if o in sub else np.array([])
            x = x[~np.isnan(x)]
            if len(x) == 0:
                rows.append(
                    {"scenario": s, "outcome": o, "n": 0, "mean": np.nan, "lo": np.nan, "hi": np.nan, "sd": np.nan}
                )
                continue
            mean, lo, hi = stats.mean_band(
                x[:, None], n_boot=n_boot, rng=np.random.SeedSequence(seed, spawn_key=(i, j))
            )
            if len(x) < stats.MIN_PAIRS_INTERVAL or not lo[0] < hi[0]:  # not available, as in effects_table
                lo[0] = hi[0] = np.nan
            rows.append(
                {
                    "scenario": s,
                    "outcome": o,
                    "n": len(x),
                    "mean": mean[0],
                    "lo": lo[0],
                    "hi": hi[0],
                    "sd": float(x.std(ddof=1)) if len(x) > 1 else np.nan,
                }
            )
    return pd.DataFrame(rows)


# Who an outcome is about, by its name's prefix (docs/outputs.md), in report order.
SECTIONS = (
    ("workers_", "The laid-off workers"),
    ("household_", "Their households' other adults"),
    ("confidants_", "Their confidants"),
    ("marginalized_", "Marginalized residents"),
    ("others_", "Marginalized residents"),
    ("", "The RCM as a whole"),
)


def section_of(outcome: str) -> str:
    return next(title for prefix, title in SECTIONS if outcome.startswith(prefix))
