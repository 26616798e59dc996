"""Effects, bootstrap intervals and tests for comparing stochastic scenarios.

Conventions (``a`` is the reference, usually the baseline; ``b`` the scenario):

- ``mean_diff``: mean of ``b - a`` over paired replicates (common random numbers pair
  replicate *i* of every scenario), in the outcome's own unit.
- ``paired_effect``: that difference and the same as a percentage of the mean of ``a``,
  each with a 95% bootstrap interval over the replicate pairs
  (``scipy.stats.bootstrap(paired=True)``: BCa where it can be computed, percentile
  otherwise). An interval is *not available* (NaN, method ``""``) with fewer than
  :data:`MIN_PAIRS_INTERVAL` pairs, when the differences do not vary, or when the bounds
  are not finite or do not enclose the estimate strictly; it is never reported as a
  degenerate interval starting at the estimate.
- ``cohens_d``: the standardized difference between two groups of *persons*,
  ``(mean(b) - mean(a)) / s_pooled`` with ``s_pooled = sqrt(((n_a - 1) s_a^2 + (n_b - 1) s_b^2)
  / (n_a + n_b - 2))`` (Cohen 1988). It is for spreads between persons (for example distress
  of unemployed against employed adults); it is never computed from replicate means, whose
  spread is simulation noise and shrinks as the model grows.
- ``wilcoxon_p``: two-sided Wilcoxon signed-rank test of the paired differences
  (``scipy.stats.wilcoxon``, zero differences dropped); 1 when every difference is 0.
  ``min_wilcoxon_p(n)`` is the smallest two-sided p it can give with ``n`` pairs and no
  ties, ``2 / 2**n``: 0.25 with 3 pairs, 0.031 with 6. ``holm`` adjusts a family of
  p-values (Holm 1979, with statsmodels).

Every function ignores pairs with a missing value and returns NaN when nothing is left.
"""

from __future__ import annotations

import warnings

import numpy as np

# Fewer pairs than this give no bootstrap interval: resamples of 3 or 4 runs span little
# more than the runs themselves, and the "95%" interval covers the true difference far
# less often than 95% of the time.
MIN_PAIRS_INTERVAL = 5
# Below this many pairs the intervals are marked rough in the report.
ROUGH_PAIRS = 10


