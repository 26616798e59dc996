"""Formal services and referrals: capacity, waiting lists, self-referral and referrals.

Organizations offering a service (``configs/organizations.csv``, column ``service``):
psychosocial (the CSSS and its service point), employment (the local employment centre)
and community (the food bank and the volunteer centres). Each holds at most its share of
``services.capacity`` clients at once (scaled by ``run.scale``; community capacity loses
``interventions.regional_conference.community_capacity`` once the regional conference is
gone). A client stays ``services.episode_weeks`` weeks; while served, the service lowers
the client's distress by ``services.effect`` (``submodels/distress.py``).

People reach a service in three ways, all through a first-come first-served waiting list
that is served each week up to the free capacity (those waiting longer than
``max_wait_weeks`` give up):
- self-referral (user mode): an adult in high distress who knows the services asks with
  probability ``self_referral_rate`` a week: the employment centre if without a job, the
  community service if the household is under strain, the psychosocial service
  otherwise; marginalized residents ask less often (``cohesion.marginalized_reach``)
  unless inclusion actions reach them;
- referral by an informal helper (``submodels/informal_support.py``), to the psychosocial
  service;
- referral by an organization: a client with a need the organization does not meet (high
  distress, no job, a strained household) is referred with probability
  ``org_referral_rate`` a week to the nearest organization meeting it, *only if the two
  organizations know each other* (``submodels/committees.py``).
Referrals (not self-referrals) are lost to procedures with probability
``referral_friction``, which the CSSS's reinforcement mode cuts.

A client referred on by their organization waits for the other one while still served,
and moves there when admitted.

The in-plant services (``interventions.in_plant_services``) teach the workers of an
announced plant the local resources, and the plant's social worker finds distressed
workers of the plant (and those laid off in the last twelve weeks) and puts them first
on the CSSS's list, without referral friction; her caseload is added to the CSSS's
places while the intervention is active. Newspaper articles teach other residents. The
support committee's outreach teaches displaced workers the services.
"""

from __future__ import annotations

import numpy as np

from ..constants import WORKING_AGE
from ..jit import kernel
from ..state import SERVICES, Status
from ..streams import bernoulli

PSY, EMP, COM = (SERVICES.index(s) for s in ("psychosocial", "employment", "community"))
UNEMPLOYED, TRAINING = Status.UNEMPLOYED, Status.TRAINING


# -- kernels (no random draws: the uniforms are drawn by Services.step) ----------------------
@kernel
def _ascending(rows):
    """``rows`` if in ascending order, else a sorted copy."""
    for j in range(1, len(rows)):
        if rows[j] < rows[j - 1]:
            return np.sort(rows)
    return rows


@kernel
def _among(rows, row):
    """Whether ``row`` is one of ``rows`` (ascending)."""
    j = np.searchsorted(rows, row)
    return j < len(rows) and rows[j] == row


@kernel
def _capacity_kernel(base, community_rows, community_share, psychosocial_row, extra):
    """Places of each organization this week: ``base`` with the community services' places
    cut to ``community_share`` and ``extra`` places at ``psychosocial_row`` (-1: none),
    rounded to whole places."""
    cap = base.copy()
    for o in community_rows:
        cap[o] *= community_share
    if psychosocial_row >= 0:
        cap[psychosocial_row] += extra
    places = np.empty(len(cap), np.int64)
    for o in range(len(cap)):
        places[o] = np.int64(np.rint(cap[o]))
    return places


@kernel
def _place_in_line(org, since, priority):
    """A waiting list's order as one number: by organization, then those put first in line,
    then by week joined (``since``); equal places are served by row."""
    return ((np.int64(org) * 2 + (0 if priority else 1)) << 32) + (np.int64(since) + 2**31)


@kernel
def _places_kernel(rows, waiting, wait_since, wait_priority):
    """The place in line of each of ``rows`` (all waiting)."""
    places = np.empty(len(rows), np.int64)
    for j in range(len(rows)):
        i = rows[j]
        places[j] = _place_in_line(waiting[i], wait_since[i], wait_priority[i])
    return places


