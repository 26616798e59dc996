"""The formal services' referrals onto the waiting lists (``submodels/services.py``).

Three ways onto a list, in this order each week:
- self-referral: a person in need who knows the services and is neither served nor
  waiting asks with probability ``self_referral_rate`` (lowered for marginalized
  residents): the employment centre if without a job, the community service if the
  household is under strain, the psychosocial service otherwise;
- a helper's referral, to the psychosocial service;
- an organization's referral: a client with a need their organization does not meet is
  referred, with probability ``org_referral_rate`` for each such need, to the nearest
  organization meeting it, only if the two organizations know each other.
Referrals (not self-referrals) are lost to procedures with probability ``friction``.
A person goes on the list of the nearest organization of the kind asked for.

This module holds the compiled fast path of those rules; the named structures are those
of ``services_lists``, and the uniforms are drawn by ``Services.step``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..jit import kernel
from ..state import SERVICES, Status
from .services_lists import Line, _admit_in_line, _among, _place_in_line

PSY, EMP, COM = (SERVICES.index(s) for s in ("psychosocial", "employment", "community"))
UNEMPLOYED, TRAINING = Status.UNEMPLOYED, Status.TRAINING


class Requests(NamedTuple):
    """Who may reach a list this week."""

    free: np.ndarray  # persons free to ask (self-referral)
    helper_referred: np.ndarray  # persons referred by an informal helper
    org_referred: np.ndarray  # clients referred by their organization
    org_kinds: np.ndarray  # the service each of ``org_referred`` is referred to


class Draws(NamedTuple):
    """One uniform per request, in the order of ``Requests``."""

    u_self: np.ndarray
    u_helper: np.ndarray
    u_org: np.ndarray


class Rates(NamedTuple):
    self_referral: float  # a week, for a person in need who knows the services
    marginal_reach: float  # factor on the self-referral rate of marginalized residents
    friction: float  # probability that a referral is lost to procedures


@kernel
def _put_on_list(i, kind, served_ok, k, rows, line, week, lists, residents, points):
    """Put person ``i`` on the waiting list of the organization of ``kind`` nearest to their
    home, if they are on no list, are not served (unless ``served_ok``), and that
    organization exists and is not the one serving them. A person put on a list is
    written at ``rows[k]`` with their place in ``line[k]``; return the next free index
    (``k`` unchanged if they were not put on a list)."""
    if lists.waiting[i] >= 0 or (not served_ok and lists.service[i] >= 0):
        return k
    org = points.nearest[residents.hh_municipality[residents.household[i]], kind]
    if org < 0 or org == lists.service[i]:
        return k
    lists.waiting[i] = org
    lists.wait_since[i] = week
    lists.wait_priority[i] = False
    rows[k], line[k] = i, _place_in_line(org, week, False)
    return k + 1


@kernel
def _org_referral_candidates_kernel(clients, u, rate, threshold, lists, residents, points):
    """Clients with a need their organization does not meet, drawn (``u[s] < rate``) for a
    referral to the nearest organization of service ``s`` meeting it, where the two
    organizations know each other. The needs: distress at or above ``threshold``
    (psychosocial), no job (employment), a household under strain (community). Return
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
            org = lists.service[i]
            if points.kind[org] == s:
                continue
            if s == PSY:
                has_need = residents.distress[i] >= threshold
            elif s == EMP:
                has_need = residents.status[i] == UNEMPLOYED or residents.status[i] == TRAINING
            else:
                has_need = _among(residents.strained, residents.household[i])
            if not has_need:
                continue
            dest = points.nearest[residents.hh_municipality[residents.household[i]], s]
            if dest < 0 or not points.links[org, dest]:
                continue
            ids[k], kinds[k] = i, s
            pairs[k, 0], pairs[k, 1] = org, dest
            k += 1
    return ids[:k].copy(), kinds[:k].copy(), pairs[:k].copy()


@kernel
def _referrals_kernel(seen, requests, draws, rates, week, lists, residents, points):
    """Put on the waiting lists, in this order: self-referrals (a person of
    ``requests.free`` asks when the uniform is below the rate, lowered for marginalized
    residents: the employment centre if without a job, the community service if the
    household is under strain, the psychosocial service otherwise); helpers' referrals to
    the psychosocial service; and organizations' referrals (their clients may wait while
    served). A referral is lost when its uniform is below the friction. Return how many
    of each reached a list, and the rows waiting and their places in line: ``seen``
    (already put on a list this week) followed by those put on a list now."""
    free, helper_referred, org_referred = requests.free, requests.helper_referred, requests.org_referred
    size = len(seen.rows) + len(free) + len(helper_referred) + len(org_referred)
    rows = np.empty(size, np.int64)
    rows[: len(seen.rows)] = seen.rows
    line = np.empty(size, np.int64)
    line[: len(seen.rows)] = seen.places
    k = len(seen.rows)
    top = rates.self_referral * max(rates.marginal_reach, 1.0)  # nobody asks at u >= top
    start = k
    for j in range(len(free)):
        u = draws.u_self[j]
        if u >= top:
            continue
        i = free[j]
        reach = rates.marginal_reach if residents.marginalized[i] else 1.0
        if u < rates.self_referral * reach:
            if residents.status[i] == UNEMPLOYED or residents.status[i] == TRAINING:
                s = EMP
            elif _among(residents.strained, residents.household[i]):
                s = COM
            else:
                s = PSY
            k = _put_on_list(i, s, False, k, rows, line, week, lists, residents, points)
    n_self, start = k - start, k
    for j in range(len(helper_referred)):
        if draws.u_helper[j] >= rates.friction:
            k = _put_on_list(helper_referred[j], PSY, False, k, rows, line, week, lists, residents, points)
    n_helper, start = k - start, k
    for j in range(len(org_referred)):
        if draws.u_org[j] >= rates.friction:
            k = _put_on_list(
                org_referred[j], requests.org_kinds[j], True, k, rows, line, week, lists, residents, points
            )
    n_org = k - start
    return n_self, n_helper, n_org, rows[:k].copy(), line[:k].copy()


@kernel
def _lists_and_admission_kernel(
    line, seen, requests, draws, rates, week, caseload, capacity, clients, lists, residents, points
):
    """Self-referrals and referrals onto the lists (``_referrals_kernel``), after ``seen``
    (put on a list by the in-plant social worker), then admission (``_admit_in_line``)
    from ``line`` (the rows waiting, in the order the lists are served) and the rows
    just put on a list. Return the counts of both, the rows served and the rows still
    waiting with their places in line."""
    n_self, n_helper, n_org, new_rows, new_places = _referrals_kernel(
        seen, requests, draws, rates, week, lists, residents, points
    )
    served, still, still_places, admitted = _admit_in_line(
        caseload, line, Line(new_rows, new_places), capacity, points.episode, clients, lists
    )
    return n_self, n_helper, n_org, admitted, served, still, still_places
