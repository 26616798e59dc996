"""The life course on the labour market: retirement, separations, retraining, leaving and
entering the labour force, and the restaffing of plants.

Those at risk each week are drawn by the caller (``streams.bernoulli`` on the named
stream); the kernels here only apply what was drawn.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...constants import RETIREMENT_AGE
from ...jit import kernel
from .. import employment_insurance as ei
from .pools import leave_pool, rows_at_kernel
from .rows import EMPLOYED, INACTIVE, RETIRED, TRAINING, UNEMPLOYED

# Structural constants: institutional age bands and windows whose paired rates are the
# calibrated parameters, and a bookkeeping rule; not assumptions a researcher varies.
EARLY_RETIREMENT_AGE = 60.0  # years: early retirement from here (QPP early pension at 60)
DISPLACED_RETIREMENT_AGE = 55.0  # years: displaced job seekers may retire from here (their rate is calibrated with it)
ENTRY_MAX_AGE = 60.0  # years: persons outside the labour force start searching only below this age
TRAINING_WINDOW_WEEKS = 52  # weeks after a layoff in which retraining may start (its rate is calibrated with it)
PLANT_RESTAFF_AGES = (18.0, 60.0)  # years (from, below): inactive adults hired when the unemployed cannot fill
#   the places of plant workers gone before their layoff wave


class LifeCourseAges(NamedTuple):
    """The ages that put persons at risk of retiring or entering the labour force."""

    retirement: float
    early: float
    displaced: float
    entry_max: float

    @classmethod
    def of_rules(cls) -> LifeCourseAges:
        """The ages of the structural constants."""
        return cls(RETIREMENT_AGE, EARLY_RETIREMENT_AGE, DISPLACED_RETIREMENT_AGE, ENTRY_MAX_AGE)


class LifeCourseGroups(NamedTuple):
    """Those at risk of retiring or entering the labour force (rows, sorted)."""

    employed_old: np.ndarray  # employed outside the plants, at or past the retirement age
    employed_early: np.ndarray  # employed outside the plants, from the early age below it
    jobless_old: np.ndarray  # jobless at or past it
    jobless_early: np.ndarray  # jobless never displaced, from the early age below it
    displaced_older: np.ndarray  # displaced jobless, from the displaced age below it
    inactive: np.ndarray  # inactive under the maximum entry age


@kernel
def life_course_groups_kernel(n, P, member, jobless, ages, rows):
    """The :class:`LifeCourseGroups` among the first ``n`` rows (``member`` marks those
    employed outside the plants; ``jobless`` sorted). The first two groups and the last are
    written to the start of ``rows[0]``, ``rows[1]`` and ``rows[2]`` (at least ``n`` long)."""
    employed_old, employed_early, inactive = rows[0], rows[1], rows[2]
    n_old = n_early = ni = 0
    for p in range(n):  # every row is written and kept only if it belongs (no branches)
        a = P.age[p]
        e = member[p]
        employed_old[n_old] = p
        n_old += e & (a >= ages.retirement)
        employed_early[n_early] = p
        n_early += e & (a >= ages.early) & (a < ages.retirement)
        inactive[ni] = p
        ni += (P.status[p] == INACTIVE) & (a < ages.entry_max)
    mj = len(jobless)
    jobless_old, jobless_early, displaced_older = (
        np.empty(mj, np.int64),
        np.empty(mj, np.int64),
        np.empty(mj, np.int64),
    )
    nj_old = nj_early = nd_older = 0
    for p in jobless:
        a = P.age[p]
        d = P.ever_displaced[p]
        jobless_old[nj_old] = p
        nj_old += a >= ages.retirement
        jobless_early[nj_early] = p
        nj_early += (a >= ages.early) & (a < ages.retirement) & (not d)
        displaced_older[nd_older] = p
        nd_older += (a >= ages.displaced) & (a < ages.retirement) & d
    return (
        employed_old[:n_old],
        employed_early[:n_early],
        jobless_old[:nj_old],
        jobless_early[:nj_early],
        displaced_older[:nd_older],
        inactive[:ni],
    )


@kernel
def retire_kernel(ids, week, weekly_pension, P, pool):
    """Retire ``ids`` on a pension of ``weekly_pension`` times the hourly wage; the job,
    if any (outside the plants), ends this week; EI claims end."""
    for p in ids:
        if P.status[p] == EMPLOYED:
            leave_pool(pool, p, P.sector[p])
        P.pension[p] = weekly_pension * P.wage[p]
        P.status[p] = RETIRED
        if np.isnan(P.job_end[p]):
            P.job_end[p] = week
        P.employer[p] = -1
    ei.close_claims_of(ids, P.ei_left, P.ei_wait, P.ei_benefit, P.severance_left)


@kernel
def separate_kernel(positions, week, claim, P, pool):
    """Those employed outside the plants at ``positions`` (sorted, in row order of the
    pool) lose their job this week and start searching, with an EI claim (``claim``:
    see :meth:`EIRules.claim`). Returns their rows."""
    separated = rows_at_kernel(positions, pool.member, pool.blocks)
    for p in separated:
        leave_pool(pool, p, P.sector[p])
        P.status[p] = UNEMPLOYED
        P.employer[p] = -1
        P.job_end[p] = week
        P.spell_start[p] = week
    ei.open_claims_of(
        separated,
        P.job_start,
        P.job_end,
        P.wage,
        claim,
        P.ei_entitlement,
        P.ei_left,
        P.ei_paid,
        P.ei_exhausted,
        P.ei_benefit,
        P.severance_left,
        P.ei_wait,
    )
    return separated


@kernel
def retraining_kernel(jobless, week, window, P):
    """A week of retraining among the ``jobless`` (those retired this week are skipped):
    those in training do a week of it; those who complete it are retrained and search
    again (their effort, aligned with ``jobless.rows``, is set to NaN: to be found again).
    Returns the job seekers, and those of them displaced less than ``window`` weeks ago
    who have not retrained (who may start retraining)."""
    seeking = np.empty(len(jobless.rows), np.int64)
    recent = np.empty(len(jobless.rows), np.int64)
    ns = nr = 0
    for i in range(len(jobless.rows)):
        p = jobless.rows[i]
        st = P.status[p]
        if st == UNEMPLOYED:
            seeking[ns] = p
            ns += 1
            if P.ever_displaced[p] and week - P.displaced_week[p] < window and not P.retrained[p]:
                recent[nr] = p
                nr += 1
        elif st == TRAINING:
            P.training_left[p] -= 1
            if P.training_left[p] <= 0:
                P.status[p] = UNEMPLOYED
                P.retrained[p] = True
                jobless.effort[i] = np.nan
    return seeking[:ns], recent[:nr]


@kernel
def move_kernel(week, start, training_weeks, leave, enter, P):
    """Those who ``start`` retraining do (``training_weeks`` of it); those who ``leave``
    the labour force become inactive (their EI claims end); those who ``enter`` it start
    searching this ``week``."""
    for p in start:
        P.status[p] = TRAINING
        P.training_left[p] = training_weeks
    for p in leave:
        P.status[p] = INACTIVE
    ei.close_claims_of(leave, P.ei_left, P.ei_wait, P.ei_benefit, P.severance_left)
    for p in enter:
        P.status[p] = UNEMPLOYED
        P.spell_start[p] = week


@kernel
def plant_staff_kernel(n, n_orgs, manuf, P, present):
    """The workers present at each plant (by organization row), and the unemployed rows
    whose last job was in sector ``manuf`` and the others, sorted."""
    counts = np.zeros(n_orgs, np.int64)
    pool_manuf = np.empty(n, np.int64)
    pool_other = np.empty(n, np.int64)
    nm = no = 0
    for p in range(n):
        if P.at_plant[p] and present[p]:
            counts[P.employer[p]] += 1
        if P.status[p] == UNEMPLOYED:
            if P.sector[p] == manuf:
                pool_manuf[nm] = p
                nm += 1
            else:
                pool_other[no] = p
                no += 1
    return counts, pool_manuf[:nm], pool_other[:no]


def staff_plants(market, rng: np.random.Generator) -> None:
    """Replace plant workers who died or moved away before their layoff wave: unemployed
    manufacturing workers first, then other job seekers, then inactive adults of
    ``PLANT_RESTAFF_AGES``."""
    m, P, p = market.model, market.model.people, market.p
    n = P.n
    need = m.shocks.remaining
    if not need:
        return
    market.restaffed = True
    counts, pool_manuf, pool_other = plant_staff_kernel(n, m.orgs.n, market.manuf, market.persons(), P.present)
    status = P.status[:n]
    order = [rng.permutation(pool_manuf), rng.permutation(pool_other)]
    shortfall = sum(max(required - counts[row], 0) for row, required in need.items())
    if shortfall > len(pool_manuf) + len(pool_other):
        lo, hi = PLANT_RESTAFF_AGES
        extra = np.flatnonzero((status == INACTIVE) & (P.age[:n] >= lo) & (P.age[:n] < hi))
        order.append(rng.permutation(extra))
    candidates = np.concatenate(order)
    taken = 0
    for row, required in need.items():
        short = int(required - counts[row])
        if short <= 0:
            continue
        ids = candidates[taken : taken + short]
        taken += len(ids)
        if len(ids) == 0:
            continue
        P.status[ids] = EMPLOYED
        P.sector[ids] = market.manuf
        P.employer[ids] = row
        P.at_plant[ids] = True
        P.job_start[ids] = m.week
        P.job_end[ids] = np.nan
        P.wage[ids] = np.maximum(
            market.wages[market.manuf] * np.exp(rng.normal(0.0, p["wage_sigma"], len(ids))), p["minimum_wage"]
        )
        ei.close_claims(P, ids)
