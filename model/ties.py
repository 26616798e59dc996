"""Personal ties: the confidants each person could talk to about their distress.

Each person has a fixed number of tie slots by kind (``support.tie_slots``): household
members, kin and friends, neighbours, co-workers, and one informal place (a hair salon or
a grocery whose worker the person sees regularly). Slots hold person rows (``-1``: empty);
the informal-place slot holds the place's organization row, resolved to the person who
works there at the time of use (``Ties.place_worker``). A tie to someone who has died or
moved away stays in the slot and simply no longer helps; out-migration thus thins
everyone's network, which the cohesion index measures (``tie_integrity``).

Job loss cuts workplace ties: when a closure lays a worker off, each of their co-worker
ties is lost with probability ``support.workplace_tie_loss`` (the slot holds ``LOST``:
filled, but nobody answers). Losing those ties is one of the ways job loss lowers
perceived social integration (Pohlan 2019 [pohlan-2019]) and raises loneliness
(Morrish & Medina-Lara 2021 [morrish-medina-lara-2021]). Cut ties count against
``tie_integrity`` and are renewed like ties to persons who left, except that a cut
co-worker tie stays cut while its owner has no co-workers to draw from (no job): it comes
back with re-employment.

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

The same rules in plain NumPy are ``model/reference/ties.py``; the compiled kernels below
(named tuples ``Homes``, ``Pools``, ``TieDraws``, ``TieRules`` in, no draws: ``Ties``
draws the uniforms) are tested against it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .constants import WORKING_AGE
from .jit import kernel
from .state import ORG_KINDS, Status

KINDS = ("household", "kin_friends", "neighbours", "coworkers", "informal_place")
EMPTY, LOST = -1, -2  # slot codes: no tie; a tie that was cut (workplace ties at a layoff)


class Homes(NamedTuple):
    """Where each person lives and works: what new ties are drawn from."""

    household: np.ndarray  # per person: household row
    employer: np.ndarray  # per person: employer row, -1: none
    marginalized: np.ndarray  # per person
    first_row: np.ndarray  # per household: its first person row
    arrived: np.ndarray  # per household: members who arrived with it (rows first_row on)
    municipality: np.ndarray  # per household
    x: np.ndarray  # per household: grid cell
    y: np.ndarray
    height: int  # grid height: a cell's key is x * height + y


class Pools(NamedTuple):
    """Candidates for new ties, each grouped as (offsets, grouped rows) by ``_group_rows``."""

    by_muni: tuple  # residents by municipality
    by_cell: tuple  # residents by grid cell
    by_employer: tuple  # residents by employer
    places_by_muni: tuple  # informal places by municipality
    everyone: np.ndarray  # every resident (friends anywhere in the RCM)


class TieDraws(NamedTuple):
    """The draws of new ties: uniforms, one per slot of the kind (``anywhere``: indices into
    ``Pools.everyone``); ``drop`` is read only for marginalized persons."""

    local: np.ndarray  # kin and friends in the municipality
    anywhere: np.ndarray  # kin and friends anywhere
    share: np.ndarray  # local or anywhere
    near: np.ndarray  # neighbours in the cell
    fallback: np.ndarray  # neighbours in the municipality, where the cell has none
    coworker: np.ndarray
    place: np.ndarray
    drop: np.ndarray  # (person, slot): a marginalized resident's tie not made


class TieRules(NamedTuple):
    slot_kind: np.ndarray  # kind of each slot column (KINDS index)
    local_share: float  # share of kin and friends in the same municipality
    marginalized_loss: float  # share of a marginalized resident's slots outside the household left empty


def _pick_in_groups(
    group_sorted: np.ndarray, members_sorted: np.ndarray, groups: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
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
def _group_rows(rows, keys, n_groups):
    """``rows`` grouped by their key (``0 <= key < n_groups``; rows with other keys are
    left out), in their order within a group (a stable sort by key). Returns the start
    of each group in the grouped rows (``n_groups + 1`` offsets) and the grouped rows."""
    offsets = np.zeros(n_groups + 1, np.int64)
    for g in keys:
        if g >= 0 and g < n_groups:
            offsets[g + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    grouped = np.empty(offsets[n_groups], np.int64)
    fill = offsets[:n_groups].copy()
    for j in range(len(rows)):
        g = keys[j]
        if g >= 0 and g < n_groups:
            grouped[fill[g]] = rows[j]
            fill[g] += 1
    return offsets, grouped


@kernel
def _pick_grouped(offsets, grouped, groups, u):
    """As ``_pick_kernel``, with the groups given by their ``offsets`` in ``grouped``
    (see ``_group_rows``): member ``floor(u * size)`` of each entry's group, ``-1`` for
    an empty group or a key outside the groups."""
    out = np.empty(u.shape, np.int32)
    last = len(grouped) - 1
    n_groups = len(offsets) - 1
    for a in range(u.shape[0]):
        g = groups[a]
        lo = count = 0
        if g >= 0 and g < n_groups:
            lo = offsets[g]
            count = offsets[g + 1] - lo
        for b in range(u.shape[1]):
            if count > 0:
                out[a, b] = grouped[min(lo + np.int64(np.floor(u[a, b] * count)), last)]
            else:
                out[a, b] = -1
    return out


@kernel
def _new_ties_kernel(ids, homes, pools, draws, rules):
    """The tie slots of persons ``ids`` (one row each, ``rules.slot_kind`` by column),
    drawn with ``draws`` from ``pools``. Slots of a kind whose pool is empty stay
    empty."""
    household, slot_kind = homes.household, rules.slot_kind
    n, k = len(ids), len(slot_kind)
    muni = np.empty(n, np.int64)
    cell = np.empty(n, np.int64)
    emp = np.empty(n, np.int64)
    for a in range(n):
        h = household[ids[a]]
        muni[a] = homes.municipality[h]
        cell[a] = np.int64(homes.x[h]) * homes.height + homes.y[h]
        emp[a] = homes.employer[ids[a]]
    by_muni, by_cell, by_employer, by_place = pools.by_muni, pools.by_cell, pools.by_employer, pools.places_by_muni
    local = _pick_grouped(by_muni[0], by_muni[1], muni, draws.local)
    near = _pick_grouped(by_cell[0], by_cell[1], cell, draws.near)
    fallback = _pick_grouped(by_muni[0], by_muni[1], muni, draws.fallback)
    coworker = _pick_grouped(by_employer[0], by_employer[1], emp, draws.coworker)
    place = _pick_grouped(by_place[0], by_place[1], muni, draws.place)
    rank = np.empty(k, np.int64)  # place of each column among the columns of its kind
    seen = np.zeros(128, np.int64)  # by kind (int8)
    for c in range(k):
        rank[c] = seen[slot_kind[c]]
        seen[slot_kind[c]] += 1
    out = np.empty((n, k), np.int32)
    for a in range(n):
        i = ids[a]
        h = household[i]
        # Household: the next members of the household in row order (those who arrived
        # with it); children born later: the household's first members.
        first = np.int64(homes.first_row[h])
        size = max(np.int64(homes.arrived[h]), 1)
        pos = i - first
        inside = pos >= 0 and pos < size
        if not inside:
            pos = -1
        for c in range(k):
            kind = slot_kind[c]
            j = rank[c]
            if kind == 0:
                other = (pos + 1 + j) % size
                ok = size > 1 + j or (not inside and size > j)
                t = first + other if ok and other != pos else -1
            elif kind == 1:
                t = local[a, j] if draws.share[a, j] < rules.local_share else pools.everyone[draws.anywhere[a, j]]
            elif kind == 2:
                t = near[a, j] if near[a, j] >= 0 else fallback[a, j]
            elif kind == 3:
                t = coworker[a, j] if emp[a] >= 0 else -1
            else:
                t = place[a, j]
            if t == i:
                t = -1  # nobody is their own confidant
            if homes.marginalized[i] and kind != 0 and draws.drop[a, c] < rules.marginalized_loss:
                t = -1  # marginalized residents have fewer ties outside the household
            out[a, c] = t
    return out


@kernel
def _replace_lost(slots, people, rows, cols, fresh):
    """Put the fresh draw ``fresh`` (one row per person of ``people``) in the slots
    ``(people[rows], cols)``; a cut tie (``LOST``) whose fresh draw is empty stays cut (a
    laid-off worker without a job has no co-workers to replace theirs until re-employed)."""
    for j in range(len(rows)):
        new = fresh[rows[j], cols[j]]
        i, c = people[rows[j]], cols[j]
        if new >= 0 or slots[i, c] != -2:  # -2: LOST
            slots[i, c] = new


@kernel
def _resolve(ids, slot, slots, slot_is_place, place_worker, present):
    """Person at ``slots[ids[j], slot[j]]`` (a place's worker for a place slot), -1 if the
    slot is empty or the person is no longer present."""
    out = np.empty(len(ids), np.int64)
    for j in range(len(ids)):
        t = np.int64(slots[ids[j], slot[j]])
        if t >= 0 and slot_is_place[slot[j]]:
            t = place_worker[t]
        if t < 0 or not present[t]:
            t = -1
        out[j] = t
    return out


@kernel
def _count_present(ids, slots, slot_is_place, place_worker, present):
    """Per person of ``ids``: how many of their slots resolve to a present person (as
    ``_resolve``)."""
    out = np.zeros(len(ids), np.int16)
    for j in range(len(ids)):
        c = 0
        for b in range(slots.shape[1]):
            t = np.int64(slots[ids[j], b])
            if t >= 0 and slot_is_place[b]:
                t = place_worker[t]
            c += t >= 0 and present[t]
        out[j] = c
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
            if s == -1:  # EMPTY; a LOST tie counts as filled and lost
                continue
            who = s if s < 0 or not slot_is_place[cols[b]] else place_worker[s]
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
        self.n_muni = model.territory.n_municipalities
        self.height = model.territory.height  # a cell's key: x * height + y
        self.n_cells = model.territory.width * self.height
        self.places_by_muni = _group_rows(places.astype(np.int64), self.place_muni, self.n_muni)
        self.place_worker = np.full(orgs.n, -1, np.int64)  # person row of each place's worker

    # -- building ------------------------------------------------------------------------
    def _ensure(self, n: int) -> None:
        if n > len(self.slots):
            new = np.full((max(2 * len(self.slots), n), self.k), -1, np.int32)
            new[: len(self.slots)] = self.slots
            self.slots = new

    def refresh_pools(self) -> None:
        """Residents grouped by municipality, by cell and by employer (for new ties), in
        row order within a group."""
        P, H = self.model.people, self.model.households
        alive = np.flatnonzero(P.present[: P.n])
        hh = P.household[alive]
        self.by_muni = _group_rows(alive, H.municipality[hh].astype(np.int64), self.n_muni)
        self.by_cell = _group_rows(alive, H.x[hh].astype(np.int64) * self.height + H.y[hh], self.n_cells)
        self.by_employer = _group_rows(alive, P.employer[alive].astype(np.int64), self.model.orgs.n)
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
        members = self.by_muni[1]
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
        rows, cols, filled, lost = _broken(
            alive, outside, self.slots, self.slot_is_place, self.place_worker, P.present, P.age, np.float32(WORKING_AGE)
        )
        integrity = float(1.0 - lost / filled) if filled else float("nan")
        keep = rng.random(len(rows)) < 1.0 - np.exp(-self.p["tie_renewal_rate"])
        rows, cols = rows[keep], cols[keep]
        if len(rows) == 0:
            return integrity
        renewed, rows = np.unique(rows, return_inverse=True)
        people = alive[renewed]
        fresh = self._draw(people, rng)  # a fresh draw of every slot, of which only the lost ones are kept
        _replace_lost(self.slots, people, rows, outside[cols], fresh)
        return integrity

    def settle(self, departure_rate: float, rng: np.random.Generator) -> None:
        """Start the network at its steady state rather than with every tie intact: each
        filled person slot outside the household (not the informal place, whose worker is
        replaced as soon as a place has none) is marked ``LOST`` with the share lost just
        before a January renewal when ties are lost at ``departure_rate`` (``d``) a year
        and a lost tie is renewed with probability ``r = 1 - exp(-support.tie_renewal_rate)``
        at each renewal: ``L = d / (r + (1 - r) d)``. The model then renews them once, as
        in a January (``renew``)."""
        r = 1.0 - np.exp(-self.p["tie_renewal_rate"])
        d = departure_rate
        before_renewal = d / (r + (1.0 - r) * d) if r + d > 0 else 0.0
        P = self.model.people
        rows = np.flatnonzero(P.present[: P.n])
        cols = np.flatnonzero(~self.slot_is_place & (self.slot_kind != 0))
        block = self.slots[np.ix_(rows, cols)]
        cut = (rng.random(block.shape) < before_renewal) & (block >= 0)
        self.slots[np.ix_(rows, cols)] = np.where(cut, LOST, block)

    def cut_workplace_ties(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """Laid-off workers ``ids`` lose each co-worker tie with probability
        ``support.workplace_tie_loss``."""
        cols = self.span["coworkers"]
        if len(ids) == 0 or len(cols) == 0:
            return
        block = self.slots[np.ix_(ids, cols)]
        cut = (rng.random(block.shape) < self.p["workplace_tie_loss"]) & (block >= 0)
        self.slots[np.ix_(ids, cols)] = np.where(cut, LOST, block)

    def add(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """Make the ties of persons ``ids`` (new rows)."""
        if len(ids) == 0:
            return
        self._ensure(self.model.people.n)
        self.slots[ids] = self._draw(ids, rng)

    def _draw(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw all the tie slots of persons ``ids``: the uniforms of each kind of tie in
        turn (none for a kind whose pool is empty), then those of the marginalized
        residents' lost ties (if any of ``ids`` is marginalized)."""
        P, H = self.model.people, self.model.households
        n = len(ids)
        span = self.span

        def uniforms(members: np.ndarray, kind: str) -> np.ndarray:
            c = len(span[kind])
            return rng.random((n, c)) if len(members) and c else np.zeros((n, c))

        c_kin = len(span["kin_friends"])
        u_local = uniforms(self.by_muni[1], "kin_friends")
        anywhere = rng.integers(0, len(self.pool_all), (n, c_kin)) if c_kin else np.zeros((n, 0), np.int64)
        u_share = rng.random((n, c_kin)) if c_kin else np.zeros((n, 0))
        u_near = uniforms(self.by_cell[1], "neighbours")
        u_fallback = uniforms(self.by_muni[1], "neighbours")
        u_coworker = uniforms(self.by_employer[1], "coworkers")
        u_place = uniforms(self.places, "informal_place")
        marginalized = P.marginalized[ids].any()
        u_drop = rng.random((n, self.k)) if marginalized else np.zeros((0, self.k))
        return _new_ties_kernel(
            np.asarray(ids, np.int64),
            Homes(
                P.household,
                P.employer,
                P.marginalized,
                H.first_row,
                H.arrived,
                H.municipality,
                H.x,
                H.y,
                int(self.height),
            ),
            Pools(self.by_muni, self.by_cell, self.by_employer, self.places_by_muni, self.pool_all),
            TieDraws(u_local, anywhere, u_share, u_near, u_fallback, u_coworker, u_place, u_drop),
            TieRules(
                self.slot_kind,
                float(self.p["local_friend_share"]),
                float(self.model.config["cohesion.marginalized_tie_loss"]),
            ),
        )

    # -- use -----------------------------------------------------------------------------
    def targets(self, ids: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Person row at ``slot`` of each of ``ids`` (the place's worker for a place slot),
        ``-1`` if empty or no longer present."""
        return _resolve(
            ids,
            np.asarray(slot, np.int64),
            self.slots,
            self.slot_is_place,
            self.place_worker,
            self.model.people.present,
        )

    def integrity(self, ids: np.ndarray) -> float:
        """Share of the filled slots outside the household of ``ids`` whose tie is present."""
        outside = np.flatnonzero(self.slot_kind != 0)
        s = self.slots[np.ix_(ids, outside)].astype(np.int64)
        filled = s != EMPTY  # a LOST tie is filled and lost
        place = (self.slot_kind[outside] == KINDS.index("informal_place"))[None, :] & (s >= 0)
        s[place] = self.place_worker[s[place]]  # a place without a worker counts as lost
        if not filled.any():
            return float("nan")
        who = s[filled]
        intact = (who >= 0) & self.model.people.present[np.maximum(who, 0)]
        return float(intact.mean())

    def count(self, ids: np.ndarray) -> np.ndarray:
        """Present ties of each of ``ids`` (support ties)."""
        return _count_present(
            np.asarray(ids, np.int64), self.slots, self.slot_is_place, self.place_worker, self.model.people.present
        )
