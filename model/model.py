"""The Magog cohesion model: Memphrémagog RCM, 2003-2018, one step per week.

Persons, households and organizations live in arrays (``model/state.py``); submodels
(``model/submodels/``) update them for everyone at once; Mesa agents are the object view
of the same rows, brought up to date when read (``model/agents.py``). Step order (one week, the week that starts on ``model.date``):

1. shocks: plant workers who left last week replaced, then announcements, layoff waves
   and closures dated in this week;
2. labour market: retirement (every ``DEMOGRAPHY_PERIOD_WEEKS`` weeks),
   separations, retraining, labour-force entry and exit (every period), labour demand,
   job matching and re-employment;
3. employment insurance: waiting, severance, benefits paid, exhaustion;
4. household finances: income, strain, and requests to leave under prolonged strain
   (less likely for households with a strong sense of belonging);
5. committees: the organization network learns and forgets (``committees``);
6. distress: adults' distress follows job loss, strain, their household and the support
   and services they receive (``distress``);
7. disclosure and informal support: helper training, disclosures to ties, help given,
   helpers' referrals (``informal_support``);
8. formal services: outreach, self-referral, referrals between organizations that know
   each other, waiting lists and capacity (``services``);
9. belonging and participation (every period) (``belonging``);
10. demography (every ``DEMOGRAPHY_PERIOD_WEEKS`` weeks): ageing, deaths, young adults
   leaving, households leaving (including the requests of step 4), births, households
   moving in; newcomers get their traits and ties;
11. the week's aggregates computed
   (``model/aggregates.py``) and recorded by Mesa's DataCollector; the cohort tracker
   follows the laid-off workers, their households and confidants, and marginalized
   residents (``model/cohorts.py``); on a year's last week the persons panel records
   every person (``model/panel.py``).

Ctrl-C during ``run`` stops the run at the end of the week under way
(``model/interrupt.py``).

Before step 1, the interventions in force this week are set from the scenario
(``submodels/interventions.py``); in each January's first week, the candidates for new
ties are refreshed and ties lost to departures are renewed (``model/ties.py``).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from . import interrupt, panel
from .agents import Household, Organization, ResidentAgents, Worker
from .aggregates import STAT_NAMES, Aggregates, at_or_above, read_stat
from .cohorts import Cohorts
from .config import Config, config_root, parse_month, resolve
from .constants import WORKING_AGE
from .panel import ends_year
from .population import CellSampler, build_population, commute_weights
from .space import SlottedCell
from .streams import Streams
from .submodels import employment_insurance as ei
from .submodels.belonging import Belonging
from .submodels.committees import Committees
from .submodels.demography import Demography
from .submodels.distress import Distress
from .submodels.household_finances import HouseholdFinances
from .submodels.informal_support import InformalSupport
from .submodels.interventions import Interventions
from .submodels.labour_market import LabourMarket
from .submodels.services import Services
from .submodels.shocks import Shocks
from .territory import load_territory
from .ties import Ties
from .timeline import Timeline

SOCIAL_SPINUP_WEEKS = 104  # weeks the social submodels run before the start, then discarded


def renews_ties(day: date, week: int) -> bool:
    """Whether the week that starts on ``day`` (week ``week`` of the run, from 0) renews
    ties: the first week of every January after the run's first week."""
    return day.month == 1 and day.day <= 7 and week > 0


def _end_of_month(text: str) -> date:
    d = parse_month(text, "run.end")
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


