"""Labour market: separations, retirement, retraining, job search and re-employment.

Jobs outside the timeline's plants are held as a stock per sector (``jobs``); vacancies
are jobs minus the people holding them. Each week, hires in sector s follow a matching
function ``M_s = min(V_s, mu * S_s**a * V_s**(1-a))`` where ``S_s`` is the search effort
directed at s: every job seeker searches hardest in the sector of their last job and
with ``cross_sector_search`` intensity in the others; effort falls with age and long
tenure (firm-specific skills) and rises after retraining. A seeker's chance of a job in
s is their share of ``S_s`` times ``M_s``, so local vacancies, age, tenure and sector all
shape re-employment.

The number of jobs outside the plants is the labour demand of the regional economy: in
the long run it absorbs the local labour force (those not working at a plant) at a
structural unemployment rate, scaled by a yearly demand index (the 2008-2009 recession);
the jobs the closures destroy are missing from it until the regional economy replaces
them, a share of them with a half-life. Displaced workers who find a job take a wage cut
(Canadian displaced-worker losses), older displaced workers retire, some retrain.
Plant workers leave their plant only through the timeline's layoff waves; a plant
replaces workers who die or move away so that every wave can be filled.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from ..constants import DEMOGRAPHY_PERIOD_WEEKS, HOURS_PER_WEEK, RETIREMENT_AGE
from ..jit import kernel
from ..population import WEEKS_PER_YEAR
from ..state import Status, tenure_years
from ..streams import bernoulli
from . import employment_insurance as ei

AGE_SEARCH_BANDS = np.array([0, 25, 45, 55, 60, 200], float)
EARLY_RETIREMENT_AGE = 60.0  # years: employed persons and job seekers never displaced may retire early from here
DISPLACED_RETIREMENT_AGE = 55.0  # years: displaced job seekers may retire from here (their rate is calibrated with it)
ENTRY_MAX_AGE = 60.0  # years: persons outside the labour force start searching only below this age
TRAINING_WINDOW_WEEKS = 52  # weeks after a layoff in which retraining may start (its rate is calibrated with it)
MAX_HIRE_PROBABILITY = 0.95  # a job seeker is hired in a week with at most this probability (a numerical cap)
PLANT_RESTAFF_AGES = (18.0, 60.0)  # years (from, below): inactive adults hired when the unemployed cannot fill
#   the places of plant workers gone before their layoff wave
SEVERANCE_DEFAULT_WEEKS = 0  # weeks of severance for background separations (the timeline gives the plants')
_NO_ROWS = np.zeros(0, np.int64)
_NO_DRAWS = np.zeros(0)
BLOCK = 128  # rows per block in the counts of those employed outside the plants
EMPLOYED, UNEMPLOYED, TRAINING, RETIRED, INACTIVE = (Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING,
                                                    Status.RETIRED, Status.INACTIVE)


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
        self.search_by_age = np.asarray(lab["search_by_age"], float)
        # Range of the wage loss of displaced workers re-employed: men, women (long
        # tenure), short tenure.
        self.wage_loss = np.array([lab["wage_loss_men"], lab["wage_loss_women"], lab["wage_loss_short_tenure"]],
                                  float)
        people, orgs = model.people, model.orgs
        n = people.n
        status = people.status[:n]
        # Who is employed outside the plants, by row, and how many in each block of
        # BLOCK rows: the i-th of them is found without a list.
        self._in_pool = np.zeros(len(people.status), np.bool_)
        self._pool_blocks = np.zeros(len(people.status) // BLOCK + 1, np.int64)
        self._positions = np.arange(len(people.status))
        self._group_rows = np.empty((3, 0), np.int64)  # scratch lists of rows for the life-course groups
        _, held = _labour_pools_kernel(n, people.status, people.at_plant, people.sector, self.n_sec, self._in_pool,
                                       self._pool_blocks, BLOCK)
        e0 = held.astype(float)
        self.sector_share = e0 / e0.sum()  # jobs outside the plants keep their initial mix
        self.labour_force = int(((status == Status.EMPLOYED) | (status == Status.UNEMPLOYED)).sum())
        reg = cfg.section("regional_economy")
        self.structural_rate = reg["structural_unemployment_rate"]
        self.replacement_share = reg["job_replacement_share"]
        self.replace_per_week = 1.0 - 0.5 ** (1.0 / (reg["job_replacement_halflife_years"] * WEEKS_PER_YEAR))
        self.deficit = 0.0  # lost plant jobs the regional economy will still replace
        self.lost_for_good = 0.0  # lost plant jobs it never replaces
        self.jobs = e0.copy()
        self.demand_index = np.asarray(reg["job_demand_index"], float)
        first_year = cfg.defs["regional_economy.job_demand_index"].extra.get("years", [2003])[0]
        self.index_mid_years = first_year + 0.5 + np.arange(len(self.demand_index))
        # The index of every week of the run, by date (one interpolation at the start).
        dates = [model.start_date + timedelta(days=7 * w) for w in range(model.n_weeks)]
        self._index_of_date = dict(zip(dates, np.interp([_year_fraction(d) for d in dates], self.index_mid_years,
                                                        self.demand_index)))
        self.vacancies = np.zeros(self.n_sec)
        # Where new hires work: for each (sector, home municipality) a cumulative
        # distribution over the sector's employers by commuting pull, laid end to end so
        # one searchsorted draws employers for every hire at once.
        pull = model.commute
        self.n_muni = pull.shape[0]
        keys, rows_of_key = [], []
        for s, rows in enumerate(model.population.employers_by_sector):
            w = pull[:, orgs.municipality[rows]]
            cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
            cdf[:, -1] = 1.0
            keys.append((s * self.n_muni + np.arange(self.n_muni))[:, None] + cdf)
            rows_of_key.append(np.broadcast_to(rows, cdf.shape))
        self.employer_keys = np.concatenate([k.ravel() for k in keys])
        self.employer_of_key = np.concatenate([r.ravel() for r in rows_of_key])
        # Where the keys of each (sector, municipality) start, and the end of the last.
        self.employer_block = np.concatenate([[0], np.cumsum([k.shape[1] for k in keys for _ in range(len(k))])])
        self.hires = 0
        self.separations = 0
        self.period = DEMOGRAPHY_PERIOD_WEEKS
        # The pools as the last step left them, reused next week and brought up to date
        # with the rows laid off or taken by a plant and the persons who came and went:
        # (week, rows, jobless, their search effort, their kind, held, transition boost)
        # and the rows marked in ``_in_pool``, the same a scan of all rows would give. The
        # search effort of each of the jobless (NaN: to be found) was found with the boost
        # and their kind, last sector and age band: it holds as long as they do (ages
        # change in demography weeks) and until retraining ends.
        self._pools_kept: tuple | None = None
        # Found with the week's seekers for the match: (seekers, effort, last sector, effort
        # aimed at each sector, vacancies, whether any, those searching or retraining,
        # their effort and kind).
        self._search: tuple | None = None
        self._pools_left: list | None = None  # (jobless, effort, kind) the week's hires leave
        self._long_tenure_years = np.float32(lab["long_tenure_years"])  # compared with float32 tenures
        self._effort_terms = (AGE_SEARCH_BANDS, self.search_by_age, self._long_tenure_years,
                              float(lab["long_tenure_search"]), float(lab["training_search_boost"]))
        self._laid_off: list[np.ndarray] = []  # rows laid off since the last step
        self._restaffed = False  # a plant took job seekers or inactive persons since the last step

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
        self.deficit += self.replacement_share * len(ids)
        self.lost_for_good += (1.0 - self.replacement_share) * len(ids)

    def give_jobs(self, ids: np.ndarray, sector: np.ndarray, rng: np.random.Generator) -> None:
        """Employ ``ids`` in the given sectors at a background employer near home."""
        if len(ids) == 0:
            return
        P = self.model.people
        ids = np.asarray(ids, np.int64)
        if self._pools_kept is not None and ids.min() < self._pools_kept[1]:
            self._pools_kept = None  # rows the pools hold: they are found again by a scan
        first, n_first = _first_job_since_layoff_kernel(ids, P.ever_displaced, P.reemployed_week)
        self._employ(ids, np.asarray(sector, np.int64), first, n_first, rng)

    def _employ(self, ids: np.ndarray, sector: np.ndarray, first: np.ndarray, n_first: int,
                rng: np.random.Generator) -> None:
        """:meth:`give_jobs`, with ``first`` marking the displaced workers in their first
        job since the layoff (``n_first`` of them)."""
        m, P, p = self.model, self.model.people, self.p
        where = rng.random(len(ids))  # the employer, by commuting pull from home
        spread = np.exp(rng.normal(0.0, p["wage_sigma"], len(ids)))  # wage around the sector's
        # Displaced workers' first job after the layoff pays their old wage less a loss
        # drawn uniformly in the range of their sex and tenure.
        loss = rng.random(n_first) if n_first else _NO_DRAWS
        _employ_kernel(ids, sector, where, spread, first, loss, m.week, self.n_muni, self.employer_keys,
                       self.employer_block, self.employer_of_key, self.wages, self._long_tenure_years,
                       self.wage_loss, p["minimum_wage"], P.household, m.households.municipality, P.female,
                       P.displaced_tenure, P.displaced_wage, P.reemployed_week, P.wage, P.status,
                       P.sector, P.employer, P.at_plant, P.job_start, P.job_end, P.ei_left, P.ei_wait, P.ei_benefit,
                       P.severance_left)

    # -- the weekly step ---------------------------------------------------------------
    def restaff(self) -> None:
        """Before the week's layoff waves: replace plant workers who left last week."""
        m = self.model
        # Only when a plant still has waves to come and someone left the RCM last week.
        if m.shocks.remaining and len(m.last_exits) and m.model_people_left_plants():
            self._staff_plants(m.streams["labour"])

    def step(self) -> None:
        m, P, p = self.model, self.model.people, self.p
        rng = m.streams["labour"]
        life_course = m.demography.period_ends(m.week)
        boost = self._transition_boost()
        # Jobs held outside the plants (by sector) are counted here and kept up to date as
        # people retire or lose their job.
        jobless, held, effort_kept, kind_kept, aged = self._pools(boost)

        # Retirement (every period): at the retirement age, early from
        # ``EARLY_RETIREMENT_AGE``, and displaced workers from ``DISPLACED_RETIREMENT_AGE``.
        if life_course:
            if self._group_rows.shape[1] < P.n:
                self._group_rows = np.empty((3, len(P.status)), np.int64)
            (employed_old, employed_early, jobless_old, jobless_early, displaced_older,
             inactive) = _life_course_groups_kernel(
                P.n, P.status, self._in_pool, P.age, P.ever_displaced, jobless, np.float32(RETIREMENT_AGE),
                np.float32(EARLY_RETIREMENT_AGE), np.float32(DISPLACED_RETIREMENT_AGE),
                np.float32(ENTRY_MAX_AGE), self._group_rows)
            pr = self.per_period
            retire = np.concatenate([
                bernoulli(rng, employed_old, pr("retirement_rate_65")),
                bernoulli(rng, employed_early, pr("retirement_rate_60")),
                jobless_old,
                bernoulli(rng, jobless_early, pr("retirement_rate_60")),
                bernoulli(rng, displaced_older, pr("displaced_retirement_rate")),
            ])
            _retire_kernel(retire, m.week, np.float32(m.config["strain.pension_share"]),
                           np.float32(HOURS_PER_WEEK), held, P.sector, P.wage, P.pension, P.status, P.job_end,
                           P.employer, self._in_pool, self._pool_blocks, BLOCK, P.ei_left, P.ei_wait, P.ei_benefit,
                           P.severance_left)

        # Background separations (plants lose workers only in the timeline's waves): drawn
        # by position among those at work outside the plants, in row order; they claim EI.
        # Then retraining: entry within ``TRAINING_WINDOW_WEEKS`` of a layoff, completion,
        # then search again.
        positions = bernoulli(rng, self._positions[:held.sum()], p["separation_rate"])
        claim = m.ei_rules.claim(m.ei_region_rate, m.date, m.week, SEVERANCE_DEFAULT_WEEKS)
        sep, seeking, recent = _separate_kernel(
            positions, self._in_pool, self._pool_blocks, BLOCK, m.week, held, P.sector, P.status, P.employer,
            P.job_end, P.spell_start, P.job_start, P.wage, claim, P.ei_entitlement, P.ei_left, P.ei_paid,
            P.ei_exhausted, P.ei_benefit, P.severance_left, P.ei_wait, jobless, P.ever_displaced, P.displaced_week,
            TRAINING_WINDOW_WEEKS, P.retrained, P.training_left, effort_kept)
        self.separations = len(sep)
        start = bernoulli(rng, recent, p["displaced_training_rate"])
        training_weeks = int(p["training_weeks"])

        # Leaving and entering the labour force (every period).
        leave = enter = _NO_ROWS
        if life_course:
            P.status[start] = Status.TRAINING
            P.training_left[start] = training_weeks
            start = _NO_ROWS
            leave = bernoulli(rng, seeking[P.status[seeking] == Status.UNEMPLOYED],
                              self.per_period("leave_labour_force_rate"))
            enter = bernoulli(rng, inactive, self.per_period("enter_labour_force_rate"))

        # The job seekers now (those starting retraining, leaving or entering the labour
        # force this week moved first): the jobless still searching or back from
        # retraining, those who just lost their job and those who just entered the labour
        # force; with their search effort; and the jobs and vacancies outside the plants.
        (seekers, effort, last, effort_by_sector, searching, searching_effort, searching_kind, self.jobs,
         vacancies, any_vacancy) = _seekers_kernel(
            m.week, P.status, P.training_left, P.spell_start, P.ei_left, P.ei_wait, P.ei_benefit, P.severance_left,
            start, training_weeks, leave, jobless, effort_kept, kind_kept, aged, sep, enter, P.age,
            P.ever_displaced, P.displaced_tenure, P.retrained, P.sector, *self._effort_terms, boost,
            p["cross_sector_search"], self._labour_demand(), self.sector_share, held)
        self._search = (seekers, effort, last, effort_by_sector, vacancies, any_vacancy,
                        searching, searching_effort, searching_kind)
        self._pools_left = None
        self._match(rng, held, seekers)
        self._search = None
        # The pools as this week leaves them, for the next (set by the match if it hired).
        kept = self._pools_left or (searching, searching_effort, searching_kind)
        self._pools_kept = (m.week, P.n, *kept, held, boost)
        self._laid_off.clear()
        self._restaffed = False

    @property
    def jobless(self) -> np.ndarray:
        """The rows searching for a job or retraining as the last step left them, sorted
        (the rows a scan of the statuses would find then; to be read, not changed)."""
        if self._pools_kept is None:  # no step yet
            P = self.model.people
            status = P.status[: P.n]
            return np.flatnonzero((status == Status.UNEMPLOYED) | (status == Status.TRAINING))
        return self._pools_kept[2]

    def _transition_boost(self) -> float:
        """How much harder displaced workers search this week."""
        iv = self.model.interventions
        if iv.active("recovery_committee"):  # the employment-transition subcommittee
            return iv.params("recovery_committee")["transition_search_boost"]
        return 1.0

    def _pools(self, boost: float) -> tuple:
        """The rows without a job (searching or retraining), sorted, and the jobs held
        outside the plants by sector; those employed outside the plants are marked in
        ``_in_pool`` and counted by block in ``_pool_blocks``. Taken over from the last
        step when it was last week (only rows that left, came or were laid off since are
        looked at), from a scan of all rows otherwise. Also the search effort, last sector
        and age band of each of the jobless as the last step found them (effort NaN: to be
        found; all to be found if the transition ``boost`` changed), and whether ages
        changed since (demography weeks)."""
        m, P = self.model, self.model.people
        kept = self._pools_kept
        if len(self._in_pool) < len(P.status):  # more rows: the marks and counts grow
            cap = len(P.status)
            self._in_pool = np.concatenate([self._in_pool, np.zeros(cap - len(self._in_pool), np.bool_)])
            self._pool_blocks = np.concatenate([self._pool_blocks,
                                                np.zeros(cap // BLOCK + 1 - len(self._pool_blocks), np.int64)])
            self._positions = np.arange(cap)
        if kept is None or kept[0] != m.week - 1:
            jobless, held = _labour_pools_kernel(P.n, P.status, P.at_plant, P.sector, self.n_sec, self._in_pool,
                                                 self._pool_blocks, BLOCK)
            return jobless, held, np.full(len(jobless), np.nan), np.zeros((len(jobless), 2), np.int64), False
        _, n_kept, jobless, effort, kind, held, kept_boost = kept
        if boost != kept_boost:
            effort = np.full(len(jobless), np.nan)
        # Persons leave the RCM and arrive in demography weeks; plants take and lay off
        # workers in the weeks of the timeline.
        if self._laid_off or self._restaffed or P.n != n_kept or len(m.last_exits):
            laid_off = np.sort(np.concatenate(self._laid_off)) if self._laid_off else _NO_ROWS
            jobless, effort, kind = _refresh_pools_kernel(
                jobless, effort, kind, laid_off, np.asarray(m.last_exits, np.int64), n_kept, P.n, P.status,
                P.at_plant, P.sector, held, self._in_pool, self._pool_blocks, BLOCK)
        return jobless, held, effort, kind, m.week % self.period == 0

    def _labour_demand(self) -> float:
        """Jobs outside the plants: the labour force not working at a plant, at the
        structural unemployment rate, times the year's demand index, less the plant jobs
        lost and not yet replaced (spread over the sectors by ``sector_share``)."""
        m = self.model
        if m.week > 0:
            self.labour_force = m.stats.labour_force
        at_plants = sum(m.shocks.remaining.values())
        self.deficit *= 1.0 - self.replace_per_week
        # The yearly index holds at mid-year; weeks in between are interpolated.
        index = self._index_of_date.get(m.date)
        if index is None:
            index = np.interp(_year_fraction(m.date), self.index_mid_years, self.demand_index)
        total = (self.labour_force - at_plants) * (1.0 - self.structural_rate) * index
        total += m.interventions.extra_jobs(m.config["run.scale"])  # recovery committee, CSSS 2011
        return max(total - self.deficit - self.lost_for_good, 0.0)

    def _match(self, rng: np.random.Generator, held: np.ndarray, seekers: np.ndarray | None = None) -> None:
        """Hires this week; ``held`` counts the jobs held outside the plants, by sector;
        ``seekers`` are the job seekers (sorted; by default every unemployed person). In
        the weekly step, the seekers' search effort and the vacancies come found with
        them (``_search``) and the pools the week leaves are updated with the hires."""
        P, p = self.model.people, self.p
        search = self._search if self._search is not None and self._search[0] is seekers else None
        if search is not None:
            _, effort, last, S, V, any_vacancy, searching, searching_effort, searching_kind = search
        else:
            V, any_vacancy = _vacancies_kernel(self.jobs, held)
        self.vacancies = V
        self.hires = 0
        if not any_vacancy:
            return
        # A seeker directs effort e to the sector of the last job and c * e to each other
        # sector (e everywhere if never employed), so the effort aimed at sector s is
        # S_s = c * sum(e) + (1 - c) * sum(e of those whose last sector is s).
        c = p["cross_sector_search"]
        if seekers is None:
            seekers = np.flatnonzero(P.status[: P.n] == Status.UNEMPLOYED)
        if len(seekers) == 0:
            return
        if search is None:
            effort, last, everywhere, own = _search_effort_kernel(
                seekers, P.age, P.ever_displaced, P.displaced_tenure, P.retrained, P.sector, *self._effort_terms,
                self._transition_boost(), c, self.n_sec)
            S = everywhere.sum() + own
        a = p["matching_elasticity"]
        # Who is hired this week (hires per unit of effort by sector: ``rate``), and in
        # which sector.
        h, rate = _hire_kernel(rng.random(len(seekers)), effort, last, V, S, S ** a, V ** (1 - a),
                               p["matching_efficiency"], c, MAX_HIRE_PROBABILITY)
        sector, by_sector, over = _hire_sector_kernel(rng.random(len(h)), h, last, rate, c, V)
        # No sector hires more people than it has vacancies: a random subset of its hires
        # is kept (the hires of such a sector are shuffled and those past its vacancies dropped).
        for start, end, _ in over.tolist():
            rng.shuffle(by_sector[start:end])
        if search is None:
            ids, sector, first, n_first = _kept_hires_kernel(seekers, h, sector, by_sector, over, P.ever_displaced,
                                                             P.reemployed_week)
        else:
            ids, sector, first, n_first, *self._pools_left = _kept_hires_and_pools_kernel(
                seekers, h, sector, by_sector, over, P.ever_displaced, P.reemployed_week, searching, searching_effort,
                searching_kind, held, self._in_pool, self._pool_blocks, BLOCK)
        if len(ids):
            self._employ(ids, sector, first, n_first, rng)
        self.hires = len(ids)

    def _staff_plants(self, rng: np.random.Generator) -> None:
        """Replace plant workers who died or moved away before their layoff wave."""
        m, P = self.model, self.model.people
        n = P.n
        need = m.shocks.remaining
        if not need:
            return
        self._restaffed = True
        counts, pool_manuf, pool_other = _plant_staff_kernel(n, P.at_plant, P.present, P.employer, P.status, P.sector,
                                                             self.manuf, m.orgs.n)
        status = P.status[:n]
        # Unemployed manufacturing workers first, then other job seekers, then inactive
        # adults of ``PLANT_RESTAFF_AGES``.
        order = [rng.permutation(pool_manuf), rng.permutation(pool_other)]
        shortfall = sum(max(required - counts[row], 0) for row, required in need.items())
        if shortfall > len(pool_manuf) + len(pool_other):
            lo, hi = PLANT_RESTAFF_AGES
            extra = np.flatnonzero((status == Status.INACTIVE) & (P.age[:n] >= lo) & (P.age[:n] < hi))
            order.append(rng.permutation(extra))
        candidates = np.concatenate(order)
        taken = 0
        for row, required in need.items():
            short = int(required - counts[row])
            if short <= 0:
                continue
            ids = candidates[taken:taken + short]
            taken += len(ids)
            if len(ids) == 0:
                continue
            P.status[ids] = Status.EMPLOYED
            P.sector[ids] = self.manuf
            P.employer[ids] = row
            P.at_plant[ids] = True
            P.job_start[ids] = m.week
            P.job_end[ids] = np.nan
            P.wage[ids] = np.maximum(self.wages[self.manuf] * np.exp(rng.normal(0.0, self.p["wage_sigma"], len(ids))),
                                     self.p["minimum_wage"])
            ei.close_claims(P, ids)


def _year_fraction(day: date) -> float:
    """The time of year of ``day`` (mid-day) in years."""
    return day.year + (day.timetuple().tm_yday - 0.5) / 365.25


@kernel
def _labour_pools_kernel(n, status, at_plant, sector, n_sec, in_pool, blocks, block):
    """From a scan of all rows: the rows without a job (searching or retraining),
    sorted; the rows employed outside the plants, marked in ``in_pool`` and counted by
    block of ``block`` rows in ``blocks`` and by sector (the jobs held outside the
    plants, returned)."""
    jobless = np.empty(n, np.int64)
    nj = 0
    blocks[:] = 0
    held = np.zeros(n_sec, np.int64)
    for p in range(n):  # every row is written and kept only if it belongs
        st = status[p]
        e = (st == EMPLOYED) & (not at_plant[p])
        in_pool[p] = e
        if e:
            blocks[p // block] += 1
            held[sector[p]] += 1
        jobless[nj] = p
        nj += (st == UNEMPLOYED) | (st == TRAINING)
    return jobless[:nj], held


@kernel
def _life_course_groups_kernel(n, status, in_pool, age, ever_displaced, jobless, retirement_age, early_age,
                               displaced_age, entry_max_age, rows):
    """The groups at risk of retiring or entering the labour force: those employed
    outside the plants (marked in ``in_pool``) at or past ``retirement_age`` and from
    ``early_age`` below it, the ``jobless`` (sorted) at or past it, the jobless from
    ``early_age`` below it who were not displaced, the displaced jobless from
    ``displaced_age`` below it, and the inactive under ``entry_max_age``. Rows are
    sorted; the first two and the last groups are written to the start of ``rows[0]``,
    ``rows[1]`` and ``rows[2]`` (at least ``n`` long)."""
    employed_old, employed_early, inactive = rows[0], rows[1], rows[2]
    n_old = n_early = ni = 0
    for p in range(n):  # every row is written and kept only if it belongs (no branches)
        a = age[p]
        e = in_pool[p]
        employed_old[n_old] = p
        n_old += e & (a >= retirement_age)
        employed_early[n_early] = p
        n_early += e & (a >= early_age) & (a < retirement_age)
        inactive[ni] = p
        ni += (status[p] == INACTIVE) & (a < entry_max_age)
    mj = len(jobless)
    jobless_old, jobless_early, displaced_older = (np.empty(mj, np.int64), np.empty(mj, np.int64),
                                                   np.empty(mj, np.int64))
    nj_old = nj_early = nd_older = 0
    for p in jobless:
        a = age[p]
        jobless_old[nj_old] = p
        nj_old += a >= retirement_age
        jobless_early[nj_early] = p
        nj_early += (a >= early_age) & (a < retirement_age) & (not ever_displaced[p])
        displaced_older[nd_older] = p
        nd_older += (a >= displaced_age) & (a < retirement_age) & ever_displaced[p]
    return (employed_old[:n_old], employed_early[:n_early], jobless_old[:nj_old], jobless_early[:nj_early],
            displaced_older[:nd_older], inactive[:ni])


@kernel
def _plant_staff_kernel(n, at_plant, present, employer, status, sector, manuf, n_orgs):
    """The workers present at each plant (by organization row), and the unemployed rows
    whose last job was in sector ``manuf`` and the others, sorted."""
    counts = np.zeros(n_orgs, np.int64)
    pool_manuf = np.empty(n, np.int64)
    pool_other = np.empty(n, np.int64)
    nm = no = 0
    for p in range(n):
        if at_plant[p] and present[p]:
            counts[employer[p]] += 1
        if status[p] == UNEMPLOYED:
            if sector[p] == manuf:
                pool_manuf[nm] = p
                nm += 1
            else:
                pool_other[no] = p
                no += 1
    return counts, pool_manuf[:nm], pool_other[:no]


@kernel
def _retire_kernel(ids, week, pension_share, hours, held, sector, wage, pension, status, job_end, employer,
                   in_pool, blocks, block, ei_left, ei_wait, ei_benefit, severance_left):
    """Retire ``ids``: a pension of ``pension_share`` of the weekly wage; the job, if
    any, ends this week (one job fewer held in its sector; the employed among ``ids``
    work outside the plants, marked in ``in_pool``, counted in ``blocks``); EI claims
    end."""
    for p in ids:
        if status[p] == EMPLOYED:
            held[sector[p]] -= 1
            in_pool[p] = False
            blocks[p // block] -= 1
        pension[p] = pension_share * wage[p] * hours
        status[p] = RETIRED
        if np.isnan(job_end[p]):
            job_end[p] = week
        employer[p] = -1
    ei.close_claims_of(ids, ei_left, ei_wait, ei_benefit, severance_left)


@kernel
def _separate_kernel(positions, in_pool, blocks, block, week, held, sector, status, employer, job_end, spell_start,
                     job_start, wage, claim, entitlement, ei_left, ei_paid, ei_exhausted, ei_benefit, severance_left,
                     ei_wait, jobless, ever_displaced, displaced_week, training_window, retrained, training_left,
                     effort):
    """The week's separations and retraining: those employed outside the plants at
    ``positions`` (sorted, in the row order of those marked in ``in_pool``; see
    :func:`_rows_at_kernel`) lose their job this week (one job fewer held in its sector)
    and start searching, with an EI claim (``claim``: see
    :func:`employment_insurance.open_claims_of`); then :func:`_retraining_kernel` on
    ``jobless``. Returns the rows separated, and the seekers and those who may start
    retraining among ``jobless``."""
    separated = _rows_at_kernel(positions, in_pool, blocks, block)
    for p in separated:
        held[sector[p]] -= 1
        in_pool[p] = False
        blocks[p // block] -= 1
        status[p] = UNEMPLOYED
        employer[p] = -1
        job_end[p] = week
        spell_start[p] = week
    ei.open_claims_of(separated, job_start, job_end, wage, claim, entitlement, ei_left, ei_paid, ei_exhausted,
                      ei_benefit, severance_left, ei_wait)
    seeking, recent = _retraining_kernel(jobless, week, status, ever_displaced, displaced_week, training_window,
                                         retrained, training_left, effort)
    return separated, seeking, recent


@kernel
def _retraining_kernel(jobless, week, status, ever_displaced, displaced_week, training_window, retrained,
                       training_left, effort):
    """Among ``jobless`` (those retired this week are skipped): the job seekers, and those
    of them displaced less than ``training_window`` weeks ago who have not retrained, who
    may start retraining. Those in training do a week of it; those who complete it are retrained
    and search again (they are not among the seekers returned; their search ``effort``,
    aligned with ``jobless``, is set to NaN: to be found again)."""
    seeking = np.empty(len(jobless), np.int64)
    recent = np.empty(len(jobless), np.int64)
    ns = nr = 0
    for i in range(len(jobless)):
        p = jobless[i]
        st = status[p]
        if st == UNEMPLOYED:
            seeking[ns] = p
            ns += 1
            if ever_displaced[p] and week - displaced_week[p] < training_window and not retrained[p]:
                recent[nr] = p
                nr += 1
        elif st == TRAINING:
            training_left[p] -= 1
            if training_left[p] <= 0:
                status[p] = UNEMPLOYED
                retrained[p] = True
                effort[i] = np.nan
    return seeking[:ns], recent[:nr]


@kernel
def _seekers_kernel(week, status, training_left, spell_start, ei_left, ei_wait, ei_benefit, severance_left, start,
                    training_weeks, leave, jobless, jobless_effort, jobless_kind, aged, separated, entered, age,
                    ever_displaced, displaced_tenure, retrained, sector, age_bands, search_by_age, long_tenure_years,
                    long_tenure_search, training_search_boost, transition_boost, cross_sector, demand, sector_share,
                    held):
    """Those who ``start`` retraining do (``training_weeks`` of it); those who ``leave``
    the labour force become inactive (their EI claims end); those ``entered`` start
    searching this ``week``. Then, from three sorted lists (``jobless``, ``separated``,
    ``entered``; no row in two), merged in order: the job seekers (status unemployed)
    with their search effort (:func:`_search_efforts`), last sector (-1: never employed),
    and the effort aimed at each sector (``S``: see :func:`_search_effort_kernel`; the
    sum over seekers as ``np.sum``); those searching or retraining, with the effort of
    those searching (NaN for those retraining) and their kind (last sector and age
    band); and the jobs outside the plants by sector (``demand`` spread by
    ``sector_share``), the vacancies (those not ``held``; :func:`_vacancies_kernel`) and
    whether there are any. The ``jobless`` come with the effort and kind found for them
    before (``jobless_effort``, ``jobless_kind``; NaN: to be found), which hold unless
    ``aged`` and the age band changed."""
    for p in start:
        status[p] = TRAINING
        training_left[p] = training_weeks
    for p in leave:
        status[p] = INACTIVE
    ei.close_claims_of(leave, ei_left, ei_wait, ei_benefit, severance_left)
    for p in entered:
        status[p] = UNEMPLOYED
        spell_start[p] = week
    # The rows searching or retraining, in order; the effort of those searching taken
    # over where known, NaN where it is to be found.
    size = len(jobless) + len(separated) + len(entered)
    searching = np.empty(size, np.int64)
    searching_effort = np.empty(size)
    searching_kind = np.empty((size, 2), np.int64)
    seeking = np.empty(size, np.bool_)
    none = np.iinfo(np.int64).max
    i = j = k = ns = n = 0
    while True:
        a = jobless[i] if i < len(jobless) else none
        b = separated[j] if j < len(separated) else none
        c = entered[k] if k < len(entered) else none
        p = min(a, b, c)
        if p == none:
            break
        e = np.nan
        s0 = s1 = 0
        if p == a:
            e = jobless_effort[i]
            s0, s1 = jobless_kind[i, 0], jobless_kind[i, 1]
            i += 1
        elif p == b:
            j += 1
        else:
            k += 1
        st = status[p]
        searching[ns] = p
        searching_effort[ns] = e if st == UNEMPLOYED else np.nan
        searching_kind[ns, 0] = s0
        searching_kind[ns, 1] = s1
        seeking[ns] = st == UNEMPLOYED
        n += st == UNEMPLOYED
        ns += (st == UNEMPLOYED) | (st == TRAINING)
    # After ageing, the effort of those whose age band changed is to be found again.
    todo = np.empty(ns, np.int64)
    m = 0
    if aged:
        for i in range(ns):
            todo[m] = i
            m += seeking[i] and not np.isnan(searching_effort[i])
        bands = _age_bands(searching[todo[:m]], age, age_bands)
        for i in range(m):
            if bands[i] != searching_kind[todo[i], 1]:
                searching_effort[todo[i]] = np.nan
    # The effort of those searching whose effort is to be found.
    m = 0
    for i in range(ns):
        todo[m] = i
        m += seeking[i] and np.isnan(searching_effort[i])
    found, bands = _search_efforts(searching[todo[:m]], age, ever_displaced, displaced_tenure, retrained, age_bands,
                                   search_by_age, long_tenure_years, long_tenure_search, training_search_boost,
                                   transition_boost)
    for i in range(m):
        searching_effort[todo[i]] = found[i]
        searching_kind[todo[i], 0] = sector[searching[todo[i]]]
        searching_kind[todo[i], 1] = bands[i]
    # The seekers.
    n_sec = len(sector_share)
    seekers = np.empty(n, np.int64)
    effort = np.empty(n)
    last = np.empty(n, np.int64)
    n = 0
    for i in range(ns):
        if not seeking[i]:
            continue
        seekers[n] = searching[i]
        effort[n] = searching_effort[i]
        last[n] = searching_kind[i, 0]
        n += 1
    everywhere, own = _aimed_effort(effort, last, cross_sector, n_sec)
    total = numpy_sum(everywhere)
    for s in range(n_sec):
        own[s] += total
    jobs = np.empty(n_sec)
    for s in range(n_sec):
        jobs[s] = demand * sector_share[s]
    vacancies, some = _vacancies_kernel(jobs, held)
    return (seekers, effort, last, own, searching[:ns], searching_effort[:ns], searching_kind[:ns], jobs, vacancies,
            some)


@kernel
def _rows_at_kernel(positions, in_pool, blocks, block):
    """The rows at ``positions`` (sorted) in the row order of those marked in ``in_pool``
    (counted by block of ``block`` rows in ``blocks``)."""
    rows = np.empty(len(positions), np.int64)
    b = before = 0  # the block, and how many are marked in the blocks before it
    for i in range(len(positions)):
        while before + blocks[b] <= positions[i]:
            before += blocks[b]
            b += 1
        left = positions[i] - before
        p = b * block
        while True:
            if in_pool[p]:
                if left == 0:
                    break
                left -= 1
            p += 1
        rows[i] = p
    return rows


@kernel
def _refresh_pools_kernel(jobless, effort, kind, laid_off, exits, n_kept, n, status, at_plant, sector, held, in_pool,
                          blocks, block):
    """The pools a step left (rows employed outside the plants marked in ``in_pool``,
    counted by block of ``block`` rows in ``blocks`` and by sector in ``held``; the rows
    ``jobless``, sorted, with their search ``effort`` and ``kind``: last sector and age
    band) brought up to date: rows that left the RCM since (``exits``) leave them; rows
    no longer jobless (taken by a plant) leave the jobless; rows added since (from
    ``n_kept`` to ``n``) and the rows ``laid_off`` (sorted) join the pool their status
    puts them in (with effort NaN: to be found). Returns the jobless with their effort
    and kind; the rest is updated in place."""
    size = len(jobless) + n - n_kept + len(laid_off)
    job = np.empty(size, np.int64)
    job_effort = np.empty(size)
    job_kind = np.empty((size, 2), np.int64)
    for p in exits:
        if in_pool[p]:
            in_pool[p] = False
            blocks[p // block] -= 1
            held[sector[p]] -= 1
    for p in range(n_kept, n):
        if status[p] == EMPLOYED and not at_plant[p]:
            in_pool[p] = True
            blocks[p // block] += 1
            held[sector[p]] += 1
    none = np.iinfo(np.int64).max
    nj = i = k = 0
    q = n_kept
    last = -1
    while True:  # the kept jobless, then the new rows (all above them), merged with laid_off
        a = jobless[i] if i < len(jobless) else (q if q < n else none)
        b = laid_off[k] if k < len(laid_off) else none
        p = min(a, b)
        if p == none:
            break
        e = np.nan
        s0 = s1 = 0
        if p == a:
            if i < len(jobless):
                e = effort[i]
                s0, s1 = kind[i, 0], kind[i, 1]
                i += 1
            else:
                q += 1
        if p == b:
            e = np.nan  # laid off since: found again
            k += 1
        if p == last:
            continue
        last = p
        st = status[p]
        if st == UNEMPLOYED or st == TRAINING:
            job[nj] = p
            job_effort[nj] = e
            job_kind[nj, 0] = s0
            job_kind[nj, 1] = s1
            nj += 1
    return job[:nj], job_effort[:nj], job_kind[:nj]


@kernel
def _pools_after_week_kernel(hired, hired_sector, searching, effort, kind, held, in_pool, blocks, block):
    """The pools a week leaves: those ``hired`` join those employed outside the plants
    (marked in ``in_pool``, counted by block of ``block`` rows in ``blocks`` and by
    sector in ``held``, in place); the jobless are those ``searching`` (searching or
    retraining, sorted) but not hired (sorted, a subset): returned with their search
    ``effort`` and ``kind`` (last sector and age band)."""
    for i in range(len(hired)):
        p = hired[i]
        in_pool[p] = True
        blocks[p // block] += 1
        held[hired_sector[i]] += 1
    jobless = np.empty(len(searching), np.int64)
    jobless_effort = np.empty(len(searching))
    jobless_kind = np.empty((len(searching), 2), np.int64)
    nj = k = 0
    for i in range(len(searching)):
        p = searching[i]
        if k < len(hired) and p == hired[k]:
            k += 1
        else:
            jobless[nj] = p
            jobless_effort[nj] = effort[i]
            jobless_kind[nj, 0] = kind[i, 0]
            jobless_kind[nj, 1] = kind[i, 1]
            nj += 1
    return jobless[:nj], jobless_effort[:nj], jobless_kind[:nj]


@kernel
def _age_bands(rows, age, age_bands):
    """The age band of each of ``rows`` (the last edge of ``age_bands`` at or below the
    age, the first band below the first edge, the last above the last but one)."""
    bands = np.empty(len(rows), np.int64)
    top = len(age_bands) - 2
    for i in range(len(rows)):
        band = -1
        for edge in age_bands:
            if edge <= age[rows[i]]:
                band += 1
        bands[i] = min(max(band, 0), top)
    return bands


@kernel
def _search_efforts(rows, age, ever_displaced, displaced_tenure, retrained, age_bands, search_by_age,
                    long_tenure_years, long_tenure_search, training_search_boost, transition_boost):
    """The search effort of each of ``rows``: by age band (:func:`_age_bands`), lower
    after a long-tenure layoff, higher after retraining, times ``transition_boost`` for
    the displaced; and their age bands."""
    bands = _age_bands(rows, age, age_bands)
    effort = np.empty(len(rows))
    for i in range(len(rows)):
        p = rows[i]
        e = search_by_age[bands[i]]
        if ever_displaced[p] and displaced_tenure[p] >= long_tenure_years:
            e *= long_tenure_search
        if retrained[p]:
            e *= training_search_boost
        if ever_displaced[p]:
            e *= transition_boost
        effort[i] = e
    return effort, bands


@kernel
def _search_effort_kernel(seekers, age, ever_displaced, displaced_tenure, retrained, sector, age_bands,
                          search_by_age, long_tenure_years, long_tenure_search, training_search_boost,
                          transition_boost, cross_sector, n_sec):
    """The search effort e of each of ``seekers`` (:func:`_search_efforts`), their last
    sector (-1: never employed), the effort each aims at every sector (c * e, or e if
    never employed) and, by sector, the extra effort (1 - c) * e aimed at it by those
    whose last job was in it."""
    k = len(seekers)
    effort, _ = _search_efforts(seekers, age, ever_displaced, displaced_tenure, retrained, age_bands, search_by_age,
                                long_tenure_years, long_tenure_search, training_search_boost, transition_boost)
    last = np.empty(k, np.int64)
    for i in range(k):
        last[i] = sector[seekers[i]]
    everywhere, own = _aimed_effort(effort, last, cross_sector, n_sec)
    return effort, last, everywhere, own


@kernel
def _aimed_effort(effort, last, cross_sector, n_sec):
    """The effort each seeker aims at every sector (c * e, or e if never employed) and,
    by sector, the extra effort (1 - c) * e aimed at it by those whose last job was in it
    (added in the seekers' order)."""
    everywhere = np.empty(len(effort))
    own = np.zeros(n_sec)
    for i in range(len(effort)):
        e = effort[i]
        s = last[i]
        if s >= 0:
            everywhere[i] = cross_sector * e
            own[s] += (1.0 - cross_sector) * e
        else:
            everywhere[i] = 1.0 * e
    return everywhere, own


@kernel
def _hire_kernel(u, effort, last, vacancies, S, S_a, V_1_a, efficiency, cross_sector, max_probability):
    """Positions of the seekers hired this week, and the hires per unit of effort by
    sector (:func:`_hire_rate_kernel`, from the effort aimed at each sector ``S``, its
    power ``S_a`` and the vacancies' ``V_1_a``): seeker i, with effort e aimed at every
    sector and extra effort at the last job's sector, is hired with probability
    e * (c * sum(rate) + (1 - c) * rate[last]) (e * sum(rate) if never employed), at most
    ``max_probability``, when ``u[i]`` falls below it."""
    rate = _hire_rate_kernel(vacancies, S, S_a, V_1_a, efficiency)
    rate_sum = numpy_sum(rate)
    hired = np.empty(len(u), np.int64)
    k = 0
    for i in range(len(u)):
        s = last[i]
        if s >= 0:
            chance = effort[i] * (cross_sector * rate_sum + (1.0 - cross_sector) * rate[s])
        else:
            chance = effort[i] * (1.0 * rate_sum + 0.0 * rate[0])
        if u[i] < min(chance, max_probability):
            hired[k] = i
            k += 1
    return hired[:k], rate


@kernel
def _block_sum(a, lo, n):
    """The sum of ``a[lo:lo + n]`` (``n`` at most 128) as ``np.sum`` adds it: in order
    below 8 terms, else in eight running sums."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@kernel
def numpy_sum(a):
    """``np.sum`` of a float64 array, bit for bit: pairwise, spans above 128 split in
    halves (rounded down to a multiple of 8) and each half summed the same way first
    (the recursion unrolled on a stack)."""
    lo_of = np.empty(128, np.int64)
    n_of = np.empty(128, np.int64)
    split = np.zeros(128, np.bool_)  # the span's halves are summed: add them
    sums = np.empty(128)
    lo_of[0], n_of[0] = 0, len(a)
    top, k = 1, 0
    while top > 0:
        top -= 1
        lo, n = lo_of[top], n_of[top]
        if n <= 128:
            sums[k] = _block_sum(a, lo, n)
            k += 1
        elif split[top]:
            split[top] = False
            sums[k - 2] = sums[k - 2] + sums[k - 1]
            k -= 1
        else:
            half = n // 2
            half -= half % 8
            split[top] = True  # after both halves
            top += 1
            lo_of[top], n_of[top] = lo + half, n - half  # the second half
            top += 1
            lo_of[top], n_of[top] = lo, half  # the first half, summed first
            top += 1
    return sums[0]


@kernel
def _vacancies_kernel(jobs, held):
    """Vacancies by sector, ``max(jobs - held, 0)`` (as ``np.maximum``), and whether there
    are any."""
    vacancies = np.empty(len(jobs))
    some = False
    for s in range(len(jobs)):
        v = jobs[s] - held[s]
        vacancies[s] = v if v >= 0.0 or np.isnan(v) else 0.0
        some |= vacancies[s] > 0.0
    return vacancies, some


@kernel
def _hire_rate_kernel(vacancies, effort, effort_a, vacancies_1_a, efficiency):
    """Hires per unit of search effort by sector: ``min(V, efficiency * S**a * V**(1-a))
    / S`` (0 where there is no effort), from ``S**a`` and ``V**(1-a)`` (``effort_a``,
    ``vacancies_1_a``); ``min`` as ``np.minimum``."""
    rate = np.zeros(len(vacancies))
    for s in range(len(vacancies)):
        v = vacancies[s]
        x = efficiency * effort_a[s] * vacancies_1_a[s]
        hires = v if v <= x or np.isnan(v) else x
        if effort[s] > 0:
            rate[s] = hires / effort[s]
    return rate


@kernel
def _hire_sector_kernel(u, hired, last, rate, cross_sector, vacancies):
    """Sector of each hire (``hired``, positions among the seekers whose last sector is
    ``last``), drawn in proportion to the hire rate of each sector times the effort the
    hire aims at it (more at the last job's sector; ``u`` uniform); the hires (their
    positions in ``hired``) grouped by sector, in order; and for each sector with more
    hires than whole vacancies, in order, where its group starts, ends, and where the
    hires past its vacancies start."""
    n_sec = len(rate)
    sector = np.empty(len(u), np.int64)
    cum = np.empty(n_sec)
    for i in range(len(u)):
        s = last[hired[i]]
        base = cross_sector if s >= 0 else 1.0
        total = 0.0
        for j in range(n_sec):
            w = base * rate[j]
            if j == s:
                w += (1.0 - cross_sector) * rate[j]
            total += w
            cum[j] = total
        target = u[i] * total
        pick = 0
        for j in range(n_sec):
            if cum[j] < target:
                pick += 1
        sector[i] = min(pick, n_sec - 1)
    counts = np.zeros(n_sec, np.int64)
    for s in sector:
        counts[s] += 1
    starts = np.zeros(n_sec, np.int64)
    for s in range(1, n_sec):
        starts[s] = starts[s - 1] + counts[s - 1]
    by_sector = np.empty(len(u), np.int64)
    filled = starts.copy()
    for i in range(len(u)):
        by_sector[filled[sector[i]]] = i
        filled[sector[i]] += 1
    over = np.empty((n_sec, 3), np.int64)
    k = 0
    for s in range(n_sec):
        cap = np.floor(vacancies[s])
        if counts[s] > cap:
            over[k, 0] = starts[s]
            over[k, 1] = starts[s] + counts[s]
            over[k, 2] = starts[s] + np.int64(cap)
            k += 1
    return sector, by_sector, over[:k]


@kernel
def _kept_hires_kernel(seekers, hired, sector, by_sector, over, ever_displaced, reemployed_week):
    """The hires kept (rows, in order) and their sectors: all but those placed past the
    vacancies of their sector in ``by_sector`` (``over``, see :func:`_hire_sector_kernel`);
    which of them are displaced workers in their first job since the layoff, and how many."""
    keep = np.ones(len(hired), np.bool_)
    for k in range(len(over)):
        for i in range(over[k, 2], over[k, 1]):
            keep[by_sector[i]] = False
    n = 0
    for i in range(len(hired)):
        n += keep[i]
    ids = np.empty(n, np.int64)
    kept_sector = np.empty(n, np.int64)
    first = np.empty(n, np.bool_)
    n = n_first = 0
    for i in range(len(hired)):
        if keep[i]:
            p = seekers[hired[i]]
            ids[n] = p
            kept_sector[n] = sector[i]
            first[n] = ever_displaced[p] and reemployed_week[p] < 0
            n_first += first[n]
            n += 1
    return ids, kept_sector, first, n_first


@kernel
def _kept_hires_and_pools_kernel(seekers, hired, sector, by_sector, over, ever_displaced, reemployed_week, searching,
                                 searching_effort, searching_kind, held, in_pool, blocks, block):
    """:func:`_kept_hires_kernel`, then :func:`_pools_after_week_kernel` with the hires
    kept; returns the results of both."""
    ids, kept_sector, first, n_first = _kept_hires_kernel(seekers, hired, sector, by_sector, over, ever_displaced,
                                                          reemployed_week)
    jobless, effort, kind = _pools_after_week_kernel(ids, kept_sector, searching, searching_effort, searching_kind,
                                                     held, in_pool, blocks, block)
    return ids, kept_sector, first, n_first, jobless, effort, kind


@kernel
def _first_job_since_layoff_kernel(ids, ever_displaced, reemployed_week):
    """Which of ``ids`` were displaced and not re-employed since, and how many."""
    first = np.empty(len(ids), np.bool_)
    for i in range(len(ids)):
        first[i] = ever_displaced[ids[i]] and reemployed_week[ids[i]] < 0
    return first, first.sum()


@kernel
def _employ_kernel(ids, sector, where, spread, first, loss, week, n_muni, employer_keys, employer_block,
                   employer_of_key, sector_wage, long_tenure_years, wage_loss, minimum_wage, household, municipality,
                   female, displaced_tenure, displaced_wage, reemployed_week, wage, status, job_sector, employer,
                   at_plant, job_start, job_end, ei_left, ei_wait, ei_benefit, severance_left):
    """Employ ``ids`` in ``sector`` at a background employer drawn near home (``where``
    uniform, against the cumulative pull of the (sector, municipality) block of
    ``employer_keys``, whose blocks start at ``employer_block``), at the sector's wage
    times ``spread``; displaced workers in their first job since the layoff (``first``)
    earn their old wage less a loss drawn in the range of ``wage_loss`` for their sex and
    tenure (``loss`` uniform, one per such worker); never below the minimum wage. Their
    EI claims end."""
    j = 0
    for i in range(len(ids)):
        p = ids[i]
        s = sector[i]
        block = s * n_muni + municipality[household[p]]
        key = np.float64(block) + where[i]
        # The first key above, as searchsorted(side="right"): the keys of earlier blocks
        # are at most ``block``; the block's last key is block + 1, above ``key`` unless
        # the sum rounded up to it.
        lo, hi = employer_block[block], employer_block[block + 1]
        if employer_keys[hi - 1] <= key:
            lo, hi = hi, len(employer_keys)
        while lo < hi:
            mid = (lo + hi) // 2
            if employer_keys[mid] <= key:
                lo = mid + 1
            else:
                hi = mid
        employer[p] = employer_of_key[min(lo, len(employer_keys) - 1)]
        w = sector_wage[s] * spread[i]
        if first[i]:
            if displaced_tenure[p] >= long_tenure_years:
                g = 1 if female[p] else 0
            else:
                g = 2
            low, high = wage_loss[g, 0], wage_loss[g, 1]
            w = np.float64(displaced_wage[p]) * (1.0 - (low + (high - low) * loss[j]))
            j += 1
            reemployed_week[p] = week
        wage[p] = max(w, minimum_wage)
        status[p] = EMPLOYED
        job_sector[p] = s
        at_plant[p] = False
        job_start[p] = week
        job_end[p] = np.nan
    ei.close_claims_of(ids, ei_left, ei_wait, ei_benefit, severance_left)
