"""Employment Insurance in plain NumPy (ODD 7.3, docs/ODD.md).

The mechanism of ``model/submodels/employment_insurance.py`` stated directly, for a
reader to hold beside its ODD section and for the tests to check the compiled fast path
against. A claim opens at a job loss:

- insurable hours: min(tenure, 52 weeks) x the weekly hours;
- with k the whole points of the regional unemployment rate above 6% (rounded up), the
  claim qualifies if the hours reach 700 - 35k (at least 420), and lasts
  14 + (hours - 700) x 22 / 1120 weeks (hours capped at 1,820; the whole weeks) plus 2k,
  clipped to 14-45 weeks (Schedule I, approximated);
- claims opened from March 2009 to September 2010 get 5 more weeks, and long-tenured
  workers 5 + 2 per year of tenure beyond 7, at most 20, more;
- the weekly benefit is 55% of weekly insurable earnings, at most the year's maximum;
- benefits start after the waiting weeks and any severance weeks.

Each week a claimant without a job is paid a week of severance where some is left, then
spends a week of the waiting period or, once it is over, is paid a week of benefits
while entitlement lasts; a claim whose last week is paid is exhausted. The rules of the
Act are the constants of ``employment_insurance``; the benefit rate and the sizes of the
2009 measures are parameters of ``[ei]`` (the 5 and 20 weeks above are their defaults).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from ..state import WEEKS_PER_YEAR
from ..submodels.employment_insurance import (
    BASE_WEEKS_HOURS,
    ENTRANCE_HOURS,
    LONG_TENURED_MIN_EXTRA_WEEKS,
    LONG_TENURED_MIN_YEARS,
    LONG_TENURED_WEEKS_PER_YEAR,
    MAX_WEEKS,
    MIN_WEEKS,
    WAITING_WEEKS,
    WEEKS_PER_POINT_UNEMPLOYMENT,
)


def entitlement(hours, tenure, rate: float, day: date, ei: dict) -> np.ndarray:
    """Weeks of benefits of claims opened on ``day`` (0 where not eligible). ``ei``:
    ``extension_2009_weeks``, ``long_tenured_max_extra_weeks`` and the extension's
    ``extension_start`` and ``extension_end`` (dates: its first day, the day after)."""
    hours, tenure = np.asarray(hours, float), np.asarray(tenure, float)
    k = max(0, math.ceil(round(rate * 100 - 6.0, 9)))  # Schedule I's column
    hi, lo = ENTRANCE_HOURS
    entrance = max(lo, hi - (hi - lo) / 8.0 * k)
    h0, w0, h1, w1 = BASE_WEEKS_HOURS
    base = w0 + (np.minimum(hours, h1) - h0) * (w1 - w0) / (h1 - h0)
    weeks = np.clip(np.floor(base) + WEEKS_PER_POINT_UNEMPLOYMENT * k, MIN_WEEKS, MAX_WEEKS)
    if ei["extension_start"] <= day < ei["extension_end"]:
        extra = np.minimum(
            ei["long_tenured_max_extra_weeks"],
            LONG_TENURED_MIN_EXTRA_WEEKS + LONG_TENURED_WEEKS_PER_YEAR * (tenure - LONG_TENURED_MIN_YEARS),
        )
        weeks = weeks + ei["extension_2009_weeks"] + np.where(tenure >= LONG_TENURED_MIN_YEARS, extra, 0.0)
    return np.where(hours >= entrance, np.floor(weeks), 0.0).astype(np.int16)


def open_claims(
    P: dict,
    ids,
    rate: float,
    day: date,
    week: int,
    severance_weeks: int,
    ei: dict,
    hours_per_week: float,
    max_benefit: float,
) -> None:
    """Claims of persons ``ids``, who just lost a job (``job_end``, NaN: this week). ``P``
    holds job_start, job_end, wage and the claim's arrays (changed in place)."""
    end = np.where(np.isnan(P["job_end"][ids]), week, P["job_end"][ids].astype(float))
    tenure = (end - P["job_start"][ids].astype(float)) / WEEKS_PER_YEAR
    hours = np.minimum(tenure * 52.0, 52.0) * hours_per_week
    weeks = entitlement(hours, tenure, rate, day, ei)
    P["ei_entitlement"][ids] = P["ei_left"][ids] = weeks
    P["ei_paid"][ids], P["ei_exhausted"][ids] = 0, False
    benefit = np.minimum(ei["replacement_rate"] * P["wage"][ids].astype(float) * hours_per_week, max_benefit)
    P["ei_benefit"][ids] = np.where(weeks > 0, benefit, 0.0)
    P["severance_left"][ids] = severance_weeks
    P["ei_wait"][ids] = WAITING_WEEKS + severance_weeks


def advance(P: dict, jobless) -> tuple[np.ndarray, np.ndarray]:
    """One week of the claims of ``jobless`` (distinct rows); return the rows paid a
    benefit and the rows paid severance."""
    jobless = np.asarray(jobless, np.int64)
    severance = jobless[P["severance_left"][jobless] > 0]
    P["severance_left"][severance] -= 1
    waits = jobless[P["ei_wait"][jobless] > 0]
    P["ei_wait"][waits] -= 1
    paid = jobless[(P["ei_wait"][jobless] == 0) & (P["ei_left"][jobless] > 0)]
    paid = paid[~np.isin(paid, waits)]  # a week of waiting is not also a week paid
    P["ei_left"][paid] -= 1
    P["ei_paid"][paid] += 1
    P["ei_exhausted"][paid[P["ei_left"][paid] == 0]] = True
    return paid, severance