class CohesionModel(mesa.Model):
    """Agent-based model of the Memphrémagog RCM after the 2003-2011 plant closures.

    Args:
        scale: model persons per resident (1.0 = the real territory at 1:1).
        start: first month, ``YYYY-MM``.
        end: last month, ``YYYY-MM``; the run stops after the last week starting in it.
        scenario: name of a scenario in ``configs/scenarios/``.
        config_file: a TOML file of overrides on ``configs/base.toml``.
        overrides: dotted parameter names and values, e.g. ``{"labour.separation_rate": 0.005}``.
        rng: the run's seed (an int); ``None`` draws one, recorded in ``model.seed``.
        **params: further overrides as keywords, the section and name joined by a double
            underscore (``labour__separation_rate=0.005``), as ``mesa.batch_run`` passes them.
    """

    def __init__(
        self,
        scale: float | None = None,
        start: str | None = None,
        end: str | None = None,
        scenario: str = "baseline",
        config_file=None,
        overrides: dict | None = None,
        rng: int | None = None,
        **params,
    ):
        if rng is None:
            rng = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
        if not isinstance(rng, (int, np.integer)) or isinstance(rng, bool):
            raise TypeError("rng must be an integer seed (or None)")
        super().__init__(rng=int(rng))
        self.seed = int(rng)
        ov = dict(overrides or {})
        ov.update({k.replace("__", "."): v for k, v in params.items()})
        for key, value in (("run.scale", scale), ("run.start", start), ("run.end", end)):
            if value is not None:
                ov[key] = value
        self.config: Config = resolve(scenario, config_file, ov)
        self.streams = Streams(self.seed)
        cfg = self.config

        self.start_date = parse_month(cfg["run.start"], "run.start")
        self.end_date = _end_of_month(cfg["run.end"])
        self.n_weeks = (self.end_date - self.start_date).days // 7 + 1
        self.week = 0
        self.date = self.start_date

        self.territory = load_territory(config_root() / "territory", density_scale_km=cfg["run.density_scale_km"])
        self.municipality_names = list(self.territory.municipalities["name"])
        self.timeline = Timeline.load()
        waves = self.timeline.waves_between(self.start_date, self.end_date, cfg["run.scale"])
        self.commute = commute_weights(self.territory, cfg)
        self.cell_sampler = CellSampler(self.territory)
        self.population = build_population(
            cfg, self.territory, self.timeline, waves, self.start_date, self.streams["population"]
        )
        self.people = self.population.people
        self.households = self.population.households
        self.orgs = self.population.orgs
        self.sectors = self.population.sectors
        self.household_size_shares = np.asarray(cfg["population.household_size_shares"], float)
        self.mean_household_size = float(
            np.dot(self.household_size_shares, np.arange(1, len(self.household_size_shares) + 1))
        )

        # Distress is stored in float32 and compared with the threshold in float32.
        self._high_distress = np.float32(cfg["distress.high_threshold"])
        self.ei_rules = ei.EIRules(cfg)
        self._rates = [cfg["population.initial_unemployment_rate"]] * ei.UNEMPLOYMENT_WINDOW_WEEKS
        self._ei_region_rate = float(np.mean(self._rates))
        self.labour = LabourMarket(self)
        self.shocks = Shocks(self, waves)
        self.finances = HouseholdFinances(self)
        self.demography = Demography(self)
        self.interventions = Interventions(self)
        self.interventions.initialize()
        self.ties = Ties(self)
        self.distress = Distress(self)
        self.committees = Committees(self)
        self.support = InformalSupport(self)
        self.services = Services(self)
        self.belonging = Belonging(self)
        self.ties.refresh_pools()
        self._init_social(np.arange(self.people.n))
        self._refresh_adults()
        self.need = np.zeros(0, np.int64)
        self._spin_up_social()
        self.belonging.summarize()

        self._grid = OrthogonalMooreGrid(
            (self.territory.width, self.territory.height), torus=False, random=self.random, cell_klass=SlottedCell
        )
        layer = self._grid.create_property_layer("municipality", default_value=-1, dtype=int)
        layer.data[:] = self.territory.cell_municipality
        self.org_agents: dict[int, Organization] = {}
        for row in range(self.orgs.n):
            cell = self._grid[(int(self.orgs.x[row]), int(self.orgs.y[row]))]
            self.org_agents[row] = Organization(self, row, cell, self.population.org_names[row])
        self._residents = ResidentAgents(self, self._grid)  # Worker and Household agents, made when first read

        self._count_present()
        self.last_exits = np.zeros(0, np.int64)
        self.aggregates = Aggregates(self)
        self.stats = self.aggregates.stats  # the week's aggregates, updated in place
        self.panel: list[dict[str, np.ndarray]] = []
        self.cohorts = Cohorts(self)  # reads the arrays at the end of each week, changes nothing
        self.datacollector = mesa.DataCollector(model_reporters={name: partial(read_stat, name) for name in STAT_NAMES})
        self.aggregates.update(np.zeros(0, np.int64))  # the state at the start, before the first week
        self.running = True

    def model_people_left_plants(self) -> bool:
        """Whether a worker of a plant still to lay off left the RCM last week."""
        return bool(self.people.at_plant[self.last_exits].any())

    def _refresh_adults(self) -> None:
        """Rows of the adults present (ages and presence change only in demography weeks)."""
        P = self.people
        n = P.n
        self.adults = np.flatnonzero(P.present[:n] & (P.age[:n] >= WORKING_AGE))

    def _find_need(self) -> None:
        """Adults in high distress this week."""
        self.need = at_or_above(self.adults, self.people.distress, self._high_distress)

    def _spin_up_social(self) -> None:
        """Start the social state from its steady state, so that no measure is still settling
        from its starting value during the run: the personal network at its steady share
        of lost ties (``Ties.settle``), then ``SOCIAL_SPINUP_WEEKS`` weeks of distress,
        support, services and participation before the first week, with the labour market,
        households, population and the structures in force at the start held as they are.
        The weeks are numbered -104 to -1; nothing is recorded."""
        self.ties.settle(self.demography.departure_rate(), self.streams["ties"])
        self.belonging.tie_integrity = self.ties.renew(self.streams["ties"])
        jobless = self.labour.jobless
        strained = self.finances.strained_households
        self.interventions.hold(self.start_date)
        for week in range(-SOCIAL_SPINUP_WEEKS, 0):
            self.week = week
            self.distress.step(jobless, strained)
            self._find_need()
            self.services.step(self.support.step(), strained)
            self.belonging.step()
        self.week = 0
        self.services.counts = dict.fromkeys(self.services.counts, 0)  # running totals start at the run

    def _init_social(self, ids: np.ndarray) -> None:
        """Traits, marginalization, belonging, knowledge of services and ties of new persons."""
        s = self.streams
        self.distress.init_people(ids, s["distress"])
        self.belonging.mark_marginalized(ids, s["belonging"])
        self.belonging.init_people(ids, s["belonging"])
        self.services.init_people(ids, s["services"])
        self.ties.add(ids, s["ties"])

    # -- agents ----------------------------------------------------------------------
    @property
    def agents(self):
        """Mesa's set of all agents (``model/agents.py``), up to date with the arrays."""
        self._residents.sync()
        return super().agents

    @property
    def agents_by_type(self):
        self._residents.sync()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self._residents.sync()
        return super().agent_types

    @property
    def worker_agents(self) -> dict[int, Worker]:
        """The ``Worker`` agent of each present person's row."""
        return self._residents.sync().workers

    @property
    def household_agents(self) -> dict[int, Household]:
        """The ``Household`` agent of each present household's row."""
        return self._residents.sync().households

    @property
    def grid(self) -> OrthogonalMooreGrid:
        """The territory's 1 km cells, each holding the agents placed there."""
        self._residents.sync()
        return self._grid

    # -- the weekly step --------------------------------------------------------------
    @property
    def ei_region_rate(self) -> float:
        """Regional unemployment rate used by EI: mean over the last weeks."""
        return self._ei_region_rate

    def step(self) -> None:
        """One week; see the module docstring for the order."""
        self.week = self.steps - 1
        self.date = self.start_date + timedelta(days=7 * self.week)
        first_new_household = self.households.n
        self.interventions.update(self.date, self.week)
        if renews_ties(self.date, self.week):
            self.ties.refresh_pools()  # once a year: candidates for new ties
            self.belonging.tie_integrity = self.ties.renew(self.streams["ties"])
        self.labour.restaff()
        self.shocks.step()
        self.labour.step()
        jobless = self.labour.jobless  # searching or retraining, as the labour market left them
        paid, severance = ei.step(self.people, jobless)
        self.demography.request_moves(self.finances.step(jobless, paid, severance))
        strained = self.finances.strained_households
        self.committees.step()
        self.distress.step(jobless, strained)
        self._find_need()
        referred = self.support.step()
        self.services.step(referred, strained)
        self.belonging.step()
        entered, exited = self.demography.step()
        if len(entered):
            self._init_social(entered)
        if len(entered) or len(exited) or self.demography.period_ends(self.week):
            self._refresh_adults()
        self.last_exits = exited
        if len(entered) or len(exited) or self.households.n != first_new_household:
            self._count_present()  # only the demography adds and removes persons and households
            self._residents.invalidate()
        self.aggregates.update(paid)
        self._rates = self._rates[1:] + [self.stats.unemployment_rate if self.stats.labour_force else 0.0]
        self._ei_region_rate = float(np.mean(self._rates))
        self.datacollector.collect(self)
        self.cohorts.step()
        if ends_year(self.date, self.week, self.n_weeks):
            self._record_panel()
        if self.week + 1 >= self.n_weeks:
            self.running = False

    def _count_present(self) -> None:
        P, H = self.people, self.households
        self.n_present = int(np.count_nonzero(P.present[: P.n]))
        self.n_households = int(np.count_nonzero(H.present[: H.n]))

    def _record_panel(self) -> None:
        self.panel.append(panel.year_rows(self))

    def run(self, progress=None) -> None:
        """Run to the end date; ``progress`` is called with the week after each step.
        Ctrl-C stops the run (``KeyboardInterrupt``) at the end of the week under way."""
        with interrupt.between_weeks() as check:
            while self.running:
                self.step()
                check()
                if progress is not None:
                    progress(self.week)
