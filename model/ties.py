"""Personal ties: the confidants each person could talk to about their distress.

Each person has a fixed number of tie slots by kind (``support.tie_slots``): household
members, kin and friends, neighbours, co-workers, and one informal place (a hair salon or
a grocery whose worker the person sees regularly). Slots hold person rows (``-1``: empty);
the informal-place slot holds the place's organization row, resolved to the person who
works there at the time of use (``Ties.place_worker``). A tie to someone who has died or
moved away stays in the slot and simply no longer helps; out-migration thus thins
everyone's network, which the cohesion index measures (``tie_integrity``).

Ties are made when a person enters the model:
- household: up to two other members of the household;
- kin and friends: random residents of the same municipality (share
  ``support.local_friend_share``), otherwise anywhere in the RCM;
- neighbours: random residents of the same grid cell, else of the same municipality;
- co-workers: random workers of the same employer at set-up (the plants' assembly lines);
  people who arrive later get co-workers only from the same pool;
- informal place: a hair salon or grocery of the municipality.
Marginalized residents lose a share ``cohesion.marginalized_tie_loss`` of their slots
outside the household.

Candidates for newcomers' ties are drawn from pools refreshed once a year, so arrivals
cost no pass over the whole population.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel
from .state import ORG_KINDS, Status

KINDS = ("household", "kin_friends", "neighbours", "coworkers", "informal_place")


def _pick_in_groups(group_sorted: np.ndarray, members_sorted: np.ndarray, groups: np.ndarray,
                    k: int, rng: np.random.Generator) -> np.ndarray:
    """For each entry of ``groups``, ``k`` random members (with replacement) of that group,
    ``-1`` where the group is empty. ``members_sorted`` are sorted by ``group_sorted``."""
    if len(members_sorted) == 0:
        return np.full((len(groups), k), -1, np.int32)
    return _pick_kernel(group_sorted, members_sorted, groups, rng.random((len(groups), k)))


@kernel
def _pick_kernel(group_sorted, members_sorted, groups, u):
    """Member ``floor(u * size)`` of each entry's group (``-1`` for an empty group)."""
    out = np.empty(u.shape, np.int32)
    last = len(members_sorted) - 1
    lo = np.searchsorted(group_sorted, groups, side="left")
    hi = np.searchsorted(group_sorted, groups, side="right")
    for a in range(u.shape[0]):
        count = hi[a] - lo[a]
        for b in range(u.shape[1]):
            if count > 0:
                out[a, b] = members_sorted[min(lo[a] + np.int64(np.floor(u[a, b] * count)), last)]
            else:
                out[a, b] = -1
    return out


@kernel
def _resolve(ids, slot, slots, slot_is_place, place_worker, present):
    """Person at ``slots[ids[j], slot[j]]`` (a place's worker for a place slot), -1 if the
    slot is empty or the person is no longer present."""
    out = np.empty(len(ids), np.int64)
    for j in range(len(ids)):
        t = np.int64(slots[ids[j], slot[j]])
        if t >= 0 and slot_is_place[slot[j]]:
            t = place_worker[t]
        if t >= 0 and not present[t]:
            t = -1
        out[j] = t
    return out


@kernel
def _broken(rows, cols, slots, slot_is_place, place_worker, present, age, adult_age):
    """The ties of persons ``rows`` in slots ``cols`` that are lost: to someone no longer
    present, or to a place that has no worker. Returns them as (index into ``rows``,
    index into ``cols``) in row-major order, with the filled and the lost slots of the
    adults among ``rows``."""
    n_out = len(rows) * len(cols)
    r_out = np.empty(n_out, np.int64)
    c_out = np.empty(n_out, np.int64)
    m = 0
    filled_adult = 0
    broken_adult = 0
    for a in range(len(rows)):
        i = rows[a]
        adult = age[i] >= adult_age
        for b in range(len(cols)):
            s = np.int64(slots[i, cols[b]])
            if s < 0:
                continue
            who = place_worker[s] if slot_is_place[cols[b]] else s
            lost = who < 0 or not present[who]
            if adult:
                filled_adult += 1
                broken_adult += lost
            if lost:
                r_out[m] = a
                c_out[m] = b
                m += 1
    return r_out[:m], c_out[:m], filled_adult, broken_adult


