"""Effect sizes, bootstrap intervals and tests for comparing stochastic scenarios.

Conventions (``a`` is the reference, usually the baseline; ``b`` the scenario):

- ``mean_diff``: mean of ``b - a`` over paired replicates (common random numbers pair
  replicate *i* of every scenario).
- ``cohens_d``: the standardized difference between two groups of persons,
  ``(mean(b) - mean(a)) / s_pooled`` with ``s_pooled = sqrt(((n_a - 1) s_a^2 + (n_b - 1) s_b^2)
  / (n_a + n_b - 2))`` (Cohen 1988); NaN without spread. The one implementation: the
  calibration's distress gap between unemployed and employed persons uses it.
- ``vargha_delaney_a``: probability that a run of ``b`` exceeds a run of ``a``, ties
  counting one half (Vargha & Delaney 2000): 0.5 is no effect; 0.56, 0.64 and 0.71 are
  the usual thresholds of a small, medium and large effect.
- Intervals: percentile bootstrap over replicate pairs (the same resampled pairs for both
  samples), 95% by default.
- ``wilcoxon_p``: two-sided Wilcoxon signed-rank test of the paired differences; 1 when
  every difference is 0. ``holm`` adjusts a family of p-values (Holm 1979).

Every function ignores pairs with a missing value and returns NaN when nothing is left.
"""

from __future__ import annotations

import numpy as np


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


def vargha_delaney_a(a, b) -> float:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if not len(a) or not len(b):
        return float("nan")
    greater = (b[:, None] > a[None, :]).mean()
    ties = (b[:, None] == a[None, :]).mean()
    return float(greater + 0.5 * ties)


def wilcoxon_p(a, b) -> float:
    from scipy.stats import wilcoxon

    a, b = _pairs(a, b)
    d = b - a
    if not len(d):
        return float("nan")
    if np.all(d == 0):
        return 1.0
    return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values of a family (NaN entries left out of the family)."""
    p = np.asarray(pvalues, float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = len(idx)
    if not m:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out


def bootstrap_effects(a, b, n_boot: int = 2000, level: float = 0.95, rng=None) -> dict[str, float]:
    """Point estimates and percentile bootstrap intervals of the mean difference, Cohen's d
    and Vargha-Delaney A, resampling replicate pairs."""
    a, b = _pairs(a, b)
    n = len(a)
    est = {"n": n, "mean_a": float(a.mean()) if n else float("nan"), "mean_b": float(b.mean()) if n else float("nan"),
           "mean_diff": mean_diff(a, b), "cohens_d": cohens_d(a, b), "vd_a": vargha_delaney_a(a, b),
           "wilcoxon_p": wilcoxon_p(a, b)}
    keys = ("mean_diff", "cohens_d", "vd_a")
    if n < 2:
        for k in keys:
            est[f"{k}_lo"] = est[f"{k}_hi"] = float("nan")
        return est
    rng = np.random.default_rng(rng)
    idx = rng.integers(0, n, size=(n_boot, n))
    A, B = a[idx], b[idx]
    boot_diff = (B - A).mean(axis=1)
    s = np.sqrt((A.var(axis=1, ddof=1) + B.var(axis=1, ddof=1)) / 2)
    delta = B.mean(axis=1) - A.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_d = np.where(s > 0, delta / s, np.where(delta == 0, 0.0, np.nan))
    boot_a = (B[:, :, None] > A[:, None, :]).mean(axis=(1, 2)) + 0.5 * (B[:, :, None] == A[:, None, :]).mean(axis=(1, 2))
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    for k, boot in zip(keys, (boot_diff, boot_d, boot_a)):
        boot = boot[~np.isnan(boot)]
        lo, hi = np.percentile(boot, q) if len(boot) else (np.nan, np.nan)
        est[f"{k}_lo"], est[f"{k}_hi"] = float(lo), float(hi)
    return est


def mean_band(x: np.ndarray, n_boot: int = 1000, level: float = 0.95, rng=None):
    """Mean over rows (replicates) of ``x`` (replicates x weeks) with a percentile bootstrap
    band of the mean; NaN columns stay NaN."""
    x = np.asarray(x, float)
    mean = np.full(x.shape[1], np.nan)
    lo = np.full(x.shape[1], np.nan)
    hi = np.full(x.shape[1], np.nan)
    ok = ~np.isnan(x).all(axis=0)
    if not ok.any():
        return mean, lo, hi
    y = x[:, ok]
    mean[ok] = np.nanmean(y, axis=0)
    n = y.shape[0]
    if n >= 2:
        rng = np.random.default_rng(rng)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)  # resampled replicates
        present = ~np.isnan(y)
        with np.errstate(invalid="ignore", divide="ignore"):
            boots = (counts @ np.where(present, y, 0.0)) / (counts @ present)
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        lo[ok], hi[ok] = np.nanpercentile(boots, q, axis=0)
    else:
        lo[ok] = hi[ok] = mean[ok]
    return mean, lo, hi


def cv(x) -> float:
    """Coefficient of variation ``sd / |mean|`` (NaN when the mean is 0 or fewer than 2 values)."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    if len(x) < 2 or x.mean() == 0:
        return float("nan")
    return float(x.std(ddof=1) / abs(x.mean()))
