"""Demography: ageing, births, deaths, moves out of and into the RCM.

Demographic events are drawn every ``DEMOGRAPHY_PERIOD_WEEKS`` weeks (four),
with the probabilities of that period; the labour market and EI run every week. Every
exit from the population is one of three, each counted: a death, a person moving out
alone (young adults of ``YOUNG_ADULT_AGES`` leaving for studies or work), or
a whole household leaving (for reasons outside the model, or under prolonged financial
strain, as requested by the household-finances submodel since the last period). Entries
are births and households moving in. Moves in follow each municipality's census growth:
the expected number of persons moving in during a period is the municipality's census
growth over the period plus its deaths and background moves out minus its births in that
period. Moves out under strain are not made up, so they lower the population below the
census trend.

The same period in plain NumPy is ``model/reference/demography.py``. ``Demography.step``
runs it in that order and draws every random number; the compiled kernels below (named
tuples ``Persons``, ``Households``, ``AgeBands``, ``Period`` in, no draws) are its fast
form and are tested against the reference.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..constants import DEMOGRAPHY_PERIOD_WEEKS, WORKING_AGE
from ..jit import kernel
from ..population import WEEKS_PER_YEAR, categorical, make_members
from ..state import Exit, Status
from ..streams import bernoulli
from ..territory import CENSUS_DAY_2006, CENSUS_DAY_2011

MORTALITY_CAP = 0.9  # annual probability of dying at most this, where the Gompertz curve would exceed it (~111)
FERTILE_AGES = (15.0, 45.0)  # years (from, below): the ages over which the total fertility rate is spread
FEMALE_BIRTH_SHARE = 0.488  # share of girls among births (about 105 boys per 100 girls)
YOUNG_ADULT_AGES = (18.0, 30.0)  # years (from, below): the young adults who may leave the RCM alone


CHILD, INACTIVE, GONE = int(Status.CHILD), int(Status.INACTIVE), int(Status.GONE)
DIED, MOVED_ALONE, MOVED_WITH_HOUSEHOLD = int(Exit.DIED), int(Exit.MOVED_ALONE), int(Exit.MOVED_WITH_HOUSEHOLD)


class Persons(NamedTuple):
    """The person arrays demography reads and writes."""

    present: np.ndarray
    age: np.ndarray  # years (float32)
    status: np.ndarray  # labour-force status (GONE once left)
    female: np.ndarray
    household: np.ndarray
    status_at_exit: np.ndarray
    exit_week: np.ndarray
    exit_reason: np.ndarray  # Exit code


class Households(NamedTuple):
    """The household arrays demography reads and writes."""

    present: np.ndarray
    size: np.ndarray  # members present
    exit_week: np.ndarray
    municipality: np.ndarray


class AgeBands(NamedTuple):
    """The period's ageing and the age bands of the period's events (from, below)."""

    years: float  # length of a period in years
    working_age: float  # children become adults (inactive) at this age
    young_from: float  # young adults who may leave alone
    young_to: float
    fertile_from: float  # women who may give birth
    fertile_to: float


class Period(NamedTuple):
    """The period's entries and exits, as drawn."""

    die: np.ndarray  # persons who die
    alone: np.ndarray  # young adults moving out alone
    leaving: np.ndarray  # persons moving out with their household
    born: np.ndarray  # newborns
    leave: np.ndarray  # per household row: the household moves out
    households_leaving: np.ndarray  # rows of the households moving out
    strain: np.ndarray  # per household row: moves out under strain only


def gompertz_annual(age: np.ndarray, q1: float, a1: float, q2: float, a2: float, cap: float) -> np.ndarray:
    """Annual probability of dying at ``age`` on the Gompertz curve through (a1, q1), (a2, q2),
    at most ``cap``."""
    b = np.log(q2 / q1) / (a2 - a1)
    return np.minimum(q1 * np.exp(b * (age - a1)), cap)


