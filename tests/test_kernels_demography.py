"""The compiled kernels of demography, population set-up, ties and belonging compute
what the plain NumPy expressions they replace compute, bit for bit, and draw the same
random numbers in the same order."""

from __future__ import annotations

import numpy as np
import pytest

from model.config import resolve
from model.population import (HEAD_AGE_BANDS, PARTICIPATION_BANDS, band_index, categorical, household_members,
                              labour_status)
from model.state import Exit, Status
from model.submodels.demography import _age_kernel, _deaths_kernel, _exits_kernel, _leaving_kernel

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
    female = np.repeat(rng.random(n_hh) < 0.5, sizes)
    partner = (rank == 1) & np.repeat(couple, sizes)
    age[partner] = np.maximum(18.0, h_age[partner] + rng.normal(-1.5, 3.0, partner.sum()))
    female[partner] = ~female[partner]
    dep = (rank >= 1) & ~partner
    dep_age = h_age[dep] - rng.uniform(20.0, 40.0, dep.sum())
    young = dep_age < 0
    dep_age[young] = rng.uniform(0.0, np.maximum(h_age[dep][young] - 17.0, 1.0))
    age[dep] = np.minimum(dep_age, cfg["demography.child_age"] + 17.0)
    female[dep] = rng.random(dep.sum()) < 0.5
    return age, female


def labour_status_numpy(age, rng, cfg):
    n = len(age)
    part = np.asarray(cfg["population.participation_by_age"], float)
    work_age = cfg["demography.working_age"]
    in_lf = (age >= work_age) & (rng.random(n) < part[band_index(age, PARTICIPATION_BANDS)])
    unemployed = in_lf & (rng.random(n) < cfg["population.initial_unemployment_rate"])
    status = np.full(n, Status.CHILD, np.int8)
    status[age >= work_age] = Status.INACTIVE
    status[(age >= cfg["labour.retirement_age"]) & ~in_lf] = Status.RETIRED
    status[in_lf] = Status.EMPLOYED
    status[unemployed] = Status.UNEMPLOYED
    sector = np.full(n, -1, np.int8)
    sector[in_lf] = categorical(rng, cfg["labour.sector_shares"], int(in_lf.sum()))
    wages = np.asarray(cfg["labour.hourly_wage"], float)
    sigma = cfg["labour.wage_sigma"]
    wage = np.zeros(n, np.float32)
    wage[in_lf] = np.maximum(wages[sector[in_lf]] * np.exp(rng.normal(0, sigma, int(in_lf.sum()))),
                             cfg["labour.minimum_wage"])
    tenure = np.where(in_lf, np.minimum(rng.exponential(8.0, n), np.maximum(age - 16.0, 0.0)), 0.0)
    retired = status == Status.RETIRED
    pension = np.zeros(n, np.float32)
    pension[retired] = (cfg["strain.pension_share"] * cfg["labour.hours_per_week"] * wages.mean()
                        * np.exp(rng.normal(0, sigma, int(retired.sum()))))
    return status, sector, wage, tenure.astype(np.float32), pension


@pytest.mark.parametrize("n_hh", SIZES)
@pytest.mark.parametrize("couples", [0.0, 0.55, 1.0])
def test_members_and_labour_status_match_numpy(n_hh, couples):
    cfg = resolve(overrides={"population.couple_share": couples})
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
    age = np.concatenate([PARTICIPATION_BANDS[:-1], np.nextafter(PARTICIPATION_BANDS[:-1], 0), [0.0, 14.99, 64.99,
                                                                                                  65.0, 110.0]])
    age = np.repeat(age, 50)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for x, y in zip(labour_status(age, a, cfg, 9), labour_status_numpy(age, b, cfg)):
        assert np.array_equal(x, y)


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
    got = _age_kernel(present, age, status, female, years, np.float32(15.0), Status.CHILD, Status.INACTIVE,
                      rows, first_new)
    expected = _age_kernel(present, a2, s2, female, years, np.float32(15.0), Status.CHILD, Status.INACTIVE)
    assert (got[0] == np.flatnonzero(present)).all()
    for x, y in zip(got, expected):
        assert np.array_equal(x, y)
    assert np.array_equal(age, a2) and np.array_equal(status, s2)


