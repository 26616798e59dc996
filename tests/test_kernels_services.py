"""The compiled kernels of the formal services and the organization network
against plain numpy statements of the same rules, on random states."""

from __future__ import annotations

import numpy as np
import pytest

from model.submodels.committees import LinkRates, Network, _network_kernel
from model.submodels.services import Line, Lists, _admit_kernel, _places_kernel


def _admit_numpy(service, service_left, waiting, wait_since, wait_priority, capacity, episode):
    """Admission as one numpy statement of the rule: by organization, first in line, week
    joined, row; up to the free places."""
    n = len(service)
    rows = np.flatnonzero(waiting >= 0)
    org = waiting[rows].astype(np.int64)
    load = np.bincount(service[service >= 0], minlength=len(capacity))
    free = np.maximum(capacity - load, 0)
    order = np.lexsort((rows, wait_since[rows], ~wait_priority[rows], org))
    rows, org = rows[order], org[order]
    rank = np.arange(len(org)) - np.searchsorted(org, org, side="left")
    take = rank < free[org]
    ids, where = rows[take], org[take]
    service[ids] = where
    service_left[ids] = episode[where]
    waiting[ids] = -1
    wait_priority[ids] = False
    return np.bincount(service[:n][service >= 0], minlength=len(capacity)), len(ids)


@pytest.mark.parametrize("seed", range(5))
def test_admission_kernel_serves_the_lists_in_order_up_to_the_free_places(seed):
    rng = np.random.default_rng(seed)
    n, n_orgs = 3000, 12
    service = np.where(rng.random(n) < 0.1, rng.integers(0, n_orgs, n), -1).astype(np.int32)
    waiting = np.where(rng.random(n) < 0.2, rng.integers(0, n_orgs, n), -1).astype(np.int32)
    wait_since = rng.integers(-5, 8, n).astype(np.int32)  # many ties: the row decides
    wait_priority = (rng.random(n) < 0.1) & (waiting >= 0)
    service_left = np.zeros(n, np.int16)
    capacity = rng.integers(0, 40, n_orgs).astype(np.int64)
    episode = rng.integers(1, 30, n_orgs).astype(np.int64)
    a = [x.copy() for x in (service, service_left, waiting, wait_since, wait_priority)]
    caseload_ref, admitted_ref = _admit_numpy(*a, capacity, episode)

    b = [x.copy() for x in (service, service_left, waiting, wait_since, wait_priority)]
    queue = np.flatnonzero(b[2] >= 0)
    queue = rng.permutation(queue)  # the kernel's order does not depend on the rows' order
    places = _places_kernel(queue, b[2], b[3], b[4])
    caseload = np.bincount(b[0][b[0] >= 0], minlength=n_orgs)
    n_clients, admitted, still = _admit_kernel(caseload, Line(queue, places), capacity, episode, Lists(*b))

    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert admitted == admitted_ref and np.array_equal(caseload, caseload_ref)
    assert n_clients == int((b[0] >= 0).sum()) and still == int((b[2] >= 0).sum())
    assert admitted > 0


def test_network_kernel_matches_the_numpy_rule():
    rng = np.random.default_rng(1)
    k, n_orgs = 30, 50
    members = np.sort(rng.choice(n_orgs, k, replace=False)).astype(np.int64)
    recovery, support = rng.random(k) < 0.3, rng.random(k) < 0.3
    u0 = np.triu(rng.random((k, k)), 1)
    base = (u0 + u0.T < 0.2) & ~np.eye(k, dtype=bool)
    links = base | ((u0 + u0.T > 0.9) & ~np.eye(k, dtype=bool))  # some links outside the base
    c0 = np.triu(rng.random((k, k)), 1)
    cross_ok = (c0 + c0.T < 0.5) & ~np.eye(k, dtype=bool)  # the pairs the cross-sectoral mode links
    for rates in [(0.1, 0.0, 0.0, 0.0), (0.1, 0.2, 0.05, 0.0), (0.0, 0.0, 0.0, 0.01), (0.0, 0.0, 0.0, 0.0)]:
        u = rng.random((k, k))
        fade_above = 0.8
        us = np.triu(u, 1)
        us = us + us.T + np.eye(k)
        rate = np.zeros((k, k))
        rate = np.maximum(rate, np.outer(recovery, recovery) * rates[0])
        rate = np.maximum(rate, np.outer(support, support) * rates[1])
        bridge = np.outer(support, recovery)
        rate = np.maximum(rate, (bridge | bridge.T) * rates[2])
        rate = np.maximum(rate, cross_ok * rates[3])
        sustained = rate > 0
        np.fill_diagonal(sustained, False)
        formed = ~links & (us < rate)
        fading = links & ~base & ~sustained & (us > fade_above)
        expected = (links | formed) & ~fading

        org_links = np.zeros((n_orgs, n_orgs), bool)
        org_links[np.ix_(members, members)] = links
        got = links.copy()
        changed = _network_kernel(
            u, Network(got, base, recovery, support, cross_ok, members, org_links), LinkRates(*rates, fade_above)
        )
        assert np.array_equal(got, expected)
        assert changed == (formed.any() or fading.any())
        assert np.array_equal(org_links[np.ix_(members, members)], expected)
        links = expected