@kernel
def _free_to_ask_kernel(need, knows, served, waiting, also_waiting, mark):
    """The persons of ``need`` who know the services, neither served (``served``) nor
    waiting (``waiting``, ``also_waiting``: every row served or waiting). ``mark`` is
    scratch space, False for every row (and left so)."""
    for rows in (served, waiting, also_waiting):
        for i in rows:
            mark[i] = True
    free = np.empty(len(need), np.int64)
    k = 0
    for i in need:
        if knows[i] and not mark[i]:
            free[k] = i
            k += 1
    for rows in (served, waiting, also_waiting):
        for i in rows:
            mark[i] = False
    return free[:k]


@kernel
def _in_line(rows, places):
    """``rows`` and their ``places`` in the order the lists are served: by place in line,
    then by row."""
    by_row = np.argsort(rows)
    order = by_row[np.argsort(places[by_row], kind="mergesort")]  # stable: rows in order among equals
    return rows[order], places[order]


@kernel
def _served_and_waiting(n, service, waiting, wait_since, wait_priority):
    """The rows of the first ``n`` served (ascending) and those waiting in the order the
    lists are served (``_in_line``), with their places."""
    served = np.empty(n, np.int64)
    listed = np.empty(n, np.int64)
    n_served = n_listed = 0
    for i in range(n):
        if service[i] >= 0:
            served[n_served] = i
            n_served += 1
        if waiting[i] >= 0:
            listed[n_listed] = i
            n_listed += 1
    listed_ = listed[:n_listed]
    rows, places = _in_line(listed_, _places_kernel(listed_, waiting, wait_since, wait_priority))
    return served[:n_served].copy(), rows, places


@kernel
def _end_episodes_kernel(served, listed, listed_places, week, max_wait, n_orgs, service, service_left, present,
                         waiting, wait_since, wait_priority):
    """Count down the episodes of the clients ``served``: an episode ends when no week is
    left or the client left the RCM. Take off the waiting lists those of ``listed`` (with
    their places ``listed_places``) who left the RCM or have waited longer than
    ``max_wait`` weeks. Return the rows still served and the clients of each
    organization, the rows still waiting and their places in line (both in the order
    given), and how many gave up."""
    clients = np.empty(len(served), np.int64)
    caseload = np.zeros(n_orgs, np.int64)
    n_clients = 0
    for i in served:
        service_left[i] -= 1
        if service_left[i] <= 0 or not present[i]:
            service[i] = -1
        else:
            clients[n_clients] = i
            n_clients += 1
            caseload[service[i]] += 1
    queue = np.empty(len(listed), np.int64)
    places = np.empty(len(listed), np.int64)
    n_queue = gave_up = 0
    for j in range(len(listed)):
        i = listed[j]
        if not present[i] or week - wait_since[i] > max_wait:
            waiting[i] = -1
            wait_priority[i] = False
            gave_up += 1
        else:
            queue[n_queue] = i
            places[n_queue] = listed_places[j]
            n_queue += 1
    return clients[:n_clients], caseload, queue[:n_queue], places[:n_queue], gave_up


@kernel
def _week_start_kernel(served, listed, listed_places, week, max_wait, base_capacity, community_rows,
                       community_share, psychosocial_row, extra, need, strained, service,
                       service_left, present, waiting, wait_since, wait_priority, knows, mark):
    """The start of the week: capacity (``_capacity_kernel``), episodes ending and people
    giving up (``_end_episodes_kernel``) among the rows ``served`` and ``listed``, who
    of ``need`` is free to ask for a service (``mark``: see ``_free_to_ask_kernel``),
    and the households under strain (``strained``) in ascending order."""
    capacity = _capacity_kernel(base_capacity, community_rows, community_share, psychosocial_row, extra)
    clients, caseload, queue, places, gave_up = _end_episodes_kernel(
        served, listed, listed_places, week, max_wait, len(capacity), service, service_left, present, waiting,
        wait_since, wait_priority)
    free = _free_to_ask_kernel(need, knows, clients, queue, queue[:0], mark)
    return capacity, clients, caseload, queue, places, gave_up, free, _ascending(strained)


