"""The labour market's weekly step, in the order of the ODD (section 7.2): retirement,
separations, retraining, leaving and entering the labour force, then matching."""

from __future__ import annotations

import numpy as np

from ...constants import DEMOGRAPHY_PERIOD_WEEKS, HOURS_PER_WEEK
from ...state import Status, tenure_years
from ...streams import bernoulli
from .. import employment_insurance as ei
from . import life_course
from .demand import LabourDemand, vacancies_of
from .jobs import Hires, Pay, employ_kernel, employers_by_pull, first_job_since_layoff_kernel
from .life_course import (
    LifeCourseAges,
    LifeCourseGroups,
    life_course_groups_kernel,
    retire_kernel,
    retraining_kernel,
    separate_kernel,
    staff_plants,
)
from .matching import effort_of_kernel, match, searching_kernel
from .pools import pools_after_week_kernel, refresh_pools_kernel, scan_pools_kernel
from .rows import (
    AGE_SEARCH_BANDS,
    BLOCK,
    INACTIVE,
    NO_DRAWS,
    NO_ROWS,
    TRAINING,
    UNEMPLOYED,
    Jobless,
    KeptPools,
    Persons,
    Pool,
    Search,
    SearchTerms,
)

SEVERANCE_DEFAULT_WEEKS = 0  # weeks of severance for background separations (the timeline gives the plants')