@kernel
def _age_kernel(persons, bands, rows=None, first_new=0):
    """Ages everyone present by ``bands.years`` (the age as stored, float32, is the one
    compared), moves children who reach working age to inactive, and returns the rows
    present (in row order), the young adults and the women of fertile age among them,
    and which whole years of age (0-120) occur. The rows looked at are ``rows`` (sorted)
    and every row from ``first_new`` on: by default all rows; the demography passes the
    rows present at its last period and the rows added since, as only it adds and
    removes persons."""
    present_mask, age, status, female = persons.present, persons.age, persons.status, persons.female
    if rows is None:
        old = np.zeros(0, np.int64)
    else:
        old = rows
    n_old = len(old)
    total = n_old + max(len(present_mask) - first_new, 0)
    present = np.empty(total, np.int64)
    young = np.empty(total, np.int64)
    fertile = np.empty(total, np.int64)
    ages = np.zeros(121, np.bool_)
    n_p = n_y = n_f = 0
    for j in range(total):
        i = old[j] if j < n_old else first_new + (j - n_old)
        if not present_mask[i]:
            continue
        age[i] = age[i] + bands.years
        a = age[i]
        present[n_p] = i
        n_p += 1
        if status[i] == CHILD and a >= bands.working_age:
            status[i] = INACTIVE
        # written in every case, kept (the count moves on) only if selected
        young[n_y] = i
        n_y += (a >= bands.young_from) & (a < bands.young_to)
        fertile[n_f] = i
        n_f += female[i] & (a >= bands.fertile_from) & (a < bands.fertile_to)
        ages[min(int(a), 120)] = True
    return present[:n_p], young[:n_y], fertile[:n_f], ages


@kernel
def _deaths_kernel(drawn, u, top, death_by_age, age, present, young, fertile):
    """Deaths among the persons ``drawn`` at the highest probability of the period
    ``top``: those with ``u * top`` below the probability of their whole year of age.
    Returns them, whether each row is present and alive (of the rows of ``present``),
    and the young adults and the women of ``young`` and ``fertile`` still alive."""
    alive = present.copy()
    die = np.empty(len(drawn), np.int64)
    k = 0
    for j in range(len(drawn)):
        i = drawn[j]
        dies = u[j] * top < death_by_age[min(np.int64(age[i]), 120)]
        die[k] = i
        k += dies
        alive[i] = not dies
    return die[:k], alive, _alive_only(young, alive), _alive_only(fertile, alive)


@kernel
def _alive_only(rows, alive):
    """The members of ``rows`` still alive."""
    out = np.empty(len(rows), np.int64)
    m = 0
    for i in rows:
        out[m] = i
        m += alive[i]
    return out[:m]


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
def _leaving_kernel(chosen, pending, hh_present, first_row, arrived, household, alive, born, alone):
    """Households leaving this period: those ``chosen`` (background moves) and those
    present that asked to leave under strain (``pending``, which is cleared). Returns
    which households leave (by row), which leave under strain only and how many, the
    households leaving, the persons in them still present and ``alive`` (the members
    who arrived with the household, rows ``first_row`` on, and the children ``born``
    there since, in row order), and the young adults leaving ``alone`` whose household
    does not leave."""
    n_hh = len(hh_present)
    leave = np.zeros(n_hh, np.bool_)
    for h in chosen:
        leave[h] = True
    strain = np.zeros(n_hh, np.bool_)
    households = np.empty(n_hh, np.int64)
    n_strain = n_left = n_members = 0
    for h in range(n_hh):
        s = pending[h] and hh_present[h] and not leave[h]
        strain[h] = s
        n_strain += s
        if leave[h] or s:
            leave[h] = True
            households[n_left] = h
            n_left += 1
            n_members += arrived[h]
    pending[:] = False
    later = _in_households(born, household, leave, alive)
    members = np.empty(n_members + len(later), np.int64)
    m = 0
    for q in range(n_left):
        h = households[q]
        for i in range(first_row[h], first_row[h] + arrived[h]):
            members[m] = i
            m += alive[i]
    members[m : m + len(later)] = later
    m += len(later)
    members = np.sort(members[:m]) if len(later) else members[:m]
    single = np.empty(len(alone), np.int64)
    k = 0
    for i in alone:
        single[k] = i
        k += not leave[household[i]]
    return leave, strain, n_strain, households[:n_left], members, single[:k]


@kernel
def _residents_by_municipality(present, municipality, size, n_municipalities):
    """Members present, summed by municipality over the households present."""
    out = np.zeros(n_municipalities)
    for h in range(len(present)):
        if present[h]:
            out[municipality[h]] += size[h]
    return out


@kernel
def _remove_rows(ids, reason, week, persons, hh_size):
    """Persons ``ids`` leave the RCM for ``reason``: no longer present, status ``GONE``
    (the one they had is kept in ``status_at_exit``), one member fewer in their household."""
    for i in ids:
        persons.present[i] = False
        persons.status_at_exit[i] = persons.status[i]
        persons.status[i] = GONE
        hh_size[persons.household[i]] -= 1
        persons.exit_week[i] = week
        persons.exit_reason[i] = reason


