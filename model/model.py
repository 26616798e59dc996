"""The Magog cohesion model: Memphrémagog RCM, 2003-2018, one step per week.

Persons, households and organizations live in arrays (``model/state.py``); submodels
(``model/submodels/``) update them for everyone at once; Mesa agents are the object view
of the same rows. Step order (one week, the week that starts on ``model.date``):

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
11. Mesa agents added and removed to match; aggregates computed; the DataCollector
   records the week; the cohort tracker follows the laid-off workers, their households
   and confidants, and marginalized residents (``model/cohorts.py``); on a year's last
   week the persons panel records every person.

Before step 1, the interventions in force this week are set from the scenario
(``submodels/interventions.py``); in each January's first week, the candidates for new
ties are refreshed and ties lost to departures are renewed (``model/ties.py``).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from functools import partial
from dataclasses import dataclass, fields
from datetime import date, timedelta

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from . import aggregates
from .agents import Household, Organization, Worker
from .cohorts import Cohorts
from .config import Config, config_root, parse_month, resolve
from .constants import WORKING_AGE
from .space import SlottedCell
from .population import CellSampler, build_population, commute_weights
from .state import Exit, Status
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
from .ties import Ties
from .territory import load_territory
from .timeline import Timeline

NA = float("nan")
SOCIAL_SPINUP_WEEKS = 104  # weeks the social submodels run before the start, then discarded


def renews_ties(day: date, week: int) -> bool:
    """Whether the week that starts on ``day`` (week ``week`` of the run, from 0) renews
    ties: the first week of every January after the run's first week."""
    return day.month == 1 and day.day <= 7 and week > 0


def ends_year(day: date, week: int, n_weeks: int) -> bool:
    """Whether the week that starts on ``day`` is the last of its year or of the run (of
    ``n_weeks``): the persons panel records every person then."""
    return (day + timedelta(days=7)).year != day.year or week + 1 >= n_weeks


@dataclass
class WeekStats:
    """The aggregates of one week (one row of ``timeseries.parquet``). Names say what they
    are: a stock (count now), a share or rate, or a running total (``_cumulative``).
    Shares are NaN when their denominator is empty."""

    week: int = 0
    date: str = ""
    population: int = 0
    households: int = 0
    employed: int = 0
    unemployed: int = 0
    in_training: int = 0
    retired: int = 0
    labour_force: int = 0
    unemployment_rate: float = 0.0
    jobs_lost_cumulative: int = 0
    displaced_cumulative: int = 0
    displaced_reemployed: int = 0
    ei_beneficiaries: int = 0
    ei_exhausted_cumulative: int = 0
    vacancies: float = 0.0
    hires: int = 0
    separations: int = 0
    households_under_strain: int = 0
    births_cumulative: int = 0
    deaths_cumulative: int = 0
    in_migrants_cumulative: int = 0
    out_migrants_cumulative: int = 0
    strain_out_migrants_cumulative: int = 0
    mean_distress: float = NA
    share_high_distress: float = NA
    mean_distress_employed: float = NA
    mean_distress_unemployed: float = NA
    share_high_distress_employed: float = NA
    share_high_distress_unemployed: float = NA
    in_need: int = 0
    support_received_share: float = NA
    formal_service_reach: float = NA
    unmet_need_share: float = NA
    mean_distress_displaced: float = NA
    share_high_distress_displaced: float = NA
    support_received_share_displaced: float = NA
    formal_service_reach_displaced: float = NA
    unmet_need_share_displaced: float = NA
    disclosures: int = 0
    helping_acts: int = 0
    helpers_trained: int = 0
    trained_helpers_reached_share: float = NA
    guide_copies_cumulative: int = 0
    guide_readers_cumulative: int = 0
    helper_referrals_cumulative: int = 0
    self_referrals_cumulative: int = 0
    org_referrals_cumulative: int = 0
    service_clients: int = 0
    service_waiting: int = 0
    psychosocial_waiting: int = 0
    psychosocial_admitted: int = 0
    psychosocial_wait_weeks: float = NA
    knows_services_share: float = NA
    cohesion_index: float = NA
    belonging_mean: float = NA
    participation_rate: float = NA
    engagement_share: float = NA
    tie_integrity: float = NA
    org_partnership_density: float = NA
    org_cross_sector_share: float = NA
    interventions_active: str = ""


