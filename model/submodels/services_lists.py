"""The formal services' waiting lists and admission (``submodels/services.py``).

Each organization offering a service holds a first-come first-served waiting list: a
person joins it in some week (``wait_since``), and the in-plant social worker's clients
are put first in line (``wait_priority``). Each week the clients' episodes count down,
those who left the RCM or have waited longer than ``max_wait_weeks`` leave the lists,
and every list is served, in order, up to its organization's free places.

This module holds the compiled fast path of those rules and the named structures the
kernels take: ``Lists`` (the person arrays the services write), ``Residents`` (what the
services read of the persons), ``Points`` (the organizations offering a service),
``Line`` (rows waiting with their places in line) and ``Capacity`` (this week's places).
The kernels draw no random numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..jit import kernel


class Lists(NamedTuple):
    """Per person row, the services' own state (only the services write it)."""

    service: np.ndarray  # organization row serving the person, -1: none
    service_left: np.ndarray  # weeks left of the episode
    waiting: np.ndarray  # organization row whose list the person is on, -1: none
    wait_since: np.ndarray  # week the person joined the list
    wait_priority: np.ndarray  # first in line (the in-plant social worker's clients)


class Residents(NamedTuple):
    """What the services read of the persons and households this week."""

    present: np.ndarray  # per person: still in the RCM
    knows: np.ndarray  # per person: knows the services
    status: np.ndarray  # per person: labour-force status
    marginalized: np.ndarray  # per person
    distress: np.ndarray  # per person (float32)
    household: np.ndarray  # per person: household row
    hh_municipality: np.ndarray  # per household: municipality
    strained: np.ndarray  # households under strain this week, ascending


class Points(NamedTuple):
    """The organizations offering a service."""

    kind: np.ndarray  # per organization: service kind (SERVICES index), -1: none
    nearest: np.ndarray  # (municipality, kind): the nearest organization of the kind, -1: none
    episode: np.ndarray  # per organization: weeks of an episode
    links: np.ndarray  # (org, org): the two know each other (committees.py)


class Line(NamedTuple):
    """Rows on the waiting lists and their places in line (``_place_in_line``)."""

    rows: np.ndarray
    places: np.ndarray


class Capacity(NamedTuple):
    """This week's places: ``base`` per organization, with the community services' places
    cut to ``community_share`` and ``extra`` places at ``psychosocial_row`` (-1: none)."""

    base: np.ndarray
    community_rows: np.ndarray
    community_share: float
    psychosocial_row: int
    extra: float


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
def _capacity_kernel(c):
    """Places of each organization this week (``Capacity`` ``c``), rounded to whole places."""
    cap = c.base.copy()
    for o in c.community_rows:
        cap[o] *= c.community_share
    if c.psychosocial_row >= 0:
        cap[c.psychosocial_row] += c.extra
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
def _served_and_waiting(n, lists):
    """The rows of the first ``n`` served (ascending) and those waiting in the order the
    lists are served (``_in_line``), with their places."""
    served = np.empty(n, np.int64)
    listed = np.empty(n, np.int64)
    n_served = n_listed = 0
    for i in range(n):
        if lists.service[i] >= 0:
            served[n_served] = i
            n_served += 1
        if lists.waiting[i] >= 0:
            listed[n_listed] = i
            n_listed += 1
    listed_ = listed[:n_listed]
    rows, places = _in_line(listed_, _places_kernel(listed_, lists.waiting, lists.wait_since, lists.wait_priority))
    return served[:n_served].copy(), rows, places


@kernel
def _end_episodes_kernel(served, line, week, max_wait, n_orgs, lists, present):
    """Count down the episodes of the clients ``served``: an episode ends when no week is
    left or the client left the RCM. Take off the waiting lists those of ``line`` who
    left the RCM or have waited longer than ``max_wait`` weeks. Return the rows still
    served and the clients of each organization, the rows still waiting and their
    places in line (both in the order given), and how many gave up."""
    clients = np.empty(len(served), np.int64)
    caseload = np.zeros(n_orgs, np.int64)
    n_clients = 0
    for i in served:
        lists.service_left[i] -= 1
        if lists.service_left[i] <= 0 or not present[i]:
            lists.service[i] = -1
        else:
            clients[n_clients] = i
            n_clients += 1
            caseload[lists.service[i]] += 1
    listed = line.rows
    queue = np.empty(len(listed), np.int64)
    places = np.empty(len(listed), np.int64)
    n_queue = gave_up = 0
    for j in range(len(listed)):
        i = listed[j]
        if not present[i] or week - lists.wait_since[i] > max_wait:
            lists.waiting[i] = -1
            lists.wait_priority[i] = False
            gave_up += 1
        else:
            queue[n_queue] = i
            places[n_queue] = line.places[j]
            n_queue += 1
    return clients[:n_clients], caseload, queue[:n_queue], places[:n_queue], gave_up


@kernel
def _week_start_kernel(served, line, week, max_wait, capacity, need, lists, residents, mark):
    """The start of the week: capacity (``_capacity_kernel``), episodes ending and people
    giving up (``_end_episodes_kernel``) among the rows ``served`` and those waiting in
    ``line``, and who of ``need`` is free to ask for a service (``mark``: see
    ``_free_to_ask_kernel``)."""
    places_now = _capacity_kernel(capacity)
    clients, caseload, queue, places, gave_up = _end_episodes_kernel(
        served, line, week, max_wait, len(places_now), lists, residents.present
    )
    free = _free_to_ask_kernel(need, residents.knows, clients, queue, queue[:0], mark)
    return places_now, clients, caseload, queue, places, gave_up, free


@kernel
def _admit_kernel(caseload, line, capacity, episode, lists):
    """Serve each organization's waiting list up to its free places (``capacity`` less
    ``caseload``, its clients), in order of place in line (see ``_place_in_line``), then
    of row. ``line``: all the rows waiting, each once, in any order. An admitted client
    referred on leaves the former service and starts an episode of ``episode[org]``
    weeks. ``caseload`` is updated; return the number of clients, how many were admitted
    and how many still wait."""
    queue, places = line.rows, line.places
    service, service_left, waiting, wait_priority = (
        lists.service,
        lists.service_left,
        lists.waiting,
        lists.wait_priority,
    )
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
def _admit_in_line(caseload, line, new, capacity, episode, clients, lists):
    """Admission as ``_admit_kernel``, from the rows waiting in ``line`` (in the order the
    lists are served, ``_in_line``) and those just put on a list (``new``, any order).
    ``clients``: the rows served (ascending). Return the rows served after admission
    (ascending), the rows still waiting and their places (in the order the lists are
    served), and how many were admitted."""
    queue, places = line.rows, line.places
    service, service_left, waiting, wait_priority = (
        lists.service,
        lists.service_left,
        lists.waiting,
        lists.wait_priority,
    )
    new_rows, new_places = _in_line(new.rows, new.places)
    free = np.maximum(capacity - caseload, 0)
    taken = np.zeros(len(capacity), np.int64)
    size = len(queue) + len(new_rows)
    still = np.empty(size, np.int64)
    still_places = np.empty(size, np.int64)
    admitted = np.empty(size, np.int64)
    n_still = n_admitted = 0
    a = b = 0
    while a < len(queue) or b < len(new_rows):  # the two lines merged
        if b == len(new_rows) or (
            a < len(queue) and (places[a] < new_places[b] or (places[a] == new_places[b] and queue[a] < new_rows[b]))
        ):
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