@kernel
def _put_on_list(i, kind, served_ok, k, rows, line, week, waiting, wait_since, wait_priority, service,
                 household, hh_municipality, nearest):
    """Put person ``i`` on the waiting list of the organization of ``kind`` nearest to their
    home, if they are on no list, are not served (unless ``served_ok``), and that
    organization exists and is not the one serving them. A person put on a list is
    written at ``rows[k]`` with their place in ``line[k]``; return the next free index
    (``k`` unchanged if they were not put on a list)."""
    if waiting[i] >= 0 or (not served_ok and service[i] >= 0):
        return k
    org = nearest[hh_municipality[household[i]], kind]
    if org < 0 or org == service[i]:
        return k
    waiting[i] = org
    wait_since[i] = week
    wait_priority[i] = False
    rows[k], line[k] = i, _place_in_line(org, week, False)
    return k + 1


@kernel
def _org_referral_candidates_kernel(clients, u, rate, threshold, service, status, distress,
                                    household, hh_municipality, strained, kind, nearest, links):
    """Clients with a need their organization does not meet, drawn (``u[s] < rate``) for a
    referral to the nearest organization of service ``s`` meeting it, where the two
    organizations know each other. The needs: high distress (psychosocial), no job
    (employment), a household under strain (community; ``strained``, ascending). Return
    the clients, the service each is referred to, and the (from, to) organization pairs,
    in order of service then client."""
    n_kinds, n = u.shape
    ids = np.empty(n_kinds * n, np.int64)
    kinds = np.empty(n_kinds * n, np.int64)
    pairs = np.empty((n_kinds * n, 2), np.int64)
    k = 0
    for s in range(n_kinds):
        for j in range(n):
            if u[s, j] >= rate:
                continue
            i = clients[j]
            org = service[i]
            if kind[org] == s:
                continue
            if s == PSY:
                has_need = distress[i] >= threshold
            elif s == EMP:
                has_need = status[i] == UNEMPLOYED or status[i] == TRAINING
            else:
                has_need = _among(strained, household[i])
            if not has_need:
                continue
            dest = nearest[hh_municipality[household[i]], s]
            if dest < 0 or not links[org, dest]:
                continue
            ids[k], kinds[k] = i, s
            pairs[k, 0], pairs[k, 1] = org, dest
            k += 1
    return ids[:k].copy(), kinds[:k].copy(), pairs[:k].copy()


@kernel
def _referrals_kernel(queue, places, free, u_self, self_rate, marginal_reach, helper_referred, u_helper,
                      org_referred, org_kinds, u_org, friction, week,
                      waiting, wait_since, wait_priority, service, status, marginalized,
                      household, hh_municipality, strained, nearest):
    """Put on the waiting lists, in this order: self-referrals (a person of ``free`` asks when
    ``u_self`` is below the rate, lowered for marginalized residents: the employment
    centre if without a job, the community service if the household is under strain (one
    of ``strained``, ascending), the psychosocial service otherwise); helpers' referrals
    to the psychosocial service; and organizations' referrals (of ``org_referred`` to
    services ``org_kinds``; their clients may wait while served). A referral is lost
    when its uniform is below ``friction``. Return how many of each reached a list, and
    the rows waiting and their places in line: ``queue`` and ``places`` (those already
    waiting) followed by those put on a list now."""
    size = len(queue) + len(free) + len(helper_referred) + len(org_referred)
    rows = np.empty(size, np.int64)
    rows[: len(queue)] = queue
    line = np.empty(size, np.int64)
    line[: len(queue)] = places
    k = len(queue)
    top = self_rate * max(marginal_reach, 1.0)  # nobody asks at u_self >= top
    start = k
    for j in range(len(free)):
        if u_self[j] >= top:
            continue
        i = free[j]
        reach = marginal_reach if marginalized[i] else 1.0
        if u_self[j] < self_rate * reach:
            if status[i] == UNEMPLOYED or status[i] == TRAINING:
                s = EMP
            elif _among(strained, household[i]):
                s = COM
            else:
                s = PSY
            k = _put_on_list(i, s, False, k, rows, line, week, waiting, wait_since, wait_priority, service,
                             household, hh_municipality, nearest)
    n_self, start = k - start, k
    for j in range(len(helper_referred)):
        if u_helper[j] >= friction:
            k = _put_on_list(helper_referred[j], PSY, False, k, rows, line, week, waiting, wait_since,
                             wait_priority, service, household, hh_municipality, nearest)
    n_helper, start = k - start, k
    for j in range(len(org_referred)):
        if u_org[j] >= friction:
            k = _put_on_list(org_referred[j], org_kinds[j], True, k, rows, line, week, waiting, wait_since,
                             wait_priority, service, household, hh_municipality, nearest)
    n_org = k - start
    return n_self, n_helper, n_org, rows[:k].copy(), line[:k].copy()


