"""The compiled kernels of demography, population set-up, ties and belonging compute
what the plain NumPy expressions they replace compute, bit for bit, and draw the same
random numbers in the same order."""

from __future__ import annotations

import numpy as np
import pytest

from model import households as hh
from model import labour_status as lfs
from model.config import resolve
from model.constants import HOURS_PER_WEEK, RETIREMENT_AGE, WORKING_AGE
from model.population import (
    HEAD_AGE_BANDS,
    PARTICIPATION_BANDS,
    band_index,
    categorical,
    household_members,
    labour_status,
)
from model.state import Exit, Status
from model.submodels.demography import (
    AgeBands,
    Households,
    Period,
    Persons,
    _age_kernel,
    _deaths_kernel,
    _exits_kernel,
    _leaving_kernel,
)

SIZES = [0, 1, 7, 1001]


# -- population ----------------------------------------------------------------------------
def household_members_numpy(sizes, rng, cfg):
    n_hh, n = len(sizes), int(sizes.sum())
    rank = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # 0 = head
    band = categorical(rng, np.asarray(cfg["population.head_age_shares"], float), n_hh)
    head_age = rng.uniform(HEAD_AGE_BANDS[band, 0], HEAD_AGE_BANDS[band, 1])
    couple = (sizes >= 2) & (rng.random(n_hh) < cfg["population.couple_share"])
    h_age = np.repeat(head_age, sizes)
    age = h_age.copy()
    female = np.repeat(rng.random(n_hh) < hh.FEMALE_HEAD_SHARE, sizes)
    partner = (rank == 1) & np.repeat(couple, sizes)
    gap = rng.normal(hh.PARTNER_AGE_GAP_MEAN, hh.PARTNER_AGE_GAP_SD, partner.sum())
    age[partner] = np.maximum(hh.PARTNER_MIN_AGE, h_age[partner] + gap)
    female[partner] = ~female[partner]
    dep = (rank >= 1) & ~partner
    dep_age = h_age[dep] - rng.uniform(*hh.DEPENDANT_AGE_GAP, dep.sum())
    young = dep_age < 0
    dep_age[young] = rng.uniform(0.0, np.maximum(h_age[dep][young] - hh.PARENT_MIN_AGE, 1.0))
    age[dep] = np.minimum(dep_age, hh.CHILD_AGE + hh.ADULT_DEPENDANT_YEARS)
    female[dep] = rng.random(dep.sum()) < hh.FEMALE_DEPENDANT_SHARE
    return age, female


def labour_status_numpy(age, rng, cfg):
    n = len(age)
    part = np.asarray(cfg["population.participation_by_age"], float)
    work_age = WORKING_AGE
    in_lf = (age >= work_age) & (rng.random(n) < part[band_index(age, PARTICIPATION_BANDS)])
    unemployed = in_lf & (rng.random(n) < cfg["population.initial_unemployment_rate"])
    status = np.full(n, Status.CHILD, np.int8)
    status[age >= work_age] = Status.INACTIVE
    status[(age >= RETIREMENT_AGE) & ~in_lf] = Status.RETIRED
    status[in_lf] = Status.EMPLOYED
    status[unemployed] = Status.UNEMPLOYED
    sector = np.full(n, -1, np.int8)
    sector[in_lf] = categorical(rng, cfg["labour.sector_shares"], int(in_lf.sum()))
    wages = np.asarray(cfg["labour.hourly_wage"], float)
    sigma = cfg["labour.wage_sigma"]
    wage = np.zeros(n, np.float32)
    wage[in_lf] = np.maximum(
        wages[sector[in_lf]] * np.exp(rng.normal(0, sigma, int(in_lf.sum()))), cfg["labour.minimum_wage"]
    )
    tenure = np.where(
        in_lf,
        np.minimum(
            rng.exponential(cfg["population.tenure_mean_years"], n), np.maximum(age - lfs.TENURE_START_AGE, 0.0)
        ),
        0.0,
    )
    retired = status == Status.RETIRED
    pension = np.zeros(n, np.float32)
    pension[retired] = (
        cfg["strain.pension_share"] * HOURS_PER_WEEK * wages.mean() * np.exp(rng.normal(0, sigma, int(retired.sum())))
    )
    return status, sector, wage, tenure.astype(np.float32), pension


