"""Employment Insurance: claims, entitlement, weekly benefits and exhaustion.

A claim opens when a person loses a job (a layoff wave or a background separation).
Entitlement follows an approximation of Schedule I of the Employment Insurance Act:
hours of insurable employment in the last 52 weeks and the regional unemployment rate
give 14 to 45 weeks (``[ei]`` in ``configs/base.toml``), plus the 2009-2010 recovery
measures (+5 weeks for every claim in the window, and 5 to 20 more weeks for
long-tenured workers). Benefits start after the waiting period and any severance weeks,
are 55% of weekly insurable earnings up to each year's maximum, and are paid each week
the claimant is without a job (searching or in training) until entitlement runs out.
Taking a job, retiring or leaving the labour force ends the claim.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from ..config import Config, parse_month
from ..state import Table, tenure_years


class EIRules:
    """The benefit rules of ``[ei]``, ready for vectorised use."""

    def __init__(self, cfg: Config):
        ei = cfg.section("ei")
        self.replacement = ei["replacement_rate"]
        self.max_weekly = np.asarray(ei["max_weekly_benefit"], float)
        self.first_year = cfg.defs["ei.max_weekly_benefit"].extra.get("years", [2003])[0]
        self.waiting = int(ei["waiting_weeks"])
        self.min_weeks, self.max_weeks = int(ei["min_weeks"]), int(ei["max_weeks"])
        self.h0, self.w0, self.h1, self.w1 = ei["base_weeks_hours"]
        self.per_point = ei["weeks_per_point_unemployment"]
        self.entrance_hi, self.entrance_lo = ei["entrance_hours"]
        self.ext_weeks = int(ei["extension_2009_weeks"])
        self.ext_start = parse_month(ei["extension_2009_start"])
        end = parse_month(ei["extension_2009_end"])
        self.ext_end = date(end.year + (end.month == 12), end.month % 12 + 1, 1)  # end of that month
        self.lt_max = int(ei["long_tenured_max_extra_weeks"])
        self.lt_years = ei["long_tenured_min_years"]
        self.lt_per_year = ei["long_tenured_weeks_per_year"]
        self.hours_per_week = cfg["labour.hours_per_week"]

    def max_benefit(self, year: int) -> float:
        i = int(np.clip(year - self.first_year, 0, len(self.max_weekly) - 1))
        return float(self.max_weekly[i])

    def points_above_6(self, rate: float) -> int:
        """Schedule I columns: 6% or less, then one column per point above 6%."""
        return int(max(0, np.ceil(round(rate * 100 - 6.0, 9))))

    def entrance_hours(self, rate: float) -> float:
        per_point = (self.entrance_hi - self.entrance_lo) / 8.0  # 700 at <=6% down to 420 at >13%
        return max(self.entrance_lo, self.entrance_hi - per_point * self.points_above_6(rate))

    def entitlement(self, hours: np.ndarray, tenure_years: np.ndarray, rate: float, day: date) -> np.ndarray:
        """Weeks of benefits for claims opened on ``day`` (0 where not eligible)."""
        base = self.w0 + (np.minimum(hours, self.h1) - self.h0) * (self.w1 - self.w0) / (self.h1 - self.h0)
        weeks = np.floor(base) + self.per_point * self.points_above_6(rate)
        weeks = np.clip(weeks, self.min_weeks, self.max_weeks)
        if self.ext_start <= day < self.ext_end:
            weeks = weeks + self.ext_weeks
            long = tenure_years >= self.lt_years
            extra = np.minimum(self.lt_max, 5 + self.lt_per_year * (tenure_years - self.lt_years))
            weeks = weeks + np.where(long, extra, 0.0)
        eligible = hours >= self.entrance_hours(rate)
        return np.where(eligible, np.floor(weeks), 0).astype(np.int16)


def open_claims(people: Table, ids: np.ndarray, rules: EIRules, rate: float, day: date,
                week: int, severance_weeks: int = 0) -> None:
    """Open a claim for each person in ``ids``, who has just lost a job (``job_end`` set)."""
    if len(ids) == 0:
        return
    tenure = tenure_years(people, ids, week)
    hours = np.minimum(tenure * 52.0, 52.0) * rules.hours_per_week
    weeks = rules.entitlement(hours, tenure, rate, day)
    weekly_earnings = people.wage[ids].astype(float) * rules.hours_per_week
    people.ei_entitlement[ids] = weeks
    people.ei_left[ids] = weeks
    people.ei_paid[ids] = 0
    people.ei_exhausted[ids] = False
    people.ei_benefit[ids] = np.where(weeks > 0, np.minimum(rules.replacement * weekly_earnings,
                                                            rules.max_benefit(day.year)), 0.0)
    people.severance_left[ids] = severance_weeks
    people.ei_wait[ids] = rules.waiting + severance_weeks


def close_claims(people: Table, ids: np.ndarray) -> None:
    """End the claims of people who took a job or left the labour force."""
    people.ei_left[ids] = 0
    people.ei_wait[ids] = 0
    people.ei_benefit[ids] = 0.0
    people.severance_left[ids] = 0


def step(people: Table, jobless: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Advance the claims of ``jobless`` (everyone searching or retraining) by one week;
    return the rows paid a benefit and the rows paid severance this week."""
    sev = people.severance_left[jobless]
    severance = jobless[sev > 0]
    people.severance_left[severance] -= 1
    wait = people.ei_wait[jobless]
    waiting = wait > 0
    paid = jobless[~waiting & (people.ei_left[jobless] > 0)]
    people.ei_wait[jobless[waiting]] -= 1
    people.ei_left[paid] -= 1
    people.ei_paid[paid] += 1
    people.ei_exhausted[paid[people.ei_left[paid] == 0]] = True
    return paid, severance
