"""Household finances: weekly income, financial strain, and out-migration under strain.

Only households with a member without a job (searching or retraining) can be under
strain, so only they are examined each week. Their weekly income is the members' wages
(hours times hourly wage), severance pay, EI benefits and pensions; their reference
income is what they would earn with every jobless member back at the wage of their last
job. A household is under strain when its income is ``strain.income_drop`` or more below
its reference income. After ``strain.out_migration_after_weeks`` weeks of continuous
strain it leaves the RCM at rate ``strain.out_migration_rate``; the move is requested
here and carried out by the demography submodel.
"""

from __future__ import annotations

import numpy as np

from ..state import Status
from ..streams import bernoulli


class HouseholdFinances:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("strain")
        self.hours = model.config["labour.hours_per_week"]
        self.strained = 0

    def step(self, jobless: np.ndarray, ei_paid: np.ndarray, severance: np.ndarray) -> np.ndarray:
        """Update incomes and strain of households with a member in ``jobless``; return
        the households that decide to leave. ``ei_paid`` and ``severance`` are the rows
        paid a benefit or severance this week."""
        m, P, H = self.model, self.model.people, self.model.households
        n = P.n
        status = P.status[:n]
        watched = np.zeros(H.n, bool)
        watched[P.household[jobless]] = True
        members = np.flatnonzero(watched[P.household[:n]] & (status != Status.GONE))
        hh = P.household[members]
        st = P.status[members]
        weekly_wage = P.wage[members] * self.hours
        income = np.where(st == Status.EMPLOYED, weekly_wage, 0.0)
        income += np.where(st == Status.RETIRED, P.pension[members], 0.0)
        ref = np.where((st == Status.UNEMPLOYED) | (st == Status.TRAINING), weekly_wage, income)
        H.income[: H.n] = (np.bincount(hh, weights=income, minlength=H.n)
                           + np.bincount(P.household[ei_paid], weights=P.ei_benefit[ei_paid], minlength=H.n)
                           + np.bincount(P.household[severance], weights=P.wage[severance] * self.hours, minlength=H.n))
        H.ref_income[: H.n] = np.bincount(hh, weights=ref, minlength=H.n)

        strained = watched & (H.income[: H.n] < (1.0 - self.p["income_drop"]) * H.ref_income[: H.n])
        sw = H.strain_weeks[: H.n]
        sw[strained] += 1
        sw[~strained] = 0
        self.strained = int(strained.sum())
        rng = m.streams["household_finances"]
        eligible = np.flatnonzero(strained & (sw >= self.p["out_migration_after_weeks"]))
        return bernoulli(rng, eligible, self.p["out_migration_rate"])
