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


def test_vargha_delaney_a_by_hand():
    # pairs (b, a) with b > a: 1 + 2 + 3 + 4 + 5 = 15 of 25; ties: 4 -> (15 + 0.5 * 4) / 25
    assert stats.vargha_delaney_a(A, B) == pytest.approx(17 / 25)
    assert stats.vargha_delaney_a(B, A) == pytest.approx(1 - 17 / 25)
    assert stats.vargha_delaney_a([1, 2], [3, 4]) == 1.0
    assert stats.vargha_delaney_a([1, 2], [1, 2]) == 0.5


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


def test_bootstrap_intervals_cover_the_estimate_and_shrink_with_n():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, 20)
    b = a + 0.5 + rng.normal(0, 0.5, 20)
    e = stats.bootstrap_effects(a, b, n_boot=1000, rng=2)
    for k in ("mean_diff", "cohens_d", "vd_a"):
        assert e[f"{k}_lo"] <= e[k] <= e[f"{k}_hi"]
    assert e["mean_diff_lo"] > 0
    a2 = rng.normal(0, 1, 200)
    b2 = a2 + 0.5 + rng.normal(0, 0.5, 200)
    e2 = stats.bootstrap_effects(a2, b2, n_boot=1000, rng=2)
    assert e2["mean_diff_hi"] - e2["mean_diff_lo"] < e["mean_diff_hi"] - e["mean_diff_lo"]
    assert stats.bootstrap_effects(a, b, n_boot=500, rng=3) == stats.bootstrap_effects(a, b, n_boot=500, rng=3)


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
