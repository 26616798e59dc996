"""The compiled kernels of the weekly labour-market step compute what plain NumPy
expressions compute, and the pools the step keeps from week to week are the ones a scan
of every row would give."""

import numpy as np
import pytest

from model import CohesionModel
from model.state import PERSON_FIELDS, Status, Table
from model.submodels.labour_market import life_course, matching, pools
from model.submodels.labour_market.jobs import Hires, Pay, employ_kernel
from model.submodels.labour_market.rows import AGE_SEARCH_BANDS, BLOCK, Jobless, Persons, Pool, SearchTerms

U, T, E, R, INACTIVE = Status.UNEMPLOYED, Status.TRAINING, Status.EMPLOYED, Status.RETIRED, Status.INACTIVE
BY_AGE = np.array([1.0, 0.9, 0.7, 0.5, 0.3])


def terms(boost=1.0, c=0.35):
    """Search terms: long tenure from 10 years (effort x 0.25), retraining x 1.4."""
    return SearchTerms(AGE_SEARCH_BANDS, BY_AGE, 10.0, 0.25, 1.4, boost, c)


def persons(cols):
    """The person columns of a table holding ``cols`` (in the person table's types)."""
    n = len(next(iter(cols.values())))
    table = Table(PERSON_FIELDS, capacity=n)
    table.n = n
    for name, values in cols.items():
        getattr(table, name)[:n] = values
    return Persons._make(getattr(table, f)[:n] for f in Persons._fields)


