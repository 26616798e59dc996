"""The cohort tracker (model/cohorts.py): members, horizons, shares, and that it changes nothing."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from experiments.outcomes import COHORT_SUMMARIES, cohort_outcomes
from model import CohesionModel
from model.cohorts import COHORT_COLUMNS, GROUPS, HORIZON_WEEKS, RESIDENT_COLUMNS
from model.constants import WORKING_AGE
from model.state import Exit, Status

SMALL = dict(scale=0.05, start="2005-01", end="2007-12")


def members_by_hand(m, workers: np.ndarray) -> tuple[set, set]:
    """The household and confidant groups of ``workers``, from the arrays, one person at a time."""
    P, ties = m.people, m.ties
    adult_age = WORKING_AGE
    wset = set(workers.tolist())
    homes = {int(P.household[w]) for w in workers}
    household = {
        i
        for i in range(P.n)
        if P.present[i] and P.age[i] >= adult_age and int(P.household[i]) in homes and i not in wset
    }
    confidants = set()
    for w in workers.tolist():
        for b in range(ties.k):
            t = int(ties.slots[w, b])
            if t >= 0 and ties.slot_is_place[b]:
                t = int(ties.place_worker[t])
            if (
                t >= 0
                and P.present[t]
                and P.age[t] >= adult_age
                and P.household[t] != P.household[w]
                and t not in wset
                and t not in household
            ):
                confidants.add(t)
    return household, confidants


@pytest.fixture(scope="module")
def stepped():
    """A small run stepped week by week, checking members as each wave opens, the weeks
    snapshots are taken at and that the ever-flags never fall."""
    m = CohesionModel(rng=5, **SMALL)
    snapshot_weeks: dict[tuple[int, int], int] = {}
    checked_members = 0
    fell = 0
    previous = None
    while m.running:
        m.step()
        c = m.cohorts
        opened_now = [co for co in c.cohorts if co["layoff_week"] == m.week]
        for co in opened_now:
            workers = co["members"]["workers"]
            assert (m.people.displaced_week[workers] == m.week).all() and m.people.ever_displaced[workers].all()
            household, confidants = members_by_hand(m, workers)
            assert set(co["members"]["household"].tolist()) == household
            assert set(co["members"]["confidants"].tolist()) == confidants
            checked_members += 1
        for i, co in enumerate(c.cohorts):
            for h in co["snapshots"]:
                snapshot_weeks.setdefault((i, h), m.week)
        now = {}
        for i in range(len(c.cohorts)):
            rows, sup, ser = c.flags(i)
            now.update(zip(zip([i] * len(rows), rows.tolist()), zip(sup.tolist(), ser.tolist())))
        if previous is not None:
            for k, (sup, ser) in previous.items():
                if k in now:
                    fell += (sup and not now[k][0]) + (ser and not now[k][1])
        previous = now
    return m, snapshot_weeks, checked_members, fell


def test_workers_are_exactly_the_waves_laid_off_rows(stepped):
    m = stepped[0]
    P = m.people
    cohorts = m.cohorts.cohorts
    assert len(cohorts) == len(m.shocks.events) > 3
    assert np.array_equal(np.concatenate([co["members"]["workers"] for co in cohorts]), m.shocks.displaced)
    for co, event in zip(cohorts, m.shocks.events):
        w = co["members"]["workers"]
        assert len(w) == event["workers"] and co["employer"] == event["employer"]
        assert co["layoff_week"] == event["week"] and P.ever_displaced[w].all()


def test_household_and_confidants_as_defined(stepped):
    m, _, checked, _ = stepped
    assert checked == len(m.cohorts.cohorts)  # every wave's groups were checked against the arrays by hand
    P = m.people
    for co in m.cohorts.cohorts:
        w, hh, conf = (co["members"][g] for g in GROUPS)
        assert len(np.intersect1d(w, hh)) == len(np.intersect1d(w, conf)) == len(np.intersect1d(hh, conf)) == 0
        assert np.isin(P.household[hh], P.household[w]).all()
        assert len(np.unique(conf)) == len(conf)
    assert sum(len(co["members"]["confidants"]) for co in m.cohorts.cohorts) > 0
    assert sum(len(co["members"]["household"]) for co in m.cohorts.cohorts) > 0


def test_snapshots_at_the_horizons(stepped):
    m, weeks, _, _ = stepped
    for i, co in enumerate(m.cohorts.cohorts):
        for h, lag in enumerate(HORIZON_WEEKS):
            due = co["layoff_week"] + lag
            if due < m.n_weeks:
                assert weeks[(i, h)] == due
            else:
                assert (i, h) not in weeks
    df = m.cohorts.table()
    waves = df[df["employer"] != "all"]
    assert (
        (waves["horizon_week"] - waves["layoff_week"])
        == waves["horizon_months"].map(dict(zip((6, 12, 24), HORIZON_WEEKS)))
    ).all()
    assert (waves["observed"] == (waves["horizon_week"] < m.n_weeks)).all()
    assert waves.loc[~waves["observed"], "unmet_need"].isna().all()
    assert waves["observed"].any() and not waves["observed"].all()  # 2005-2007 reaches some 24-month horizons only


def test_ever_flags_never_fall(stepped):
    m, _, _, fell = stepped
    assert fell == 0
    df = m.cohorts.table()
    assert (df.loc[df["observed"], "ever_supported"] > 0).any() and (df.loc[df["observed"], "ever_served"] > 0).any()


def test_pooled_rows_are_members_weighted(stepped):
    df = stepped[0].cohorts.table()
    assert list(df.columns) == COHORT_COLUMNS
    for (g, h), sub in df[df["observed"] & (df["employer"] != "all")].groupby(["group", "horizon_months"]):
        pooled = df[(df["employer"] == "all") & (df["group"] == g) & (df["horizon_months"] == h)].iloc[0]
        assert pooled["members"] == sub["members"].sum() and pooled["cohorts"] == len(sub)
        present = sub["members_present"].astype(float)
        assert pooled["unmet_need"] == pytest.approx((sub["unmet_need"] * present).sum() / present.sum())
        assert pooled["moved_out"] == pytest.approx((sub["moved_out"] * sub["members"]).sum() / sub["members"].sum())


def test_hand_built_snapshot():
    """Arrays set by hand for a cohort's workers; the tracker steps at its 6-month horizon."""
    m = CohesionModel(rng=2, scale=0.05, start="2005-01", end="2005-12")
    while not m.cohorts.cohorts:
        m.step()
    c = m.cohorts
    co = c.cohorts[0]
    w = co["members"]["workers"]
    assert len(w) >= 5
    P = m.people
    high = float(m.config["distress.high_threshold"])
    week = co["layoff_week"] + HORIZON_WEEKS[0]
    c._served[:] = False
    P.present[w[0]], P.exit_reason[w[0]] = False, Exit.MOVED_ALONE
    P.present[w[1]], P.exit_reason[w[1]] = False, Exit.DIED
    rest = w[2:]
    P.distress[rest] = high - 1.0
    P.distress[w[2]] = high + 1.0  # high distress, no support, no service: unmet need
    P.distress[w[3]] = high + 0.5  # high distress, in a service: need met
    P.support_week[rest] = -10_000
    P.support_week[w[4]] = week  # supported this week
    P.service[rest] = -1
    P.service[w[3]] = 0
    P.status[rest] = Status.UNEMPLOYED
    P.status[w[2]] = Status.EMPLOYED
    P.participates[rest] = False
    P.participates[w[3]] = True
    P.belonging[rest] = 0.5
    P.belonging[w[2]] = 1.0
    m.week = week
    m.date = m.start_date + timedelta(days=7 * week)
    c.step()
    assert 0 in co["snapshots"] and 1 not in co["snapshots"]
    row = c.table().query("group == 'workers' and horizon_months == 6").iloc[0]
    n, present = len(w), len(w) - 2
    assert row["members"] == n and row["members_present"] == present
    assert row["moved_out"] == pytest.approx(1 / n) and row["died"] == pytest.approx(1 / n)
    assert row["unmet_need"] == pytest.approx(1 / present)
    assert row["high_distress"] == pytest.approx(2 / present)
    assert row["ever_served"] == pytest.approx(1 / present)
    assert row["ever_supported"] == pytest.approx(1 / present)
    assert row["employed"] == pytest.approx(1 / present)
    assert row["participation"] == pytest.approx(1 / present)
    assert row["belonging"] == pytest.approx((0.5 * (present - 1) + 1.0) / present)
    expected = np.float32(high - 1.0) * (present - 2) + np.float32(high + 1.0) + np.float32(high + 0.5)
    assert row["distress"] == pytest.approx(float(expected) / present, rel=1e-6)