STAT_NAMES = tuple(f.name for f in fields(WeekStats))


def _read_stat(name: str, model: "CohesionModel"):
    """DataCollector reporter: an aggregate the step has already computed."""
    return getattr(model.stats, name)


class WeekCollector(mesa.DataCollector):
    """Mesa's DataCollector for the weekly aggregates. The model's reporters
    (``_read_stat``) return numbers and strings the step has already computed, which
    need no copy: once Mesa has validated the reporters (the first ``collect``), their
    values are appended as they are, without the ``deepcopy`` Mesa makes of each value.
    With any other reporter, ``collect`` is Mesa's."""

    def collect(self, model) -> None:
        if not self._validated or self.agent_reporters or self.agenttype_reporters:
            super().collect(model)
            return
        stats, values = model.stats, []
        for var, reporter in self.model_reporters.items():
            if type(reporter) is not partial or reporter.func is not _read_stat:
                super().collect(model)
                return
            values.append((var, getattr(stats, reporter.args[0])))
        self._collection_steps.append(model.time)
        columns = self.model_vars
        for var, value in values:
            columns[var].append(value)


@contextmanager
def _interrupt_between_weeks():
    """Defer Ctrl-C to the end of the week: yields a function that raises
    ``KeyboardInterrupt`` if SIGINT arrived since the last call. An interrupt raised
    where it arrives could be lost, when it arrives while compiled code is being loaded
    (Numba runs Python callbacks from native code, where exceptions are dropped). Only
    Python's default handler, in the main thread, is replaced."""
    arrived: list[int] = []

    def check() -> None:
        if arrived:
            arrived.clear()
            raise KeyboardInterrupt

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield check
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: arrived.append(signum))
    try:
        yield check
        check()
    finally:
        signal.signal(signal.SIGINT, previous)


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

    def __init__(self, scale: float | None = None, start: str | None = None, end: str | None = None,
                 scenario: str = "baseline", config_file=None, overrides: dict | None = None,
                 rng: int | None = None, **params):
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

        self.territory = load_territory(config_root() / "territory",
                                        density_scale_km=cfg["run.density_scale_km"])
        self.municipality_names = list(self.territory.municipalities["name"])
        self.timeline = Timeline.load()
        waves = self.timeline.waves_between(self.start_date, self.end_date, cfg["run.scale"])
        self.commute = commute_weights(self.territory, cfg)
        self.cell_sampler = CellSampler(self.territory)
        self.population = build_population(cfg, self.territory, self.timeline, waves, self.start_date,
                                           self.streams["population"])
        self.people = self.population.people
        self.households = self.population.households
        self.orgs = self.population.orgs
        self.sectors = self.population.sectors
        self.household_size_shares = np.asarray(cfg["population.household_size_shares"], float)
        self.mean_household_size = float(np.dot(self.household_size_shares,
                                                np.arange(1, len(self.household_size_shares) + 1)))

        # Distress is stored in float32 and compared with the threshold in float32.
        self._high_distress = np.float32(cfg["distress.high_threshold"])
        self._support_memory = int(cfg["support.memory_weeks"])
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

        self.grid = OrthogonalMooreGrid((self.territory.width, self.territory.height), torus=False,
                                        random=self.random, cell_klass=SlottedCell)
        layer = self.grid.create_property_layer("municipality", default_value=-1, dtype=int)
        layer.data[:] = self.territory.cell_municipality
        self.worker_agents: dict[int, Worker] = {}
        self.household_agents: dict[int, Household] = {}
        self.org_agents: dict[int, Organization] = {}
        self._add_household_agents(np.arange(self.households.n))
        self._add_worker_agents(np.arange(self.people.n))
        for row in range(self.orgs.n):
            cell = self.grid[(int(self.orgs.x[row]), int(self.orgs.y[row]))]
            self.org_agents[row] = Organization(self, row, cell, self.population.org_names[row])

        self._count_present()
        self.last_exits = np.zeros(0, np.int64)
        self.stats = WeekStats()
        self.ei_exhausted_total = 0
        self.panel: list[dict[str, np.ndarray]] = []
        self.cohorts = Cohorts(self)  # reads the arrays at the end of each week, changes nothing
        self.datacollector = WeekCollector(
            model_reporters={name: partial(_read_stat, name) for name in STAT_NAMES})
        self._aggregate(np.zeros(0, np.int64))  # the state at the start, before the first week
        self.running = True

    PERSON_MEASURES = ("distress", "support_received", "belonging", "in_service", "participates")

    def person_measure(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A per-person figure for maps, as (values, defined) over all rows: distress,
        belonging and participation of adults; support received (in the last
        ``support.memory_weeks`` weeks) and being in a formal service, of adults in high
        distress."""
        P = self.people
        n = P.n
        adult = np.zeros(n, bool)
        adult[self.adults] = True
        if name in ("distress", "belonging", "participates"):
            return getattr(P, name)[:n].astype(float), adult
        need = np.zeros(n, bool)
        need[self.need] = True
        if name == "support_received":
            return (self.week - P.support_week[:n] < self.config["support.memory_weeks"]).astype(float), need
        if name == "in_service":
            return (P.service[:n] >= 0).astype(float), need
        raise KeyError(f"unknown person measure {name!r}; known: {', '.join(self.PERSON_MEASURES)}")

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
        self.need = aggregates.at_or_above(self.adults, self.people.distress, self._high_distress)

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
    def _add_household_agents(self, rows: np.ndarray, free: list | None = None) -> None:
        H = self.households
        self._place(self.household_agents, Household, free or [], rows, H.x[rows], H.y[rows])

    def _add_worker_agents(self, rows: np.ndarray, free: list | None = None) -> None:
        H, P = self.households, self.people
        hh = P.household[rows]
        self._place(self.worker_agents, Worker, free or [], rows, H.x[hh], H.y[hh])

    def _place(self, agents: dict, cls, free: list, rows: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
        """Agents for ``rows`` at cells (``xs``, ``ys``): the ``free`` agents (of rows that
        left) re-bound first, in row order, then new ones; free agents left over are
        removed. Unique ids are handed out in row order either way."""
        grid = self.grid
        k = min(len(free), len(rows))
        for agent, r, x, y in zip(free, rows[:k].tolist(), xs[:k].tolist(), ys[:k].tolist()):
            agent.rebind(r, grid[(x, y)])
            agents[r] = agent
        for r, x, y in zip(rows[k:].tolist(), xs[k:].tolist(), ys[k:].tolist()):
            agents[r] = cls(self, r, grid[(x, y)])
        for agent in free[k:]:
            agent.remove()

    def _sync_agents(self, entered: np.ndarray, exited: np.ndarray, first_new_household: int) -> None:
        """Give the agents of persons and households gone to the new rows; create or remove
        the difference (see ``model/agents.py``)."""
        if len(exited) == 0 and len(entered) == 0 and self.households.n == first_new_household:
            return  # households and persons change only through demography
        pop = self.worker_agents.pop
        # None: born this week and gone with the household, never given an agent.
        free_workers = [a for a in map(pop, exited.tolist(), [None] * len(exited)) if a is not None]
        H = self.households
        gone = np.flatnonzero(~H.present[:first_new_household] & (H.exit_week[:first_new_household] == self.week))
        pop = self.household_agents.pop
        free_households = [a for a in map(pop, gone.tolist(), [None] * len(gone)) if a is not None]
        self._add_household_agents(np.arange(first_new_household, H.n), free_households)
        alive_new = entered[self.people.present[entered]]
        self._add_worker_agents(alive_new, free_workers)

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
        self._sync_agents(entered, exited, first_new_household)
        if len(entered) or len(exited) or self.households.n != first_new_household:
            self._count_present()  # only the demography adds and removes persons and households
        self._aggregate(paid)
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

    def _aggregate(self, paid: np.ndarray) -> None:
        P = self.people
        # Everyone with a labour-force status is a present adult (children hold CHILD until
        # working age, persons who left hold GONE), so the adults' tally by status is the
        # whole population's for those statuses.
        self._adult_tally = aggregates.adult_summary(self.adults, P.distress, P.status, self._high_distress,
                                                     P.knows_services, len(Status.NAMES))
        counts = self._adult_tally[0]
        s = self.stats
        s.week = self.week
        s.date = self.date.isoformat()
        s.population = self.n_present
        s.households = self.n_households
        s.employed = int(counts[Status.EMPLOYED])
        s.unemployed = int(counts[Status.UNEMPLOYED])
        s.in_training = int(counts[Status.TRAINING])
        s.retired = int(counts[Status.RETIRED])
        s.labour_force = s.employed + s.unemployed
        s.unemployment_rate = s.unemployed / s.labour_force if s.labour_force else NA
        s.jobs_lost_cumulative = self.shocks.jobs_lost
        displaced = self.shocks.displaced
        s.displaced_cumulative = len(displaced)
        # The laid-off workers of the timeline still in the RCM, and those in high distress.
        self._displaced_here, self._displaced_high, reemployed = aggregates.displaced_summary(
            displaced, P.present, P.status, P.distress, self._high_distress, Status.EMPLOYED)
        s.displaced_reemployed = int(reemployed)
        s.ei_beneficiaries = len(paid)
        self.ei_exhausted_total += int(np.count_nonzero(P.ei_left[paid] == 0))
        s.ei_exhausted_cumulative = self.ei_exhausted_total
        s.vacancies = float(self.labour.vacancies.sum())
        s.hires = self.labour.hires
        s.separations = self.labour.separations
        s.households_under_strain = self.finances.strained
        c = self.demography.counts
        s.births_cumulative = c["births"]
        s.deaths_cumulative = c["deaths"]
        s.in_migrants_cumulative = c["in_migrants"]
        s.out_migrants_cumulative = c["moved_alone"] + c["moved_with_household"]
        s.strain_out_migrants_cumulative = c["strain_moved"]
        self._aggregate_social()

    def _aggregate_social(self) -> None:
        P, s = self.people, self.stats
        adult = self.adults
        count, total, n_high, need, knows = self._adult_tally
        s.mean_distress = float(total.sum() / count.sum()) if len(adult) else NA
        s.share_high_distress = float(n_high.sum() / count.sum()) if len(adult) else NA
        e, u = int(count[Status.EMPLOYED]), int(count[Status.UNEMPLOYED])
        s.mean_distress_employed = float(total[Status.EMPLOYED]) / e if e else NA
        s.mean_distress_unemployed = float(total[Status.UNEMPLOYED]) / u if u else NA
        s.share_high_distress_employed = float(n_high[Status.EMPLOYED]) / e if e else NA
        s.share_high_distress_unemployed = float(n_high[Status.UNEMPLOYED]) / u if u else NA
        s.in_need = len(need)
        (s.support_received_share, s.formal_service_reach, s.unmet_need_share) = self._reach(need)
        dis, dis_high = self._displaced_here, self._displaced_high
        s.mean_distress_displaced = float(P.distress[dis].mean()) if len(dis) else NA
        s.share_high_distress_displaced = len(dis_high) / len(dis) if len(dis) else NA
        (s.support_received_share_displaced, s.formal_service_reach_displaced,
         s.unmet_need_share_displaced) = self._reach(dis_high)
        sup = self.support
        s.disclosures = sup.disclosures
        s.helping_acts = sup.acts
        if sup.trained_total:
            trained = adult[P.trained_week[adult] >= 0]
            s.helpers_trained = len(trained)
            s.trained_helpers_reached_share = float(P.met_distressed[trained].mean()) if len(trained) else NA
        else:
            s.helpers_trained, s.trained_helpers_reached_share = 0, NA
        guide = self.interventions["guide"]
        s.guide_copies_cumulative = guide.copies
        s.guide_readers_cumulative = guide.readers
        c = self.services.counts
        s.helper_referrals_cumulative = c["helper_referrals"]
        s.self_referrals_cumulative = c["self_referrals"]
        s.org_referrals_cumulative = c["org_referrals"]
        s.service_clients = self.services.clients
        s.service_waiting = self.services.waiting
        s.psychosocial_waiting = self.services.psy_waiting
        s.psychosocial_admitted = self.services.psy_admitted
        s.psychosocial_wait_weeks = self.services.psy_wait_weeks
        s.knows_services_share = knows / len(adult) if len(adult) else NA
        b = self.belonging
        s.belonging_mean = b.belonging_mean
        s.participation_rate = b.participation_rate
        s.engagement_share = b.engaged_share if b.engaged_share == b.engaged_share else s.participation_rate
        s.tie_integrity = b.tie_integrity
        s.org_partnership_density = self.committees.density
        s.org_cross_sector_share = self.committees.cross_sector_share
        # The mean of the four (NaN if any is): np.mean's additions, in the same order.
        s.cohesion_index = (float(s.belonging_mean) + float(s.participation_rate) + float(s.tie_integrity)
                            + float(s.org_partnership_density)) / 4
        s.interventions_active = self.interventions.active_names

    def _reach(self, need: np.ndarray) -> tuple[float, float, float]:
        """Shares of ``need`` with informal support felt now, in a formal service, and with neither."""
        if len(need) == 0:
            return NA, NA, NA
        P = self.people
        supported, served, neither = aggregates.reach_counts(need, P.support_week, P.service, self.week,
                                                             self._support_memory)
        return supported / len(need), served / len(need), neither / len(need)

    def _record_panel(self) -> None:
        """One row per person present at any time during the current year."""
        P, H = self.people, self.households
        n = P.n
        year_start_week = max(0, self.week - (self.date - date(self.date.year, 1, 1)).days // 7)
        rows = np.flatnonzero(P.present[:n] | (P.exit_week[:n] >= year_start_week))
        reason = P.exit_reason[rows]
        status = P.status[rows]
        status = np.where(status == Status.GONE, P.status_at_exit[rows], status).astype(np.int8)
        self.panel.append({
            "person_id": rows.astype(np.int32),
            "household_id": P.household[rows].astype(np.int32),
            "municipality": H.municipality[P.household[rows]].astype(np.int16),
            "year": np.full(len(rows), self.date.year, np.int16),
            "age": np.floor(P.age[rows]).astype(np.int16),
            "female": P.female[rows].copy(),
            "employment_status": status,
            "sector": P.sector[rows].copy(),
            "hourly_wage": P.wage[rows].copy(),
            "ever_displaced": P.ever_displaced[rows].copy(),
            "ei_exhausted": P.ei_exhausted[rows].copy(),
            "distress": np.where(P.age[rows] >= WORKING_AGE, P.distress[rows],
                                 np.nan).astype(np.float32),
            "support_ties": self.ties.count(rows),
            "supported_weeks_ago": np.minimum(self.week - P.support_week[rows], 9999).astype(np.int16),
            "in_service": P.service[rows] >= 0,
            "knows_services": P.knows_services[rows].copy(),
            "trained_helper": P.trained_week[rows] >= 0,
            "helps": P.helps[rows].copy(),
            "belonging": P.belonging[rows].copy(),
            "participates": P.participates[rows].copy(),
            "marginalized": P.marginalized[rows].copy(),
            "moved_out": (reason == Exit.MOVED_ALONE) | (reason == Exit.MOVED_WITH_HOUSEHOLD),
            "died": reason == Exit.DIED,
        })

    def run(self, progress=None) -> None:
        """Run to the end date; ``progress`` is called with the week after each step.
        Ctrl-C stops the run (``KeyboardInterrupt``) at the end of the week under way."""
        with _interrupt_between_weeks() as check:
            while self.running:
                self.step()
                check()
                if progress is not None:
                    progress(self.week)
