"""The comparison's options and its replicate rule: the coefficient-of-variation stability
check that decides whether more replicates are run (:mod:`experiments.compare`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import stats
from .outcomes import KEY_OUTCOMES, KEY_SERIES


@dataclass
class CompareOptions:
    baseline: str = "baseline"
    replicates: int | None = None
    min_replicates: int = 20
    step: int = 10
    max_replicates: int = 60
    cv_tolerance: float = 0.05
    outcomes: list[str] = field(default_factory=lambda: list(KEY_OUTCOMES))
    series: list[str] = field(default_factory=lambda: list(KEY_SERIES))
    map_years: list[int] | None = None
    n_boot: int = 2000
    formats: tuple[str, ...] = ("png",)


# The stability check compares at least 2 replicates with more: it needs 3.
MIN_CHECK_REPLICATES = 3


def cv_check(runs: pd.DataFrame, outcomes: list[str], n: int, tolerance: float, lag: int = 5) -> dict:
    """Relative change of the coefficient of variation between the first ``n - lag`` and
    all ``n`` replicates, for each scenario and available outcome."""
    done = runs[runs["status"] == "done"]
    worst = 0.0
    where = None
    checked = 0
    for s, sub in done.groupby("scenario"):
        sub = sub.sort_values("replicate")
        for o in outcomes:
            if o not in sub:
                continue
            x = sub[o].to_numpy(float)
            if np.isnan(x).all():
                continue
            a, b = stats.cv(x[: max(2, n - lag)]), stats.cv(x[:n])
            if not (np.isfinite(a) and np.isfinite(b)) or b == 0:
                continue
            checked += 1
            change = abs(b - a) / b
            if change > worst:
                worst, where = change, f"{o} in {s}"
    return {
        "replicates": n,
        "compared_with": max(2, n - lag),
        "checked": checked,
        "largest_change": worst,
        "where": where,
        "stable": worst < tolerance,
    }