# Other values of the population-synthesis constants (model/households.py,
# model/labour_status.py) and parameters.
OTHER_CONSTANTS = {
    hh: {
        "FEMALE_HEAD_SHARE": 0.3,
        "PARTNER_AGE_GAP_MEAN": 2.0,
        "PARTNER_AGE_GAP_SD": 5.0,
        "PARTNER_MIN_AGE": 21.0,
        "DEPENDANT_AGE_GAP": (15.0, 45.0),
        "PARENT_MIN_AGE": 20.0,
        "ADULT_DEPENDANT_YEARS": 5.0,
        "FEMALE_DEPENDANT_SHARE": 0.6,
    },
    lfs: {"TENURE_START_AGE": 20.0},
}
OTHER_PARAMETERS = {"population.tenure_mean_years": 3.0}


@pytest.mark.parametrize("n_hh", SIZES)
@pytest.mark.parametrize("couples", [0.0, 0.55, 1.0])
@pytest.mark.parametrize("other", [False, True], ids=["defaults", "other"])
def test_members_and_labour_status_match_numpy(n_hh, couples, other, monkeypatch):
    if other:
        for module, values in OTHER_CONSTANTS.items():
            for name, value in values.items():
                monkeypatch.setattr(module, name, value)
    cfg = resolve(overrides={"population.couple_share": couples, **(OTHER_PARAMETERS if other else {})})
    sizes = 1 + categorical(np.random.default_rng(n_hh), cfg["population.household_size_shares"], n_hh)
    sizes[: min(n_hh, 2)] = 6  # large households: dependants of young heads
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    age, female = household_members(sizes, a, cfg)
    age_np, female_np = household_members_numpy(sizes, b, cfg)
    assert age.dtype == age_np.dtype and female.dtype == female_np.dtype
    assert np.array_equal(age, age_np) and np.array_equal(female, female_np)
    assert a.random() == b.random()  # as many draws
    got, expected = labour_status(age, a, cfg, 9), labour_status_numpy(age_np, b, cfg)
    for x, y in zip(got, expected):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert a.random() == b.random()


def test_labour_status_at_the_edges_of_the_age_bands():
    cfg = resolve()
    age = np.concatenate(
        [PARTICIPATION_BANDS[:-1], np.nextafter(PARTICIPATION_BANDS[:-1], 0), [0.0, 14.99, 64.99, 65.0, 110.0]]
    )
    age = np.repeat(age, 50)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for x, y in zip(labour_status(age, a, cfg, 9), labour_status_numpy(age, b, cfg)):
        assert np.array_equal(x, y)


def test_arrivals_take_their_status_and_look_for_a_job():
    from model.population import _arrivals_kernel

    rng = np.random.default_rng(11)
    age = rng.uniform(0, 90, 300)
    status, sector, wage, tenure, pension = labour_status(age, rng, resolve(), 9)
    ids = np.arange(40, 340, dtype=np.int64)
    P = {
        "status": np.zeros(400, np.int8),
        "sector": np.zeros(400, np.int8),
        "wage": np.zeros(400, np.float32),
        "pension": np.zeros(400, np.float32),
    }
    hired, hired_sector, hired_tenure = _arrivals_kernel(
        ids,
        status,
        sector,
        wage,
        tenure,
        pension,
        Status.EMPLOYED,
        Status.UNEMPLOYED,
        P["status"],
        P["sector"],
        P["wage"],
        P["pension"],
    )
    employed = status == Status.EMPLOYED
    assert (P["status"][ids] == np.where(employed, Status.UNEMPLOYED, status)).all()
    assert (P["sector"][ids] == sector).all() and (P["wage"][ids] == wage).all()
    assert (P["pension"][ids] == pension).all()
    assert (hired == ids[employed]).all() and (hired_sector == sector[employed]).all()
    assert hired_tenure.dtype == np.float32 and (hired_tenure == tenure[employed]).all()


# -- demography ----------------------------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
def test_ageing_from_the_rows_present_at_the_last_period(n):
    rng = np.random.default_rng(300 + n)
    present = rng.random(n) < 0.8
    age = rng.uniform(0.0, 110.0, n).astype(np.float32)
    status = np.where(age < 15, Status.CHILD, Status.EMPLOYED).astype(np.int8)
    female = rng.random(n) < 0.5
    years = np.float32(4 / (365.25 / 7))
    first_new = n // 2
    # rows present at the last period, some of which have left since
    rows = np.flatnonzero(present[:first_new] | (rng.random(first_new) < 0.1)).astype(np.int64)
    a2, s2 = age.copy(), status.copy()
    bands = AgeBands(float(years), 15.0, 18.0, 30.0, 15.0, 45.0)
    none = np.zeros(n, np.int64)
    got = _age_kernel(Persons(present, age, status, female, none, none, none, none), bands, rows, first_new)
    expected = _age_kernel(Persons(present, a2, s2, female, none, none, none, none), bands)
    assert (got[0] == np.flatnonzero(present)).all()
    for x, y in zip(got, expected):
        assert np.array_equal(x, y)
    assert np.array_equal(age, a2) and np.array_equal(status, s2)


