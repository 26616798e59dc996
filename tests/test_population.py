"""Set-up and demography: census totals, scaling, households, persons conserved."""

import numpy as np
import pytest

from model import CohesionModel
from model.constants import WORKING_AGE
from model.state import Exit, Status
from model.territory import CENSUS_DAY_2006, CENSUS_DAY_2011, population_on


def test_census_totals_within_3_percent_at_scale_1(full_scale_run):
    mun = full_scale_run.model.territory.municipalities
    magog = list(mun["name"]).index("Magog")
    for day, column in ((CENSUS_DAY_2006, "pop_2006"), (CENSUS_DAY_2011, "pop_2011")):
        model_pop = full_scale_run.census[day]
        census = mun[column].to_numpy()
        assert abs(model_pop.sum() / census.sum() - 1) < 0.03, (day, model_pop.sum(), census.sum())
        assert abs(model_pop[magog] / census[magog] - 1) < 0.03, (day, model_pop[magog], census[magog])
    assert mun["pop_2011"].sum() == 48551


@pytest.mark.parametrize("scale", [0.02, 0.1])
def test_counts_scale_with_the_documented_rounding(scale):
    m = CohesionModel(scale=scale, rng=1, end="2005-12")
    expected = np.rint(scale * population_on(m.territory, m.start_date)).astype(int)
    P = m.people
    counts = np.bincount(m.households.municipality[P.household[: P.n]], minlength=len(expected))
    assert counts.tolist() == expected.tolist()
    plants = {m.timeline.closures[w.closure].id for w in m.shocks.waves}
    assert "olymel" in plants
    assert sum(m.shocks.remaining.values()) == sum(w.workers for w in m.shocks.waves)


def test_households_look_like_the_rcm(small_run):
    m = small_run.model
    H, P = m.households, m.people
    sizes = H.size[: H.n][H.present[: H.n]]
    # Young adults who stay in the RCM never form households of their own (not modelled),
    # so the mean size drifts up by about 0.15 over 2003-2018 from the 2.24 of set-up.
    assert 2.0 < sizes.mean() < 2.5
    start = CohesionModel(scale=0.05, rng=3, end="2003-02")
    assert 2.1 < start.households.size[: start.households.n].mean() < 2.35
    # Every present household's size is the number of its present members.
    members = np.bincount(P.household[: P.n][P.present[: P.n]], minlength=H.n)
    assert (members[H.present[: H.n]] == sizes).all()
    assert (members[~H.present[: H.n]] == 0).all()
    # Every household has an adult (17+) among its members, but for the few whose adults
    # died or left (household formation is not modelled, ODD section 7.5).
    present = np.flatnonzero(P.present[: P.n])
    has_adult = np.zeros(H.n, bool)
    has_adult[P.household[present[P.age[present] >= 17]]] = True
    assert has_adult[H.present[: H.n]].mean() > 0.98


def test_every_exit_is_a_death_or_a_move_and_people_are_conserved(small_run):
    m, ts = small_run.model, small_run.timeseries
    P = m.people
    gone = ~P.present[: P.n]
    reasons = P.exit_reason[: P.n][gone]
    assert set(np.unique(reasons)) <= {Exit.DIED, Exit.MOVED_ALONE, Exit.MOVED_WITH_HOUSEHOLD}
    assert (P.exit_week[: P.n][gone] >= 0).all()
    assert (P.status[: P.n][gone] == Status.GONE).all()
    c = m.demography.counts
    assert c["deaths"] == (reasons == Exit.DIED).sum()
    assert c["moved_alone"] == (reasons == Exit.MOVED_ALONE).sum()
    assert c["moved_with_household"] == (reasons == Exit.MOVED_WITH_HOUSEHOLD).sum()
    assert c["deaths"] > 0 and c["births"] > 0 and c["moved_alone"] > 0 and c["in_migrants"] > 0
    balance = (
        small_run.initial_population
        + ts["births_cumulative"]
        + ts["in_migrants_cumulative"]
        - ts["deaths_cumulative"]
        - ts["out_migrants_cumulative"]
    )
    assert (balance == ts["population"]).all()
    assert P.n == small_run.initial_population + c["births"] + c["in_migrants"]