def pool_of(member, sector, n_sec=9):
    """The pool of the rows marked in ``member``."""
    blocks = np.bincount(np.flatnonzero(member) // BLOCK, minlength=len(member) // BLOCK + 1)
    return Pool(member, blocks.astype(np.int64), np.bincount(sector[member], minlength=n_sec).astype(np.int64))


def people(n=3000, seed=0):
    """Random person rows: status, at_plant, sector, age and the search-effort fields."""
    rng = np.random.default_rng(seed)
    status = rng.choice(np.array([0, E, U, T, R, INACTIVE, Status.GONE], np.int8), n)
    return {
        "status": status,
        "at_plant": rng.random(n) < 0.1,
        "sector": rng.integers(-1, 9, n).astype(np.int8),
        "age": (rng.random(n) * 90).astype(np.float32),
        "ever_displaced": rng.random(n) < 0.3,
        "displaced_tenure": (rng.random(n) * 30).astype(np.float32),
        "retrained": rng.random(n) < 0.2,
    }


def search_numpy(rows, P, boost, c, n_sec):
    """The search effort of ``rows`` as NumPy array expressions, and the effort aimed at
    each sector (``everywhere.sum() + own``)."""
    bands, by_age = AGE_SEARCH_BANDS, BY_AGE
    band = np.clip((bands[None, :] <= P["age"][rows, None]).sum(axis=1) - 1, 0, len(bands) - 2)
    e = by_age[band]
    d = P["ever_displaced"][rows]
    e = np.where(d & (P["displaced_tenure"][rows] >= 10.0), e * 0.25, e)
    e = np.where(P["retrained"][rows], e * 1.4, e)
    e = np.where(d, e * boost, e)
    last = P["sector"][rows].astype(np.int64)
    everywhere = np.where(last >= 0, c * e, 1.0 * e)
    own = np.zeros(n_sec)
    for s, x in zip(last, e):
        if s >= 0:
            own[s] += (1.0 - c) * x
    return e, last, everywhere.sum() + own, band


def test_rows_at_positions_are_found_from_the_block_counts():
    rng = np.random.default_rng(1)
    n = 5000
    marked = rng.random(n) < 0.3
    blocks = np.bincount(np.flatnonzero(marked) // BLOCK, minlength=n // BLOCK + 1)
    rows = np.flatnonzero(marked)
    positions = np.sort(rng.choice(len(rows), 200, replace=False))
    assert np.array_equal(pools.rows_at_kernel(positions, marked, blocks), rows[positions])
    assert np.array_equal(pools.rows_at_kernel(np.arange(len(rows)), marked, blocks), rows)


def test_scan_of_all_rows_marks_and_counts_the_pools():
    P = people()
    n = len(P["status"])
    pool = Pool(np.zeros(n, bool), np.zeros(n // BLOCK + 1, np.int64), np.zeros(9, np.int64))
    jobless = pools.scan_pools_kernel(n, persons({**P, "sector": P["sector"] % 9}), pool)
    employed = np.flatnonzero((P["status"] == E) & ~P["at_plant"])
    assert np.array_equal(np.flatnonzero(pool.member), employed)
    assert np.array_equal(pool.blocks, np.bincount(employed // BLOCK, minlength=len(pool.blocks)))
    assert np.array_equal(pool.held, np.bincount(P["sector"][employed] % 9, minlength=9))
    assert np.array_equal(jobless, np.flatnonzero((P["status"] == U) | (P["status"] == T)))


@pytest.mark.parametrize("early, displaced, entry", [(60.0, 55.0, 60.0), (57.5, 50.0, 45.0)])
def test_life_course_groups_are_the_numpy_selections(early, displaced, entry):
    P = people(seed=2)
    n = len(P["status"])
    st, age, disp = P["status"], P["age"], P["ever_displaced"]
    in_pool = (st == E) & ~P["at_plant"]
    jobless = np.flatnonzero((st == U) | (st == T))
    ra = 65.0
    ages = life_course.LifeCourseAges(ra, early, displaced, entry)
    groups = life_course.life_course_groups_kernel(n, persons(P), in_pool, jobless, ages, np.empty((3, n), np.int64))
    a = age[jobless]
    expected = (
        np.flatnonzero(in_pool & (age >= ra)),
        np.flatnonzero(in_pool & (age >= early) & (age < ra)),
        jobless[a >= ra],
        jobless[(a >= early) & (a < ra) & ~disp[jobless]],
        jobless[(a >= displaced) & (a < ra) & disp[jobless]],
        np.flatnonzero((st == INACTIVE) & (age < entry)),
    )
    for got, want in zip(groups, expected):
        assert np.array_equal(got, want)


def test_refresh_drops_those_gone_and_takes_in_new_and_laid_off_rows():
    P = people(seed=3)
    n_kept, n = 2500, 3000
    st, at_plant, sector = P["status"].copy(), P["at_plant"].copy(), P["sector"] % 9
    st[:n_kept][(st[:n_kept] == Status.GONE)] = INACTIVE  # before: nobody gone among the kept rows
    in_pool = np.zeros(n, bool)
    in_pool[:n_kept] = (st[:n_kept] == E) & ~at_plant[:n_kept]
    pool = pool_of(in_pool, sector)
    jobless = np.flatnonzero(((st == U) | (st == T))[:n_kept])
    effort = np.arange(len(jobless), dtype=float)
    kind = np.stack([np.arange(len(jobless)), np.arange(len(jobless)) % 5], axis=1)
    rng = np.random.default_rng(3)
    exits = rng.choice(n_kept, 300, replace=False)
    st[exits] = Status.GONE
    # Plant workers laid off, some of them jobless taken by a plant since.
    laid_off = np.sort(rng.choice(np.flatnonzero((st[:n_kept] == E) & at_plant[:n_kept]), 15, replace=False))
    laid_off = np.union1d(laid_off, jobless[:5])
    st[laid_off] = U
    at_plant[laid_off] = False
    job, job_effort, job_kind = pools.refresh_pools_kernel(
        Jobless(jobless, effort, kind),
        laid_off,
        exits,
        n_kept,
        n,
        persons({"status": st, "at_plant": at_plant, "sector": sector}),
        pool,
    )
    employed = np.flatnonzero((st[:n] == E) & ~at_plant[:n])
    assert np.array_equal(np.flatnonzero(pool.member), employed)
    assert np.array_equal(pool.blocks, np.bincount(employed // BLOCK, minlength=len(pool.blocks)))
    assert np.array_equal(pool.held, np.bincount(sector[employed], minlength=9))
    assert np.array_equal(job, np.flatnonzero((st[:n] == U) | (st[:n] == T)))
    kept = np.isin(job, jobless) & ~np.isin(job, laid_off)
    where = np.searchsorted(jobless, job[kept])
    assert np.array_equal(job_effort[kept], effort[where]) and np.array_equal(job_kind[kept], kind[where])
    assert np.isnan(job_effort[~kept]).all()


def test_pools_after_the_week_add_the_hires():
    rng = np.random.default_rng(4)
    n = 4000
    in_pool = rng.random(n) < 0.3
    sector = rng.integers(0, 9, n)
    pool = pool_of(in_pool, sector)
    searching = np.flatnonzero(~in_pool)[::3]
    effort, kind = rng.random(len(searching)), rng.integers(0, 9, (len(searching), 2))
    pick = np.sort(rng.choice(len(searching), 50, replace=False))
    hired = searching[pick]
    jobless, j_effort, j_kind = pools.pools_after_week_kernel(
        hired, sector[hired], Jobless(searching, effort, kind), pool
    )
    left = np.ones(len(searching), bool)
    left[pick] = False
    assert np.array_equal(jobless, searching[left]) and np.array_equal(j_effort, effort[left])
    assert np.array_equal(j_kind, kind[left])
    assert np.array_equal(pool.blocks, np.bincount(np.flatnonzero(pool.member) // BLOCK, minlength=len(pool.blocks)))
    assert np.array_equal(pool.held, np.bincount(sector[pool.member], minlength=9)) and pool.member[hired].all()


@pytest.mark.parametrize("aged", [False, True])
def test_searching_kernel_merges_the_week_and_finds_the_search_effort(aged):
    P = people(seed=5)
    n = len(P["status"])
    rng = np.random.default_rng(5)
    st = P["status"]
    jobless = np.flatnonzero((st == U) | (st == T))
    separated = np.sort(rng.choice(np.flatnonzero(st == E), 30, replace=False))
    entered = np.sort(rng.choice(np.flatnonzero(st == INACTIVE), 20, replace=False))
    after = st.copy()
    after[separated] = U  # as the separations leave them
    after[entered] = U
    # Effort known for some of the jobless; some of those with a stale age band.
    e_all, last_all, _, band_all = search_numpy(np.arange(n), P, 1.15, 0.35, 9)
    known = rng.random(len(jobless)) < 0.7
    effort = np.where(known, e_all[jobless], np.nan)
    kind = np.stack([last_all[jobless], band_all[jobless]], axis=1)
    stale = known & (rng.random(len(jobless)) < 0.2)
    kind[stale, 1] = (kind[stale, 1] + 1) % 5
    effort[stale] = -1.0  # kept only if the band is not checked
    out = matching.searching_kernel(
        Jobless(jobless, effort, kind), separated, entered, aged, persons({**P, "status": after}), terms(1.15, 0.35), 9
    )
    searching, searching_effort, searching_kind, seekers, s_effort, s_last, S = out
    rows = np.union1d(np.union1d(jobless, separated), entered)
    assert np.array_equal(seekers, rows[after[rows] == U])
    assert np.array_equal(searching, rows[(after[rows] == U) | (after[rows] == T)])
    e, last, S_np, band = search_numpy(seekers, P, 1.15, 0.35, 9)
    # Without ageing the stale efforts are kept (and their bands): only the others match.
    fresh = np.ones(len(seekers), bool) if aged else ~np.isin(seekers, jobless[stale])
    assert np.array_equal(s_effort[fresh], e[fresh]) and np.array_equal(s_last, last)
    assert np.array_equal(searching_kind[after[searching] == U, 1][fresh], band[fresh])
    assert np.array_equal(searching_effort[after[searching] == U], s_effort)
    assert np.isnan(searching_effort[after[searching] == T]).all()
    if aged:
        assert np.allclose(S, S_np, rtol=1e-12)


@pytest.mark.parametrize("cap", [0.95, 0.3])
def test_hires_follow_the_numpy_matching_function(cap):
    rng = np.random.default_rng(6)
    k, n_sec, c, eff, a = 2000, 9, 0.35, 0.21, 0.5
    effort = rng.random(k)
    last = rng.integers(-1, n_sec, k)
    V = np.maximum(rng.random(n_sec) * 30 - 5, 0.0)
    S = rng.random(n_sec) * 400
    S[2] = 0.0
    M = np.minimum(V, eff * S**a * V ** (1 - a))
    rate = np.divide(M, S, out=np.zeros(n_sec), where=S > 0)
    u = rng.random(k)
    chance = np.where(last >= 0, effort * (c * rate.sum() + (1 - c) * rate[np.maximum(last, 0)]), effort * rate.sum())
    got_rate = matching.hire_rate(S, V, eff, a)
    assert np.allclose(got_rate, rate, rtol=1e-12, atol=0) and got_rate[2] == 0.0
    h = matching.hired_kernel(u, effort, last, rate, c, cap)
    # Draws within rounding of the threshold may go either way.
    clear = np.abs(u - np.minimum(chance, cap)) > 1e-12
    assert np.array_equal(np.isin(np.arange(k), h)[clear], (u < np.minimum(chance, cap))[clear])


def test_hires_past_the_vacancies_are_dropped_as_a_permutation_would():
    """The sectors of the hires, and the hires kept when a random subset of each sector's
    hires is dropped down to its whole vacancies (the permutation of the hires of each
    such sector, past the vacancies, dropped)."""
    rng = np.random.default_rng(7)
    n_sec, c, k = 9, 0.35, 400
    seekers = np.sort(rng.choice(10_000, 1000, replace=False))
    h = np.sort(rng.choice(1000, k, replace=False))
    last = rng.integers(-1, n_sec, 1000)
    rate = rng.random(n_sec)
    V = rng.random(n_sec) * 60
    u = rng.random(k)
    sector, by_sector, over = matching.hire_sector_kernel(u, h, last, rate, c, V)
    # The sector of each hire, by inverse transform.
    base = np.where(last[h] >= 0, c, 1.0)[:, None] * rate[None, :]
    base[np.arange(k), np.maximum(last[h], 0)] += np.where(last[h] >= 0, (1 - c) * rate[np.maximum(last[h], 0)], 0)
    cum = np.cumsum(base, axis=1)
    expected = np.minimum((cum < (u * cum[:, -1])[:, None]).sum(axis=1), n_sec - 1)
    assert np.array_equal(sector, expected)
    ever_displaced, reemployed = rng.random(10_000) < 0.5, rng.integers(-1, 2, 10_000)
    a, b = np.random.default_rng(8), np.random.default_rng(8)
    for start, end, _ in over.tolist():
        a.shuffle(by_sector[start:end])
    ids, kept_sector, first, n_first = matching.kept_hires_kernel(
        seekers, h, sector, by_sector, over, persons({"ever_displaced": ever_displaced, "reemployed_week": reemployed})
    )
    counts = np.bincount(sector, minlength=n_sec)
    keep = np.ones(k, bool)
    cap = np.floor(V)
    for s in np.flatnonzero(counts > cap):
        keep[b.permutation(np.flatnonzero(sector == s))[int(cap[s]) :]] = False
    assert len(over) > 0 and a.random() == b.random()
    assert np.array_equal(ids, seekers[h[keep]]) and np.array_equal(kept_sector, sector[keep])
    assert np.array_equal(first, ever_displaced[ids] & (reemployed[ids] < 0)) and n_first == first.sum()


def test_employer_search_in_the_block_matches_searchsorted_over_all_keys():
    m = CohesionModel(scale=0.02, rng=1, end="2003-02")
    lab = m.labour
    employers, n_muni = lab.employers, lab.employers.n_muni
    rng = np.random.default_rng(9)
    n = 20_000
    blocks = rng.integers(0, lab.n_sec * n_muni, n)
    where = rng.random(n)
    where[:50] = np.nextafter(1.0, 0.0)  # sums that round up to the block's last key
    expected = employers.of_key[
        np.minimum(np.searchsorted(employers.keys, blocks + where, side="right"), len(employers.keys) - 1)
    ]
    # Person i lives in household i, in the municipality of its block.
    P = persons({"household": np.arange(n)})
    municipality = (blocks % n_muni).astype(m.households.municipality.dtype)
    hires = Hires(np.arange(n), blocks // n_muni, where, np.ones(n), np.zeros(n, bool), np.zeros(0))
    employ_kernel(hires, 0, employers, Pay(lab.wages, lab.pay.wage_loss, 10.0, 0.0), municipality, P)
    assert np.array_equal(P.employer, expected)
    assert (P.status == E).all() and np.array_equal(P.sector, blocks // n_muni)


def test_kept_pools_and_search_effort_equal_a_scan_every_week():
    """Through layoff waves, demography weeks and the transition boost switched on and
    off, the pools taken over from week to week are those a scan finds, the search effort
    kept is the effort found again, and the public jobless rows are those a scan finds
    after the step."""
    m = CohesionModel(
        scale=0.05,
        rng=3,
        start="2005-01",
        end="2006-12",
        overrides={
            "interventions.recovery_committee.enabled": True,
            "interventions.recovery_committee.start": "2005-06",
            "interventions.recovery_committee.end": "2006-03",
        },
    )
    lab, P = m.labour, m.people
    find_pools, step = lab._pools, lab.step
    seen = {"kept": 0, "reused": 0}

    def checked_pools(boost, persons):
        kept = lab._pools_kept
        out = find_pools(boost, persons)
        jobless, aged = out
        n = P.n
        st = P.status[:n]
        employed = np.flatnonzero((st == E) & ~P.at_plant[:n])
        pool = lab.pool
        assert np.array_equal(jobless.rows, np.flatnonzero((st == U) | (st == T)))
        assert np.array_equal(np.flatnonzero(pool.member), employed)
        assert np.array_equal(pool.blocks, np.bincount(employed // BLOCK, minlength=len(pool.blocks)))
        assert np.array_equal(pool.held, np.bincount(P.sector[employed], minlength=lab.n_sec))
        ok = ~np.isnan(jobless.effort) & (st[jobless.rows] == U)
        e, bands = matching.search_efforts_kernel(jobless.rows[ok], lab.persons(), lab.search_terms(boost))
        same = bands == jobless.kind[ok, 1] if aged else np.ones(len(e), bool)
        assert np.array_equal(e[same], jobless.effort[ok][same])
        assert np.array_equal(P.sector[jobless.rows[ok]][same], jobless.kind[ok, 0][same])
        seen["kept"] += kept is not None and jobless.rows is kept.jobless.rows
        seen["reused"] += int(same.sum())
        return out

    def checked_step():
        step()
        st = P.status[: P.n]
        assert np.array_equal(lab.jobless, np.flatnonzero((st == U) | (st == T)))

    lab._pools, lab.step = checked_pools, checked_step
    m.run()
    assert seen["kept"] > m.n_weeks // 2 and seen["reused"] > 0 and m.shocks.jobs_lost > 0
