"""Employment Insurance: claims, entitlement, weekly benefits and exhaustion.

A claim opens when a person loses a job (a layoff wave or a background separation).
Entitlement follows an approximation of Schedule I of the Employment Insurance Act:
hours of insurable employment in the last 52 weeks and the regional unemployment rate
give 14 to 45 weeks (the constants below), plus the 2009-2010 recovery measures
(``ei.extension_2009_weeks``, +5, for every claim in the window, and 5 to 20 more weeks
for long-tenured workers: ``LONG_TENURED_MIN_EXTRA_WEEKS`` at the minimum tenure, then
``LONG_TENURED_WEEKS_PER_YEAR`` more per year, at most ``ei.long_tenured_max_extra_weeks``).
The rules of the Act are constants of this module [ei-act] [budget-2009] [bill-c50-2009];
the benefit rate, the yearly maximum benefit and the sizes of the 2009 measures are
parameters of ``[ei]`` in ``configs/base.toml``.
Benefits start after the waiting period and any severance weeks,
are 55% of weekly insurable earnings up to each year's maximum, and are paid each week
the claimant is without a job (searching or in training) until entitlement runs out.
Taking a job, retiring or leaving the labour force ends the claim.

The same rules in plain NumPy are ``model/reference/employment_insurance.py``; the
compiled kernels below (a claim's constants as the named tuples ``Schedule`` and
``Claim``, worked in float64) are tested against it.
"""

from __future__ import annotations

import math
from datetime import date
from typing import NamedTuple

import numpy as np

from ..config import Config, parse_month
from ..constants import HOURS_PER_WEEK
from ..jit import kernel
from ..state import WEEKS_PER_YEAR, Table

# The rules of the Employment Insurance Act in 2003-2018 [ei-act] (structural constants).
WAITING_WEEKS = 2  # the two-week waiting period
MIN_WEEKS = 14  # Schedule I: regular benefits last 14 to 45 weeks
MAX_WEEKS = 45
BASE_WEEKS_HOURS = (700.0, 14.0, 1820.0, 36.0)  # Schedule I at 6% unemployment or less: 700 hours give
#   14 weeks, 1,820 hours or more give 36, linearly between (an approximation of the table)
WEEKS_PER_POINT_UNEMPLOYMENT = 2.0  # Schedule I: about two more weeks per point of regional unemployment above 6%
ENTRANCE_HOURS = (700.0, 420.0)  # Variable Entrance Requirement: hours to qualify at 6% or less and above
#   13%, one step per point between
UNEMPLOYMENT_WINDOW_WEEKS = 13  # the regional rate is a moving three-month (13-week) mean
EXTENSION_2009_START = "2009-03"  # +5 weeks for claims active on or established after 1 March 2009 [budget-2009]
EXTENSION_2009_END = "2010-09"  # ... established until 11 September 2010 (the month kept)
LONG_TENURED_MIN_YEARS = 7.0  # long-tenured workers measure (2009): seven of the last ten years contributing;
#   tenure stands in for contributions [bill-c50-2009]
LONG_TENURED_MIN_EXTRA_WEEKS = 5  # its 5 to 20 extra weeks: 5 at the minimum tenure,
LONG_TENURED_WEEKS_PER_YEAR = 2.0  # then this many per year of tenure beyond it


class Schedule(NamedTuple):
    """The weeks of benefits of the claims opened on one day at one regional rate
    (:meth:`EIRules.claim_terms`), for :func:`_claim_weeks`."""

    h0: float  # hours at which the base weeks start (w0)
    w0: float
    h1: float  # hours above which the base weeks stop rising
    dw: float  # base weeks gained from h0 to h1
    dh: float  # h1 - h0
    min_weeks: float
    max_weeks: float
    ext_weeks: float  # weeks added by the 2009-2010 extension (0 outside it)
    lt_years: float  # long-tenured workers: minimum tenure in years
    lt_min: float  # extra weeks at the minimum tenure
    lt_max: float  # at most
    lt_per_year: float  # extra weeks per year of tenure beyond the minimum
    column_weeks: float  # weeks added by the regional rate's column
    entrance: float  # hours needed to qualify
    extension: bool  # the 2009-2010 measures apply


class Claim(NamedTuple):
    """The constants of the claims opened in one week, for :func:`open_claims_of`."""

    week: int
    hours_per_week: float
    schedule: Schedule
    replacement: float  # share of weekly insurable earnings paid
    max_benefit: float  # the year's maximum weekly benefit
    waiting: int  # waiting weeks
    severance_weeks: int


