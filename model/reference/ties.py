"""Personal ties in plain NumPy (ODD 7.7, docs/ODD.md; ``model/ties.py``).

The mechanism of ``model/ties.py`` stated directly, for a reader to hold beside its ODD
section and for the tests to check the compiled fast path against. Each person has tie
slots by kind (household, kin and friends, neighbours, co-workers, informal place); a
slot holds a person row (a place's organization row for the informal place), -1 if
empty, -2 if cut. A new person's slots are drawn from the residents of the last yearly
refresh (``pool``):

- household: the next members of the household in row order (those who arrived with it;
  a child born later: the household's first members);
- kin and friends: with probability ``local_share`` a random resident of the person's
  municipality, otherwise a random resident anywhere;
- neighbours: a random resident of the person's grid cell, else of the municipality;
- co-workers: a random resident working for the same employer (none without a job);
- informal place: a random informal place of the municipality.
Nobody is their own confidant; a marginalized resident loses each slot outside the
household with probability ``marginalized_loss``.

Each January, every filled slot outside the household whose tie is lost (cut, or to
someone no longer present, or to a place without a worker) is redrawn with probability
``1 - exp(-renewal_rate)``; a cut co-worker tie whose redraw is empty stays cut.

The uniforms are drawn from ``rng`` in the fast path's order.
"""

from __future__ import annotations

import numpy as np

HOUSEHOLD, KIN, NEIGHBOURS, COWORKERS, PLACE = range(5)  # model.ties.KINDS
EMPTY, LOST = -1, -2


def pick(keys, rows, groups, u) -> np.ndarray:
    """For each entry of ``groups``, the member ``floor(u * size)`` of the rows with that key
    (in row order), -1 for an empty group."""
    o = np.argsort(keys, kind="stable")
    keys, rows = keys[o], rows[o]
    lo, hi = np.searchsorted(keys, groups, "left"), np.searchsorted(keys, groups, "right")
    size = (hi - lo)[:, None]
    at = np.minimum(lo[:, None] + np.floor(u * size).astype(np.int64), max(len(rows) - 1, 0))
    return np.where(size > 0, rows[at] if len(rows) else -1, EMPTY)


def draw(
    ids,
    P: dict,
    H: dict,
    pool,
    pool_employer,
    places,
    place_muni,
    slot_kind,
    local_share: float,
    marginalized_loss: float,
    rng,
) -> np.ndarray:
    """The tie slots of persons ``ids``. ``P``: household, employer, marginalized (by
    person); ``H``: first_row, arrived, municipality, x, y (by household), height;
    ``pool_employer``: the employer of each of ``pool`` at the refresh (-1: none)."""
    ids = np.asarray(ids, np.int64)
    n, k = len(ids), len(slot_kind)
    col = {kind: np.flatnonzero(slot_kind == kind) for kind in range(5)}
    c = {kind: len(col[kind]) for kind in col}
    working = pool[pool_employer >= 0]

    def uniforms(candidates, kind):
        return rng.random((n, c[kind])) if len(candidates) and c[kind] else np.zeros((n, c[kind]))

    u_local = uniforms(pool, KIN)
    anywhere = rng.integers(0, len(pool), (n, c[KIN])) if c[KIN] else np.zeros((n, 0), np.int64)
    u_share = rng.random((n, c[KIN])) if c[KIN] else np.zeros((n, 0))
    u_near, u_fallback = uniforms(pool, NEIGHBOURS), uniforms(pool, NEIGHBOURS)
    u_coworker, u_place = uniforms(working, COWORKERS), uniforms(places, PLACE)
    u_drop = rng.random((n, k)) if P["marginalized"][ids].any() else None

    hh = P["household"][ids]
    muni = H["municipality"][hh].astype(np.int64)
    pool_muni = H["municipality"][P["household"][pool]].astype(np.int64)

    def cell_of(h):
        return H["x"][h].astype(np.int64) * H["height"] + H["y"][h]

    S = np.full((n, k), EMPTY, np.int64)
    # Household: the next members in row order.
    first, size = H["first_row"][hh].astype(np.int64), np.maximum(H["arrived"][hh].astype(np.int64), 1)
    pos = ids - first
    inside = (pos >= 0) & (pos < size)
    pos = np.where(inside, pos, -1)
    for j, cj in enumerate(col[HOUSEHOLD]):
        other = (pos + 1 + j) % size
        ok = (size > 1 + j) | (~inside & (size > j))
        S[:, cj] = np.where(ok & (other != pos), first + other, EMPTY)
    # Kin and friends, neighbours, co-workers, the informal place.
    local = pick(pool_muni, pool, muni, u_local)
    S[:, col[KIN]] = np.where(u_share < local_share, local, pool[anywhere] if len(pool) else EMPTY)
    near = pick(cell_of(P["household"][pool]), pool, cell_of(hh), u_near)
    S[:, col[NEIGHBOURS]] = np.where(near >= 0, near, pick(pool_muni, pool, muni, u_fallback))
    emp = P["employer"][ids].astype(np.int64)
    coworker = pick(pool_employer[pool_employer >= 0].astype(np.int64), working, emp, u_coworker)
    S[:, col[COWORKERS]] = np.where(emp[:, None] >= 0, coworker, EMPTY)
    S[:, col[PLACE]] = pick(np.asarray(place_muni, np.int64), np.asarray(places, np.int64), muni, u_place)
    S[S == ids[:, None]] = EMPTY  # nobody is their own confidant
    if u_drop is not None:
        drop = P["marginalized"][ids][:, None] & (slot_kind != HOUSEHOLD)[None, :] & (u_drop < marginalized_loss)
        S[drop] = EMPTY
    return S.astype(np.int32)


def renew(slots, pool, slot_kind, place_worker, present, rate: float, rng, redraw) -> None:
    """January's renewal of the lost ties of ``pool`` (changes ``slots``); ``redraw(people)``
    draws all the slots of ``people`` afresh (``draw``)."""
    outside = np.flatnonzero(slot_kind != HOUSEHOLD)
    s = slots[np.ix_(pool, outside)].astype(np.int64)
    place = (slot_kind[outside] == PLACE)[None, :] & (s >= 0)
    who = s.copy()
    who[place] = place_worker[s[place]]  # a place's tie is to its worker
    lost = (s != EMPTY) & ((who < 0) | ~present[np.maximum(who, 0)])
    rows, cols = np.nonzero(lost)  # row-major: person, then slot
    keep = rng.random(len(rows)) < 1.0 - np.exp(-rate)
    rows, cols = rows[keep], cols[keep]
    if len(rows) == 0:
        return
    people, at = np.unique(rows, return_inverse=True)
    fresh = redraw(pool[people])[at, outside[cols]]
    person, slot = pool[rows], outside[cols]
    stays_cut = (fresh < 0) & (slots[person, slot] == LOST)
    slots[person[~stays_cut], slot[~stays_cut]] = fresh[~stays_cut]