def test_agents_are_the_object_view_of_the_arrays(small_run):
    from model import Household, Organization, Worker

    m = small_run.model
    P, H = m.people, m.households
    workers = m.agents_by_type[Worker]
    assert len(workers) == P.present[: P.n].sum() == m.stats.population
    assert len(m.agents_by_type[Household]) == H.present[: H.n].sum()
    assert len(m.agents_by_type[Organization]) == m.orgs.n
    for agent in list(workers)[:200]:
        r = agent.row
        assert agent.age == pytest.approx(float(P.age[r]))
        assert agent.status == Status.NAMES[P.status[r]]
        assert agent.cell.coordinate == (int(H.x[P.household[r]]), int(H.y[P.household[r]]))
        assert agent in agent.cell.agents
        assert agent.household.row == P.household[r]
    # Writing through an agent writes the array.
    agent = next(iter(workers))
    agent.wage = 99.0
    assert P.wage[agent.row] == np.float32(99.0)
    # Cells hold exactly the agents placed there.
    placed = sum(len(c.agents) for c in m.grid.all_cells)
    assert placed == len(workers) + len(m.agents_by_type[Household]) + m.orgs.n
    # After a run of arrivals and departures, a cell is marked empty exactly when it holds no agent.
    assert all(c.empty == (len(c.agents) == 0) for c in m.grid.all_cells)
    assert any(c.empty for c in m.grid.all_cells) and not all(c.empty for c in m.grid.all_cells)


def test_only_present_adults_hold_a_labour_force_status_and_the_weekly_counts_match():
    m = CohesionModel(scale=0.05, rng=5, end="2006-06")
    P = m.people
    working_age = WORKING_AGE
    while m.running:
        m.step()
        n = P.n
        status, present = P.status[:n], P.present[:n]
        assert ((status == Status.GONE) == ~present).all()
        assert (status[present & (P.age[:n] < working_age)] == Status.CHILD).all()
        assert (status[present & (P.age[:n] >= working_age)] != Status.CHILD).all()
        counts = np.bincount(status, minlength=len(Status.NAMES))
        s = m.stats
        assert s.population == n - counts[Status.GONE]
        assert (s.employed, s.unemployed, s.in_training, s.retired) == tuple(
            counts[[Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING, Status.RETIRED]]
        )


def test_agents_of_departed_rows_are_rebound_to_the_newcomers_of_the_week():
    from model import Household, Worker

    m = CohesionModel(scale=0.05, rng=4, end="2003-12")
    P, H = m.people, m.households
    ids_before = {a.unique_id for a in m.agents}
    top_before = max(ids_before)
    for _ in range(4):  # up to and including the first demographic week
        objects_before = {id(a) for a in m.agents_by_type[Worker]}
        rows_before, households_before = P.n, H.n
        m.step()
    assert P.n > rows_before and H.n > households_before  # newcomers arrived
    assert (~P.present[:rows_before]).sum() > 0  # and some persons left
    workers = list(m.agents_by_type[Worker])
    households = list(m.agents_by_type[Household])
    # One agent per present row, each the view of its own row, placed with its household.
    assert sorted(a.row for a in workers) == np.flatnonzero(P.present[: P.n]).tolist()
    assert sorted(a.row for a in households) == np.flatnonzero(H.present[: H.n]).tolist()
    assert all(m.worker_agents[a.row] is a for a in workers)
    assert all(m.household_agents[a.row] is a for a in households)
    for a in workers:
        assert a.cell.coordinate == (int(H.x[P.household[a.row]]), int(H.y[P.household[a.row]]))
    # Newcomers' agents include re-bound objects of departed persons ...
    new_agents = [a for a in workers if a.row >= rows_before]
    assert any(id(a) in objects_before for a in new_agents)
    # ... which carry fresh unique ids, as created agents would: no id is reused.
    ids = [a.unique_id for a in m.agents]
    assert len(set(ids)) == len(ids)
    assert all(a.unique_id > top_before for a in new_agents)
    # Cells hold exactly the agents placed there.
    placed = sum(len(c.agents) for c in m.grid.all_cells)
    assert placed == len(m.agents)
    assert all(c.empty == (len(c.agents) == 0) for c in m.grid.all_cells)


def test_every_land_cell_holding_people_belongs_to_a_municipality(small_run):
    m = small_run.model
    H = m.households
    hp = H.present[: H.n]
    cells = m.territory.cell_municipality[H.x[: H.n][hp], H.y[: H.n][hp]]
    assert (cells == H.municipality[: H.n][hp]).all()
    assert (m.grid.municipality.data == m.territory.cell_municipality).all()
