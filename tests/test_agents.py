"""The Mesa agents of residents are made when read (``model/agents.py``): a run nobody
inspects makes none, and reading them changes nothing the model computes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model import CohesionModel, Household, Organization, Worker


def test_agents_are_made_when_read_and_reading_them_every_week_changes_no_output():
    quiet = CohesionModel(scale=0.02, rng=6, end="2004-03")
    watched = CohesionModel(scale=0.02, rng=6, end="2004-03")
    seen = 0
    while quiet.running:
        quiet.step()
        watched.step()
        workers = watched.agents_by_type[Worker]
        assert len(workers) == watched.stats.population
        seen += sum(a.age >= 0 for a in list(workers)[:50])
    assert seen > 0
    # Never read: no resident has an agent, only the organizations do.
    assert not quiet._residents.workers and not quiet._residents.households
    pd.testing.assert_frame_equal(
        quiet.datacollector.get_model_vars_dataframe(), watched.datacollector.get_model_vars_dataframe()
    )
    for a, b in zip(quiet.panel, watched.panel, strict=True):
        assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    # Read at the end: one agent per present row, each placed with its household.
    P, H = quiet.people, quiet.households
    assert sorted(quiet.worker_agents) == np.flatnonzero(P.present[: P.n]).tolist()
    assert sorted(quiet.household_agents) == np.flatnonzero(H.present[: H.n]).tolist()
    assert len(quiet.agents) == len(quiet.worker_agents) + len(quiet.household_agents) + quiet.orgs.n
    assert set(quiet.agent_types) == {Worker, Household, Organization}
    assert sum(len(c.agents) for c in quiet.grid.all_cells) == len(quiet.agents)
    r = next(iter(quiet.worker_agents))
    assert quiet.worker_agents[r].cell.coordinate == (int(H.x[P.household[r]]), int(H.y[P.household[r]]))