def _pairs(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError("paired samples must have the same length")
    ok = ~(np.isnan(a) | np.isnan(b))
    return a[ok], b[ok]


def mean_diff(a, b) -> float:
    a, b = _pairs(a, b)
    return float(np.mean(b - a)) if len(a) else float("nan")


def cohens_d(a, b) -> float:
    """Cohen's d of persons: ``(mean(b) - mean(a))`` over the pooled within-group standard
    deviation (NaN with fewer than 2 values in a group or no spread at all)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return float("nan")
    s = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    if not s > 0:
        return float("nan")
    return float((b.mean() - a.mean()) / s)


def wilcoxon_p(a, b) -> float:
    from scipy.stats import wilcoxon

    a, b = _pairs(a, b)
    d = b - a
    if not len(d):
        return float("nan")
    if np.all(d == 0):
        return 1.0
    return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def min_wilcoxon_p(n: int) -> float:
    """The smallest two-sided p-value of the exact Wilcoxon signed-rank test with ``n``
    pairs and no ties or zero differences: every difference of the same sign, ``2 / 2**n``
    (capped at 1; NaN without pairs)."""
    if n < 1:
        return float("nan")
    return float(min(1.0, 2.0 / 2.0**n))


def pairs_needed(alpha: float = 0.05, family: int = 1) -> int:
    """The fewest pairs with which the smallest Wilcoxon p, Holm-adjusted over ``family``
    tests, falls below ``alpha``."""
    n = 1
    while family * min_wilcoxon_p(n) >= alpha:
        n += 1
    return n


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values of a family (statsmodels' ``multipletests``; NaN entries left
    out of the family)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def _diff_stat(a, b, axis=-1):
    return np.mean(b - a, axis=axis)


def _pct_stat(a, b, axis=-1):
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * np.mean(b - a, axis=axis) / np.mean(a, axis=axis)


def paired_interval(
    a, b, statistic, n_resamples: int = 2000, level: float = 0.95, rng=None
) -> tuple[float, float, str]:
    """A bootstrap interval of ``statistic(a, b, axis)`` over resampled pairs: BCa when it
    can be computed, else percentile; ``(nan, nan, "")`` when it is not available (see
    the module's conventions)."""
    from scipy.stats import bootstrap

    a, b = _pairs(a, b)
    nan = (float("nan"), float("nan"), "")
    if len(a) < MIN_PAIRS_INTERVAL or not np.isfinite(a).all() or not np.isfinite(b).all():
        return nan
    d = b - a
    if np.ptp(d) <= 1e-9 * max(np.abs(a).max(), np.abs(b).max(), 1e-300):  # no spread beyond rounding
        return nan
    est = float(statistic(a, b, axis=-1))
    if not np.isfinite(est):
        return nan
    seed = np.random.default_rng(rng)
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns when BCa cannot be computed; we fall back
            try:
                res = bootstrap(
                    (a, b),
                    statistic,
                    paired=True,
                    vectorized=True,
                    n_resamples=n_resamples,
                    confidence_level=level,
                    method=method,
                    rng=seed,
                )
            except ValueError:
                continue
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(lo) and np.isfinite(hi) and lo < est < hi:
            return lo, hi, method
    return nan


def paired_effect(
    a, b, n_resamples: int = 2000, level: float = 0.95, rng=None, relative: bool = True
) -> dict[str, float]:
    """Scenario ``b`` against reference ``a``, paired by replicate: the means, the mean
    difference (``diff``) and, when ``relative`` and the reference's mean is not 0, the
    difference as a percentage of the reference's mean (``pct``), each with its interval
    (``_lo``, ``_hi``, ``_ci``: the method, empty when not available); the Wilcoxon p and
    the smallest p the test can give with this many pairs (``min_p``)."""
    a, b = _pairs(a, b)
    n = len(a)
    nan = float("nan")
    seeds = np.random.SeedSequence(np.random.default_rng(rng).integers(2**63)).spawn(2)
    out: dict[str, float] = {"n": n, "mean_a": float(a.mean()) if n else nan, "mean_b": float(b.mean()) if n else nan}
    out["diff"] = mean_diff(a, b)
    out["diff_lo"], out["diff_hi"], out["diff_ci"] = paired_interval(
        a, b, _diff_stat, n_resamples, level, np.random.default_rng(seeds[0])
    )
    if relative and n and a.mean() != 0:
        out["pct"] = float(_pct_stat(a, b))
        out["pct_lo"], out["pct_hi"], out["pct_ci"] = paired_interval(
            a, b, _pct_stat, n_resamples, level, np.random.default_rng(seeds[1])
        )
    else:
        out["pct"], out["pct_lo"], out["pct_hi"], out["pct_ci"] = nan, nan, nan, ""
    out["wilcoxon_p"] = wilcoxon_p(a, b)
    out["min_p"] = min_wilcoxon_p(int(np.count_nonzero(b - a))) if np.any(b != a) else (1.0 if n else nan)
    return out


def mean_band(x: np.ndarray, n_boot: int = 1000, level: float = 0.95, rng=None):
    """Mean over rows (replicates) of ``x`` (replicates x columns) with the percentile
    bootstrap interval of each column's mean (``scipy.stats.bootstrap``, every column at
    once). A column's missing values are left out of its means; a column with none is
    NaN, and so is a bound to which a resample without values contributes."""
    from scipy.stats import bootstrap

    x = np.asarray(x, float)
    mean, lo, hi = (np.full(x.shape[1], np.nan) for _ in range(3))
    ok = ~np.isnan(x).all(axis=0)
    if not ok.any():
        return mean, lo, hi
    y = x[:, ok]
    mean[ok] = np.nanmean(y, axis=0)
    if y.shape[0] < 2:
        lo[ok] = hi[ok] = mean[ok]
        return mean, lo, hi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of a resample without values
        res = bootstrap(
            (y,),
            np.nanmean,
            axis=0,
            vectorized=True,
            n_resamples=n_boot,
            batch=100,
            confidence_level=level,
            method="percentile",
            rng=np.random.default_rng(rng),
        )
    lo[ok], hi[ok] = res.confidence_interval.low, res.confidence_interval.high
    return mean, lo, hi


def cv(x) -> float:
    """Coefficient of variation ``sd / |mean|`` (NaN when the mean is 0 or fewer than 2 values)."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    if len(x) < 2 or x.mean() == 0:
        return float("nan")
    return float(x.std(ddof=1) / abs(x.mean()))
