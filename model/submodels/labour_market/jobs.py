"""New jobs outside the plants: where the hire works and what the job pays.

The employer is drawn by commuting pull from the hire's municipality among the sector's
background employers. The wage is the sector's wage times a log-normal spread; a
displaced worker's first job after the layoff pays the old wage less a loss drawn
uniformly in the range of their sex and tenure (Canadian displaced-worker losses); never
below the minimum wage.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...jit import kernel
from .. import employment_insurance as ei
from .rows import EMPLOYED


class Employers(NamedTuple):
    """For each (sector, home municipality), a cumulative distribution over the sector's
    employers by commuting pull, laid end to end: the keys of block b = s * n_muni + m
    run from b to b + 1 and start at ``block_start[b]``; ``of_key`` is the employer row of
    each key."""

    keys: np.ndarray
    block_start: np.ndarray
    of_key: np.ndarray
    n_muni: int


class Pay(NamedTuple):
    """The wage terms of a new job."""

    sector_wage: np.ndarray  # labour.hourly_wage
    wage_loss: np.ndarray  # (3, 2): loss ranges of long-tenured men, long-tenured women, short tenure
    long_tenure_years: float
    minimum_wage: float


class Hires(NamedTuple):
    """Persons taking a job outside the plants, with the draws that place and pay them."""

    ids: np.ndarray
    sector: np.ndarray
    where: np.ndarray  # uniform: the employer
    spread: np.ndarray  # the wage's spread around the sector's
    first: np.ndarray  # displaced worker in the first job since the layoff
    loss: np.ndarray  # uniform, one per such worker: the wage loss within its range


def employers_by_pull(pull: np.ndarray, employers_by_sector, org_municipality: np.ndarray) -> Employers:
    """The :class:`Employers` of the sectors' background employers under the commuting
    ``pull`` (home municipality x workplace municipality)."""
    n_muni = pull.shape[0]
    keys, rows_of_key = [], []
    for s, rows in enumerate(employers_by_sector):
        w = pull[:, org_municipality[rows]]
        cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        cdf[:, -1] = 1.0
        keys.append((s * n_muni + np.arange(n_muni))[:, None] + cdf)
        rows_of_key.append(np.broadcast_to(rows, cdf.shape))
    block_start = np.concatenate([[0], np.cumsum([k.shape[1] for k in keys for _ in range(len(k))])])
    return Employers(
        np.concatenate([k.ravel() for k in keys]),
        block_start.astype(np.int64),
        np.concatenate([r.ravel() for r in rows_of_key]),
        n_muni,
    )


@kernel
def employer_of(employers, block, u):
    """The employer drawn by the uniform ``u`` in ``block``: the first key above
    block + u (as searchsorted, side="right"), searched within the block (the block's last
    key is block + 1, above unless the sum rounded up to it)."""
    keys = employers.keys
    key = block + u
    lo, hi = employers.block_start[block], employers.block_start[block + 1]
    if keys[hi - 1] <= key:
        lo, hi = hi, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] <= key:
            lo = mid + 1
        else:
            hi = mid
    return employers.of_key[min(lo, len(keys) - 1)]


@kernel
def employ_kernel(hires, week, employers, pay, home_municipality, P):
    """Employ ``hires`` at a background employer near home (``home_municipality`` of each
    household), at the sector's wage times the spread or, for a displaced worker's first
    job since the layoff, the old wage less the loss drawn; at least the minimum wage.
    Their EI claims end."""
    j = 0
    for i in range(len(hires.ids)):
        p = hires.ids[i]
        s = hires.sector[i]
        P.employer[p] = employer_of(employers, s * employers.n_muni + home_municipality[P.household[p]], hires.where[i])
        w = pay.sector_wage[s] * hires.spread[i]
        if hires.first[i]:
            if P.displaced_tenure[p] >= pay.long_tenure_years:
                g = 1 if P.female[p] else 0
            else:
                g = 2
            low, high = pay.wage_loss[g, 0], pay.wage_loss[g, 1]
            w = P.displaced_wage[p] * (1.0 - (low + (high - low) * hires.loss[j]))
            j += 1
            P.reemployed_week[p] = week
        P.wage[p] = max(w, pay.minimum_wage)
        P.status[p] = EMPLOYED
        P.sector[p] = s
        P.at_plant[p] = False
        P.job_start[p] = week
        P.job_end[p] = np.nan
    ei.close_claims_of(hires.ids, P.ei_left, P.ei_wait, P.ei_benefit, P.severance_left)


@kernel
def first_job_since_layoff_kernel(ids, P):
    """Which of ``ids`` were displaced and not re-employed since, and how many."""
    first = np.empty(len(ids), np.bool_)
    for i in range(len(ids)):
        first[i] = P.ever_displaced[ids[i]] and P.reemployed_week[ids[i]] < 0
    return first, first.sum()
