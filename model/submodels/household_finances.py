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

from ..state import Status, arrived_members
from ..streams import bernoulli_each


class HouseholdFinances:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("strain")
        self.hours = model.config["labour.hours_per_week"]
        self.belonging_migration = model.config["cohesion.belonging_migration"]
        self.belonging_initial = model.config["cohesion.belonging_initial"]
        self.strained = 0
        self._strained = np.zeros(0, np.int64)  # households under strain last week

    def step(self, jobless: np.ndarray, ei_paid: np.ndarray, severance: np.ndarray) -> np.ndarray:
        """Update incomes and strain of households with a member in ``jobless``; return
        the households that decide to leave. ``ei_paid`` and ``severance`` are the rows
        paid a benefit or severance this week."""
        m, P, H = self.model, self.model.people, self.model.households
        status = P.status
        mark = np.zeros(H.n, bool)
        mark[P.household[jobless]] = True
        hhs = np.flatnonzero(mark)  # watched households, sorted
        # Members who can bring income: those who arrived with the household, whose rows
        # are consecutive. Children born in the model are left out (a simplification:
        # the oldest of them reach working age only at the end of the period).
        members, slot = arrived_members(H, hhs)  # slot: index into hhs of each member
        keep = status[members] != Status.GONE
        members, slot = members[keep], slot[keep]
        st = status[members]
        weekly_wage = P.wage[members] * self.hours
        income = np.where(st == Status.EMPLOYED, weekly_wage, 0.0)
        income += np.where(st == Status.RETIRED, P.pension[members], 0.0)
        ref = np.where((st == Status.UNEMPLOYED) | (st == Status.TRAINING), weekly_wage, income)
        paid_slot = np.searchsorted(hhs, P.household[ei_paid])  # every claimant is jobless
        sev_slot = np.searchsorted(hhs, P.household[severance])
        k = len(hhs)
        inc = (np.bincount(slot, weights=income, minlength=k)
               + np.bincount(paid_slot, weights=P.ei_benefit[ei_paid], minlength=k)
               + np.bincount(sev_slot, weights=P.wage[severance] * self.hours, minlength=k))
        H.income[hhs] = inc
        H.ref_income[hhs] = np.bincount(slot, weights=ref, minlength=k)

        strained = hhs[inc < (1.0 - self.p["income_drop"]) * H.ref_income[hhs]]
        weeks = H.strain_weeks[strained] + 1  # 0 unless strained last week too
        H.strain_weeks[self._strained] = 0
        H.strain_weeks[strained] = weeks
        self._strained = strained
        self.strained = len(strained)
        rng = m.streams["household_finances"]
        eligible = strained[H.strain_weeks[strained] >= self.p["out_migration_after_weeks"]]
        if len(eligible) == 0:
            return eligible
        # Households with a stronger sense of belonging are less likely to leave.
        b = m.belonging.household_belonging(eligible)
        odds = np.exp(-self.belonging_migration * (b - self.belonging_initial))
        return bernoulli_each(rng, eligible, np.minimum(self.p["out_migration_rate"] * odds, 1.0))

    @property
    def strained_households(self) -> np.ndarray:
        """Households under financial strain this week."""
        return self._strained