class EIRules:
    """The benefit rules of ``[ei]``, ready for vectorised use."""

    def __init__(self, cfg: Config):
        ei = cfg.section("ei")
        self.replacement = ei["replacement_rate"]
        self.max_weekly = np.asarray(ei["max_weekly_benefit"], float)
        self.first_year = cfg.defs["ei.max_weekly_benefit"].extra.get("years", [2003])[0]
        self.waiting = WAITING_WEEKS
        self.min_weeks, self.max_weeks = MIN_WEEKS, MAX_WEEKS
        self.h0, self.w0, self.h1, self.w1 = BASE_WEEKS_HOURS
        self.per_point = WEEKS_PER_POINT_UNEMPLOYMENT
        self.entrance_hi, self.entrance_lo = ENTRANCE_HOURS
        self.ext_weeks = int(ei["extension_2009_weeks"])
        self.ext_start = parse_month(EXTENSION_2009_START)
        end = parse_month(EXTENSION_2009_END)
        self.ext_end = date(end.year + (end.month == 12), end.month % 12 + 1, 1)  # end of that month
        self.lt_min = LONG_TENURED_MIN_EXTRA_WEEKS
        self.lt_max = int(ei["long_tenured_max_extra_weeks"])
        self.lt_years = LONG_TENURED_MIN_YEARS
        self.lt_per_year = LONG_TENURED_WEEKS_PER_YEAR
        self.hours_per_week = HOURS_PER_WEEK
        self._terms: dict = {}  # claim_terms by (columns above 6%, extension)

    def max_benefit(self, year: int) -> float:
        i = min(max(year - self.first_year, 0), len(self.max_weekly) - 1)
        return float(self.max_weekly[i])

    def points_above_6(self, rate: float) -> int:
        """Schedule I columns: 6% or less, then one column per point above 6%."""
        return max(0, math.ceil(round(rate * 100 - 6.0, 9)))

    def entrance_hours(self, rate: float) -> float:
        per_point = (self.entrance_hi - self.entrance_lo) / 8.0  # 700 at <=6% down to 420 at >13%
        return max(self.entrance_lo, self.entrance_hi - per_point * self.points_above_6(rate))

    def claim_terms(self, rate: float, day: date) -> Schedule:
        """The weeks of benefits of claims opened on ``day`` at regional unemployment rate
        ``rate``."""
        extension = bool(self.ext_start <= day < self.ext_end)
        points = self.points_above_6(rate)
        terms = self._terms.get((points, extension))
        if terms is None:
            terms = self._terms[points, extension] = Schedule(
                float(self.h0),
                float(self.w0),
                float(self.h1),
                float(self.w1 - self.w0),
                float(self.h1 - self.h0),
                float(self.min_weeks),
                float(self.max_weeks),
                float(self.ext_weeks),
                float(self.lt_years),
                float(self.lt_min),
                float(self.lt_max),
                float(self.lt_per_year),
                float(self.per_point * points),
                float(self.entrance_hours(rate)),
                extension,
            )
        return terms

    def claim(self, rate: float, day: date, week: int, severance_weeks: int) -> Claim:
        """The constants of :func:`open_claims_of` for claims opened in ``week`` (on
        ``day``, at regional unemployment rate ``rate``) with ``severance_weeks`` of
        severance pay."""
        return Claim(
            int(week),
            float(self.hours_per_week),
            self.claim_terms(rate, day),
            float(self.replacement),
            self.max_benefit(day.year),
            int(self.waiting),
            int(severance_weeks),
        )

    def entitlement(self, hours: np.ndarray, tenure_years: np.ndarray, rate: float, day: date) -> np.ndarray:
        """Weeks of benefits for claims opened on ``day`` (0 where not eligible)."""
        return _entitlement_kernel(
            np.asarray(hours, np.float64), np.asarray(tenure_years, np.float64), self.claim_terms(rate, day)
        )


@kernel
def _claim_weeks(hours, tenure, terms):
    """Weeks of benefits of one claim (0 if not eligible): Schedule I from the hours of
    the last 52 weeks and the regional rate's column, the 2009-2010 extension (+5 weeks,
    and more for long tenure), and the entrance requirement. ``terms`` are
    :meth:`EIRules.claim_terms` (the float terms in the float type of the hours; the
    long-tenured workers' minimum extra weeks ``lt_min`` a whole number)."""
    (
        h0,
        w0,
        h1,
        dw,
        dh,
        min_weeks,
        max_weeks,
        ext_weeks,
        lt_years,
        lt_min,
        lt_max,
        lt_per_year,
        column_weeks,
        entrance,
        extension,
    ) = terms
    base = w0 + (min(hours, h1) - h0) * dw / dh
    weeks = min(max(np.floor(base) + column_weeks, min_weeks), max_weeks)
    if extension:
        weeks = weeks + ext_weeks
        if tenure >= lt_years:
            weeks = weeks + min(lt_max, lt_min + lt_per_year * (tenure - lt_years))
    if hours >= entrance:
        return np.int16(np.floor(weeks))
    return np.int16(0)


