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
"""

from __future__ import annotations

import numpy as np

from ..constants import HOURS_PER_WEEK, WORKING_AGE
from ..jit import kernel
from ..state import Status
from ..streams import bernoulli_each

EMPLOYED, UNEMPLOYED, TRAINING, RETIRED = Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING, Status.RETIRED


class HouseholdFinances:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("strain")
        self.hours = HOURS_PER_WEEK
        self.belonging_migration = model.config["cohesion.belonging_migration"]
        self.belonging_initial = model.config["cohesion.belonging_initial"]
        self.adult_age = WORKING_AGE
        self.strained = 0
        self._strained = np.zeros(0, np.int64)  # households under strain last week
        self._slot = np.zeros(0, np.int64)  # scratch map of households to their index, reused every week

    def step(self, jobless: np.ndarray, ei_paid: np.ndarray, severance: np.ndarray) -> np.ndarray:
        """Update incomes and strain of households with a member in ``jobless``; return
        the households that decide to leave. ``ei_paid`` and ``severance`` are the rows
        paid a benefit or severance this week."""
        m, P, H = self.model, self.model.people, self.model.households
        if len(self._slot) < H.n:
            self._slot = np.zeros(len(H.present), np.int64)
        # Members who can bring income: those who arrived with the household, whose rows
        # are consecutive. Children born in the model are left out (a simplification:
        # the oldest of them reach working age only at the end of the period).
        strained, eligible, belonging = _strain_kernel(
            np.asarray(jobless, np.int64), np.asarray(ei_paid, np.int64), np.asarray(severance, np.int64),
            P.household, P.status, P.wage, P.pension, P.ei_benefit, H.first_row, H.arrived, self._slot,
            np.float32(self.hours), 1.0 - self.p["income_drop"], float(self.p["out_migration_after_weeks"]),
            self._strained, H.income, H.ref_income, H.strain_weeks, P.present, P.age,
            np.float32(self.adult_age), P.belonging, float(self.belonging_initial))
        self._strained = strained
        self.strained = len(strained)
        rng = m.streams["household_finances"]
        if len(eligible) == 0:
            return eligible
        # Households with a stronger sense of belonging are less likely to leave.
        odds = np.exp(-self.belonging_migration * (belonging - self.belonging_initial))
        return bernoulli_each(rng, eligible, np.minimum(self.p["out_migration_rate"] * odds, 1.0))

    @property
    def strained_households(self) -> np.ndarray:
        """Households under financial strain this week."""
        return self._strained


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
def _strain_kernel(jobless, ei_paid, severance, household, status, wage, pension, ei_benefit, first_row, arrived,
                   slot, hours, strain_share, after_weeks, strained_before, income, ref_income, strain_weeks,
                   present, age, adult_age, belonging, belonging_initial):
    """Income, reference income and strain of the households with a member in
    ``jobless``. A member's income is the weekly wage if employed or the pension if
    retired; the reference counts jobless members at the weekly wage of their last job.
    Benefits (``ei_paid``) and severance pay (a full weekly wage) add to the income of
    the claimant's household. A household is strained when its income is below
    ``strain_share`` of its reference income; its ``strain_weeks`` count the weeks in a
    row (reset for those strained before but not now). Returns the strained households
    and those strained for ``after_weeks`` or more, both sorted, and the mean belonging
    of the adults present among the members who arrived with each of the latter
    (``belonging_initial`` if none; as ``Belonging.household_belonging``). ``slot`` is
    scratch space, zero for every household (and left so)."""
    # The households watched (sorted) and the index among them of each jobless member's.
    hhs, of_jobless = _watched(jobless, household, slot)
    k = len(hhs)
    earned = np.zeros(k)
    reference = np.zeros(k)
    for j in range(k):
        h = hhs[j]
        # Members who left (GONE) add nothing to either income, nor do children and those
        # outside the labour force; a wage or pension is read only where it counts.
        for p in range(first_row[h], first_row[h] + arrived[h]):
            st = status[p]
            if st == EMPLOYED:
                weekly_wage = wage[p] * hours
                earned[j] += weekly_wage
                reference[j] += weekly_wage
            elif st == UNEMPLOYED or st == TRAINING:
                reference[j] += wage[p] * hours
            elif st == RETIRED:
                earned[j] += pension[p]
                reference[j] += pension[p]
    benefits = np.zeros(k)
    at = _households_of(ei_paid, jobless, of_jobless, household, hhs, slot)  # every claimant is jobless
    for i in range(len(ei_paid)):
        benefits[at[i]] += ei_benefit[ei_paid[i]]
    severance_pay = np.zeros(k)
    at = _households_of(severance, jobless, of_jobless, household, hhs, slot)
    for i in range(len(severance)):
        severance_pay[at[i]] += wage[severance[i]] * hours
    strained = np.empty(k, np.int64)
    weeks = np.empty(k, np.int32)
    n_strained = 0
    for j in range(k):
        h = hhs[j]
        inc = earned[j] + benefits[j] + severance_pay[j]
        income[h] = inc
        ref_income[h] = reference[j]
        if inc < strain_share * reference[j]:
            strained[n_strained] = h
            weeks[n_strained] = strain_weeks[h] + 1  # 0 unless strained last week too
            n_strained += 1
    for h in strained_before:
        strain_weeks[h] = 0
    n_eligible = 0
    eligible = np.empty(n_strained, np.int64)
    for i in range(n_strained):
        strain_weeks[strained[i]] = weeks[i]
        if weeks[i] >= after_weeks:
            eligible[n_eligible] = strained[i]
            n_eligible += 1
    mean_belonging = np.empty(n_eligible)
    for j in range(n_eligible):
        h = eligible[j]
        total, count = 0.0, 0
        for p in range(first_row[h], first_row[h] + arrived[h]):
            if present[p] and age[p] >= adult_age:
                total += belonging[p]
                count += 1
        mean_belonging[j] = total / count if count > 0 else belonging_initial
    return strained[:n_strained], eligible[:n_eligible], mean_belonging