class Ties:
    def __init__(self, model):
        self.model = model
        slots = [int(round(v)) for v in model.config["support.tie_slots"]]
        self.slot_kind = np.repeat(np.arange(len(KINDS)), slots).astype(np.int8)
        self.k = len(self.slot_kind)
        self.span = {name: np.flatnonzero(self.slot_kind == i) for i, name in enumerate(KINDS)}
        self.slot_is_place = self.slot_kind == KINDS.index("informal_place")
        self.p = model.config.section("support")
        self.slots = np.full((max(model.people.n * 2, 16), self.k), -1, np.int32)
        orgs = model.orgs
        places = np.flatnonzero(orgs.kind[: orgs.n] == ORG_KINDS.index("informal_place"))
        self.places = places
        self.place_muni = orgs.municipality[places].astype(np.int64)
        order = np.argsort(self.place_muni, kind="stable")
        self.places_sorted, self.place_muni_sorted = places[order], self.place_muni[order]
        self.place_worker = np.full(orgs.n, -1, np.int64)  # person row of each place's worker

    # -- building ------------------------------------------------------------------------
    def _ensure(self, n: int) -> None:
        if n > len(self.slots):
            new = np.full((max(2 * len(self.slots), n), self.k), -1, np.int32)
            new[: len(self.slots)] = self.slots
            self.slots = new

    def refresh_pools(self) -> None:
        """Residents grouped by municipality, by cell and by employer (for new ties)."""
        P, H = self.model.people, self.model.households
        alive = np.flatnonzero(P.present[: P.n])
        hh = P.household[alive]
        muni = H.municipality[hh].astype(np.int64)
        o = np.argsort(muni, kind="stable")
        self.pool_muni = (muni[o], alive[o])
        cell = H.x[hh].astype(np.int64) * 10_000 + H.y[hh]
        o = np.argsort(cell, kind="stable")
        self.pool_cell = (cell[o], alive[o])
        working = alive[P.employer[alive] >= 0]
        emp = P.employer[working].astype(np.int64)
        o = np.argsort(emp, kind="stable")
        self.pool_employer = (emp[o], working[o])
        self.pool_all = alive
        self._fill_places()

    def _fill_places(self) -> None:
        """Each informal place without a present worker gets one: an employed resident of
        its municipality (the hairdresser or grocer)."""
        P = self.model.people
        worker = self.place_worker[self.places]
        vacant = self.places[(worker < 0) | ~P.present[np.maximum(worker, 0)]]
        if len(vacant) == 0:
            return
        rng = self.model.streams["ties"]
        g, members = self.pool_muni
        employed = members[P.status[members] == Status.EMPLOYED]
        gm = P.household[employed]
        gm = self.model.households.municipality[gm].astype(np.int64)
        o = np.argsort(gm, kind="stable")
        pick = _pick_in_groups(gm[o], employed[o], self.model.orgs.municipality[vacant].astype(np.int64), 1, rng)[:, 0]
        self.place_worker[vacant] = pick

    def renew(self, rng: np.random.Generator) -> float:
        """Replace ties to persons who have left, each with probability
        ``1 - exp(-support.tie_renewal_rate)`` (called once a year, after the pools are
        refreshed). Household slots are left as they are. Returns the tie integrity
        before the renewal: the share of filled slots outside the household whose tie
        still lives in the RCM."""
        P = self.model.people
        alive = self.pool_all
        outside = np.flatnonzero(self.slot_kind != 0)
        rows, cols, filled, lost = _broken(alive, outside, self.slots, self.slot_is_place, self.place_worker,
                                           P.present, P.age, np.float32(self.model.config["demography.working_age"]))
        integrity = float(1.0 - lost / filled) if filled else float("nan")
        keep = rng.random(len(rows)) < 1.0 - np.exp(-self.p["tie_renewal_rate"])
        rows, cols = rows[keep], cols[keep]
        if len(rows) == 0:
            return integrity
        people = alive[np.unique(rows)]
        saved = self.slots[people].copy()
        self.add(people, rng)  # a fresh draw of every slot, of which only the broken ones are kept
        fresh = self.slots[people].copy()
        self.slots[people] = saved
        r_idx = np.searchsorted(people, alive[rows])
        self.slots[alive[rows], outside[cols]] = fresh[r_idx, outside[cols]]
        return integrity

    def add(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """Make the ties of persons ``ids`` (new rows)."""
        if len(ids) == 0:
            return
        P, H = self.model.people, self.model.households
        self._ensure(P.n)
        S = np.full((len(ids), self.k), -1, np.int32)
        hh = P.household[ids]
        # Household: the next members of the household in row order (those who arrived with it).
        first = H.first_row[hh].astype(np.int64)
        size = np.maximum(H.arrived[hh].astype(np.int64), 1)
        pos = ids - first
        inside = (pos >= 0) & (pos < size)
        pos = np.where(inside, pos, -1)  # children born later: the household's first members
        for j, col in enumerate(self.span["household"]):
            other = (pos + 1 + j) % size
            ok = (size > 1 + j) | (~inside & (size > j))
            S[:, col] = np.where(ok & (other != pos), first + other, -1)
        muni = H.municipality[hh].astype(np.int64)
        # Kin and friends: same municipality or anywhere.
        cols = self.span["kin_friends"]
        if len(cols):
            local = _pick_in_groups(*self.pool_muni, muni, len(cols), rng)
            anywhere = self.pool_all[rng.integers(0, len(self.pool_all), (len(ids), len(cols)))]
            S[:, cols] = np.where(rng.random((len(ids), len(cols))) < self.p["local_friend_share"], local, anywhere)
        cols = self.span["neighbours"]
        if len(cols):
            cell = H.x[hh].astype(np.int64) * 10_000 + H.y[hh]
            near = _pick_in_groups(*self.pool_cell, cell, len(cols), rng)
            fallback = _pick_in_groups(*self.pool_muni, muni, len(cols), rng)
            S[:, cols] = np.where(near >= 0, near, fallback)
        cols = self.span["coworkers"]
        if len(cols):
            emp = P.employer[ids].astype(np.int64)
            co = _pick_in_groups(*self.pool_employer, emp, len(cols), rng)
            S[:, cols] = np.where(emp[:, None] >= 0, co, -1)
        cols = self.span["informal_place"]
        if len(cols) and len(self.places):
            S[:, cols] = _pick_in_groups(self.place_muni_sorted, self.places_sorted, muni, len(cols), rng)
        S[S == ids[:, None]] = -1  # nobody is their own confidant
        # Marginalized residents have fewer ties outside the household.
        marg = P.marginalized[ids]
        if marg.any():
            outside = self.slot_kind != 0
            drop = (rng.random(S.shape) < self.model.config["cohesion.marginalized_tie_loss"]) & outside[None, :]
            S[marg[:, None] & drop] = -1
        self.slots[ids] = S

    # -- use -----------------------------------------------------------------------------
    def targets(self, ids: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Person row at ``slot`` of each of ``ids`` (the place's worker for a place slot),
        ``-1`` if empty or no longer present."""
        return _resolve(ids, np.asarray(slot, np.int64), self.slots, self.slot_is_place, self.place_worker,
                        self.model.people.present)

    def integrity(self, ids: np.ndarray) -> float:
        """Share of the filled slots outside the household of ``ids`` whose tie is present."""
        outside = np.flatnonzero(self.slot_kind != 0)
        s = self.slots[np.ix_(ids, outside)].astype(np.int64)
        filled = s >= 0
        place = (self.slot_kind[outside] == KINDS.index("informal_place"))[None, :] & filled
        s[place] = self.place_worker[s[place]]  # a place without a worker counts as lost
        if not filled.any():
            return float("nan")
        who = s[filled]
        intact = (who >= 0) & self.model.people.present[np.maximum(who, 0)]
        return float(intact.mean())

    def count(self, ids: np.ndarray) -> np.ndarray:
        """Present ties of each of ``ids`` (support ties)."""
        out = np.zeros(len(ids), np.int16)
        for j in range(self.k):
            out += self.targets(ids, np.full(len(ids), j)) >= 0
        return out