class LabourMarket:
    """Job stocks and the weekly labour-market step (vectorised over all persons)."""

    def __init__(self, model):
        cfg = model.config
        lab = cfg.section("labour")
        self.p = lab
        self.model = model
        self.sectors = model.sectors
        self.n_sec = len(self.sectors)
        self.manuf = self.sectors.index("manufacturing") if "manufacturing" in self.sectors else -1
        self.wages = np.asarray(lab["hourly_wage"], float)
        self.pay = Pay(
            self.wages,
            np.array([lab["wage_loss_men"], lab["wage_loss_women"], lab["wage_loss_short_tenure"]], float),
            float(lab["long_tenure_years"]),
            float(lab["minimum_wage"]),
        )
        self.ages = LifeCourseAges.of_rules()
        self.training_window = life_course.TRAINING_WINDOW_WEEKS
        P = model.people
        cap = len(P.status)
        self.pool = Pool(np.zeros(cap, np.bool_), np.zeros(cap // BLOCK + 1, np.int64), np.zeros(self.n_sec, np.int64))
        self._positions = np.arange(cap)
        self._group_rows = np.empty((3, 0), np.int64)  # scratch lists of rows for the life-course groups
        scan_pools_kernel(P.n, self.persons(), self.pool)
        held = self.pool.held.astype(float)
        status = P.status[: P.n]
        self.demand = LabourDemand(
            cfg,
            model.start_date,
            model.n_weeks,
            int(((status == Status.EMPLOYED) | (status == Status.UNEMPLOYED)).sum()),
            held / held.sum(),
        )  # jobs outside the plants keep their initial mix
        self.jobs = held
        self.vacancies = np.zeros(self.n_sec)
        self.employers = employers_by_pull(model.commute, model.population.employers_by_sector, model.orgs.municipality)
        self.hires = 0
        self.separations = 0
        self.period = DEMOGRAPHY_PERIOD_WEEKS
        # The pools as the last step left them, taken over by the next week's step (None:
        # found again by a scan of all rows).
        self._pools_kept: KeptPools | None = None
        self._laid_off: list[np.ndarray] = []  # rows laid off since the last step
        self.restaffed = False  # a plant took job seekers or inactive persons since the last step

    def persons(self) -> Persons:
        """The person columns the kernels take."""
        return Persons.of(self.model.people)

    def search_terms(self, boost: float) -> SearchTerms:
        """The parameters of search effort with the transition ``boost`` of this week."""
        p = self.p
        return SearchTerms(
            AGE_SEARCH_BANDS,
            np.asarray(p["search_by_age"], float),
            float(p["long_tenure_years"]),
            float(p["long_tenure_search"]),
            float(p["training_search_boost"]),
            float(boost),
            float(p["cross_sector_search"]),
        )

    def per_period(self, name: str) -> float:
        """Probability over one life-course period of an event with weekly rate ``name``."""
        return 1.0 - (1.0 - self.p[name]) ** self.period

    # -- events requested by other submodels ---------------------------------------
    def displace(self, ids: np.ndarray, closure: int, severance_weeks: int) -> None:
        """Lay off ``ids`` in a wave of ``closure``."""
        m, P = self.model, self.model.people
        P.displaced_wage[ids] = P.wage[ids]
        P.job_end[ids] = m.week
        P.displaced_tenure[ids] = tenure_years(P, ids, m.week)
        P.status[ids] = Status.UNEMPLOYED
        P.employer[ids] = -1
        P.at_plant[ids] = False
        P.ever_displaced[ids] = True
        P.displaced_week[ids] = m.week
        P.displaced_by[ids] = closure
        P.reemployed_week[ids] = -1
        P.spell_start[ids] = m.week
        ei.open_claims(P, ids, m.ei_rules, m.ei_region_rate, m.date, m.week, severance_weeks)
        self._laid_off.append(np.asarray(ids, np.int64))
        self.demand.lose(len(ids))

    def give_jobs(self, ids: np.ndarray, sector: np.ndarray, rng: np.random.Generator) -> None:
        """Employ ``ids`` in the given sectors at a background employer near home."""
        if len(ids) == 0:
            return
        ids = np.asarray(ids, np.int64)
        if self._pools_kept is not None and ids.min() < self._pools_kept.n_rows:
            self._pools_kept = None  # rows the pools hold: they are found again by a scan
        P = self.persons()
        first, n_first = first_job_since_layoff_kernel(ids, P)
        self._employ(ids, np.asarray(sector, np.int64), first, n_first, rng, P)

    def _employ(self, ids, sector, first, n_first, rng, P: Persons) -> None:
        """Employ ``ids`` in ``sector``; ``first`` marks the displaced workers in their
        first job since the layoff (``n_first`` of them). The draws, in order: the
        employer, the wage's spread, the wage loss of those ``first``."""
        where = rng.random(len(ids))
        spread = np.exp(rng.normal(0.0, self.p["wage_sigma"], len(ids)))
        loss = rng.random(n_first) if n_first else NO_DRAWS
        employ_kernel(
            Hires(ids, sector, where, spread, first, loss),
            self.model.week,
            self.employers,
            self.pay,
            self.model.households.municipality,
            P,
        )

    # -- the weekly step ---------------------------------------------------------------
    def restaff(self) -> None:
        """Before the week's layoff waves: replace plant workers who left last week."""
        m = self.model
        # Only when a plant still has waves to come and someone left the RCM last week.
        if m.shocks.remaining and len(m.last_exits) and m.model_people_left_plants():
            staff_plants(self, m.streams["labour"])

    def _staff_plants(self, rng: np.random.Generator) -> None:
        """Replace plant workers gone before their layoff wave (:func:`.life_course.staff_plants`)."""
        staff_plants(self, rng)

    def step(self) -> None:
        """One week: retirement (every period), separations, retraining, leaving and
        entering the labour force (every period), then matching; the draws in this order."""
        m, p = self.model, self.p
        rng = m.streams["labour"]
        life_course = m.demography.period_ends(m.week)
        boost = self._transition_boost()
        P = self.persons()
        jobless, aged = self._pools(boost, P)
        inactive = NO_ROWS
        if life_course:
            inactive = self._retire(rng, P, jobless)
        # Separations outside the plants (plants lose workers only in the timeline's
        # waves): drawn by position among those at work outside the plants, in row order.
        positions = bernoulli(rng, self._positions[: self.pool.held.sum()], p["separation_rate"])
        claim = m.ei_rules.claim(m.ei_region_rate, m.date, m.week, SEVERANCE_DEFAULT_WEEKS)
        separated = separate_kernel(positions, m.week, claim, P, self.pool)
        self.separations = len(separated)
        seeking, recent = retraining_kernel(jobless, m.week, self.training_window, P)
        start = bernoulli(rng, recent, p["displaced_training_rate"])
        P.status[start] = TRAINING
        P.training_left[start] = int(p["training_weeks"])
        enter = NO_ROWS
        if life_course:  # leaving and entering the labour force
            leave = bernoulli(rng, seeking[P.status[seeking] == UNEMPLOYED], self.per_period("leave_labour_force_rate"))
            enter = bernoulli(rng, inactive, self.per_period("enter_labour_force_rate"))
            P.status[leave] = INACTIVE
            ei.close_claims(m.people, leave)
            P.status[enter] = UNEMPLOYED
            P.spell_start[enter] = m.week
        # The week's job seekers: the jobless still searching or back from retraining,
        # those who just lost their job and those who just entered the labour force.
        terms = self.search_terms(boost)
        rows, effort, kind, seekers, seeker_effort, last, aimed = searching_kernel(
            jobless, separated, enter, aged, P, terms, self.n_sec
        )
        searching = Jobless(rows, effort, kind)
        self.jobs = self._labour_demand()
        search = Search(seekers, seeker_effort, last, aimed, vacancies_of(self.jobs, self.pool.held))
        ids, sector = self._match(rng, self.pool.held, search, P)
        # The pools as this week leaves them, for the next.
        left = Jobless(*pools_after_week_kernel(ids, sector, searching, self.pool))
        self._pools_kept = KeptPools(m.week, m.people.n, left, boost)
        self._laid_off.clear()
        self.restaffed = False

    def _retire(self, rng: np.random.Generator, P: Persons, jobless: Jobless) -> np.ndarray:
        """Retirement (every period): at the retirement age, early from
        ``EARLY_RETIREMENT_AGE``, and displaced job seekers from
        ``DISPLACED_RETIREMENT_AGE`` (:mod:`.life_course`). Returns the inactive under the
        entry age."""
        n = self.model.people.n
        if self._group_rows.shape[1] < n:
            self._group_rows = np.empty((3, len(P.status)), np.int64)
        g = LifeCourseGroups(
            *life_course_groups_kernel(n, P, self.pool.member, jobless.rows, self.ages, self._group_rows)
        )
        pr = self.per_period
        retire = np.concatenate(
            [
                bernoulli(rng, g.employed_old, pr("retirement_rate_65")),
                bernoulli(rng, g.employed_early, pr("retirement_rate_60")),
                g.jobless_old,
                bernoulli(rng, g.jobless_early, pr("retirement_rate_60")),
                bernoulli(rng, g.displaced_older, pr("displaced_retirement_rate")),
            ]
        )
        weekly_pension = float(self.model.config["strain.pension_share"]) * HOURS_PER_WEEK
        retire_kernel(retire, self.model.week, weekly_pension, P, self.pool)
        return g.inactive

    @property
    def jobless(self) -> np.ndarray:
        """The rows searching for a job or retraining as the last step left them, sorted
        (the rows a scan of the statuses would find then; to be read, not changed)."""
        if self._pools_kept is None:  # no step yet
            P = self.model.people
            status = P.status[: P.n]
            return np.flatnonzero((status == Status.UNEMPLOYED) | (status == Status.TRAINING))
        return self._pools_kept.jobless.rows

    def _transition_boost(self) -> float:
        """How much harder displaced workers search this week."""
        iv = self.model.interventions
        if iv.active("recovery_committee"):  # the employment-transition subcommittee
            return iv.params("recovery_committee")["transition_search_boost"]
        return 1.0

    def _pools(self, boost: float, P: Persons) -> tuple[Jobless, bool]:
        """The jobless (searching or retraining, sorted) with the search effort and kind
        the last step found for them (effort NaN: to be found; all of it if the transition
        ``boost`` changed), and whether ages changed since (demography weeks); ``pool``
        brought up to date. Taken over from the last step when it was last week (only rows
        that left, came or were laid off since are looked at), from a scan otherwise."""
        m, people = self.model, self.model.people
        kept = self._pools_kept
        if len(self.pool.member) < len(people.status):  # more rows: the marks and counts grow
            cap = len(people.status)
            member, blocks, held = self.pool
            self.pool = Pool(
                np.concatenate([member, np.zeros(cap - len(member), np.bool_)]),
                np.concatenate([blocks, np.zeros(cap // BLOCK + 1 - len(blocks), np.int64)]),
                held,
            )
            self._positions = np.arange(cap)
        if kept is None or kept.week != m.week - 1:
            rows = scan_pools_kernel(people.n, P, self.pool)
            return Jobless(rows, np.full(len(rows), np.nan), np.zeros((len(rows), 2), np.int64)), False
        jobless = kept.jobless
        if boost != kept.boost:
            jobless = Jobless(jobless.rows, np.full(len(jobless.rows), np.nan), jobless.kind)
        # Persons leave the RCM and arrive in demography weeks; plants take and lay off
        # workers in the weeks of the timeline.
        if self._laid_off or self.restaffed or people.n != kept.n_rows or len(m.last_exits):
            laid_off = np.sort(np.concatenate(self._laid_off)) if self._laid_off else NO_ROWS
            jobless = Jobless(
                *refresh_pools_kernel(
                    jobless, laid_off, np.asarray(m.last_exits, np.int64), kept.n_rows, people.n, P, self.pool
                )
            )
        return jobless, m.week % self.period == 0

    def _labour_demand(self) -> np.ndarray:
        """This week's jobs outside the plants, by sector (:class:`LabourDemand`)."""
        m = self.model
        if m.week > 0:
            self.demand.labour_force = m.stats.labour_force
        return self.demand.jobs(
            m.date, sum(m.shocks.remaining.values()), m.interventions.extra_jobs(m.config["run.scale"])
        )  # recovery committee, CSSS 2011

    def _match(
        self, rng: np.random.Generator, held: np.ndarray, search: Search | None = None, P: Persons | None = None
    ):
        """Hires this week (see :mod:`.matching`); ``held`` counts the jobs held outside
        the plants, by sector. ``search``: the week's seekers with their effort and the
        vacancies; by default every unemployed person, searching for ``self.jobs``.
        Returns the rows hired and their sectors."""
        P = self.persons() if P is None else P
        if search is None:
            self._pools_kept = None  # statuses change outside the step: the pools are found again
            search = self._search_of_the_unemployed(held, P)
        self.vacancies = search.vacancies
        self.hires = 0
        if not (search.vacancies > 0).any() or len(search.seekers) == 0:
            return NO_ROWS, NO_ROWS
        p = self.p
        ids, sector, first, n_first = match(
            rng, search, p["cross_sector_search"], p["matching_efficiency"], p["matching_elasticity"], P
        )
        if len(ids):
            self._employ(ids, sector, first, n_first, rng, P)
        self.hires = len(ids)
        return ids, sector

    def _search_of_the_unemployed(self, held: np.ndarray, P: Persons) -> Search:
        """Every unemployed person searching for the jobs ``self.jobs`` not ``held``."""
        seekers = np.flatnonzero(P.status[: self.model.people.n] == Status.UNEMPLOYED)
        effort, last, aimed = effort_of_kernel(seekers, P, self.search_terms(self._transition_boost()), self.n_sec)
        return Search(seekers, effort, last, aimed, vacancies_of(self.jobs, held))
