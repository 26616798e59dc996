"""Distress, one week, in plain NumPy: the rule of docs/ODD.md section 7.6.

Every adult is updated (the fast path, ``model/submodels/distress.py``, updates only those
whose state is not zero or who have a stressor or relief; for everyone else the level and
the state are zero, so the result is the same). The inputs are the fast path's
``People`` and ``Params``; nothing is written: the new states are returned.
"""

from __future__ import annotations

import numpy as np

from ..state import Status
from ..submodels.distress import Params, People


def gain(P: People, p: Params, ids: np.ndarray) -> np.ndarray:
    """g = 1 + men_extra * man + blue_collar_extra * blue-collar (current or last job in a
    blue-collar sector; sector -1: never worked)."""
    sector = P.sector[ids]
    blue = (sector >= 0) & p.blue[np.maximum(sector, 0)]
    return 1.0 + p.men_extra * ~P.female[ids] + p.blue_collar_extra * blue


def stressors(P: People, p: Params, week: int, ids: np.ndarray, felt: np.ndarray) -> np.ndarray:
    """g * b * (job-loss terms): being without a job and for how long, an exhausted EI
    claim, and, for a displaced worker back in a job, the share of the wage lost and what
    re-employment does not recover. b = 1 - support_buffering while support is felt."""
    status = P.status[ids]
    jobless = (status == Status.UNEMPLOYED) | (status == Status.TRAINING)
    weeks_without = np.maximum(week - P.spell_start[ids], 0)
    lost_job = jobless * (
        p.job_loss
        + p.duration * np.minimum(weeks_without / p.duration_weeks, 1.0)
        + p.ei_exhausted * P.ei_exhausted[ids]
    )
    back = (status == Status.EMPLOYED) & P.ever_displaced[ids] & (P.reemployed_week[ids] >= 0)
    wage, before = P.wage[ids].astype(float), P.displaced_wage[ids].astype(float)
    share_lost = np.where(before > 0, np.clip(1.0 - wage / np.where(before > 0, before, 1.0), 0.0, 1.0), 0.0)
    back_in_job = back * (p.wage_loss * share_lost + (1.0 - p.reemployment_recovery) * p.job_loss)
    buffer = np.where(felt, 1.0 - p.support_buffering, 1.0)
    return gain(P, p, ids) * buffer * (lost_job + back_in_job)


def step(
    P: People, p: Params, week: int, adults: np.ndarray, strained_households: np.ndarray, org_service: np.ndarray
) -> np.ndarray:
    """The state of each of ``adults`` after this week (``distress = trait + state``)."""
    ids = np.asarray(adults, np.int64)
    state = P.state[ids].astype(float)
    felt = week - P.support_week[ids] < p.memory_weeks  # informal support felt this week
    level = stressors(P, p, week, ids, felt)

    # Household strain.
    household = P.household[ids]
    level += p.strain * np.isin(household, strained_households)

    # Spillover: the mean stressed (positive) state of the other adults of the household,
    # before this week's update; a member's relief is not passed on.
    _, of, size = np.unique(household, return_inverse=True, return_counts=True)
    stressed = np.maximum(state, 0.0)
    others_total = np.bincount(of, weights=stressed)[of] - stressed
    others = size[of] - 1
    level += p.household_spillover * np.where(others > 0, others_total / np.maximum(others, 1), 0.0)

    # Stressors are floored at zero; relief (informal support felt, a formal service being
    # received) is taken after the floor, so it can bring distress below the trait.
    level = np.maximum(level, 0.0)
    level -= felt * P.support_effect[ids]
    service = P.service[ids]
    in_service = service >= 0
    level[in_service] -= p.service_effect[org_service[service[in_service]]]

    # The state moves a share adjust_rate of the way to the level; a negligible state is
    # set to zero (back to the trait).
    new = state + p.adjust_rate * (level - state)
    return np.where(np.abs(new) < p.negligible_state, 0.0, new)
