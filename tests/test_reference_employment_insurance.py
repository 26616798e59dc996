"""Employment Insurance's compiled kernels against the plain-NumPy reference
(``model/reference/employment_insurance.py``), and Schedule I's documented values.

Tolerances: weeks (whole numbers) agree exactly; the weekly benefit, stored as float32,
within a relative 1e-6."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest

from model.config import resolve
from model.constants import HOURS_PER_WEEK
from model.reference import employment_insurance as ref
from model.state import WEEKS_PER_YEAR
from model.submodels import employment_insurance as ei

CLAIM = (
    "job_start",
    "job_end",
    "wage",
    "ei_entitlement",
    "ei_left",
    "ei_paid",
    "ei_exhausted",
    "ei_benefit",
    "severance_left",
    "ei_wait",
)


def section(cfg) -> dict:
    """``[ei]`` with the 2009 extension's months as dates (its first day; the day after)."""
    s = dict(cfg.section("ei"))
    (y0, m0), (y1, m1) = (map(int, x.split("-")) for x in (ei.EXTENSION_2009_START, ei.EXTENSION_2009_END))
    s["extension_start"] = date(y0, m0, 1)
    s["extension_end"] = date(y1 + (m1 == 12), m1 % 12 + 1, 1)
    return s


@pytest.mark.parametrize("day", [date(2005, 6, 1), date(2009, 3, 1), date(2010, 9, 30), date(2010, 10, 1)])
@pytest.mark.parametrize("rate", [0.04, 0.06, 0.061, 0.093, 0.15])
def test_entitlement_is_the_reference_schedule(day, rate):
    cfg = resolve()
    rules = ei.EIRules(cfg)
    rng = np.random.default_rng(int(rate * 1000))
    tenure = rng.random(5000) * 30
    hours = np.minimum(tenure * 52.0, 52.0) * 37.5
    assert np.array_equal(
        rules.entitlement(hours, tenure, rate, day), ref.entitlement(hours, tenure, rate, day, section(cfg))
    )


@pytest.mark.parametrize(
    "hours, rate, day, weeks",
    [
        (699.0, 0.06, date(2005, 1, 1), 0),  # below the entrance requirement at 6%
        (700.0, 0.06, date(2005, 1, 1), 14),  # the least: 14 weeks
        (1820.0, 0.06, date(2005, 1, 1), 36),  # hours capped at 1,820
        (1820.0, 0.16, date(2005, 1, 1), 45),  # 36 + 2 x 10 points, clipped to 45
        (420.0, 0.14, date(2005, 1, 1), 24),  # entrance 420 at 8 points; 8.5 weeks from the hours, 16 from the points
        (700.0, 0.06, date(2009, 6, 1), 19),  # 2009-2010: 5 more weeks
    ],
)
def test_schedule_one_at_documented_points(hours, rate, day, weeks):
    cfg = resolve()
    got = ei.EIRules(cfg).entitlement(np.array([hours]), np.array([1.0]), rate, day)[0]
    assert got == weeks == ref.entitlement([hours], [1.0], rate, day, section(cfg))[0]


def people(n: int, rng) -> dict:
    job_start = rng.uniform(-800, 100, n).astype(np.float32)
    job_end = np.where(rng.random(n) < 0.5, job_start + rng.uniform(0, 400, n), np.nan).astype(np.float32)
    return {
        "job_start": job_start,
        "job_end": job_end,
        "wage": rng.uniform(10, 45, n).astype(np.float32),
        "ei_entitlement": np.zeros(n, np.int16),
        "ei_left": np.zeros(n, np.int16),
        "ei_paid": np.zeros(n, np.int16),
        "ei_exhausted": np.zeros(n, bool),
        "ei_benefit": np.zeros(n, np.float32),
        "severance_left": np.zeros(n, np.int16),
        "ei_wait": np.zeros(n, np.int16),
    }


def same(fast: dict, slow: dict) -> None:
    for k in CLAIM:
        if k == "ei_benefit":
            assert np.allclose(fast[k], slow[k], rtol=1e-6, atol=0)
        else:
            assert np.array_equal(fast[k], slow[k], equal_nan=True), k


@pytest.mark.parametrize("day, severance", [(date(2006, 5, 1), 0), (date(2009, 8, 1), 3)])
def test_claims_and_their_weeks_are_the_reference_claims(day, severance):
    cfg = resolve()
    rules = ei.EIRules(cfg)
    rng = np.random.default_rng(day.year)
    n, week, rate = 4000, 300, 0.083
    fast = people(n, rng)
    slow = {k: v.copy() for k, v in fast.items()}
    ids = np.sort(rng.choice(n, 3000, replace=False)).astype(np.int64)
    ei.open_claims(SimpleNamespace(**fast), ids, rules, rate, day, week, severance)
    ref.open_claims(slow, ids, rate, day, week, severance, section(cfg), HOURS_PER_WEEK, rules.max_benefit(day.year))
    same(fast, slow)
    assert (fast["ei_entitlement"][ids] > 0).mean() > 0.5 and (fast["ei_entitlement"][ids] == 0).any()
    # Weeks go by; the jobless change from week to week.
    paid_total = 0
    for _ in range(60):
        jobless = np.sort(rng.choice(ids, 2500, replace=False))
        benefit, sev = ei.step(SimpleNamespace(**fast), jobless)
        benefit_ref, sev_ref = ref.advance(slow, jobless)
        assert np.array_equal(benefit, benefit_ref) and np.array_equal(sev, sev_ref)
        paid_total += len(benefit)
    same(fast, slow)
    assert paid_total > 0 and fast["ei_exhausted"].any()
    assert WEEKS_PER_YEAR > 52  # tenure in years of 365.25 days
