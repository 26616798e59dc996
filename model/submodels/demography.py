"""Demography: ageing, births, deaths, moves out of and into the RCM.

Demographic events are drawn every ``demography.period_weeks`` weeks (four by default),
with the probabilities of that period; the labour market and EI run every week. Every
exit from the population is one of three, each counted: a death, a person moving out
alone (young adults leaving for studies or work), or a whole household leaving (for
reasons outside the model, or under prolonged financial strain, as requested by the
household-finances submodel since the last period). Entries are births and households
moving in. Moves in follow each municipality's census growth: the expected number of
persons moving in during a period is the municipality's census growth over the period
plus its deaths and background moves out minus its births in that period. Moves out
under strain are not made up, so they lower the population below the census trend.
"""

from __future__ import annotations

import numpy as np

from ..population import WEEKS_PER_YEAR, categorical, make_members
from ..state import Exit, Status
from ..streams import bernoulli, bernoulli_each
from ..territory import CENSUS_DAY_2006, CENSUS_DAY_2011


def gompertz_annual(age: np.ndarray, q1: float, a1: float, q2: float, a2: float) -> np.ndarray:
    """Annual probability of dying at ``age`` on the Gompertz curve through (a1, q1), (a2, q2)."""
    b = np.log(q2 / q1) / (a2 - a1)
    return np.minimum(q1 * np.exp(b * (age - a1)), 0.9)


