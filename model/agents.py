"""Mesa agents: the object view of the model's arrays.

Each agent holds only its row id; its attributes are properties that read and write
that row of the state arrays (``model.people``, ``model.households``, ``model.orgs``),
so ``model.agents``, ``agents_by_type``, the grid and Mesa's tools see exactly the state
the vectorised submodels update. A ``Worker`` stands for every resident, in or out of
the labour force; a ``Household`` for a household; an ``Organization`` for an employer,
one of the timeline's plants, a service, a community group, a public body, a union or
an informal gathering place.

No submodel reads an agent, so the agents of residents (``Worker`` and ``Household``)
are made on demand (``ResidentAgents``): the model marks them out of date when the
demography adds or removes persons or households, and the next read of ``model.agents``,
``agents_by_type``, ``agent_types``, ``worker_agents``, ``household_agents`` or ``grid``
brings them up to date with the arrays. A run that nobody inspects makes none of the
45,000 agents of the full territory; the page or a script that reads them every week pays
what keeping them in step each week would cost. Organizations (a few hundred, never
added or removed) have their agents from the start.

Bringing the agents up to date gives the agents of rows that left to rows that arrived
since the last read (``rebind``: a new row, a new cell and a new ``unique_id``, exactly
what a newly created agent would get), in row order, and only the difference is created
or removed through Mesa. From outside, a re-bound agent is a new agent (new
``unique_id``, row and cell) except that it is the same Python object and keeps its place
in ``model.agents``; Mesa's ``agents`` signals fire only for the agents actually created
or removed. Unique ids therefore depend on when the agents are read (a person who came
and left between two reads never has an agent); nothing in the model reads them, and
its outputs are the same whether or not the agents are read.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import CellAgent, FixedAgent

from .state import DOMAINS, ORG_KINDS, Status, tenure_years


def _row_property(table: str, field: str, doc: str, cast=None):
    def fget(self):
        value = getattr(getattr(self.model, table), field)[self.row]
        return cast(value) if cast else value.item()

    def fset(self, value):
        getattr(getattr(self.model, table), field)[self.row] = value

    return property(fget, fset, doc=doc)


class _RowAgent(CellAgent):
    """A placed agent that is the view of one row of a table."""

    def __init__(self, model, row: int, cell):
        super().__init__(model)
        self.row = int(row)
        self.cell = cell

    def rebind(self, row: int, cell) -> None:
        """Become the view of ``row`` (a newcomer) in ``cell``, with a fresh ``unique_id``
        taken from the model's counter as Mesa's registration takes it."""
        model = self.model
        self.unique_id = model.agent_id_counter
        model.agent_id_counter += 1
        self.row = int(row)
        self.cell = cell


class Worker(_RowAgent):
    """A resident of the RCM (row ``row`` of ``model.people``)."""

    age = _row_property("people", "age", "age in years", float)
    female = _row_property("people", "female", "sex is female", bool)
    status_code = _row_property("people", "status", "labour-force status code (see state.Status)", int)
    household_id = _row_property("people", "household", "household row", int)
    employer_id = _row_property("people", "employer", "employer organization row, -1 if none", int)
    sector_id = _row_property("people", "sector", "sector of the current or last job, -1 if none", int)
    wage = _row_property("people", "wage", "hourly wage of the current or last job (CAD)", float)

    @property
    def tenure(self) -> float:
        """Years in the current job, or in the last one when without a job."""
        return float(tenure_years(self.model.people, self.row, self.model.week))

    ever_displaced = _row_property("people", "ever_displaced", "laid off in a closure of the timeline", bool)
    ei_weeks_left = _row_property("people", "ei_left", "weeks of EI benefits left", int)
    present = _row_property("people", "present", "living in the RCM", bool)

    @property
    def status(self) -> str:
        return Status.NAMES[self.status_code]

    @property
    def employed(self) -> bool:
        return self.status_code == Status.EMPLOYED

    @property
    def household(self) -> Household:
        return self.model.household_agents[self.household_id]

    @property
    def employer(self) -> Organization | None:
        e = self.employer_id
        return self.model.org_agents[e] if e >= 0 else None


class Household(_RowAgent):
    """A household (row ``row`` of ``model.households``)."""

    municipality_id = _row_property("households", "municipality", "municipality index", int)
    strain_weeks = _row_property("households", "strain_weeks", "consecutive weeks under financial strain", int)

    @property
    def municipality(self) -> str:
        return self.model.municipality_names[self.municipality_id]

    @property
    def members(self) -> list[Worker]:
        P = self.model.people
        rows = (P.household[: P.n] == self.row) & P.present[: P.n]
        return [self.model.worker_agents[r] for r in rows.nonzero()[0]]


class Organization(FixedAgent):
    """An organization (row ``row`` of ``model.orgs``)."""

    def __init__(self, model, row: int, cell, name: str):
        super().__init__(model)
        self.row = int(row)
        self.name = name
        self.cell = cell

    kind_code = _row_property("orgs", "kind", "kind code (see state.ORG_KINDS)", int)
    domain_code = _row_property("orgs", "domain", "domain code (see state.DOMAINS)", int)
    municipality_id = _row_property("orgs", "municipality", "municipality index", int)
    open = _row_property("orgs", "open", "operating", bool)

    @property
    def kind(self) -> str:
        return ORG_KINDS[self.kind_code]

    @property
    def domain(self) -> str:
        return DOMAINS[self.domain_code]

    @property
    def workforce(self) -> int:
        P = self.model.people
        n = P.n
        return int(((P.employer[:n] == self.row) & P.present[:n] & (P.status[:n] == Status.EMPLOYED)).sum())


class ResidentAgents:
    """The ``Worker`` agent of every present person and the ``Household`` agent of every
    present household of ``model``, placed on ``grid``, brought up to date with the
    arrays by ``sync`` after ``invalidate``."""

    def __init__(self, model, grid):
        self.model = model
        self.grid = grid
        self.workers: dict[int, Worker] = {}
        self.households: dict[int, Household] = {}
        self._has_worker = np.zeros(0, bool)  # rows that have an agent
        self._has_household = np.zeros(0, bool)
        self.current = False

    def invalidate(self) -> None:
        """Rows were added or left: the agents are out of date."""
        self.current = False

    def sync(self) -> ResidentAgents:
        """Bring the agents up to date with the rows present (households first)."""
        if self.current:
            return self
        self.current = True
        P, H = self.model.people, self.model.households
        self._has_household = self._update(
            self.households, Household, self._has_household, H.present[: H.n], lambda rows: (H.x[rows], H.y[rows])
        )
        home = P.household
        self._has_worker = self._update(
            self.workers, Worker, self._has_worker, P.present[: P.n], lambda rows: (H.x[home[rows]], H.y[home[rows]])
        )
        return self

    def _update(self, agents: dict, cls, has: np.ndarray, present: np.ndarray, cells) -> np.ndarray:
        """Agents for the ``present`` rows that have none, placed at ``cells(rows)``: the
        agents of rows no longer present re-bound first, in row order, then new ones;
        re-bound agents left over are removed. Returns the rows that have an agent."""
        n = len(present)
        has = np.concatenate([has, np.zeros(n - len(has), bool)])  # rows are only ever added
        gone = np.flatnonzero(has & ~present)
        new = np.flatnonzero(present & ~has)
        free = [agents.pop(r) for r in gone.tolist()]
        xs, ys = cells(new)
        grid = self.grid
        k = min(len(free), len(new))
        for agent, r, x, y in zip(free, new[:k].tolist(), xs[:k].tolist(), ys[:k].tolist()):
            agent.rebind(r, grid[(x, y)])
            agents[r] = agent
        for r, x, y in zip(new[k:].tolist(), xs[k:].tolist(), ys[k:].tolist()):
            agents[r] = cls(self.model, r, grid[(x, y)])
        for agent in free[k:]:
            agent.remove()
        has[gone] = False
        has[new] = True
        return has