@kernel
def _exits_kernel(period, week, persons, households, residents):
    """Settles the period: births join their households; the persons who die, who move
    out alone and who move out with their household (``period.leaving``, and the
    children born there this period) leave; the households that leave
    (``period.leave`` by row, ``period.households_leaving``) or that nobody is left in
    end. ``residents`` (persons present by municipality) is kept up to date. Returns the
    persons who left (deaths, moves alone, moves with the household, in that order), the
    persons who left with their household, how many of those left under strain, and the
    net natural and background losses by municipality (exits other than moves under
    strain, less births)."""
    household, hh_municipality, hh_size = persons.household, households.municipality, households.size
    born, leave, leaving, die, alone = period.born, period.leave, period.leaving, period.die, period.alone
    losses = np.zeros(len(residents), np.int64)
    n_born_leaving = 0
    for i in born:
        h = household[i]
        hh_size[h] += 1
        losses[hh_municipality[h]] -= 1
        residents[hh_municipality[h]] += 1
        n_born_leaving += leave[h]
    with_household = np.empty(len(leaving) + n_born_leaving, np.int64)
    with_household[: len(leaving)] = leaving
    k = len(leaving)
    for i in born:
        with_household[k] = i
        k += leave[household[i]]
    for i in die:
        losses[hh_municipality[household[i]]] += 1
    for i in alone:
        losses[hh_municipality[household[i]]] += 1
    n_strain_moved = 0
    for i in with_household:
        h = household[i]
        if period.strain[h]:
            n_strain_moved += 1
        else:
            losses[hh_municipality[h]] += 1
    _remove_rows(die, DIED, week, persons, hh_size)
    _remove_rows(alone, MOVED_ALONE, week, persons, hh_size)
    _remove_rows(with_household, MOVED_WITH_HOUSEHOLD, week, persons, hh_size)
    exits = np.concatenate((die, alone, with_household))
    for i in exits:
        h = household[i]
        residents[hh_municipality[h]] -= 1
        if hh_size[h] == 0:
            households.present[h] = False
            households.exit_week[h] = week
    for h in period.households_leaving:
        households.present[h] = False
        households.exit_week[h] = week
    return exits, with_household, n_strain_moved, losses


