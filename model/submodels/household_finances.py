"""Household finances: weekly income, financial strain, and out-migration under strain.

Only households with a member without a job (searching or retraining) can be under
strain, so only they are examined each week. Their weekly income is the members' wages
(hours times hourly wage), severance pay, EI benefits and pensions; their reference
income is what they would earn with every jobless member back at the wage of their last
job. A household is under strain when its income is ``strain.income_drop`` or more below
its reference income. After ``strain.out_migration_after_weeks`` weeks of continuous
strain it leaves the RCM at rate ``strain.out_migration_rate``; the move is requested
here and carried out by the demography submodel, less often the stronger the household's
sense of belonging (``cohesion.belonging_migration``, ``submodels/belonging.py``).

``model/reference/household_finances.py`` states one week of this rule in plain NumPy; the
compiled kernel below (``_strain_kernel``) is checked against it
(``tests/test_reference_social.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..constants import HOURS_PER_WEEK, WORKING_AGE
from ..jit import kernel
from ..state import Status
from ..streams import bernoulli_each

EMPLOYED, UNEMPLOYED, TRAINING, RETIRED = Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING, Status.RETIRED


def leave_probability(
    p: dict, belonging_migration: float, belonging_initial: float, belonging: np.ndarray
) -> np.ndarray:
    """Weekly probability that a household strained long enough leaves the RCM: the
    ``out_migration_rate``, lower the stronger the household's mean belonging."""
    odds = np.exp(-belonging_migration * (belonging - belonging_initial))
    return np.minimum(p["out_migration_rate"] * odds, 1.0)


class HouseholdFinances:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("strain")
        self.params = params_of(model.config)
        self.belonging_migration = model.config["cohesion.belonging_migration"]
        self.belonging_initial = model.config["cohesion.belonging_initial"]
        self.strained = 0
        self._strained = np.zeros(0, np.int64)  # households under strain last week
        self._slot = np.zeros(0, np.int64)  # scratch map of households to their index, reused every week

    def step(self, jobless: np.ndarray, ei_paid: np.ndarray, severance: np.ndarray) -> np.ndarray:
        """One week of household finances; return the households that decide to leave.

        The households with a member in ``jobless`` (the only ones that can be under
        strain) get their income (wages, pensions, benefits paid to ``ei_paid``, severance
        paid to ``severance``) and their reference income (the same with every jobless
        member back at the wage of their last job); those below ``1 - income_drop`` of the
        reference are under strain, and those strained ``out_migration_after_weeks`` in a
        row leave at ``out_migration_rate``, less often the stronger their belonging.

        Members who can bring income are those who arrived with the household, whose rows
        are consecutive. Children born in the model are left out (a simplification: the
        oldest of them reach working age only at the end of the period)."""
        m, P, H = self.model, self.model.people, self.model.households
        if len(self._slot) < H.n:
            self._slot = np.zeros(len(H.present), np.int64)
        week = Week(
            np.asarray(jobless, np.int64),
            np.asarray(ei_paid, np.int64),
            np.asarray(severance, np.int64),
            self._strained,
        )
        people = People(P.household, P.status, P.wage, P.pension, P.ei_benefit, P.present, P.age, P.belonging)
        households = Households(H.first_row, H.arrived, H.income, H.ref_income, H.strain_weeks)
        strained, eligible, belonging = _strain_kernel(week, people, households, self.params, self._slot)
        self._strained = strained
        self.strained = len(strained)
        rng = m.streams["household_finances"]
        if len(eligible) == 0:
            return eligible
        return bernoulli_each(
            rng, eligible, leave_probability(self.p, self.belonging_migration, self.belonging_initial, belonging)
        )

    @property
    def strained_households(self) -> np.ndarray:
        """Households under financial strain this week."""
        return self._strained


# -- the fast path: named structures and compiled kernels -----------------------------
class Params(NamedTuple):
    hours_per_week: float  # a weekly wage is the hourly wage times this (``HOURS_PER_WEEK``)
    income_drop: float  # strained when income < (1 - income_drop) x reference income
    out_migration_after_weeks: float  # weeks of strain in a row before a household may leave
    working_age: float  # adults, whose belonging counts (``WORKING_AGE``)
    belonging_initial: float  # ``cohesion.belonging_initial``: belonging of a household without adults


class People(NamedTuple):
    """The per-person arrays the strain rule reads."""

    household: np.ndarray
    status: np.ndarray
    wage: np.ndarray  # hourly wage of the current or last job
    pension: np.ndarray  # weekly
    ei_benefit: np.ndarray  # weekly benefit of the current claim
    present: np.ndarray
    age: np.ndarray
    belonging: np.ndarray


class Households(NamedTuple):
    """The per-household arrays: the members' rows (read), incomes and strain (written)."""

    first_row: np.ndarray  # first row of the members who arrived with it (consecutive rows)
    arrived: np.ndarray  # how many arrived with it
    income: np.ndarray
    ref_income: np.ndarray
    strain_weeks: np.ndarray  # weeks of strain in a row


class Week(NamedTuple):
    """This week's inputs (rows of persons, households for ``strained_before``)."""

    jobless: np.ndarray  # without a job (searching or retraining)
    ei_paid: np.ndarray  # paid an EI benefit this week (all of them jobless)
    severance: np.ndarray  # paid severance this week (a full weekly wage; all of them jobless)
    strained_before: np.ndarray  # households under strain last week


def params_of(config) -> Params:
    return Params(
        HOURS_PER_WEEK,
        float(config["strain.income_drop"]),
        float(config["strain.out_migration_after_weeks"]),
        WORKING_AGE,
        float(config["cohesion.belonging_initial"]),
    )