@kernel
def _admit_kernel(caseload, queue, places, capacity, episode, service, service_left, waiting, wait_priority):
    """Serve each organization's waiting list up to its free places (``capacity`` less
    ``caseload``, its clients), in order of ``places`` (see ``_place_in_line``), then of
    row. ``queue``: all the rows waiting, each once. An admitted client referred on
    leaves the former service and starts an episode of ``episode[org]`` weeks.
    ``caseload`` is updated; return the number of clients, how many were admitted and
    how many still wait."""
    n_orgs = len(capacity)
    free = np.maximum(capacity - caseload, 0)
    by_row = np.argsort(queue)
    order = by_row[np.argsort(places[by_row], kind="mergesort")]  # stable: rows in order among equals
    taken = np.zeros(n_orgs, np.int64)
    admitted = 0
    for j in order:
        org = places[j] >> 33  # see _place_in_line
        if taken[org] >= free[org]:
            continue
        taken[org] += 1
        i = queue[j]
        if service[i] >= 0:
            caseload[service[i]] -= 1
        caseload[org] += 1
        service[i] = org
        service_left[i] = episode[org]
        waiting[i] = -1
        wait_priority[i] = False
        admitted += 1
    return caseload.sum(), admitted, len(queue) - admitted


@kernel
def _admit_in_line(caseload, queue, places, new_rows, new_places, capacity, episode, clients, service,
                   service_left, waiting, wait_priority):
    """Admission as ``_admit_kernel``, from the rows waiting in ``queue`` (in the order the
    lists are served, ``_in_line``) and those just put on a list (``new_rows``, any
    order), with their places. ``clients``: the rows served (ascending). Return the rows
    served after admission (ascending), the rows still waiting and their places (in the
    order the lists are served), and how many were admitted."""
    new_rows, new_places = _in_line(new_rows, new_places)
    free = np.maximum(capacity - caseload, 0)
    taken = np.zeros(len(capacity), np.int64)
    size = len(queue) + len(new_rows)
    still = np.empty(size, np.int64)
    still_places = np.empty(size, np.int64)
    admitted = np.empty(size, np.int64)
    n_still = n_admitted = 0
    a = b = 0
    while a < len(queue) or b < len(new_rows):  # the two lines merged
        if b == len(new_rows) or (a < len(queue) and (places[a] < new_places[b] or (
                places[a] == new_places[b] and queue[a] < new_rows[b]))):
            i, place = queue[a], places[a]
            a += 1
        else:
            i, place = new_rows[b], new_places[b]
            b += 1
        org = place >> 33  # see _place_in_line
        if taken[org] >= free[org]:
            still[n_still], still_places[n_still] = i, place
            n_still += 1
            continue
        taken[org] += 1
        if service[i] >= 0:
            caseload[service[i]] -= 1  # referred on: was a client already
        else:
            admitted[n_admitted] = i
            n_admitted += 1
        caseload[org] += 1
        service[i] = org
        service_left[i] = episode[org]
        waiting[i] = -1
        wait_priority[i] = False
    # The clients after admission: those before and the new ones, in row order.
    new = np.sort(admitted[:n_admitted])
    served = np.empty(len(clients) + n_admitted, np.int64)
    a = b = 0
    for k in range(len(served)):
        if b == n_admitted or (a < len(clients) and clients[a] < new[b]):
            served[k] = clients[a]
            a += 1
        else:
            served[k] = new[b]
            b += 1
    return served, still[:n_still], still_places[:n_still], taken.sum()


