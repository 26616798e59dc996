"""The compiled kernels of household finances, informal support and the formal services
against plain numpy statements of the same rules, on random states; and the services'
rows served and waiting, kept from week to week, against a scan of every row."""

from __future__ import annotations

import numpy as np
import pytest

from model import CohesionModel
from model.constants import WORKING_AGE
from model.state import Status
from model.submodels.household_finances import _strain_kernel
from model.submodels.informal_support import _support_kernel
from model.submodels.services import (_admit_in_line, _free_to_ask_kernel, _in_line, _places_kernel,
                                      _served_and_waiting)

from test_kernels_services import _admit_numpy

EMPLOYED, UNEMPLOYED, TRAINING, RETIRED = Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING, Status.RETIRED


# -- household finances --------------------------------------------------------------------
def _households(rng, n_households):
    """Households whose members have consecutive rows, with random members' fields."""
    arrived = rng.integers(1, 5, n_households).astype(np.int16)
    first_row = (np.cumsum(arrived) - arrived).astype(np.int32)
    n = int(arrived.sum()) + 50  # rows after the last household: children born later
    household = np.repeat(np.arange(n_households), arrived).astype(np.int32)
    household = np.concatenate([household, rng.integers(0, n_households, 50).astype(np.int32)])
    status = rng.integers(0, 7, n).astype(np.int8)
    wage = (rng.random(n) * 40).astype(np.float32)
    pension = np.where(status == RETIRED, rng.random(n) * 600, 0.0).astype(np.float32)
    ei_benefit = (rng.random(n) * 500).astype(np.float32)
    present = rng.random(n) < 0.9
    age = (rng.random(n) * 80).astype(np.float32)
    belonging = rng.random(n).astype(np.float32)
    return first_row, arrived, household, status, wage, pension, ei_benefit, present, age, belonging


def _strain_numpy(jobless, ei_paid, severance, household, status, wage, pension, ei_benefit, first_row, arrived,
                  hours, share, after, strained_before, income, ref_income, strain_weeks, present, age, adult_age,
                  belonging, belonging_initial):
    """The strain rule as numpy statements over the members who arrived with each household."""
    hhs = np.unique(household[jobless]).astype(np.int64)
    sizes = arrived[hhs].astype(np.int64)
    starts = first_row[hhs].astype(np.int64)
    members = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(sizes.sum())
    of = np.repeat(np.arange(len(hhs)), sizes)
    st = status[members]
    weekly = wage[members] * np.float32(hours)
    own = np.where(st == EMPLOYED, weekly, np.where(st == RETIRED, pension[members], np.float32(0.0)))
    jobless_member = (st == UNEMPLOYED) | (st == TRAINING)
    earned = np.bincount(of, weights=own, minlength=len(hhs))
    reference = np.bincount(of, weights=np.where(jobless_member, weekly, own), minlength=len(hhs))
    benefits = np.bincount(np.searchsorted(hhs, household[ei_paid]), weights=ei_benefit[ei_paid],
                           minlength=len(hhs))
    sev = np.bincount(np.searchsorted(hhs, household[severance]), weights=wage[severance] * np.float32(hours),
                      minlength=len(hhs))
    inc = earned + benefits + sev
    income[hhs], ref_income[hhs] = inc, reference
    strained = hhs[inc < share * reference]
    weeks = strain_weeks[strained] + 1
    strain_weeks[strained_before] = 0
    strain_weeks[strained] = weeks
    eligible = strained[weeks >= after]
    # Mean belonging of the adults present among the members (Belonging.household_belonging).
    sizes = arrived[eligible].astype(np.int64)
    starts = first_row[eligible].astype(np.int64)
    members = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(sizes.sum())
    of = np.repeat(np.arange(len(eligible)), sizes)
    ok = present[members] & (age[members] >= adult_age)
    tot = np.bincount(of[ok], weights=belonging[members[ok]], minlength=len(eligible))
    cnt = np.bincount(of[ok], minlength=len(eligible))
    return strained, eligible, np.where(cnt > 0, tot / np.maximum(cnt, 1), belonging_initial)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("in_row_order", [True, False])