@pytest.mark.parametrize("n", SIZES)
def test_deaths_and_leaving_households(n):
    rng = np.random.default_rng(400 + n)
    # households of 1-4 members who arrived together (rows in order), and 10 children born
    # since into households drawn at random
    n_hh = max(n // 2, 1)
    arrived = rng.integers(1, 5, n_hh).astype(np.int16)
    first_row = (np.cumsum(arrived) - arrived).astype(np.int32)
    household = np.repeat(np.arange(n_hh), arrived)
    born = np.arange(len(household), len(household) + 10, dtype=np.int64)
    household = np.concatenate([household, rng.integers(0, n_hh, 10)]).astype(np.int32)
    m = len(household)
    present = rng.random(m) < 0.8
    rows = np.flatnonzero(present).astype(np.int64)
    age = rng.uniform(0.0, 130.0, m).astype(np.float32)
    death_by_age = np.linspace(0.001, 0.2, 121)
    young = rows[rng.random(len(rows)) < 0.3]
    fertile = rows[rng.random(len(rows)) < 0.3]
    drawn = rows[rng.random(len(rows)) < 0.5]
    u = rng.random(len(drawn))
    top = 0.2
    die, alive, young_alive, fertile_alive = _deaths_kernel(drawn, u, top, death_by_age, age, present, young, fertile)
    keep = u * top < death_by_age[np.minimum(age[drawn].astype(np.int64), 120)]
    assert (die == drawn[keep]).all()
    expected_alive = present.copy()
    expected_alive[drawn[keep]] = False
    assert (alive == expected_alive).all()
    assert (young_alive == young[expected_alive[young]]).all()
    assert (fertile_alive == fertile[expected_alive[fertile]]).all()

    hh_present = rng.random(n_hh) < 0.8
    chosen = np.flatnonzero(hh_present & (rng.random(n_hh) < 0.2)).astype(np.int64)
    pending = rng.random(n_hh) < 0.2
    alone = young_alive[rng.random(len(young_alive)) < 0.3]
    leave_np = np.zeros(n_hh, bool)
    leave_np[chosen] = True
    strain_np = pending & hh_present & ~leave_np
    leave_np |= strain_np
    leave, strain, n_strain, households, leaving, single = _leaving_kernel(
        chosen, pending, hh_present, first_row, arrived, household, alive, born, alone
    )
    assert not pending.any()
    assert (leave == leave_np).all() and (strain == strain_np).all() and n_strain == strain_np.sum()
    assert (households == np.flatnonzero(leave_np)).all()
    assert (leaving == rows[leave_np[household[rows]] & alive[rows]]).all()
    assert (single == alone[~leave_np[household[alone]]]).all()


def remove_numpy(P, H, ids, reason, week):
    P["present"][ids] = False
    P["status_at_exit"][ids] = P["status"][ids]
    P["status"][ids] = Status.GONE
    np.subtract.at(H["size"], P["household"][ids], 1)
    P["exit_week"][ids] = week
    P["exit_reason"][ids] = reason


@pytest.mark.parametrize("n", SIZES)
def test_exits_settle_the_period(n):
    rng = np.random.default_rng(500 + n)
    n_hh, n_muni, week = max(n // 3, 1), 4, 77
    household = rng.integers(0, n_hh, n + 5).astype(np.int32)  # the last 5 rows: newborns
    present = np.ones(n + 5, bool)
    P = {
        "present": present,
        "status": rng.integers(0, 6, n + 5).astype(np.int8),
        "status_at_exit": np.full(n + 5, -1, np.int8),
        "household": household,
        "exit_week": np.full(n + 5, -1, np.int32),
        "exit_reason": np.zeros(n + 5, np.int8),
    }
    H = {
        "present": np.ones(n_hh + 3, bool),
        "size": np.bincount(household[:n], minlength=n_hh + 3).astype(np.int16),
        "exit_week": np.full(n_hh + 3, -1, np.int32),
        "municipality": np.sort(rng.integers(0, n_muni, n_hh + 3)).astype(np.int16),
    }
    born = np.arange(n, n + 5, dtype=np.int64)
    order = rng.permutation(n).astype(np.int64)
    die = np.sort(order[: n // 10])
    alone = np.sort(order[n // 10 : n // 5])
    leave = rng.random(n_hh) < 0.2
    strain = leave & (rng.random(n_hh) < 0.5)
    rest = np.sort(order[n // 5 :])
    leaving = rest[leave[household[rest]]]
    P2 = {k: v.copy() for k, v in P.items()}
    H2 = {k: v.copy() for k, v in H.items()}

    hp = H["present"][:n_hh]
    residents = np.bincount(H["municipality"][:n_hh][hp], weights=H["size"][:n_hh][hp], minlength=n_muni).astype(
        np.int64
    )
    none = np.zeros(n + 5, np.float32)
    exits, with_household, strain_moved, losses = _exits_kernel(
        Period(die, alone, leaving, born, leave, np.flatnonzero(leave), strain),
        week,
        Persons(
            P["present"],
            none,
            P["status"],
            none.astype(bool),
            P["household"],
            P["status_at_exit"],
            P["exit_week"],
            P["exit_reason"],
        ),
        Households(H["present"], H["size"], H["exit_week"], H["municipality"]),
        residents,
    )

    np.add.at(H2["size"], household[born], 1)
    leaving_np = np.concatenate([leaving, born[leave[household[born]]]])
    background = leaving_np[~strain[household[leaving_np]]]
    muni = H2["municipality"]
    losses_np = np.bincount(muni[household[np.concatenate([die, alone, background])]], minlength=n_muni)
    losses_np = losses_np - np.bincount(muni[household[born]], minlength=n_muni)
    for ids, reason in ((die, Exit.DIED), (alone, Exit.MOVED_ALONE), (leaving_np, Exit.MOVED_WITH_HOUSEHOLD)):
        remove_numpy(P2, H2, ids, reason, week)
    exits_np = np.concatenate([die, alone, leaving_np])
    left = np.flatnonzero(leave)
    gone = np.union1d(left, household[exits_np])
    gone = gone[leave[gone] | (H2["size"][gone] == 0)]
    H2["present"][gone] = False
    H2["exit_week"][gone] = week
    hp = H2["present"][:n_hh]
    assert (exits == exits_np).all() and (with_household == leaving_np).all()
    assert strain_moved == strain[household[leaving_np]].sum()
    assert losses.dtype == np.int64 and (losses == losses_np).all()
    assert np.array_equal(residents, np.bincount(muni[:n_hh][hp], weights=H2["size"][:n_hh][hp], minlength=n_muni))
    for k in P:
        assert np.array_equal(P[k], P2[k]), k
    for k in H:
        assert np.array_equal(H[k], H2[k]), k


# -- belonging -----------------------------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("weights", [(3.0, 2.0), (1.5, 4.0)])
def test_marginalization_and_participation_of_new_persons(n, weights):
    from model.submodels.belonging import Entrants, EntryParams, _marginalized_kernel, _participation_kernel

    rng = np.random.default_rng(600 + n)
    pool = 2 * n + 3
    ids = np.sort(rng.choice(pool, n, replace=False)).astype(np.int64)
    age = rng.uniform(0, 90, pool).astype(np.float32)
    status = rng.integers(0, 6, pool).astype(np.int8)
    household = rng.integers(0, n + 1, pool).astype(np.int32)
    arrived = rng.integers(1, 4, n + 1).astype(np.int16)
    u = rng.random(n)
    share, adult_age = 0.12, np.float32(15.0)
    marginalized = np.zeros(pool, bool)
    _marginalized_kernel(
        ids,
        u,
        EntryParams(float(adult_age), share, *weights, 0.35, 0.4),
        Entrants(age, status, household, arrived, marginalized),
    )
    adult = age[ids] >= adult_age
    st = status[ids]
    w = np.where((st == Status.INACTIVE) | (st == Status.UNEMPLOYED), weights[0], 1.0)
    w *= np.where(arrived[household[ids]] == 1, weights[1], 1.0)
    w = np.where(adult, w, 0.0)
    mean_w = w[adult].mean() if adult.any() else 1.0
    expected = np.zeros(pool, bool)
    expected[ids] = u < np.minimum(share * w / mean_w, 1.0)
    assert (marginalized == expected).all()

    participates = np.zeros(pool, bool)
    _participation_kernel(ids, u, EntryParams(float(adult_age), share, *weights, 0.35, 0.4), marginalized, participates)
    expected = np.zeros(pool, bool)
    expected[ids] = u < 0.35 * np.where(marginalized[ids], 0.4, 1.0)
    assert (participates == expected).all()


# -- ties ----------------------------------------------------------------------------------
def _pick_numpy(group_sorted, members_sorted, groups, u):
    lo = np.searchsorted(group_sorted, groups, side="left")
    hi = np.searchsorted(group_sorted, groups, side="right")
    count = hi - lo
    if len(members_sorted) == 0:
        return np.full(u.shape, -1)
    idx = lo[:, None] + np.floor(u * count[:, None]).astype(np.int64)
    return np.where(count[:, None] > 0, members_sorted[np.minimum(idx, len(members_sorted) - 1)], -1)


@pytest.mark.parametrize("n", SIZES)
def test_grouping_by_counting_is_a_stable_sort_and_picks_the_same_members(n):
    from model.ties import _group_rows, _pick_grouped

    rng = np.random.default_rng(700 + n)
    rows = np.sort(rng.choice(3 * n + 1, n, replace=False)).astype(np.int64)
    keys = rng.integers(-1, 9, n).astype(np.int64)  # -1 and 8: outside the 8 groups
    offsets, grouped = _group_rows(rows, keys, 8)
    inside = (keys >= 0) & (keys < 8)
    o = np.argsort(keys[inside], kind="stable")
    assert (grouped == rows[inside][o]).all()
    assert (offsets == np.searchsorted(keys[inside][o], np.arange(9))).all()
    groups = rng.integers(-2, 10, 60).astype(np.int64)
    u = rng.random((60, 3))
    u[0, 0] = np.nextafter(1.0, 0.0)
    assert (_pick_grouped(offsets, grouped, groups, u) == _pick_numpy(keys[inside][o], grouped, groups, u)).all()


class _Pools:
    """Persons, households and pools of candidates for new ties, at random."""

    def __init__(self, n, seed, slots=(2, 3, 2, 2, 1)):
        from model.ties import _group_rows

        rng = np.random.default_rng(seed)
        self.rng = rng
        n_hh = max(n // 2, 1)
        sizes = rng.integers(1, 4, n_hh)
        self.first_row = (np.cumsum(sizes) - sizes).astype(np.int32)
        self.arrived = sizes.astype(np.int16)
        m = int(sizes.sum())
        self.household = np.repeat(np.arange(n_hh), sizes).astype(np.int32)
        born = rng.integers(0, n_hh, 5)  # children born later, in rows of their own
        self.household = np.concatenate([self.household, born]).astype(np.int32)
        self.n = m + 5
        self.municipality = rng.integers(0, 4, n_hh).astype(np.int16)
        self.x = rng.integers(0, 6, n_hh).astype(np.int16)
        self.y = rng.integers(0, 5, n_hh).astype(np.int16)
        self.height = 5
        self.employer = np.where(rng.random(self.n) < 0.5, rng.integers(0, 7, self.n), -1).astype(np.int32)
        self.marginalized = rng.random(self.n) < 0.3
        self.slot_kind = np.repeat(np.arange(5), slots).astype(np.int8)
        alive = np.flatnonzero(rng.random(self.n) < 0.9).astype(np.int64)
        self.pool_all = alive
        hh = self.household[alive]
        self.muni_key = self.municipality[hh].astype(np.int64)
        self.cell_key = self.x[hh].astype(np.int64) * self.height + self.y[hh]
        self.emp_key = self.employer[alive].astype(np.int64)
        self.by_muni = _group_rows(alive, self.muni_key, 4)
        self.by_cell = _group_rows(alive, self.cell_key, 30)
        self.by_employer = _group_rows(alive, self.emp_key, 7)
        self.places = np.arange(3, 9, dtype=np.int64)
        self.place_muni = rng.integers(0, 4, len(self.places)).astype(np.int64)
        self.places_by_muni = _group_rows(self.places, self.place_muni, 4)

    def sorted_pool(self, keys, rows):
        o = np.argsort(keys, kind="stable")
        return keys[o], rows[o]

    def draws(self, ids):
        rng, n = self.rng, len(ids)
        c = np.bincount(self.slot_kind, minlength=5)
        return dict(
            u_local=rng.random((n, c[1])),
            anywhere=rng.integers(0, len(self.pool_all), (n, c[1])),
            u_share=rng.random((n, c[1])),
            u_near=rng.random((n, c[2])),
            u_fallback=rng.random((n, c[2])),
            u_coworker=rng.random((n, c[3])),
            u_place=rng.random((n, c[4])),
            u_drop=rng.random((n, len(self.slot_kind))),
        )

    def kernel(self, ids, d):
        from model.ties import Homes, Pools, TieDraws, TieRules, _new_ties_kernel

        return _new_ties_kernel(
            ids,
            Homes(
                self.household,
                self.employer,
                self.marginalized,
                self.first_row,
                self.arrived,
                self.municipality,
                self.x,
                self.y,
                self.height,
            ),
            Pools(self.by_muni, self.by_cell, self.by_employer, self.places_by_muni, self.pool_all),
            TieDraws(
                d["u_local"],
                d["anywhere"],
                d["u_share"],
                d["u_near"],
                d["u_fallback"],
                d["u_coworker"],
                d["u_place"],
                d["u_drop"],
            ),
            TieRules(self.slot_kind, 0.7, 0.5),
        )

    def numpy(self, ids, d):
        """The tie slots as the array expressions of the model's first version built them."""
        k = len(self.slot_kind)
        span = {kind: np.flatnonzero(self.slot_kind == kind) for kind in range(5)}
        S = np.full((len(ids), k), -1, np.int32)
        hh = self.household[ids]
        first = self.first_row[hh].astype(np.int64)
        size = np.maximum(self.arrived[hh].astype(np.int64), 1)
        pos = ids - first
        inside = (pos >= 0) & (pos < size)
        pos = np.where(inside, pos, -1)
        for j, col in enumerate(span[0]):
            other = (pos + 1 + j) % size
            ok = (size > 1 + j) | (~inside & (size > j))
            S[:, col] = np.where(ok & (other != pos), first + other, -1)
        muni = self.municipality[hh].astype(np.int64)
        pool_muni = self.sorted_pool(self.muni_key, self.pool_all)
        local = _pick_numpy(*pool_muni, muni, d["u_local"])
        anywhere = self.pool_all[d["anywhere"]]
        S[:, span[1]] = np.where(d["u_share"] < 0.7, local, anywhere)
        cell = self.x[hh].astype(np.int64) * self.height + self.y[hh]
        near = _pick_numpy(*self.sorted_pool(self.cell_key, self.pool_all), cell, d["u_near"])
        fallback = _pick_numpy(*pool_muni, muni, d["u_fallback"])
        S[:, span[2]] = np.where(near >= 0, near, fallback)
        emp = self.employer[ids].astype(np.int64)
        working = self.emp_key >= 0
        co = _pick_numpy(*self.sorted_pool(self.emp_key[working], self.pool_all[working]), emp, d["u_coworker"])
        S[:, span[3]] = np.where(emp[:, None] >= 0, co, -1)
        S[:, span[4]] = _pick_numpy(*self.sorted_pool(self.place_muni, self.places), muni, d["u_place"])
        S[S == ids[:, None]] = -1
        marg = self.marginalized[ids]
        drop = (d["u_drop"] < 0.5) & (self.slot_kind != 0)[None, :]
        S[marg[:, None] & drop] = -1
        return S


@pytest.mark.parametrize("n", SIZES[1:])
@pytest.mark.parametrize("slots", [(2, 3, 2, 2, 1), (0, 1, 0, 3, 2)])
def test_new_ties_match_the_array_expressions(n, slots):
    pools = _Pools(n, 800 + n, slots)
    ids = np.arange(pools.n, dtype=np.int64)  # everyone, including the children born later
    d = pools.draws(ids)
    assert np.array_equal(pools.kernel(ids, d), pools.numpy(ids, d))


def test_lost_ties_replaced_by_the_fresh_draw():
    from model.ties import _replace_lost

    rng = np.random.default_rng(9)
    slots = rng.integers(-1, 100, (50, 6)).astype(np.int32)
    expected = slots.copy()
    people = np.array([3, 8, 20, 41], np.int64)
    fresh = rng.integers(0, 100, (4, 6)).astype(np.int32)
    rows = np.array([0, 0, 2, 3, 3], np.int64)
    cols = np.array([1, 4, 2, 0, 5], np.int64)
    _replace_lost(slots, people, rows, cols, fresh)
    expected[people[rows], cols] = fresh[rows, cols]
    assert (slots == expected).all()