@kernel
def _lists_and_admission_kernel(queue, places, seen, seen_places, free, u_self, self_rate, marginal_reach,
                                helper_referred, u_helper, org_referred, org_kinds, u_org, friction, week, caseload,
                                capacity, episode, clients, waiting, wait_since, wait_priority, service,
                                service_left, status, marginalized, household, hh_municipality, strained, nearest):
    """Self-referrals and referrals onto the lists (``_referrals_kernel``), after ``seen``
    (put on a list by the in-plant social worker), then admission (``_admit_in_line``)
    from ``queue`` (the rows waiting, in the order the lists are served) and the rows
    just put on a list. Return the counts of both, the rows served and the rows still
    waiting with their places in line."""
    n_self, n_helper, n_org, new_rows, new_places = _referrals_kernel(
        seen, seen_places, free, u_self, self_rate, marginal_reach, helper_referred, u_helper, org_referred,
        org_kinds, u_org, friction, week, waiting, wait_since, wait_priority, service, status, marginalized,
        household, hh_municipality, strained, nearest)
    served, still, still_places, admitted = _admit_in_line(
        caseload, queue, places, new_rows, new_places, capacity, episode, clients, service, service_left, waiting,
        wait_priority)
    return n_self, n_helper, n_org, admitted, served, still, still_places