def test_the_tracker_changes_nothing():
    """A run with the tracker's step switched off gives the same weekly series and panel."""
    runs = []
    for track in (True, False):
        m = CohesionModel(rng=4, scale=0.03, start="2005-01", end="2006-12")
        if not track:
            m.cohorts.step = lambda: None
        m.run()
        runs.append(m)
    on, off = runs
    assert on.cohorts.cohorts and not off.cohorts.cohorts
    pd.testing.assert_frame_equal(
        on.datacollector.get_model_vars_dataframe(), off.datacollector.get_model_vars_dataframe()
    )
    assert len(on.panel) == len(off.panel)
    for a, b in zip(on.panel, off.panel):
        for k in a:
            assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k


def test_marginalized_table(stepped):
    m = stepped[0]
    df = m.cohorts.residents_table()
    assert list(df.columns) == RESIDENT_COLUMNS
    assert list(df["year"]) == [2005, 2005, 2006, 2006, 2007, 2007]
    last = m.panel[-1]
    adult = last["age"] >= WORKING_AGE
    here = adult & ~(last["moved_out"] | last["died"])
    for g, sel in (("marginalized", last["marginalized"]), ("others", ~last["marginalized"])):
        row = df[(df["year"] == 2007) & (df["group"] == g)].iloc[0]
        assert row["adults"] == int((here & sel).sum())
        assert row["participation"] == pytest.approx(last["participates"][here & sel].mean())
        assert row["belonging"] == pytest.approx(last["belonging"][here & sel].astype(float).mean())
        assert row["ever_supported"] >= (last["supported_weeks_ago"][here & sel] == 0).mean()


