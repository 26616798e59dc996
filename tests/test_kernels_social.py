"""The compiled kernels of the formal services against plain numpy statements of the same
rules, on random states; and the services' rows served and waiting, kept from week to
week, against a scan of every row. (Household finances and informal support are checked
against their reference steps in ``tests/test_reference_social.py``.)"""

from __future__ import annotations

import numpy as np
import pytest

from model import CohesionModel
from model.submodels.services import (
    Line,
    Lists,
    _admit_in_line,
    _free_to_ask_kernel,
    _in_line,
    _places_kernel,
    _served_and_waiting,
)

from test_kernels_services import _admit_numpy


# -- formal services -----------------------------------------------------------------------
def _waiting_state(rng, n, n_orgs):
    service = np.where(rng.random(n) < 0.1, rng.integers(0, n_orgs, n), -1).astype(np.int32)
    waiting = np.where(rng.random(n) < 0.2, rng.integers(0, n_orgs, n), -1).astype(np.int32)
    wait_since = rng.integers(-5, 8, n).astype(np.int32)  # many ties: the row decides
    wait_priority = (rng.random(n) < 0.1) & (waiting >= 0)
    return service, np.zeros(n, np.int16), waiting, wait_since, wait_priority


@pytest.mark.parametrize("seed", range(5))
def test_admission_in_line_matches_the_numpy_rule(seed):
    """Admission from the rows already waiting (in line) and those just put on a list (any
    order) serves the lists as one numpy statement of the rule does."""
    rng = np.random.default_rng(seed)
    n, n_orgs = 3000, 12
    state = _waiting_state(rng, n, n_orgs)
    capacity = rng.integers(0, 40, n_orgs).astype(np.int64)
    episode = rng.integers(1, 30, n_orgs).astype(np.int64)
    a = [x.copy() for x in state]
    caseload_ref, admitted_ref = _admit_numpy(*a, capacity, episode)

    service, service_left, waiting, wait_since, wait_priority = b = [x.copy() for x in state]
    rows = np.flatnonzero(waiting >= 0)
    new = rng.random(len(rows)) < 0.3  # put on a list this week
    queue, places = _in_line(rows[~new], _places_kernel(rows[~new], waiting, wait_since, wait_priority))
    new_rows = rng.permutation(rows[new])
    new_places = _places_kernel(new_rows, waiting, wait_since, wait_priority)
    clients = np.flatnonzero(service >= 0)
    caseload = np.bincount(service[clients], minlength=n_orgs)
    served, still, still_places, admitted = _admit_in_line(
        caseload,
        Line(queue, places),
        Line(new_rows, new_places),
        capacity,
        episode,
        clients,
        Lists(service, service_left, waiting, wait_since, wait_priority),
    )
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert admitted == admitted_ref > 0 and np.array_equal(caseload, caseload_ref)
    assert np.array_equal(served, np.flatnonzero(service >= 0))
    in_line = _in_line(
        np.flatnonzero(waiting >= 0), _places_kernel(np.flatnonzero(waiting >= 0), waiting, wait_since, wait_priority)
    )
    assert np.array_equal(still, in_line[0]) and np.array_equal(still_places, in_line[1])


def test_in_line_orders_by_place_then_row():
    rng = np.random.default_rng(1)
    _, _, waiting, wait_since, wait_priority = _waiting_state(rng, 2000, 5)
    rows = rng.permutation(np.flatnonzero(waiting >= 0))
    got, places = _in_line(rows, _places_kernel(rows, waiting, wait_since, wait_priority))
    order = np.lexsort((rows, wait_since[rows], ~wait_priority[rows], waiting[rows]))
    assert np.array_equal(got, rows[order])
    assert np.array_equal(places, _places_kernel(got, waiting, wait_since, wait_priority))
    lists = Lists(np.full(2000, -1, np.int32), np.zeros(2000, np.int16), waiting, wait_since, wait_priority)
    served, listed, listed_places = _served_and_waiting(2000, lists)
    assert len(served) == 0 and np.array_equal(listed, got) and np.array_equal(listed_places, places)


def test_free_to_ask_kernel_matches_numpy():
    rng = np.random.default_rng(2)
    n = 5000
    service, _, waiting, _, _ = _waiting_state(rng, n, 6)
    knows = rng.random(n) < 0.35
    need = np.sort(rng.choice(n, 800, replace=False))
    served, listed = np.flatnonzero(service >= 0), rng.permutation(np.flatnonzero(waiting >= 0))
    mark = np.zeros(n, bool)
    free = _free_to_ask_kernel(need, knows, served, listed[:100], listed[100:], mark)
    assert np.array_equal(free, need[(service[need] < 0) & (waiting[need] < 0) & knows[need]])
    assert not mark.any()


@pytest.mark.parametrize("scenario", ["integrated_2005", "csss_policy_2011"])
def test_rows_served_and_waiting_kept_by_the_services_are_those_of_a_scan(scenario):
    m = CohesionModel(
        scale=0.05,
        rng=4,
        scenario=scenario,
        start="2005-01",
        end="2012-12",
        overrides={"services.self_referral_rate": 0.3, "services.org_referral_rate": 0.3},
    )
    S, P = m.services, m.people
    weeks = waited = 0
    while m.running:
        m.step()
        n = P.n
        assert np.array_equal(S._served, np.flatnonzero(P.service[:n] >= 0))
        listed = np.flatnonzero(P.waiting[:n] >= 0)
        assert np.array_equal(np.sort(S._queue), listed)
        assert np.array_equal(S._places, _places_kernel(S._queue, P.waiting, P.wait_since, P.wait_priority))
        assert np.array_equal(
            S._queue, _in_line(listed, _places_kernel(listed, P.waiting, P.wait_since, P.wait_priority))[0]
        )
        assert S.clients == len(S._served) and S.waiting == len(listed)
        weeks += 1
        waited += len(listed) > 0
    assert waited > weeks // 2
    if scenario == "integrated_2005":
        assert S.counts["outreach"] > 0  # put on the list by the in-plant social worker