@pytest.mark.parametrize("n", SIZES)
def test_deaths_and_leaving_households(n):
    rng = np.random.default_rng(400 + n)
    rows = np.flatnonzero(rng.random(n) < 0.8).astype(np.int64)
    age = rng.uniform(0.0, 130.0, n).astype(np.float32)
    death_by_age = np.linspace(0.001, 0.2, 121)
    young = rows[rng.random(len(rows)) < 0.3]
    fertile = rows[rng.random(len(rows)) < 0.3]
    drawn = rows[rng.random(len(rows)) < 0.5]
    u = rng.random(len(drawn))
    top = 0.2
    die, alive, young_alive, fertile_alive = _deaths_kernel(drawn, u, top, death_by_age, age, n, young, fertile)
    keep = u * top < death_by_age[np.minimum(age[drawn].astype(np.int64), 120)]
    assert (die == drawn[keep]).all()
    expected_alive = np.ones(n, bool)
    expected_alive[drawn[keep]] = False
    assert (alive == expected_alive).all()
    assert (young_alive == young[expected_alive[young]]).all()
    assert (fertile_alive == fertile[expected_alive[fertile]]).all()

    n_hh = max(n // 2, 1)
    household = rng.integers(0, n_hh, n).astype(np.int32)
    hh_present = rng.random(n_hh) < 0.8
    chosen = np.flatnonzero(hh_present & (rng.random(n_hh) < 0.2)).astype(np.int64)
    pending = rng.random(n_hh) < 0.2
    alone = young_alive[rng.random(len(young_alive)) < 0.3]
    leave_np = np.zeros(n_hh, bool)
    leave_np[chosen] = True
    strain_np = pending & hh_present & ~leave_np
    leave_np |= strain_np
    leave, strain, n_strain, leaving, single = _leaving_kernel(chosen, pending, hh_present, rows, household, alive,
                                                               alone)
    assert not pending.any()
    assert (leave == leave_np).all() and (strain == strain_np).all() and n_strain == strain_np.sum()
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
    P = {"present": present, "status": rng.integers(0, 6, n + 5).astype(np.int8),
         "status_at_exit": np.full(n + 5, -1, np.int8), "household": household,
         "exit_week": np.full(n + 5, -1, np.int32), "exit_reason": np.zeros(n + 5, np.int8)}
    H = {"present": np.ones(n_hh + 3, bool), "size": np.bincount(household[:n], minlength=n_hh + 3).astype(np.int16),
         "exit_week": np.full(n_hh + 3, -1, np.int32),
         "municipality": np.sort(rng.integers(0, n_muni, n_hh + 3)).astype(np.int16)}
    born = np.arange(n, n + 5, dtype=np.int64)
    order = rng.permutation(n).astype(np.int64)
    die = np.sort(order[: n // 10])
    alone = np.sort(order[n // 10: n // 5])
    leave = rng.random(n_hh) < 0.2
    strain = leave & (rng.random(n_hh) < 0.5)
    rest = np.sort(order[n // 5:])
    leaving = rest[leave[household[rest]]]
    P2 = {k: v.copy() for k, v in P.items()}
    H2 = {k: v.copy() for k, v in H.items()}

    exits, with_household, strain_moved, n_left, losses, residents = _exits_kernel(
        die, alone, leaving, born, leave, strain, week, Status.GONE, Exit.DIED, Exit.MOVED_ALONE,
        Exit.MOVED_WITH_HOUSEHOLD, P["present"], P["status"], P["status_at_exit"], P["household"],
        P["exit_week"], P["exit_reason"], H["present"], H["size"], H["exit_week"], H["municipality"], n_muni)

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
    assert strain_moved == strain[household[leaving_np]].sum() and n_left == len(left)
    assert losses.dtype == np.int64 and (losses == losses_np).all()
    assert np.array_equal(residents, np.bincount(muni[:n_hh][hp], weights=H2["size"][:n_hh][hp], minlength=n_muni))
    for k in P:
        assert np.array_equal(P[k], P2[k]), k
    for k in H:
        assert np.array_equal(H[k], H2[k]), k
