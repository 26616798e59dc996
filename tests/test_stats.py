"""Effect sizes and tests against values computed by hand."""

import numpy as np
import pytest

from experiments import stats

A = [1.0, 2.0, 3.0, 4.0, 5.0]
B = [2.0, 3.0, 4.0, 5.0, 9.0]


def test_mean_difference_is_paired():
    assert stats.mean_diff(A, B) == pytest.approx(1.6)
    assert stats.mean_diff([1, np.nan, 3], [2, 5, 5]) == pytest.approx(1.5)  # the pair with a gap is left out


def test_cohens_d_by_hand():
    # means 3 and 4.6; variances 2.5 and 7.3; pooled sd sqrt((4 * 2.5 + 4 * 7.3) / 8) = sqrt(4.9)
    assert stats.cohens_d(A, B) == pytest.approx(1.6 / np.sqrt(4.9))
    assert stats.cohens_d(B, A) == pytest.approx(-1.6 / np.sqrt(4.9))
    assert np.isnan(stats.cohens_d([2, 2, 2], [2, 2, 2]))  # no spread between persons: undefined
    assert np.isnan(stats.cohens_d([1], [2]))


def test_cohens_d_weights_the_groups_by_their_size():
    # persons: 2 employed (variance 2), 4 unemployed (variance 20/3); the pooled variance
    # weights them by their degrees of freedom: (1 * 2 + 3 * 20/3) / 4 = 5.5 (not (2 + 20/3) / 2)
    employed, unemployed = [0.0, 2.0], [1.0, 3.0, 5.0, 7.0]
    assert stats.cohens_d(employed, unemployed) == pytest.approx((4.0 - 1.0) / np.sqrt(5.5))


def test_holm_by_hand():
    p = stats.holm([0.01, 0.04, np.nan, 0.03])
    # sorted 0.01, 0.03, 0.04 over m = 3: 0.03, 0.06, max(0.06, 0.04) = 0.06
    np.testing.assert_allclose(p, [0.03, 0.06, np.nan, 0.06])
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])  # 2 x 0.5 = 1, capped


def test_wilcoxon_paired():
    from scipy.stats import wilcoxon

    a = np.array([3.1, 2.0, 4.5, 5.0, 1.2, 3.3, 2.2])
    b = a + np.array([0.5, 0.2, -0.1, 0.7, 0.9, 0.4, 0.3])
    assert stats.wilcoxon_p(a, b) == pytest.approx(wilcoxon(b - a).pvalue)
    assert stats.wilcoxon_p(a, a) == 1.0


def test_paired_bootstrap_interval_covers_the_true_difference_at_the_nominal_rate():
    # 200 synthetic comparisons of 20 replicate pairs: runs vary a lot between seeds (sd 2),
    # the paired difference little (sd 1) around its true value 0.5 (5% of the mean 10).
    # An unpaired bootstrap would cover almost always; one standardized by too little spread
    # far less often.
    rng = np.random.default_rng(42)
    cover = cover_pct = 0
    for r in range(200):
        a = rng.normal(10, 2, 20)
        b = a + 0.5 + rng.normal(0, 1, 20)
        e = stats.paired_effect(a, b, n_resamples=999, rng=r)
        assert e["diff_ci"] in ("BCa", "percentile") and e["diff_lo"] < e["diff"] < e["diff_hi"]
        cover += e["diff_lo"] < 0.5 < e["diff_hi"]
        cover_pct += e["pct_lo"] < 5.0 < e["pct_hi"]
    assert 0.89 <= cover / 200 <= 0.99
    assert 0.89 <= cover_pct / 200 <= 0.99


def test_paired_effect_by_hand():
    e = stats.paired_effect(A, B, n_resamples=500, rng=0)
    assert e["n"] == 5 and e["mean_a"] == 3.0 and e["mean_b"] == pytest.approx(4.6)
    assert e["diff"] == pytest.approx(1.6) and e["pct"] == pytest.approx(100 * 1.6 / 3.0)
    assert e["min_p"] == pytest.approx(2 / 2**5)  # every difference positive
    assert stats.paired_effect(A, B, n_resamples=500, rng=0) == e  # reproducible
    no_pct = stats.paired_effect(A, B, n_resamples=500, rng=0, relative=False)
    assert np.isnan(no_pct["pct"]) and no_pct["pct_ci"] == "" and no_pct["diff"] == e["diff"]


@pytest.mark.parametrize(
    "a, b, why",
    [
        ([1.0, 2.0, 3.0], [2.0, 4.0, 3.5], "too few pairs"),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.2, 2.2, 3.2, 4.2, 5.2, 6.2], "the differences do not vary"),
        ([1.0, 2.0, np.inf, 4.0, 5.0, 6.0], [1.5, 2.1, 3.0, 4.9, 5.2, 6.7], "not finite"),
    ],
)
def test_an_interval_that_cannot_be_estimated_is_not_available(a, b, why):
    e = stats.paired_effect(a, b, n_resamples=500, rng=0)
    for k in ("diff", "pct"):
        assert np.isnan(e[f"{k}_lo"]) and np.isnan(e[f"{k}_hi"]) and e[f"{k}_ci"] == "", why
    if why != "not finite":
        assert np.isfinite(e["diff"])  # the estimate itself is still given


def test_no_percentage_of_a_zero_baseline():
    e = stats.paired_effect([0.0] * 6, [0.1, 0.2, 0.0, 0.3, 0.1, 0.2], n_resamples=500, rng=0)
    assert np.isnan(e["pct"]) and np.isnan(e["pct_lo"]) and e["diff"] == pytest.approx(0.15)


def test_smallest_attainable_wilcoxon_p():
    from scipy.stats import wilcoxon

    assert stats.min_wilcoxon_p(3) == 0.25
    assert stats.min_wilcoxon_p(6) == pytest.approx(0.03125)
    for n in range(3, 10):  # the exact test with every difference of one sign gives it
        assert stats.min_wilcoxon_p(n) == pytest.approx(wilcoxon(np.arange(1.0, n + 1)).pvalue)
    assert stats.pairs_needed(0.05, 1) == 6  # 2/2^5 = 0.0625, 2/2^6 = 0.031
    assert stats.pairs_needed(0.05, 37) == 11  # 37 * 2/2^11 = 0.036


def test_mean_band():
    x = np.array([[1.0, np.nan, 2.0], [3.0, np.nan, 2.0], [5.0, np.nan, 2.0]])
    mean, lo, hi = stats.mean_band(x, n_boot=500, rng=0)
    np.testing.assert_allclose(mean[[0, 2]], [3.0, 2.0])
    assert np.isnan(mean[1]) and np.isnan(lo[1])
    assert 1.0 <= lo[0] < 3.0 < hi[0] <= 5.0
    assert lo[2] == hi[2] == 2.0


def test_cv():
    assert stats.cv([1.0, 3.0]) == pytest.approx(np.std([1, 3], ddof=1) / 2)
    assert np.isnan(stats.cv([0.0, 0.0]))