def test_strain_kernel_matches_the_numpy_rule(seed, in_row_order):
    rng = np.random.default_rng(seed)
    n_households = 400
    first_row, arrived, household, status, wage, pension, ei_benefit, present, age, belonging = \
        _households(rng, n_households)
    n = len(status)
    jobless = np.flatnonzero((status == UNEMPLOYED) | (status == TRAINING))
    ei_paid = jobless[rng.random(len(jobless)) < 0.6]
    severance = jobless[rng.random(len(jobless)) < 0.2]
    if not in_row_order:  # the households come out of order, and the claimants in another order
        jobless, ei_paid, severance = rng.permutation(jobless), rng.permutation(ei_paid), rng.permutation(severance)
    strained_before = np.sort(rng.choice(n_households, 60, replace=False))
    strain_weeks = np.zeros(n_households, np.int32)
    strain_weeks[strained_before] = rng.integers(1, 40, 60)
    income, ref_income = np.zeros(n_households), np.zeros(n_households)
    args = (np.float32(37.5), 0.7, 26.0, strained_before)
    tail = (present, age, np.float32(15.0), belonging, 0.58)

    a = [x.copy() for x in (income, ref_income, strain_weeks)]
    expected = _strain_numpy(jobless, ei_paid, severance, household, status, wage, pension, ei_benefit, first_row,
                             arrived, *args, *a, *tail)
    b = [x.copy() for x in (income, ref_income, strain_weeks)]
    slot = np.zeros(n_households, np.int64)
    got = _strain_kernel(jobless, ei_paid, severance, household, status, wage, pension, ei_benefit, first_row,
                         arrived, slot, *args, *b, *tail)
    for x, y in zip(expected, got):
        assert np.array_equal(x, y)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert not slot.any()
    assert len(got[1]) > 0 and n > 0


def test_strain_kernel_belonging_is_that_of_the_belonging_submodel():
    """The mean belonging the strain kernel gives the households that may leave is
    ``Belonging.household_belonging``."""
    m = CohesionModel(scale=0.05, rng=2, end="2005-12")
    while m.running:
        m.step()
    P, H = m.people, m.households
    jobless = np.flatnonzero(P.present[: P.n] & (P.age[: P.n] >= 15))[::3]  # any rows will do
    none = np.zeros(0, np.int64)
    # Strained from the first week: every household with a reference income (income below
    # 10 times the reference).
    _, eligible, belonging = _strain_kernel(
        jobless, none, none, P.household, P.status, P.wage, P.pension, P.ei_benefit, H.first_row, H.arrived,
        np.zeros(H.n, np.int64), np.float32(37.5), 10.0, 0.0, none, H.income.copy(), H.ref_income.copy(),
        H.strain_weeks.copy(), P.present, P.age, np.float32(WORKING_AGE), P.belonging,
        float(m.config["cohesion.belonging_initial"]))
    assert len(eligible) > 0.9 * len(np.unique(P.household[jobless]))
    assert np.array_equal(belonging, m.belonging.household_belonging(eligible))


# -- informal support ----------------------------------------------------------------------
def _support_numpy(talk, helper, equipped, u, week, adult_age, untrained, aggression, age, equipped_week, knows,
                   support_week, support_effect, helped_week, helps_count, met):
    tie = np.maximum(helper, 0)
    valid = (helper >= 0) & (age[tie] >= adult_age)
    eq = valid & (equipped_week[tie] >= 0)
    terms = np.repeat(np.asarray(untrained, float)[:, None], len(talk), axis=1)
    terms[3] = np.where(knows[tie], untrained[3], 0.0)
    terms[:, eq] = equipped[:, : eq.sum()]
    p_help, withdrawal, effect, refer = terms
    helps = valid & (u[0] < p_help) & ~((u[1] < aggression) & (u[2] < withdrawal))
    met[helper[eq]] = True
    support_week[talk[helps]] = week
    support_effect[talk[helps]] = effect[helps]
    helped_week[helper[helps]] = week
    np.add.at(helps_count, helper[helps], 1)
    return helps, eq, talk[helps & (u[3] < refer)], int(helps.sum())


