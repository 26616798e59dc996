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

import numpy as np

from ..population import WEEKS_PER_YEAR, band_index
from ..state import Status, tenure_years
from ..streams import bernoulli
from . import employment_insurance as ei

AGE_SEARCH_BANDS = np.array([0, 25, 45, 55, 60, 200], float)


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
        people, orgs = model.people, model.orgs
        n = people.n
        status = people.status[:n]
        bg = (status == Status.EMPLOYED) & ~people.at_plant[:n]
        e0 = np.bincount(people.sector[:n][bg], minlength=self.n_sec).astype(float)
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
        self.index_first_year = cfg.defs["regional_economy.job_demand_index"].extra.get("years", [2003])[0]
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
        self.hires = 0
        self.separations = 0
        self.period = int(cfg["demography.period_weeks"])

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
        self.deficit += self.replacement_share * len(ids)
        self.lost_for_good += (1.0 - self.replacement_share) * len(ids)

    def give_jobs(self, ids: np.ndarray, sector: np.ndarray, rng: np.random.Generator) -> None:
        """Employ ``ids`` in the given sectors at a background employer near home."""
        if len(ids) == 0:
            return
        m, P = self.model, self.model.people
        home = m.households.municipality[P.household[ids]]
        key = sector * self.n_muni + home + rng.random(len(ids))
        pick = np.minimum(np.searchsorted(self.employer_keys, key, side="right"), len(self.employer_keys) - 1)
        employer = self.employer_of_key[pick]
        displaced_first = P.ever_displaced[ids] & (P.reemployed_week[ids] < 0)
        wage = self.wages[sector] * np.exp(rng.normal(0.0, self.p["wage_sigma"], len(ids)))
        if displaced_first.any():
            d = ids[displaced_first]
            long = P.displaced_tenure[d] >= self.p["long_tenure_years"]
            lo = np.where(P.female[d], self.p["wage_loss_women"][0], self.p["wage_loss_men"][0])
            hi = np.where(P.female[d], self.p["wage_loss_women"][1], self.p["wage_loss_men"][1])
            lo = np.where(long, lo, self.p["wage_loss_short_tenure"][0])
            hi = np.where(long, hi, self.p["wage_loss_short_tenure"][1])
            loss = rng.uniform(lo, hi)
            wage[displaced_first] = P.displaced_wage[d] * (1.0 - loss)
            P.reemployed_week[d] = m.week
        P.wage[ids] = np.maximum(wage, self.p["minimum_wage"])
        P.status[ids] = Status.EMPLOYED
        P.sector[ids] = sector
        P.employer[ids] = employer
        P.at_plant[ids] = False
        P.job_start[ids] = m.week
        P.job_end[ids] = np.nan
        ei.close_claims(P, ids)

    # -- the weekly step ---------------------------------------------------------------
    def restaff(self) -> None:
        """Before the week's layoff waves: replace plant workers who left last week."""
        m = self.model
        if m.model_people_left_plants():
            self._staff_plants(m.streams["labour"])

    def step(self) -> None:
        m, P, p = self.model, self.model.people, self.p
        rng = m.streams["labour"]
        n = P.n
        status = P.status[:n]
        age = P.age[:n]
        employed = np.flatnonzero(status == Status.EMPLOYED)
        employed = employed[~P.at_plant[employed]]
        jobless = np.flatnonzero((status == Status.UNEMPLOYED) | (status == Status.TRAINING))
        life_course = m.week % self.period == self.period - 1

        # Retirement (every period): at the retirement age, early from 60, and displaced
        # workers from 55.
        if life_course:
            a_emp, a_job = age[employed], age[jobless]
            displaced = P.ever_displaced[jobless]
            pr = self.per_period
            retire = np.concatenate([
                bernoulli(rng, employed[a_emp >= p["retirement_age"]], pr("retirement_rate_65")),
                bernoulli(rng, employed[(a_emp >= 60) & (a_emp < p["retirement_age"])], pr("retirement_rate_60")),
                jobless[a_job >= p["retirement_age"]],
                bernoulli(rng, jobless[(a_job >= 60) & (a_job < p["retirement_age"]) & ~displaced], pr("retirement_rate_60")),
                bernoulli(rng, jobless[(a_job >= 55) & (a_job < p["retirement_age"]) & displaced],
                          pr("displaced_retirement_rate")),
            ])
            P.pension[retire] = m.config["strain.pension_share"] * P.wage[retire] * p["hours_per_week"]
            P.status[retire] = Status.RETIRED
            P.job_end[retire] = np.where(np.isnan(P.job_end[retire]), m.week, P.job_end[retire])
            P.employer[retire] = -1
            ei.close_claims(P, retire)

        # Background separations (plants lose workers only in the timeline's waves).
        sep = bernoulli(rng, employed[P.status[employed] == Status.EMPLOYED], p["separation_rate"])
        P.status[sep] = Status.UNEMPLOYED
        P.employer[sep] = -1
        P.job_end[sep] = m.week
        P.spell_start[sep] = m.week
        ei.open_claims(P, sep, m.ei_rules, m.ei_region_rate, m.date, m.week, m.config["ei.severance_default_weeks"])
        self.separations = len(sep)

        # Retraining: entry in the first year after a layoff, completion, then search again.
        jobless = jobless[P.status[jobless] != Status.RETIRED]
        js = P.status[jobless]
        seeking = jobless[js == Status.UNEMPLOYED]
        recent = seeking[P.ever_displaced[seeking] & (m.week - P.displaced_week[seeking] < 52)
                         & ~P.retrained[seeking]]
        start = bernoulli(rng, recent, p["displaced_training_rate"])
        P.status[start] = Status.TRAINING
        P.training_left[start] = int(p["training_weeks"])
        training = jobless[js == Status.TRAINING]
        P.training_left[training] -= 1
        done = training[P.training_left[training] <= 0]
        P.status[done] = Status.UNEMPLOYED
        P.retrained[done] = True

        # Leaving and entering the labour force (every period).
        if life_course:
            leave = bernoulli(rng, seeking[P.status[seeking] == Status.UNEMPLOYED], self.per_period("leave_labour_force_rate"))
            inactive = np.flatnonzero(status == Status.INACTIVE)
            inactive = inactive[age[inactive] < 60]
            enter = bernoulli(rng, inactive, self.per_period("enter_labour_force_rate"))
            P.status[leave] = Status.INACTIVE
            ei.close_claims(P, leave)
            P.status[enter] = Status.UNEMPLOYED
            P.spell_start[enter] = m.week

        still = employed[P.status[employed] == Status.EMPLOYED]
        held = np.bincount(P.sector[still], minlength=self.n_sec)
        self._update_jobs()
        self._match(rng, held)

    def _update_jobs(self) -> None:
        """Jobs outside the plants: the labour force not working at a plant, at the
        structural unemployment rate, times the year's demand index, less the plant jobs
        lost and not yet replaced."""
        m = self.model
        if m.week > 0:
            self.labour_force = m.stats.labour_force
        at_plants = sum(m.shocks.remaining.values())
        self.deficit *= 1.0 - self.replace_per_week
        # The yearly index holds at mid-year; weeks in between are interpolated.
        t = m.date.year + (m.date.timetuple().tm_yday - 0.5) / 365.25
        index = np.interp(t, self.index_first_year + 0.5 + np.arange(len(self.demand_index)), self.demand_index)
        total = (self.labour_force - at_plants) * (1.0 - self.structural_rate) * index
        total += m.interventions.extra_jobs(m.config["run.scale"])  # recovery committee, CSSS 2011
        self.jobs = max(total - self.deficit - self.lost_for_good, 0.0) * self.sector_share

    def _match(self, rng: np.random.Generator, held: np.ndarray) -> None:
        """Hires this week; ``held`` counts the jobs held outside the plants, by sector."""
        P, p = self.model.people, self.p
        status = P.status[: P.n]
        self.vacancies = np.maximum(self.jobs - held, 0.0)
        seekers = np.flatnonzero(status == Status.UNEMPLOYED)
        self.hires = 0
        if len(seekers) == 0 or self.vacancies.sum() <= 0:
            return
        effort = self.search_by_age[band_index(P.age[seekers], AGE_SEARCH_BANDS)]
        long = P.ever_displaced[seekers] & (P.displaced_tenure[seekers] >= p["long_tenure_years"])
        effort = effort * np.where(long, p["long_tenure_search"], 1.0)
        effort = effort * np.where(P.retrained[seekers], p["training_search_boost"], 1.0)
        iv = self.model.interventions
        if iv.active("recovery_committee"):  # the employment-transition subcommittee
            boost = iv.params("recovery_committee")["transition_search_boost"]
            effort = effort * np.where(P.ever_displaced[seekers], boost, 1.0)
        # A seeker directs effort e to the sector of the last job and c * e to each other
        # sector (e everywhere if never employed), so the effort aimed at sector s is
        # S_s = c * sum(e) + (1 - c) * sum(e of those whose last sector is s).
        c = p["cross_sector_search"]
        last = P.sector[seekers].astype(np.int64)
        has = last >= 0
        own = np.where(has, 1.0 - c, 0.0)  # extra weight on the own sector
        base = np.where(has, c, 1.0)       # weight on every sector
        S = (base * effort).sum() + np.bincount(last[has], weights=(own * effort)[has], minlength=self.n_sec)
        a = p["matching_elasticity"]
        V = self.vacancies
        with np.errstate(divide="ignore", invalid="ignore"):
            M = np.minimum(V, p["matching_efficiency"] * S ** a * V ** (1 - a))
            rate = np.where(S > 0, M / S, 0.0)
        # Probability of a job this week, and, for those hired, in which sector.
        total = effort * (base * rate.sum() + own * rate[np.maximum(last, 0)])
        hired = rng.random(len(seekers)) < np.minimum(total, 0.95)
        h = np.flatnonzero(hired)
        weights = base[h, None] * rate[None, :]
        weights[np.flatnonzero(has[h]), last[h][has[h]]] += own[h][has[h]] * rate[last[h][has[h]]]
        cum = np.cumsum(weights, axis=1)
        pick = (cum < rng.random(len(h))[:, None] * cum[:, -1:]).sum(axis=1)
        sector = np.full(len(seekers), self.n_sec)
        sector[h] = np.minimum(pick, self.n_sec - 1)
        # No sector hires more people than it has vacancies.
        for s in np.flatnonzero(np.bincount(sector[hired], minlength=self.n_sec) > np.floor(V)):
            idx = np.flatnonzero(hired & (sector == s))
            drop = rng.permutation(idx)[int(np.floor(V[s])):]
            hired[drop] = False
        self.give_jobs(seekers[hired], sector[hired], rng)
        self.hires = int(hired.sum())

    def _staff_plants(self, rng: np.random.Generator) -> None:
        """Replace plant workers who died or moved away before their layoff wave."""
        m, P = self.model, self.model.people
        n = P.n
        need = m.shocks.remaining
        if not need:
            return
        staff = np.flatnonzero(P.at_plant[:n] & P.present[:n])
        counts = np.bincount(P.employer[staff], minlength=m.orgs.n)
        status = P.status[:n]
        pool = np.flatnonzero(status == Status.UNEMPLOYED)
        manuf = P.sector[pool] == self.manuf
        # Unemployed manufacturing workers first, then other job seekers, then inactive adults.
        order = [rng.permutation(pool[manuf]), rng.permutation(pool[~manuf])]
        shortfall = sum(max(required - counts[row], 0) for row, required in need.items())
        if shortfall > len(pool):
            extra = np.flatnonzero((status == Status.INACTIVE) & (P.age[:n] >= 18) & (P.age[:n] < 60))
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
