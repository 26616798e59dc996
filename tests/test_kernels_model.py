"""The model-level compiled kernels give what the plain array expressions they replace give.

Each kernel is checked against the numpy expression of the same quantity on random data,
including empty inputs and the edges of its ranges.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import aggregates
from model.state import Status
from model.submodels.demography import AgeBands, Persons, _age_kernel, _in_households, _residents_by_municipality
from model.ties import _broken, _count_present, _pick_kernel, _resolve

SIZES = [0, 1, 7, 1001]


@pytest.mark.parametrize("n", SIZES)
def test_aggregates_match_bincount_and_masks(n):
    rng = np.random.default_rng(n)
    pool = 3 * n + 5
    rows = np.sort(rng.choice(pool, size=n, replace=False)).astype(np.int64)
    distress = rng.normal(0.0, 1.0, pool).astype(np.float32)
    status = rng.integers(0, 7, pool).astype(np.int8)
    knows = rng.random(pool) < 0.4
    thr = np.float32(0.8)

    assert (aggregates.at_or_above(rows, distress, thr) == rows[distress[rows] >= thr]).all()

    count, total, n_high, high, n_knows = aggregates.adult_summary(rows, distress, status, thr, knows, 7)
    st = status[rows]
    assert (count == np.bincount(st, minlength=7)).all()
    assert np.array_equal(total, np.bincount(st, weights=distress[rows], minlength=7))  # same order: same bits
    assert (n_high == np.bincount(st, weights=distress[rows] >= thr, minlength=7)).all()
    assert (high == rows[distress[rows] >= thr]).all()
    assert n_knows == knows[rows].sum()

    present = rng.random(pool) < 0.7
    here, high_here, working = aggregates.displaced_summary(rows, present, status, distress, thr, Status.EMPLOYED)
    assert (here == rows[present[rows]]).all()
    assert (high_here == here[distress[here] >= thr]).all()
    assert working == (status[rows] == Status.EMPLOYED).sum()

    support_week = rng.integers(-30, 10, pool).astype(np.int32)
    service = rng.integers(-1, 3, pool).astype(np.int32)
    sup, ser, neither = aggregates.reach_counts(rows, support_week, service, 10, 12)
    felt, served = 10 - support_week[rows] < 12, service[rows] >= 0
    assert (sup, ser, neither) == (felt.sum(), served.sum(), (~felt & ~served).sum())


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    "young_from, young_to, fertile_from, fertile_to", [(18.0, 30.0, 15.0, 45.0), (20.0, 35.0, 18.0, 40.0)]
)
def test_ageing_and_demographic_selections(n, young_from, young_to, fertile_from, fertile_to):
    rng = np.random.default_rng(100 + n)
    present = rng.random(n) < 0.8
    age = rng.uniform(0.0, 110.0, n).astype(np.float32)
    age[: min(n, 3)] = [14.95, 17.97, 44.99][: min(n, 3)]  # crossing 15, 18 and 45 this period
    status = np.where(age < 15, Status.CHILD, Status.EMPLOYED).astype(np.int8)
    female = rng.random(n) < 0.5
    years = np.float32(4 / (365.25 / 7))
    expected_age = np.where(present, age + years, age)  # float32 + float32, as numpy does it
    was_child = status == Status.CHILD

    none = np.zeros(n, np.int64)
    persons = Persons(present, age, status, female, none, none, none, none)
    rows, young, fertile, seen = _age_kernel(
        persons, AgeBands(float(years), 15.0, young_from, young_to, fertile_from, fertile_to)
    )
    assert np.array_equal(age, expected_age)
    assert (rows == np.flatnonzero(present)).all()
    a = age[rows]
    assert (young == rows[(a >= young_from) & (a < young_to)]).all()
    assert (fertile == rows[female[rows] & (a >= fertile_from) & (a < fertile_to)]).all()
    assert (seen == np.isin(np.arange(121), np.minimum(a.astype(np.int64), 120))).all()
    grown = was_child & present & (age >= 15)
    assert (status[grown] == Status.INACTIVE).all()
    assert (status[was_child & ~grown] == Status.CHILD).all()

    household = rng.integers(0, max(n // 2, 1), n).astype(np.int32)
    chosen = rng.random(max(n // 2, 1)) < 0.3
    alive = rng.random(n) < 0.9
    got = _in_households(rows, household, chosen, alive)
    assert (got == rows[chosen[household[rows]] & alive[rows]]).all()

    h_present = rng.random(n) < 0.7
    muni = rng.integers(0, 4, n).astype(np.int16)
    size = rng.integers(1, 6, n).astype(np.int16)
    assert np.array_equal(
        _residents_by_municipality(h_present, muni, size, 4),
        np.bincount(muni[h_present], weights=size[h_present], minlength=4),
    )


def _pick_numpy(group_sorted, members_sorted, groups, u):
    lo = np.searchsorted(group_sorted, groups, side="left")
    hi = np.searchsorted(group_sorted, groups, side="right")
    count = hi - lo
    idx = lo[:, None] + np.floor(u * count[:, None]).astype(np.int64)
    return np.where(count[:, None] > 0, members_sorted[np.minimum(idx, len(members_sorted) - 1)], -1)


@pytest.mark.parametrize("n", SIZES[1:])
def test_tie_kernels(n):
    rng = np.random.default_rng(200 + n)
    group_sorted = np.sort(rng.integers(0, 6, n)).astype(np.int64)
    members_sorted = rng.permutation(n).astype(np.int64)
    groups = rng.integers(0, 8, 50).astype(np.int64)  # groups 6 and 7 are empty
    u = rng.random((50, 3))
    u[0, 0] = np.nextafter(1.0, 0.0)  # the last member of a group
    assert (
        _pick_kernel(group_sorted, members_sorted, groups, u) == _pick_numpy(group_sorted, members_sorted, groups, u)
    ).all()

    k = 5
    slots = rng.integers(-1, n, (n, k)).astype(np.int32)
    is_place = np.array([False, False, True, False, True])
    place_worker = rng.integers(-1, n, n).astype(np.int64)
    present = rng.random(n) < 0.7
    ids = rng.integers(0, n, 40).astype(np.int64)
    slot = rng.integers(0, k, 40).astype(np.int64)
    t = slots[ids, slot].astype(np.int64)
    place = is_place[slot] & (t >= 0)
    t[place] = place_worker[t[place]]
    ok = t >= 0
    ok[ok] = present[t[ok]]
    assert (_resolve(ids, slot, slots, is_place, place_worker, present) == np.where(ok, t, -1)).all()
    per_slot = [_resolve(ids, np.full(len(ids), j), slots, is_place, place_worker, present) >= 0 for j in range(k)]
    assert (_count_present(ids, slots, is_place, place_worker, present) == np.sum(per_slot, axis=0)).all()

    rows = np.flatnonzero(present).astype(np.int64)
    cols = np.array([1, 2, 4], np.int64)
    age = rng.uniform(0, 90, n).astype(np.float32)
    r, c, filled, lost = _broken(rows, cols, slots, is_place, place_worker, present, age, np.float32(15.0))
    S = slots[np.ix_(rows, cols)].astype(np.int64)
    on_place = is_place[cols][None, :] & (S >= 0)
    who = S.copy()
    who[on_place] = place_worker[S[on_place]]
    broken = (S >= 0) & ((who < 0) | ~present[np.maximum(who, 0)])
    er, ec = np.nonzero(broken)
    adult = age[rows] >= 15
    assert (r == er).all() and (c == ec).all()
    assert filled == (S >= 0)[adult].sum() and lost == broken[adult].sum()


def test_the_timeseries_holds_each_weeks_aggregates_as_they_were_that_week():
    """Mesa's DataCollector records, each week, the aggregates the step computed that week
    (``model.stats`` is updated in place, so a reporter that kept a reference would show
    later weeks' values)."""
    from dataclasses import asdict

    from model import CohesionModel
    from model.aggregates import STAT_NAMES

    m = CohesionModel(scale=0.02, rng=3, end="2003-06")
    weeks = []
    while m.running:
        m.step()
        weeks.append(asdict(m.stats))
    ts = m.datacollector.get_model_vars_dataframe()
    assert list(ts.columns) == list(STAT_NAMES) and len(ts) == m.n_weeks == len(weeks)
    assert ts["week"].tolist() == list(range(m.n_weeks))
    for row, stats in zip(ts.to_dict("records"), weeks):
        assert row.keys() == stats.keys()
        for name, value in stats.items():
            assert row[name] == value or (value != value and row[name] != row[name]), name