@pytest.mark.parametrize("seed", range(5))
def test_support_kernel_matches_the_numpy_rule(seed):
    rng = np.random.default_rng(seed)
    n, k = 500, 300
    talk = np.sort(rng.choice(n, k, replace=False))
    helper = np.where(rng.random(k) < 0.8, rng.integers(0, n, k), -1)  # helpers may repeat
    u = rng.random((4, k))
    age = (rng.random(n) * 80).astype(np.float32)
    trained_week = np.where(rng.random(n) < 0.3, rng.integers(0, 50, n), -1).astype(np.int32)
    knows = rng.random(n) < 0.4
    help_trained = rng.random((4, k))
    params = (60, np.float32(15.0), np.array([0.3, 0.6, 0.1, 0.05]), 0.25)

    def state():
        return [np.full(n, -10_000, np.int32), np.zeros(n, np.float32), np.full(n, -10_000, np.int32),
                np.zeros(n, np.int32), np.zeros(n, bool)]

    a = state()
    helps, trained, referred, acts = _support_numpy(talk, helper, help_trained, u, *params, age, trained_week,
                                                    knows, *a)
    b = state()
    done, helps_k, trained_k, referred_k, acts_k = _support_kernel(talk, helper, help_trained, u, *params, age,
                                                                   trained_week, knows, *b)
    assert done and acts_k == acts and acts > 0 and trained.any()
    for x, y in zip((helps, trained, referred), (helps_k, trained_k, referred_k)):
        assert np.array_equal(x, y)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    # Without a probability for each trained helper who heard, nothing is done.
    c = state()
    done, _, trained_c, _, acts_c = _support_kernel(talk, helper, np.zeros((4, 0)), u, *params, age, trained_week,
                                                    knows, *c)
    assert not done and acts_c == 0 and np.array_equal(trained_c, trained)
    for x, y in zip(state(), c):
        assert np.array_equal(x, y)


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
    served, still, still_places, admitted = _admit_in_line(caseload, queue, places, new_rows, new_places, capacity,
                                                           episode, clients, service, service_left, waiting,
                                                           wait_priority)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert admitted == admitted_ref > 0 and np.array_equal(caseload, caseload_ref)
    assert np.array_equal(served, np.flatnonzero(service >= 0))
    in_line = _in_line(np.flatnonzero(waiting >= 0), _places_kernel(np.flatnonzero(waiting >= 0), waiting,
                                                                     wait_since, wait_priority))
    assert np.array_equal(still, in_line[0]) and np.array_equal(still_places, in_line[1])


def test_in_line_orders_by_place_then_row():
    rng = np.random.default_rng(1)
    _, _, waiting, wait_since, wait_priority = _waiting_state(rng, 2000, 5)
    rows = rng.permutation(np.flatnonzero(waiting >= 0))
    got, places = _in_line(rows, _places_kernel(rows, waiting, wait_since, wait_priority))
    order = np.lexsort((rows, wait_since[rows], ~wait_priority[rows], waiting[rows]))
    assert np.array_equal(got, rows[order])
    assert np.array_equal(places, _places_kernel(got, waiting, wait_since, wait_priority))
    served, listed, listed_places = _served_and_waiting(2000, np.full(2000, -1, np.int32), waiting, wait_since,
                                                        wait_priority)
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
    m = CohesionModel(scale=0.05, rng=4, scenario=scenario, start="2005-01", end="2012-12",
                      overrides={"services.self_referral_rate": 0.3, "services.org_referral_rate": 0.3})
    S, P = m.services, m.people
    weeks = waited = 0
    while m.running:
        m.step()
        n = P.n
        assert np.array_equal(S._served, np.flatnonzero(P.service[:n] >= 0))
        listed = np.flatnonzero(P.waiting[:n] >= 0)
        assert np.array_equal(np.sort(S._queue), listed)
        assert np.array_equal(S._places, _places_kernel(S._queue, P.waiting, P.wait_since, P.wait_priority))
        assert np.array_equal(S._queue, _in_line(listed, _places_kernel(listed, P.waiting, P.wait_since,
                                                                        P.wait_priority))[0])
        assert S.clients == len(S._served) and S.waiting == len(listed)
        weeks += 1
        waited += len(listed) > 0
    assert waited > weeks // 2
    if scenario == "integrated_2005":
        assert S.counts["outreach"] > 0  # put on the list by the in-plant social worker
