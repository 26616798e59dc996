"""The compiled kernels of the labour market, EI and household finances compute what the
plain NumPy expressions they replace compute, bit for bit."""

from datetime import date

import numpy as np
import pytest

from model import CohesionModel
from model.config import resolve
from model.state import Status
from model.submodels.employment_insurance import EIRules


def entitlement_numpy(rules, hours, tenure, rate, day):
    """Schedule I weeks written with NumPy array arithmetic (float32 rows stay float32)."""
    base = rules.w0 + (np.minimum(hours, rules.h1) - rules.h0) * (rules.w1 - rules.w0) / (rules.h1 - rules.h0)
    weeks = np.floor(base) + rules.per_point * rules.points_above_6(rate)
    weeks = np.clip(weeks, rules.min_weeks, rules.max_weeks)
    if rules.ext_start <= day < rules.ext_end:
        weeks = weeks + rules.ext_weeks
        extra = np.minimum(rules.lt_max, rules.lt_min + rules.lt_per_year * (tenure - rules.lt_years))
        weeks = weeks + np.where(tenure >= rules.lt_years, extra, 0.0)
    return np.where(hours >= rules.entrance_hours(rate), np.floor(weeks), 0).astype(np.int16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("day", [date(2005, 6, 1), date(2009, 6, 1)])
@pytest.mark.parametrize("min_extra", [5, 8])
def test_entitlement_kernel_matches_numpy_arithmetic(dtype, day, min_extra):
    rules = EIRules(resolve())
    rules.lt_years, rules.lt_per_year, rules.lt_min = 6.7, 1.3, min_extra  # other values of the 2009 schedule
    rng = np.random.default_rng(0)
    tenure = (rng.random(20_000) * 30).astype(dtype)
    hours = (np.minimum(tenure * 52.0, 52.0) * 37.3).astype(dtype)
    for rate in (0.04, 0.071, 0.093, 0.15):
        assert np.array_equal(
            rules.entitlement(hours, tenure, rate, day), entitlement_numpy(rules, hours, tenure, rate, day)
        )


def test_uniform_between_bounds_is_a_scaled_standard_uniform():
    """give_jobs draws the wage loss as ``lo + (hi - lo) * u`` from ``rng.random``: the same
    numbers ``rng.uniform(lo, hi)`` gives."""
    lo, hi = np.array([0.18, 0.24, 0.0] * 50), np.array([0.35, 0.35, 0.15] * 50)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(a.uniform(lo, hi), lo + (hi - lo) * b.random(len(lo)))
    assert a.random() == b.random()


def test_job_seekers_of_the_week_are_every_unemployed_person():
    m = CohesionModel(scale=0.05, rng=3, start="2005-01", end="2005-12")
    lab = m.labour
    match = lab._match
    checked = []

    def checked_match(rng, held, search=None, persons=None):
        P = m.people
        assert np.array_equal(search.seekers, np.flatnonzero(P.status[: P.n] == Status.UNEMPLOYED))
        employed = np.flatnonzero((P.status[: P.n] == Status.EMPLOYED) & ~P.at_plant[: P.n])
        assert np.array_equal(held, np.bincount(P.sector[employed], minlength=lab.n_sec))
        checked.append(len(search.seekers))
        return match(rng, held, search, persons)

    lab._match = checked_match
    m.run()
    assert len(checked) == m.n_weeks and max(checked) > 0