@kernel
def _entitlement_kernel(hours, tenure, terms):
    """:func:`_claim_weeks` of each claim."""
    weeks = np.empty(len(hours), np.int16)
    for i in range(len(hours)):
        weeks[i] = _claim_weeks(hours[i], tenure[i], terms)
    return weeks


def open_claims(
    people: Table, ids: np.ndarray, rules: EIRules, rate: float, day: date, week: int, severance_weeks: int = 0
) -> None:
    """Open a claim for each person in ``ids``, who has just lost a job (``job_end`` set)."""
    if len(ids) == 0:
        return
    P = people
    open_claims_of(
        np.asarray(ids, np.int64),
        P.job_start,
        P.job_end,
        P.wage,
        rules.claim(rate, day, week, severance_weeks),
        P.ei_entitlement,
        P.ei_left,
        P.ei_paid,
        P.ei_exhausted,
        P.ei_benefit,
        P.severance_left,
        P.ei_wait,
    )


@kernel
def open_claims_of(
    ids, job_start, job_end, wage, claim, entitlement, left, paid, exhausted, benefit, severance_left, wait
):
    """New claims of ``ids``: hours of insurable employment in the last 52 weeks from the
    tenure of the job just lost (capped at a year), weeks of entitlement
    (:func:`_claim_weeks`), and the weekly benefit, a share of weekly earnings up to the
    year's maximum; ``claim`` is a :class:`Claim` (callable from other kernels)."""
    c = claim
    for p in ids:
        end = np.float64(job_end[p])
        if np.isnan(end):
            end = np.float64(c.week)
        tenure = (end - np.float64(job_start[p])) / WEEKS_PER_YEAR
        hours = min(tenure * 52.0, 52.0) * c.hours_per_week
        weeks = _claim_weeks(hours, tenure, c.schedule)
        entitlement[p] = weeks
        left[p] = weeks
        paid[p] = 0
        exhausted[p] = False
        if weeks > 0:
            benefit[p] = min(c.replacement * (np.float64(wage[p]) * c.hours_per_week), c.max_benefit)
        else:
            benefit[p] = 0.0
        severance_left[p] = c.severance_weeks
        wait[p] = c.waiting + c.severance_weeks


def close_claims(people: Table, ids: np.ndarray) -> None:
    """End the claims of people who took a job or left the labour force."""
    P = people
    close_claims_of(np.asarray(ids, np.int64), P.ei_left, P.ei_wait, P.ei_benefit, P.severance_left)


@kernel
def close_claims_of(ids, left, wait, benefit, severance_left):
    """No benefits, waiting weeks or severance pay left for ``ids`` (callable from other
    kernels)."""
    for p in ids:
        left[p] = 0
        wait[p] = 0
        benefit[p] = 0.0
        severance_left[p] = 0


def step(people: Table, jobless: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Advance the claims of ``jobless`` (everyone searching or retraining) by one week;
    return the rows paid a benefit and the rows paid severance this week."""
    P = people
    return _advance_claims_kernel(
        np.asarray(jobless, np.int64), P.severance_left, P.ei_wait, P.ei_left, P.ei_paid, P.ei_exhausted
    )


@kernel
def _advance_claims_kernel(jobless, severance_left, wait, left, paid, exhausted):
    """One week of the claims of ``jobless``: a week of severance pay where some is left;
    then a week of the waiting period (waiting and severance weeks) or, once it is over,
    a week of benefits while entitlement lasts; a claim whose last week is paid is
    exhausted. Returns the rows paid a benefit and the rows paid severance, in the order
    of ``jobless``."""
    benefit_rows = np.empty(len(jobless), np.int64)
    severance_rows = np.empty(len(jobless), np.int64)
    n_benefit = n_severance = 0
    for p in jobless:
        if severance_left[p] > 0:
            severance_left[p] -= 1
            severance_rows[n_severance] = p
            n_severance += 1
        if wait[p] > 0:
            wait[p] -= 1
        elif left[p] > 0:
            left[p] -= 1
            paid[p] += 1
            if left[p] == 0:
                exhausted[p] = True
            benefit_rows[n_benefit] = p
            n_benefit += 1
    return benefit_rows[:n_benefit], severance_rows[:n_severance]
