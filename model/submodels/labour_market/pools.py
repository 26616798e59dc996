"""The pools the labour market keeps from week to week: those employed outside the plants
(a :class:`~.rows.Pool`) and the jobless (a :class:`~.rows.Jobless`).

A scan of every row finds them; the weekly step instead takes over the pools the last
step left and brings them up to date with the rows that changed since (laid off, taken by
a plant, gone, arrived). Either way they are the pools a scan would find then; the tests
check this week by week.
"""

from __future__ import annotations

import numpy as np

from ...jit import kernel
from .rows import BLOCK, EMPLOYED, TRAINING, UNEMPLOYED


@kernel
def join_pool(pool, p, sector):
    """Row ``p`` starts a job outside the plants in ``sector``."""
    pool.member[p] = True
    pool.blocks[p // BLOCK] += 1
    pool.held[sector] += 1


@kernel
def leave_pool(pool, p, sector):
    """Row ``p`` leaves its job outside the plants in ``sector``."""
    pool.member[p] = False
    pool.blocks[p // BLOCK] -= 1
    pool.held[sector] -= 1


@kernel
def scan_pools_kernel(n, P, pool):
    """From a scan of the first ``n`` rows: the rows without a job (searching or
    retraining), sorted; ``pool`` is filled with those employed outside the plants."""
    jobless = np.empty(n, np.int64)
    nj = 0
    pool.blocks[:] = 0
    pool.held[:] = 0
    for p in range(n):  # every row is written and kept only if it belongs
        st = P.status[p]
        e = (st == EMPLOYED) & (not P.at_plant[p])
        pool.member[p] = e
        if e:
            pool.blocks[p // BLOCK] += 1
            pool.held[P.sector[p]] += 1
        jobless[nj] = p
        nj += (st == UNEMPLOYED) | (st == TRAINING)
    return jobless[:nj]


@kernel
def rows_at_kernel(positions, member, blocks):
    """The rows at ``positions`` (sorted) in the row order of those marked in ``member``
    (counted by block of BLOCK rows in ``blocks``)."""
    rows = np.empty(len(positions), np.int64)
    b = before = 0  # the block, and how many are marked in the blocks before it
    for i in range(len(positions)):
        while before + blocks[b] <= positions[i]:
            before += blocks[b]
            b += 1
        left = positions[i] - before
        p = b * BLOCK
        while True:
            if member[p]:
                if left == 0:
                    break
                left -= 1
            p += 1
        rows[i] = p
    return rows


@kernel
def refresh_pools_kernel(jobless, laid_off, exits, n_kept, n, P, pool):
    """The pools a step left brought up to date: rows that left the RCM since
    (``exits``) leave them; rows no longer jobless (taken by a plant) leave the jobless;
    rows added since (from ``n_kept`` to ``n``) and the rows ``laid_off`` (sorted) join
    the pool their status puts them in (with effort NaN: to be found). Returns the
    jobless (rows, effort, kind); ``pool`` is updated in place."""
    size = len(jobless.rows) + n - n_kept + len(laid_off)
    rows = np.empty(size, np.int64)
    effort = np.empty(size)
    kind = np.empty((size, 2), np.int64)
    for p in exits:
        if pool.member[p]:
            leave_pool(pool, p, P.sector[p])
    for p in range(n_kept, n):
        if P.status[p] == EMPLOYED and not P.at_plant[p]:
            join_pool(pool, p, P.sector[p])
    none = np.iinfo(np.int64).max
    nj = i = k = 0
    q = n_kept
    last = -1
    while True:  # the kept jobless, then the new rows (all above them), merged with laid_off
        a = jobless.rows[i] if i < len(jobless.rows) else (q if q < n else none)
        b = laid_off[k] if k < len(laid_off) else none
        p = min(a, b)
        if p == none:
            break
        e = np.nan
        s0 = s1 = 0
        if p == a:
            if i < len(jobless.rows):
                e = jobless.effort[i]
                s0, s1 = jobless.kind[i, 0], jobless.kind[i, 1]
                i += 1
            else:
                q += 1
        if p == b:
            e = np.nan  # laid off since: found again
            k += 1
        if p == last:
            continue
        last = p
        st = P.status[p]
        if st == UNEMPLOYED or st == TRAINING:
            rows[nj] = p
            effort[nj] = e
            kind[nj, 0] = s0
            kind[nj, 1] = s1
            nj += 1
    return rows[:nj], effort[:nj], kind[:nj]


@kernel
def pools_after_week_kernel(hired, hired_sector, searching, pool):
    """The pools a week leaves: those ``hired`` (sorted) join ``pool`` (in place); the
    jobless are those ``searching`` (searching or retraining, sorted) but not hired.
    Returns the jobless (rows, effort, kind)."""
    for i in range(len(hired)):
        join_pool(pool, hired[i], hired_sector[i])
    size = len(searching.rows)
    rows = np.empty(size, np.int64)
    effort = np.empty(size)
    kind = np.empty((size, 2), np.int64)
    nj = k = 0
    for i in range(size):
        p = searching.rows[i]
        if k < len(hired) and p == hired[k]:
            k += 1
        else:
            rows[nj] = p
            effort[nj] = searching.effort[i]
            kind[nj, 0] = searching.kind[i, 0]
            kind[nj, 1] = searching.kind[i, 1]
            nj += 1
    return rows[:nj], effort[:nj], kind[:nj]
