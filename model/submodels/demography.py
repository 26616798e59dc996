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

from ..jit import kernel
from ..population import WEEKS_PER_YEAR, categorical, make_members
from ..state import Exit, Status
from ..streams import bernoulli
from ..territory import CENSUS_DAY_2006, CENSUS_DAY_2011


def gompertz_annual(age: np.ndarray, q1: float, a1: float, q2: float, a2: float) -> np.ndarray:
    """Annual probability of dying at ``age`` on the Gompertz curve through (a1, q1), (a2, q2)."""
    b = np.log(q2 / q1) / (a2 - a1)
    return np.minimum(q1 * np.exp(b * (age - a1)), 0.9)


@kernel
def _age_kernel(present_mask, age, status, female, years, working_age, child, inactive):
    """Ages everyone present by ``years`` (float32, as the ages), moves children who
    reach working age from ``child`` to ``inactive``, and returns the rows present, the
    young adults (18-29) and the women aged 15-44 among them, and which whole years of
    age (0-120) occur."""
    n = len(present_mask)
    present = np.empty(n, np.int64)
    young = np.empty(n, np.int64)
    fertile = np.empty(n, np.int64)
    ages = np.zeros(121, np.bool_)
    n_p = n_y = n_f = 0
    for i in range(n):
        if not present_mask[i]:
            continue
        a = age[i] + years
        age[i] = a
        present[n_p] = i
        n_p += 1
        if status[i] == child and a >= working_age:
            status[i] = inactive
        if a >= 18 and a < 30:
            young[n_y] = i
            n_y += 1
        if female[i] and a >= 15 and a < 45:
            fertile[n_f] = i
            n_f += 1
        ages[min(int(a), 120)] = True
    return present[:n_p], young[:n_y], fertile[:n_f], ages


@kernel
def _in_households(rows, household, chosen, alive):
    """The rows of ``rows`` still alive whose household is marked in ``chosen``."""
    out = np.empty(len(rows), np.int64)
    m = 0
    for j in range(len(rows)):
        i = rows[j]
        if chosen[household[i]] and alive[i]:
            out[m] = i
            m += 1
    return out[:m]


@kernel
def _residents_by_municipality(present, municipality, size, n_municipalities):
    """Members present, summed by municipality over the households present."""
    out = np.zeros(n_municipalities)
    for h in range(len(present)):
        if present[h]:
            out[municipality[h]] += size[h]
    return out


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
        present, young, fertile, ages = _age_kernel(
            P.present[:n], P.age[:n], P.status[:n], P.female[:n], np.float32(self.years),
            np.float32(p["working_age"]), Status.CHILD, Status.INACTIVE)

        # Deaths, young adults leaving alone, households leaving (background and strain).
        # One draw at the highest probability of any age present, thinned to each person's
        # probability (as streams.bernoulli_each, with the probabilities looked up only for
        # those drawn).
        die = present[:0]
        top = float(self.death_by_age[ages].max()) if len(present) else 0.0
        if top > 0:
            pos = bernoulli(rng, np.arange(len(present)), min(top, 1.0))
            drawn = present[pos]
            keep = rng.random(len(pos)) * top < self.death_by_age[np.minimum(P.age[drawn].astype(np.int64), 120)]
            die = drawn[keep]
        alive = np.ones(n, bool)
        alive[die] = False
        alone = bernoulli(rng, young[alive[young]], p["young_adult_leaving_rate"] * self.years)
        hh_present = np.flatnonzero(H.present[: H.n])
        hh_leave = np.zeros(H.n, bool)
        hh_leave[bernoulli(rng, hh_present, p["household_out_migration_rate"] * self.years)] = True
        self.request_moves(np.zeros(0, np.int64))  # size the pending mask
        strain_only = self.pending[: H.n] & H.present[: H.n] & ~hh_leave
        self.pending[:] = False
        hh_leave |= strain_only
        leaving = _in_households(present, P.household, hh_leave, alive)
        alone = alone[~hh_leave[P.household[alone]]]

        # Births (before exits, so a mother leaving takes her newborn along).
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
        pop = _residents_by_municipality(H.present[: H.n], H.municipality, H.size, m.territory.n_municipalities)
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
