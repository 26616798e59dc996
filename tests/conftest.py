"""Shared fixtures. Model runs are expensive, so the few reused ones are session-scoped."""

from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pytest

from model import CohesionModel
from model.territory import CENSUS_DAY_2006, CENSUS_DAY_2011

from helpers import ROOT, TEST_SCENARIO, TEST_SCENARIO_TOML, page_server


class RecordedRun:
    """A model stepped to its end, with the population by municipality on census days."""

    def __init__(self, **kwargs):
        self.model = m = CohesionModel(**kwargs)
        self.initial_population = m.n_present
        self.census: dict[date, np.ndarray] = {}
        days = [CENSUS_DAY_2006, CENSUS_DAY_2011]
        while m.running:
            m.step()
            for day in days:
                if m.date <= day < m.date.fromordinal(m.date.toordinal() + 7):
                    P, H = m.people, m.households
                    present = P.present[: P.n]
                    self.census[day] = np.bincount(
                        H.municipality[P.household[: P.n][present]], minlength=m.territory.n_municipalities
                    )
        self.timeseries = m.datacollector.get_model_vars_dataframe()


@pytest.fixture(scope="session")
def full_scale_run() -> RecordedRun:
    """Scale 1, seed 0, January 2003 to December 2012 (every wave and its follow-up)."""
    return RecordedRun(scale=1.0, rng=0, end="2012-12")


@pytest.fixture(scope="session")
def small_run() -> RecordedRun:
    """Scale 0.05, seed 3, the whole default period."""
    return RecordedRun(scale=0.05, rng=3)


@pytest.fixture
def configs(tmp_path, monkeypatch):
    """A copy of configs/ (without the sweep files) used by the loaders in this process and
    its subprocesses, for tests that break a file."""
    copy = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", copy, ignore=shutil.ignore_patterns("sweeps"))
    monkeypatch.setenv("COHESION_CONFIG_DIR", str(copy))
    monkeypatch.delenv("COHESION_MEMORY_LIMIT", raising=False)
    return copy


@pytest.fixture(scope="session")
def served_page(tmp_path_factory):
    """The page's server, started once for every test that needs a real one: the project's
    scenarios and ``TEST_SCENARIO`` in a temporary scenario folder, on a free local port."""
    scenarios = tmp_path_factory.mktemp("scenarios")
    for path in (ROOT / "configs" / "scenarios").glob("*.toml"):
        shutil.copy(path, scenarios)
    (scenarios / f"{TEST_SCENARIO}.toml").write_text(TEST_SCENARIO_TOML)
    with page_server(scenarios, tmp_path_factory.mktemp("server") / "server.log") as server:
        yield server
