"""Household finances, one week, in plain NumPy: the rule of docs/ODD.md section 7.4.

The inputs are the fast path's (``model/submodels/household_finances.py``) ``Week``,
``People``, ``Households`` and ``Params``; nothing is written: the households' incomes,
strain and probability of leaving are returned.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..state import Status
from ..submodels.household_finances import Households, Params, People, Week


class Finances(NamedTuple):
    households: np.ndarray  # those with a jobless member, sorted: the only ones examined
    income: np.ndarray  # of each of ``households``
    ref_income: np.ndarray
    strained: np.ndarray  # households under strain this week, sorted
    strain_weeks: np.ndarray  # weeks of strain in a row, of every household
    eligible: np.ndarray  # strained at least ``out_migration_after_weeks`` in a row, sorted
    belonging: np.ndarray  # mean belonging of the adults present who arrived with each eligible household


def members(H: Households, households: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the members who arrived with each household (consecutive from
    ``first_row``), and for each the index of its household in ``households``."""
    sizes = H.arrived[households].astype(np.int64)
    of = np.repeat(np.arange(len(households)), sizes)
    first = np.repeat(H.first_row[households].astype(np.int64), sizes)
    within = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return first + within, of


def step(w: Week, P: People, H: Households, p: Params) -> Finances:
    households = np.unique(P.household[w.jobless]).astype(np.int64)
    rows, of = members(H, households)
    status = P.status[rows]
    weekly_wage = P.wage[rows].astype(float) * p.hours_per_week
    pension = P.pension[rows].astype(float)
    employed, retired = status == Status.EMPLOYED, status == Status.RETIRED
    jobless = (status == Status.UNEMPLOYED) | (status == Status.TRAINING)

    # Income: wages of the employed, pensions of the retired, EI benefits and severance (a
    # full weekly wage) of the jobless. Reference: the jobless back at the wage of their
    # last job, without benefits or severance.
    own = np.where(employed, weekly_wage, 0.0) + np.where(retired, pension, 0.0)
    n = len(households)
    income = np.bincount(of, weights=own, minlength=n)
    ref_income = np.bincount(of, weights=own + np.where(jobless, weekly_wage, 0.0), minlength=n)
    slot = np.searchsorted(households, P.household[w.ei_paid])
    income += np.bincount(slot, weights=P.ei_benefit[w.ei_paid].astype(float), minlength=n)
    slot = np.searchsorted(households, P.household[w.severance])
    income += np.bincount(slot, weights=P.wage[w.severance].astype(float) * p.hours_per_week, minlength=n)

    # Strain: income below (1 - income_drop) of the reference; counted in weeks in a row.
    under = income < (1.0 - p.income_drop) * ref_income
    strained = households[under]
    strain_weeks = H.strain_weeks.copy()
    weeks = strain_weeks[strained] + 1
    strain_weeks[w.strained_before] = 0
    strain_weeks[strained] = weeks
    eligible = strained[weeks >= p.out_migration_after_weeks]

    # Mean belonging of the adults present among the members who arrived with each
    # eligible household (belonging_initial if none): it lowers the rate of leaving.
    rows, of = members(H, eligible)
    ok = P.present[rows] & (P.age[rows] >= p.working_age)
    total = np.bincount(of[ok], weights=P.belonging[rows[ok]].astype(float), minlength=len(eligible))
    count = np.bincount(of[ok], minlength=len(eligible))
    belonging = np.where(count > 0, total / np.maximum(count, 1), p.belonging_initial)
    return Finances(households, income, ref_income, strained, strain_weeks, eligible, belonging)


def leave_probability(
    out_migration_rate: float, belonging_migration: float, belonging_initial: float, belonging: np.ndarray
) -> np.ndarray:
    """Weekly probability that an eligible household leaves the RCM:
    ``out_migration_rate * exp(-belonging_migration * (b - belonging_initial))``, at most 1."""
    return np.minimum(out_migration_rate * np.exp(-belonging_migration * (belonging - belonging_initial)), 1.0)