def test_cohort_outcomes_pool_the_runs_tables():
    cohorts = pd.DataFrame(
        {
            "employer": ["x", "all", "all"],
            "group": ["workers", "workers", "household"],
            "horizon_months": [12, 12, 24],
            "observed": [True, True, False],
            "unmet_need": [0.9, 0.25, np.nan],
            "moved_out": [0.0, 0.1, np.nan],
        }
    )
    residents = pd.DataFrame(
        {
            "year": [2005, 2005, 2006, 2006],
            "group": ["marginalized", "others"] * 2,
            "adults": [10, 90, 30, 70],
            "unmet_need": [0.2, 0.1, 0.4, 0.1],
        }
    )
    out = cohort_outcomes(cohorts, residents)
    assert set(out) == {s.name for s in COHORT_SUMMARIES}
    assert out["workers_12m_unmet_need"] == 0.25 and out["workers_12m_moved_out"] == 0.1
    assert np.isnan(out["household_24m_unmet_need"]) and np.isnan(out["workers_6m_unmet_need"])
    assert out["marginalized_unmet_need"] == pytest.approx((0.2 * 10 + 0.4 * 30) / 40)
    assert out["others_unmet_need"] == pytest.approx(0.1)
    assert out["marginalized_gap_unmet_need"] == pytest.approx(0.35 - 0.1)
    assert np.isnan(out["marginalized_belonging"])