class Services:
    def __init__(self, model):
        self.model = model
        cfg = model.config
        self.p = cfg.section("services")
        self.threshold = cfg["distress.high_threshold"]
        self.adult_age = WORKING_AGE
        O = model.orgs
        self.kind = O.service[: O.n].astype(np.int64)
        self.rows = [np.flatnonzero(self.kind == s) for s in range(len(SERVICES))]
        self.episode = np.asarray(self.p["episode_weeks"], float).round().astype(np.int64)
        self.episode_of = np.where(self.kind >= 0, self.episode[np.maximum(self.kind, 0)], 0)  # per org
        # Nearest organization of each kind for each municipality (same municipality if any,
        # else the strongest commuting pull).
        pull = model.commute
        self.nearest = np.full((pull.shape[0], len(SERVICES)), -1, np.int64)
        for s, rows in enumerate(self.rows):
            if len(rows):
                om = O.municipality[rows].astype(np.int64)
                self.nearest[:, s] = rows[np.argmax(pull[:, om] + 1e6 * (np.arange(pull.shape[0])[:, None] == om[None, :]), axis=1)]
        # Each service's places are shared among its points of service in proportion to the
        # residents each serves (those of the municipalities for which it is the nearest).
        P, H = model.people, model.households
        here = np.flatnonzero(P.present[: P.n])
        residents = np.bincount(H.municipality[P.household[here]], minlength=pull.shape[0]).astype(float)
        cap = np.asarray(self.p["capacity"], float) * cfg["run.scale"]
        self.base_capacity = np.zeros(O.n)
        for s, rows in enumerate(self.rows):
            if len(rows):
                served = np.bincount(self.nearest[:, s], weights=residents, minlength=O.n)[rows]
                share = served / served.sum() if served.sum() > 0 else np.full(len(rows), 1.0 / len(rows))
                self.base_capacity[rows] = cap[s] * share
        self.capacity = np.round(self.base_capacity).astype(np.int64)
        self.caseload = np.zeros(O.n, np.int64)
        self.counts = {"self_referrals": 0, "helper_referrals": 0, "org_referrals": 0, "admitted": 0,
                       "outreach": 0, "gave_up": 0}
        # This week's admissions to the psychosocial service and how long they waited.
        self.psy_admitted = 0
        self.psy_wait_weeks = float("nan")
        self.psy_waiting = 0
        self.last_org_referrals = np.zeros((0, 2), np.int64)  # (from org, to org) pairs this week
        self.clients = 0
        self.waiting = 0
        # The rows served (ascending) and those waiting with their places in line (in the
        # order the lists are served), kept from week to week: only this submodel writes
        # ``service`` and ``waiting``. None: to be found again by a scan of every row.
        self._served: np.ndarray | None = None
        self._queue = self._places = np.zeros(0, np.int64)
        self._none = np.zeros(0, np.int64)
        self._mark = np.zeros(0, np.bool_)  # scratch, one flag per person row, reused every week

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        reach = np.where(P.marginalized[ids], self.model.config["cohesion.marginalized_reach"], 1.0)
        P.knows_services[ids] = rng.random(len(ids)) < self.p["knowledge_share"] * reach

    @property
    def served_rows(self) -> np.ndarray:
        """The rows being served now, ascending (kept from week to week; to be read, not
        changed)."""
        if self._served is None:
            P = self.model.people
            return np.flatnonzero(P.service[: P.n] >= 0)
        return self._served

    # -- helpers ---------------------------------------------------------------------------
    def _friction(self) -> float:
        iv = self.model.interventions
        f = self.p["referral_friction"]
        if iv.active("csss_reinforcement"):
            f *= 1.0 - iv.params("csss_reinforcement")["friction_cut"]
        return f

    # -- the weekly step ------------------------------------------------------------------
    def step(self, helper_referred: np.ndarray, strained_households: np.ndarray) -> None:
        """One week: this week's capacity, episodes ending and people giving up, outreach,
        self-referrals and referrals, then admission from the waiting lists. Nobody waits
        for two lists at once; a client being served may wait for another organization
        only when referred by their own, and moves there when admitted."""
        m, P, p = self.model, self.model.people, self.p
        H = m.households
        iv = m.interventions
        rng = m.streams["services"]
        n = P.n
        week = m.week
        # Capacity this week; episodes end, people who left the RCM leave their service and
        # list; who may ask for a service.
        community_share, extra, psy = 1.0, 0.0, -1
        if not iv.active("regional_conference"):
            community_share = 1.0 - iv.params("regional_conference")["community_capacity"]
        if iv.active("in_plant_services") and len(self.rows[PSY]):
            psy = self.rows[PSY][0]
            extra = iv.params("in_plant_services")["caseload"] * m.config["run.scale"]
        need = np.asarray(m.need, np.int64)
        if len(self._mark) < n:
            self._mark = np.zeros(len(P.present), np.bool_)
        if self._served is None:  # find them: the first week, or after _admit
            self._served, self._queue, self._places = _served_and_waiting(n, P.service, P.waiting, P.wait_since,
                                                                          P.wait_priority)
        self.capacity, clients, caseload, queue, places, gave_up, free, strained = _week_start_kernel(
            self._served, self._queue, self._places, week, float(p["max_wait_weeks"]), self.base_capacity,
            self.rows[COM], float(community_share), psy, float(extra), need,
            np.asarray(strained_households, np.int64), P.service, P.service_left, P.present, P.waiting,
            P.wait_since, P.wait_priority, P.knows_services, self._mark)
        self.counts["gave_up"] += gave_up

        # In-plant services and the support committee's outreach (their own streams).
        outreach = False
        seen = seen_places = self._none
        if iv.active("in_plant_services"):
            seen = self._in_plant(need)
            seen_places = _places_kernel(seen, P.waiting, P.wait_since, P.wait_priority)
            outreach = True
        if iv.active("support_committee"):
            r = m.streams["support_committee"]
            d = m.shocks.displaced
            d = d[P.present[d] & ~P.knows_services[d]]
            learn = bernoulli(r, d, iv.params("support_committee")["outreach_knowledge_rate"])
            P.knows_services[learn] = True
            outreach = True
        if outreach:  # who knows the services and who waits have changed
            free = _free_to_ask_kernel(need, P.knows_services, clients, queue, seen, self._mark)

        # Uniforms, in this order: self-referral of each person free to ask, friction of each
        # helper's referral, and each client's referral by their organization for each need
        # (one draw: the same numbers as one draw each).
        helper_referred = np.asarray(helper_referred, np.int64)
        n_free, n_helper = len(free), len(helper_referred)
        u = rng.random(n_free + n_helper + len(SERVICES) * len(clients))
        # Referrals between organizations that know each other; then one friction uniform each.
        org_referred, org_kinds, self.last_org_referrals = _org_referral_candidates_kernel(
            clients, u[n_free + n_helper:].reshape(len(SERVICES), len(clients)), float(p["org_referral_rate"]),
            np.float32(self.threshold), P.service, P.status, P.distress, P.household, H.municipality, strained,
            self.kind, self.nearest, m.committees.org_links)
        u_friction = rng.random(len(org_referred))
        # Onto the lists, then admission.
        n_self, n_helper, n_org, admitted, self._served, self._queue, self._places = _lists_and_admission_kernel(
            queue, places, seen, seen_places, free, u[:n_free], float(p["self_referral_rate"]),
            float(self._marginal_reach()), helper_referred, u[n_free:n_free + n_helper], org_referred, org_kinds,
            u_friction, float(self._friction()), week, caseload, self.capacity, self.episode_of, clients, P.waiting,
            P.wait_since, P.wait_priority, P.service, P.service_left, P.status, P.marginalized, P.household,
            H.municipality, strained, self.nearest)
        self.caseload = caseload
        self.clients, self.waiting = len(self._served), len(self._queue)
        self._measure_psychosocial(clients, week)
        self.counts["self_referrals"] += n_self
        self.counts["helper_referrals"] += n_helper
        self.counts["org_referrals"] += n_org
        self.counts["admitted"] += admitted

    def _measure_psychosocial(self, clients_before: np.ndarray, week: int) -> None:
        """The psychosocial service's admissions this week, their mean wait in weeks, and
        how many wait on its lists."""
        P = self.model.people
        served = self._served
        new = served[~np.isin(served, clients_before, assume_unique=True)]
        new = new[self.kind[P.service[new]] == PSY]
        self.psy_admitted = len(new)
        self.psy_wait_weeks = float((week - P.wait_since[new]).mean()) if len(new) else float("nan")
        self.psy_waiting = int(np.count_nonzero(self.kind[P.waiting[self._queue]] == PSY))

    def _marginal_reach(self) -> float:
        return self.model.interventions.marginalized_reach(self.model.config["cohesion.marginalized_reach"])

    def _in_plant(self, need: np.ndarray) -> np.ndarray:
        """The in-plant services' week; return the rows the social worker put on the list."""
        m, P = self.model, self.model.people
        iv = m.interventions
        q = iv.params("in_plant_services")
        r = m.streams["in_plant_services"]
        O = m.orgs
        n = P.n
        scope = iv["in_plant_services"]  # the plants it serves
        at = np.flatnonzero(P.at_plant[:n] & (P.status[:n] == Status.EMPLOYED))
        at = at[scope.serves_plant(P.employer[at])]
        emp = P.employer[at]
        at = at[O.announced[emp] & O.open[emp]]
        learn = bernoulli(r, at[~P.knows_services[at]], q["knowledge_rate"])
        P.knows_services[learn] = True
        # The social worker sees distressed workers of announced plants and those laid off
        # in the last ``recent_layoff_weeks`` weeks, without referral friction.
        d = m.shocks.displaced
        recent = d[(m.week - P.displaced_week[d] < q["recent_layoff_weeks"]) & P.present[d]
                   & scope.serves_layoff(P.displaced_by[d])]
        plant = np.union1d(at, recent)
        distressed = np.intersect1d(plant, need, assume_unique=True)
        seen = bernoulli(r, distressed, q["outreach_rate"])
        listed = seen[:0]
        if len(self.rows[PSY]):
            seen = listed = seen[(P.service[seen] < 0) & (P.waiting[seen] < 0)]
            P.waiting[seen] = self.rows[PSY][0]
            P.wait_since[seen] = m.week
            P.wait_priority[seen] = True  # first in line
        self.counts["outreach"] += len(seen)
        others = m.adults[~P.knows_services[m.adults]]
        P.knows_services[bernoulli(r, others, q["article_knowledge_rate"])] = True
        return listed

    def _admit(self) -> None:
        """Serve the waiting lists in order of arrival, up to each organization's free places;
        count the clients and those still waiting (the weekly step admits in
        ``_lists_and_admission_kernel``)."""
        P = self.model.people
        service = P.service[: P.n]
        caseload = np.bincount(service[service >= 0], minlength=len(self.capacity))
        queue = np.flatnonzero(P.waiting[: P.n] >= 0)
        places = _places_kernel(queue, P.waiting, P.wait_since, P.wait_priority)
        self.clients, admitted, self.waiting = _admit_kernel(
            caseload, queue, places, self.capacity, self.episode_of, P.service, P.service_left, P.waiting,
            P.wait_priority)
        self.caseload = caseload
        self.counts["admitted"] += admitted
        self._served = None  # found again at the next step