class Demography:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("demography")
        self.period = DEMOGRAPHY_PERIOD_WEEKS
        years = self.period / WEEKS_PER_YEAR  # length of one period in years
        self.years = years
        # Probability of dying within one period, by whole year of age.
        annual = gompertz_annual(np.arange(121) + 0.5, *self.p["mortality_gompertz"], MORTALITY_CAP)
        self.death_by_age = 1.0 - (1.0 - annual) ** years
        # Births: the total fertility rate spread evenly over the fertile ages.
        self.fertile_from, self.fertile_to = FERTILE_AGES
        self.birth_prob = self.p["fertility_rate"] / (self.fertile_to - self.fertile_from) * years  # per woman
        # Young adults who may leave alone.
        self.young_from, self.young_to = YOUNG_ADULT_AGES
        self.bands = AgeBands(
            float(years),
            WORKING_AGE,
            float(self.young_from),
            float(self.young_to),
            float(self.fertile_from),
            float(self.fertile_to),
        )
        t = model.territory
        p06 = t.municipalities["pop_2006"].to_numpy(float)
        p11 = t.municipalities["pop_2011"].to_numpy(float)
        growth = np.log(p11 / p06) / ((CENSUS_DAY_2011 - CENSUS_DAY_2006).days / 365.25)
        self.growth_per_period = growth * years  # census growth per resident per period
        self.counts = dict(
            births=0,
            deaths=0,
            moved_alone=0,
            moved_with_household=0,
            in_migrants=0,
            households_left=0,
            households_strain_left=0,
            strain_moved=0,
        )
        self.pending = np.zeros(model.households.n, bool)  # households asking to leave
        # Persons present at the last period, and the first row added since (all rows
        # are looked at in the first period).
        self._rows = np.zeros(0, np.int64)
        self._first_new = 0
        self._born = np.zeros(0, np.int64)  # rows of the children born in the RCM
        H = model.households
        # Persons present by municipality (kept up to date by each period's entries and exits).
        self.residents = _residents_by_municipality(
            H.present[: H.n], H.municipality, H.size, t.n_municipalities
        ).astype(np.int64)

    def request_moves(self, households: np.ndarray) -> None:
        """Households that decided to leave; they go at the next demographic period."""
        H = self.model.households
        if len(self.pending) < H.n:
            self.pending = np.concatenate([self.pending, np.zeros(H.n - len(self.pending), bool)])
        self.pending[households] = True

    def departure_rate(self) -> float:
        """Annual probability that a present person leaves the RCM or dies, over the persons
        present now: deaths by age, households moving out, young adults leaving alone."""
        P = self.model.people
        here = np.flatnonzero(P.present[: P.n])
        if len(here) == 0:
            return 0.0
        age = P.age[here]
        annual_death = gompertz_annual(np.floor(age) + 0.5, *self.p["mortality_gompertz"], MORTALITY_CAP)
        young = (age >= self.young_from) & (age < self.young_to)
        leave = self.p["household_out_migration_rate"] + young * self.p["young_adult_leaving_rate"]
        return float(np.mean(1.0 - (1.0 - annual_death) * (1.0 - leave)))

    def period_ends(self, week: int) -> bool:
        """Whether week ``week`` (from 0) is the last of a period: the week of the
        demographic and life-course events, belonging and participation."""
        return week % self.period == self.period - 1

    def step(self) -> tuple[np.ndarray, np.ndarray]:
        """One week; returns (rows of persons who entered, rows of persons who left)."""
        m = self.model
        if not self.period_ends(m.week):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        P, H = m.people, m.households
        rng = m.streams["demography"]
        p = self.p
        n = P.n
        persons = Persons(
            P.present[:n], P.age, P.status, P.female, P.household, P.status_at_exit, P.exit_week, P.exit_reason
        )
        present, young, fertile, ages = _age_kernel(persons, self.bands, self._rows, self._first_new)
        self._rows, self._first_new = present, n  # only this submodel adds and removes persons

        # Deaths, young adults leaving alone, households leaving (background and strain).
        # One draw at the highest probability of any age present, thinned to each person's
        # probability (as streams.bernoulli_each, with the probabilities looked up only for
        # those drawn).
        top = float(self.death_by_age[ages].max()) if len(present) else 0.0
        drawn = bernoulli(rng, present, min(top, 1.0)) if top > 0 else present[:0]
        u = rng.random(len(drawn)) if top > 0 else np.zeros(0)
        die, alive, young, fertile = _deaths_kernel(
            drawn, u, top, self.death_by_age, P.age, P.present[:n], young, fertile
        )
        alone = bernoulli(rng, young, p["young_adult_leaving_rate"] * self.years)
        hh_present = np.flatnonzero(H.present[: H.n])
        chosen = bernoulli(rng, hh_present, p["household_out_migration_rate"] * self.years)
        self.request_moves(np.zeros(0, np.int64))  # size the pending mask
        hh_leave, strain_only, n_strain, households_leaving, leaving, alone = _leaving_kernel(
            chosen, self.pending, H.present[: H.n], H.first_row, H.arrived, P.household, alive, self._born, alone
        )

        # Births (before exits, so a mother leaving takes her newborn along).
        born = self._add_births(bernoulli(rng, fertile, self.birth_prob))
        exits, with_household, strain_moved, losses = _exits_kernel(
            Period(die, alone, leaving, born, hh_leave, households_leaving, strain_only),
            m.week,
            Persons(P.present, P.age, P.status, P.female, P.household, P.status_at_exit, P.exit_week, P.exit_reason),
            Households(H.present, H.size, H.exit_week, H.municipality),
            self.residents,
        )
        self._born = np.concatenate([self._born, born])
        c = self.counts
        c["births"] += len(born)
        c["deaths"] += len(die)
        c["moved_alone"] += len(alone)
        c["moved_with_household"] += len(with_household)
        c["strain_moved"] += strain_moved
        c["households_left"] += len(households_leaving)
        c["households_strain_left"] += n_strain

        # Net natural and background change by municipality, made up by moves in.
        moved_in = self._move_in(rng, losses)
        return np.concatenate([born, moved_in]), exits

    def _add_births(self, mothers: np.ndarray) -> np.ndarray:
        """Newborns of ``mothers``, in their households (counted in the household size
        when the period is settled)."""
        m, P = self.model, self.model.people
        if len(mothers) == 0:
            return np.zeros(0, np.int64)
        rng = m.streams["demography"]
        return P.add(
            len(mothers),
            present=True,
            household=P.household[mothers],
            age=rng.uniform(0.0, self.years, len(mothers)),
            female=rng.random(len(mothers)) < FEMALE_BIRTH_SHARE,
            status=Status.CHILD,
            entry_week=m.week,
            entry_kind=1,
        )

    def _move_in(self, rng: np.random.Generator, losses: np.ndarray) -> np.ndarray:
        """Households moving in: by municipality, the census growth of its residents over
        the period plus its net ``losses``."""
        m = self.model
        expected = np.maximum(self.residents * self.growth_per_period + losses, 0.0)
        n_hh = rng.poisson(expected / m.mean_household_size)
        total = int(n_hh.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        muni = np.repeat(np.arange(len(n_hh)), n_hh)
        sizes = 1 + categorical(rng, m.household_size_shares, total)
        ids = make_members(m, muni, sizes, rng, entry_week=m.week)
        np.add.at(self.residents, muni, sizes)
        self.counts["in_migrants"] += len(ids)
        return ids