@kernel
def _watched(jobless, household, slot):
    """The households of ``jobless``, sorted, and for each of ``jobless`` the index of
    their household among them. The jobless come in row order and members who arrived
    together have consecutive rows, so their households mostly come in order already;
    otherwise they are sorted, with ``slot`` as scratch space (zero for every household,
    and left so)."""
    hhs = np.empty(len(jobless), np.int64)
    of_jobless = np.empty(len(jobless), np.int64)
    k = 0
    for i in range(len(jobless)):
        h = household[jobless[i]]
        if k > 0 and h == hhs[k - 1]:
            of_jobless[i] = k - 1
        elif k == 0 or h > hhs[k - 1]:
            hhs[k] = h
            of_jobless[i] = k
            k += 1
        else:
            break
    else:
        return hhs[:k], of_jobless
    k = 0
    for p in jobless:
        h = household[p]
        if slot[h] == 0:
            slot[h] = 1  # watched
            hhs[k] = h
            k += 1
    hhs = np.sort(hhs[:k])
    for j in range(k):
        slot[hhs[j]] = j
    for i in range(len(jobless)):
        of_jobless[i] = slot[household[jobless[i]]]
    for h in hhs:
        slot[h] = 0
    return hhs, of_jobless


@kernel
def _households_of(rows, jobless, of_jobless, household, hhs, slot):
    """Index in ``hhs`` of the household of each of ``rows``, some of ``jobless`` (see
    ``_watched``). ``rows`` in the order of ``jobless`` are matched to them in one pass;
    otherwise through ``slot`` (scratch space, zero for every household, and left so)."""
    at = np.empty(len(rows), np.int64)
    q = 0
    for i in range(len(rows)):
        while q < len(jobless) and jobless[q] != rows[i]:
            q += 1
        if q == len(jobless):
            break
        at[i] = of_jobless[q]
    else:
        return at
    for j in range(len(hhs)):
        slot[hhs[j]] = j
    for i in range(len(rows)):
        at[i] = slot[household[rows[i]]]
    for h in hhs:
        slot[h] = 0
    return at


@kernel
def _strain_kernel(w, P, H, p, slot):
    """Income, reference income and strain of the households with a member in
    ``w.jobless`` (``Week`` ``w``, ``People`` ``P``, ``Households`` ``H``, ``Params``
    ``p``). A member's income is the weekly wage if employed or the pension if retired;
    the reference counts jobless members at the weekly wage of their last job. Benefits
    (``w.ei_paid``) and severance pay (a full weekly wage) add to the income of the
    claimant's household. A household is strained when its income is below ``1 -
    p.income_drop`` of its reference income; its ``strain_weeks`` count the weeks in a
    row (reset for those strained before but not now). Returns the strained households
    and those strained for ``p.out_migration_after_weeks`` or more, both sorted, and the
    mean belonging of the adults present among the members who arrived with each of the
    latter (``p.belonging_initial`` if none; as ``Belonging.household_belonging``).
    ``slot`` is scratch space, zero for every household (and left so)."""
    # The households watched (sorted) and the index among them of each jobless member's.
    hhs, of_jobless = _watched(w.jobless, P.household, slot)
    k = len(hhs)
    hours = p.hours_per_week
    earned = np.zeros(k)
    reference = np.zeros(k)
    for j in range(k):
        h = hhs[j]
        # Members who left (GONE) add nothing to either income, nor do children and those
        # outside the labour force; a wage or pension is read only where it counts.
        for i in range(H.first_row[h], H.first_row[h] + H.arrived[h]):
            st = P.status[i]
            if st == EMPLOYED:
                weekly_wage = P.wage[i] * hours
                earned[j] += weekly_wage
                reference[j] += weekly_wage
            elif st == UNEMPLOYED or st == TRAINING:
                reference[j] += P.wage[i] * hours
            elif st == RETIRED:
                earned[j] += P.pension[i]
                reference[j] += P.pension[i]
    benefits = np.zeros(k)
    at = _households_of(w.ei_paid, w.jobless, of_jobless, P.household, hhs, slot)  # every claimant is jobless
    for j in range(len(w.ei_paid)):
        benefits[at[j]] += P.ei_benefit[w.ei_paid[j]]
    severance_pay = np.zeros(k)
    at = _households_of(w.severance, w.jobless, of_jobless, P.household, hhs, slot)
    for j in range(len(w.severance)):
        severance_pay[at[j]] += P.wage[w.severance[j]] * hours
    strained = np.empty(k, np.int64)
    weeks = np.empty(k, np.int32)
    n_strained = 0
    share = 1.0 - p.income_drop
    for j in range(k):
        h = hhs[j]
        inc = earned[j] + benefits[j] + severance_pay[j]
        H.income[h] = inc
        H.ref_income[h] = reference[j]
        if inc < share * reference[j]:
            strained[n_strained] = h
            weeks[n_strained] = H.strain_weeks[h] + 1  # 0 unless strained last week too
            n_strained += 1
    for h in w.strained_before:
        H.strain_weeks[h] = 0
    n_eligible = 0
    eligible = np.empty(n_strained, np.int64)
    for j in range(n_strained):
        H.strain_weeks[strained[j]] = weeks[j]
        if weeks[j] >= p.out_migration_after_weeks:
            eligible[n_eligible] = strained[j]
            n_eligible += 1
    mean_belonging = np.empty(n_eligible)
    for j in range(n_eligible):
        h = eligible[j]
        total, count = 0.0, 0
        for i in range(H.first_row[h], H.first_row[h] + H.arrived[h]):
            if P.present[i] and P.age[i] >= p.working_age:
                total += P.belonging[i]
                count += 1
        mean_belonging[j] = total / count if count > 0 else p.belonging_initial
    return strained[:n_strained], eligible[:n_eligible], mean_belonging