class Demography:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("demography")
        self.period = int(self.p["period_weeks"])
        years = self.period / WEEKS_PER_YEAR  # length of one period in years
        self.years = years
        # Probability of dying within one period, by whole year of age.
        self.death_by_age = 1.0 - (1.0 - gompertz_annual(np.arange(121) + 0.5, *self.p["mortality_gompertz"])) ** years
        self.birth_prob = self.p["fertility_rate"] / 30.0 * years  # per woman aged 15-44
        t = model.territory
        p06 = t.municipalities["pop_2006"].to_numpy(float)
        p11 = t.municipalities["pop_2011"].to_numpy(float)
        growth = np.log(p11 / p06) / ((CENSUS_DAY_2011 - CENSUS_DAY_2006).days / 365.25)
        self.growth_per_period = growth * years  # census growth per resident per period
        self.counts = dict(births=0, deaths=0, moved_alone=0, moved_with_household=0, in_migrants=0,
                           households_left=0, households_strain_left=0, strain_moved=0)
        self.pending = np.zeros(model.households.n, bool)  # households asking to leave

    def request_moves(self, households: np.ndarray) -> None:
        """Households that decided to leave; they go at the next demographic period."""
        H = self.model.households
        if len(self.pending) < H.n:
            self.pending = np.concatenate([self.pending, np.zeros(H.n - len(self.pending), bool)])
        self.pending[households] = True

    def step(self) -> tuple[np.ndarray, np.ndarray]:
        """One week; returns (rows of persons who entered, rows of persons who left)."""
        m = self.model
        if m.week % self.period != self.period - 1:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        P, H = m.people, m.households
        rng = m.streams["demography"]
        p = self.p
        n = P.n
        present_mask = P.present[:n]
        np.add(P.age[:n], self.years, out=P.age[:n], where=present_mask)
        present = np.flatnonzero(present_mask)
        age = P.age[present]
        status = P.status[present]
        P.status[present[(status == Status.CHILD) & (age >= p["working_age"])]] = Status.INACTIVE

        # Deaths, young adults leaving alone, households leaving (background and strain).
        die = bernoulli_each(rng, present, self.death_by_age[np.minimum(age.astype(np.int64), 120)])
        alive = np.ones(n, bool)
        alive[die] = False
        young = present[(age >= 18) & (age < 30)]
        alone = bernoulli(rng, young[alive[young]], p["young_adult_leaving_rate"] * self.years)
        hh_present = np.flatnonzero(H.present[: H.n])
        hh_leave = np.zeros(H.n, bool)
        hh_leave[bernoulli(rng, hh_present, p["household_out_migration_rate"] * self.years)] = True
        self.request_moves(np.zeros(0, np.int64))  # size the pending mask
        strain_only = self.pending[: H.n] & H.present[: H.n] & ~hh_leave
        self.pending[:] = False
        hh_leave |= strain_only
        leaving = present[hh_leave[P.household[present]] & alive[present]]
        alone = alone[~hh_leave[P.household[alone]]]

        # Births (before exits, so a mother leaving takes her newborn along).
        fertile = present[P.female[present] & (age >= 15) & (age < 45)]
        born = self._add_births(bernoulli(rng, fertile[alive[fertile]], self.birth_prob))
        leaving = np.concatenate([leaving, born[hh_leave[P.household[born]]]])

        self.counts["strain_moved"] += int(strain_only[P.household[leaving]].sum())
        # Net natural and background change by municipality, made up by moves in.
        hh_muni = H.municipality
        n_muni = m.territory.n_municipalities
        background = leaving[~strain_only[P.household[leaving]]]
        losses = np.bincount(hh_muni[P.household[np.concatenate([die, alone, background])]], minlength=n_muni)
        losses = losses - np.bincount(hh_muni[P.household[born]], minlength=n_muni)
        exits = np.concatenate([self._remove(die, Exit.DIED), self._remove(alone, Exit.MOVED_ALONE),
                                self._remove(leaving, Exit.MOVED_WITH_HOUSEHOLD)])
        left_hh = np.flatnonzero(hh_leave)
        self.counts["households_left"] += len(left_hh)
        self.counts["households_strain_left"] += int(strain_only.sum())
        # Households that left, or that nobody is left in, end.
        gone = np.union1d(left_hh, P.household[exits])
        gone = gone[hh_leave[gone] | (H.size[gone] == 0)]
        H.present[gone] = False
        H.exit_week[gone] = m.week

        moved_in = self._move_in(rng, losses)
        return np.concatenate([born, moved_in]), exits

    def _remove(self, ids: np.ndarray, reason: int) -> np.ndarray:
        m, P = self.model, self.model.people
        if len(ids) == 0:
            return ids
        P.present[ids] = False
        P.status_at_exit[ids] = P.status[ids]
        P.status[ids] = Status.GONE
        np.subtract.at(m.households.size, P.household[ids], 1)
        P.exit_week[ids] = m.week
        P.exit_reason[ids] = reason
        key = {Exit.DIED: "deaths", Exit.MOVED_ALONE: "moved_alone", Exit.MOVED_WITH_HOUSEHOLD: "moved_with_household"}[reason]
        self.counts[key] += len(ids)
        return ids

    def _add_births(self, mothers: np.ndarray) -> np.ndarray:
        m, P = self.model, self.model.people
        if len(mothers) == 0:
            return np.zeros(0, np.int64)
        rng = m.streams["demography"]
        ids = P.add(len(mothers), present=True, household=P.household[mothers],
                    age=rng.uniform(0.0, self.years, len(mothers)),
                    female=rng.random(len(mothers)) < 0.488, status=Status.CHILD,
                    entry_week=m.week, entry_kind=1)
        np.add.at(m.households.size, P.household[ids], 1)
        self.counts["births"] += len(ids)
        return ids

    def _move_in(self, rng: np.random.Generator, losses: np.ndarray) -> np.ndarray:
        m, H = self.model, self.model.households
        hp = H.present[: H.n]
        pop = np.bincount(H.municipality[: H.n][hp], weights=H.size[: H.n][hp],
                          minlength=m.territory.n_municipalities)
        expected = np.maximum(pop * self.growth_per_period + losses, 0.0)
        n_hh = rng.poisson(expected / m.mean_household_size)
        total = int(n_hh.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        muni = np.repeat(np.arange(len(n_hh)), n_hh)
        sizes = 1 + categorical(rng, m.household_size_shares, total)
        ids = make_members(m, muni, sizes, rng, entry_week=m.week)
        self.counts["in_migrants"] += len(ids)
        return ids
