"""The labour market's weekly step in plain NumPy (ODD section 7.2), for reading and for
testing the compiled step (``model/submodels/labour_market/``) against.

It moves the labour-force statuses only: EI claims, wages and employers are left to the
fast path. ``cols`` holds person columns (``status``, ``at_plant``, ``sector``, ``age``,
``ever_displaced``, ``displaced_week``, ``displaced_tenure``, ``retrained``,
``training_left``), changed in place; ``p`` is the ``[labour]`` section; ``jobs`` the
week's jobs outside the plants by sector (the demand of ODD 7.2, given).
"""

from __future__ import annotations

import numpy as np

from ..constants import RETIREMENT_AGE
from ..state import Status
from ..submodels.labour_market.life_course import (
    DISPLACED_RETIREMENT_AGE,
    EARLY_RETIREMENT_AGE,
    ENTRY_MAX_AGE,
    TRAINING_WINDOW_WEEKS,
)
from ..submodels.labour_market.matching import MAX_HIRE_PROBABILITY
from ..submodels.labour_market.rows import AGE_SEARCH_BANDS as AGE_BANDS

E, U, T, R, INACTIVE = Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING, Status.RETIRED, Status.INACTIVE


def search_effort(cols, rows, p, boost):
    """e = search_by_age[band] x long_tenure_search (displaced after a long-tenure job)
    x training_search_boost (retrained) x boost (displaced)."""
    band = np.clip(np.searchsorted(AGE_BANDS, cols["age"][rows], side="right") - 1, 0, len(AGE_BANDS) - 2)
    displaced = cols["ever_displaced"][rows]
    e = np.asarray(p["search_by_age"], float)[band]
    e = e * np.where(
        displaced & (cols["displaced_tenure"][rows] >= p["long_tenure_years"]), p["long_tenure_search"], 1.0
    )
    e = e * np.where(cols["retrained"][rows], p["training_search_boost"], 1.0)
    return e * np.where(displaced, boost, 1.0)


def hire_chances(effort, last, vacancies, p):
    """Each seeker's chance of a job this week, and r_s, hires per unit of effort in s."""
    c, n_sec = p["cross_sector_search"], len(vacancies)
    own = np.bincount(last[last >= 0], weights=(1 - c) * effort[last >= 0], minlength=n_sec)
    S = np.where(last >= 0, c, 1.0) @ effort + own  # effort aimed at each sector
    a = p["matching_elasticity"]
    M = np.minimum(vacancies, p["matching_efficiency"] * S**a * vacancies ** (1 - a))  # hires by sector
    rate = np.divide(M, S, out=np.zeros(n_sec), where=S > 0)
    aimed = np.where(last >= 0, c * rate.sum() + (1 - c) * rate[np.maximum(last, 0)], rate.sum())
    return np.minimum(effort * aimed, MAX_HIRE_PROBABILITY), rate


def hire_sectors(last, rate, c, u):
    """The sector of each hire (last sector ``last``): drawn by the uniforms ``u`` with
    weights (c + (1 - c) [s = last]) r_s (r_s if never employed)."""
    w = np.where(last[:, None] >= 0, c, 1.0) * rate[None, :]
    own = last >= 0
    w[np.flatnonzero(own), last[own]] += (1 - c) * rate[last[own]]
    cum = np.cumsum(w, axis=1)
    return np.minimum((cum < u[:, None] * cum[:, -1:]).sum(axis=1), len(rate) - 1)


def week(cols, jobs, p, rng, *, week, life_course, period, boost=1.0):
    """One week; returns how many retired, separated, started retraining, left and
    entered the labour force, and were hired."""
    st, age, at_plant = cols["status"], cols["age"], cols["at_plant"]
    per_period = {
        k: 1 - (1 - p[k]) ** period
        for k in (
            "retirement_rate_65",
            "retirement_rate_60",
            "displaced_retirement_rate",
            "leave_labour_force_rate",
            "enter_labour_force_rate",
        )
    }
    jobless = (st == U) | (st == T)  # as the week starts
    inactive = (st == INACTIVE) & (age < ENTRY_MAX_AGE)
    retired = np.zeros(len(st), bool)
    if life_course:  # retirement
        ra, early, disp = RETIREMENT_AGE, EARLY_RETIREMENT_AGE, DISPLACED_RETIREMENT_AGE
        outside = (st == E) & ~at_plant
        chance = np.zeros(len(st))  # of retiring this period
        chance[outside & (age >= ra)] = per_period["retirement_rate_65"]
        chance[outside & (age >= early) & (age < ra)] = per_period["retirement_rate_60"]
        chance[jobless & ~cols["ever_displaced"] & (age >= early) & (age < ra)] = per_period["retirement_rate_60"]
        chance[jobless & cols["ever_displaced"] & (age >= disp) & (age < ra)] = per_period["displaced_retirement_rate"]
        chance[jobless & (age >= ra)] = 1.0
        retired = rng.random(len(st)) < chance
        st[retired] = R
    # Separations outside the plants.
    separated = ((st == E) & ~at_plant) & (rng.random(len(st)) < p["separation_rate"])
    st[separated] = U
    # Retraining: a week of it; then those displaced within the window may start.
    training = jobless & (st == T)
    cols["training_left"][training] -= 1
    done = training & (cols["training_left"] <= 0)
    st[done] = U
    cols["retrained"][done] = True
    seeking = jobless & (st == U) & ~done
    may_start = (
        seeking & cols["ever_displaced"] & ~cols["retrained"] & (week - cols["displaced_week"] < TRAINING_WINDOW_WEEKS)
    )
    start = may_start & (rng.random(len(st)) < p["displaced_training_rate"])
    st[start] = T
    cols["training_left"][start] = p["training_weeks"]
    left = entered = np.zeros(len(st), bool)
    if life_course:  # leaving and entering the labour force
        left = seeking & ~start & (rng.random(len(st)) < per_period["leave_labour_force_rate"])
        entered = inactive & (rng.random(len(st)) < per_period["enter_labour_force_rate"])
        st[left] = INACTIVE
        st[entered] = U
    # Matching.
    seekers = np.flatnonzero(st == U)
    last = cols["sector"][seekers].astype(np.int64)
    held = np.bincount(cols["sector"][(st == E) & ~at_plant], minlength=len(jobs))
    vacancies = np.maximum(jobs - held, 0.0)
    p_hire, rate = hire_chances(search_effort(cols, seekers, p, boost), last, vacancies, p)
    hired = np.flatnonzero(rng.random(len(seekers)) < p_hire)
    sector = hire_sectors(last[hired], rate, p["cross_sector_search"], rng.random(len(hired)))
    keep = np.ones(len(hired), bool)
    for s in range(len(jobs)):  # no sector hires more than its whole vacancies
        mine = rng.permutation(np.flatnonzero(sector == s))
        keep[mine[int(np.floor(vacancies[s])) :]] = False
    rows = seekers[hired[keep]]
    st[rows] = E
    cols["sector"][rows] = sector[keep]
    return {
        "retired": int(retired.sum()),
        "separated": int(separated.sum()),
        "started_training": int(start.sum()),
        "left": int(left.sum()),
        "entered": int(entered.sum()),
        "hired": len(rows),
    }
