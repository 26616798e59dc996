"""Distress: psychological distress of adults, in SD units of a distress scale.

A person's distress is a stable trait (individual differences, mean 0 and SD
``distress.trait_sd`` among employed adults) plus a state that follows the person's
circumstances. Each week the state moves a share ``distress.adjust_rate`` of the way to
its current level::

    level = g * (job_loss * jobless + duration * min(weeks without a job / 52, 1)
                 + ei_exhausted * exhausted + wage_loss * share of wage lost on re-employment)
            + strain * household under strain
            + household_spillover * mean state of the other members of the household
            - informal support felt this week - effect of a formal service being received

floored at 0, where ``g = 1 + men_extra * man + blue_collar_extra * blue-collar`` (last
job in manufacturing, construction or the primary sector). Re-employment removes the
duration and exhaustion terms and a share ``reemployment_recovery`` of the job-loss term
(all of it by default); a displaced worker re-employed at a lower wage keeps
``wage_loss`` times the share of the wage lost. ``distress = trait + state``;
``distress.high_threshold`` marks high distress.

Only adults (age at least ``demography.working_age``) are scored. Each week the submodel
updates only those whose state is not zero or who have a current stressor (without a
job, in a strained household, re-employed at a lower wage, or living with someone
distressed); everyone else's distress is their trait.
"""

from __future__ import annotations

import numpy as np

from ..state import Status, arrived_members

BLUE_COLLAR = ("manufacturing", "construction", "primary")


class Distress:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("distress")
        self.memory = int(model.config["support.memory_weeks"])
        self.adult_age = model.config["demography.working_age"]
        self.blue = np.zeros(len(model.sectors) + 1, bool)
        for name in BLUE_COLLAR:
            if name in model.sectors:
                self.blue[model.sectors.index(name)] = True
        self.service_effect = np.asarray(model.config["services.effect"], np.float32)
        self.active = np.zeros(0, np.int64)  # the adults updated last week

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        P.distress_trait[ids] = rng.normal(0.0, self.p["trait_sd"], len(ids))
        P.distress_state[ids] = 0.0
        P.distress[ids] = P.distress_trait[ids]

    def gain(self, ids: np.ndarray) -> np.ndarray:
        """Multiplier of the job-loss effects: larger for men and blue-collar workers."""
        P = self.model.people
        return (1.0 + self.p["men_extra"] * ~P.female[ids]
                + self.p["blue_collar_extra"] * self.blue[P.sector[ids]])

    def step(self, jobless: np.ndarray, strained_households: np.ndarray) -> None:
        """Update the distress of adults affected this week (see the module docstring)."""
        m, P, H, p = self.model, self.model.people, self.model.households, self.p
        week = m.week
        n = P.n
        # Who is updated: a state above zero, or a stressor now.
        # A state above zero is set only here, so whoever has one was updated last week.
        state_on = self.active[(P.distress_state[self.active] > 0) & P.present[self.active]]
        lower_wage = m.shocks.displaced[(P.status[m.shocks.displaced] == Status.EMPLOYED)
                                        & (P.reemployed_week[m.shocks.displaced] >= 0)]
        core = np.concatenate([state_on, jobless, lower_wage])
        hh_on = np.zeros(H.n, bool)
        hh_on[P.household[core]] = True
        mark = np.zeros(n, bool)
        mark[core] = True
        mark[self._members(np.flatnonzero(hh_on))] = True  # includes strained households
        ids = np.flatnonzero(mark)
        ids = ids[P.present[ids] & (P.age[ids] >= self.adult_age)]
        if len(ids) == 0:
            self.active = ids
            return
        st = P.status[ids]
        is_jobless = (st == Status.UNEMPLOYED) | (st == Status.TRAINING)
        g = self.gain(ids)
        weeks_out = np.where(is_jobless, week - P.spell_start[ids], 0)
        level = np.where(is_jobless, p["job_loss"] + p["duration"] * np.minimum(weeks_out / 52.0, 1.0), 0.0)
        level += p["ei_exhausted"] * (is_jobless & P.ei_exhausted[ids])
        # Re-employed displaced workers keep part of the distress in proportion to the wage lost.
        back = (st == Status.EMPLOYED) & P.ever_displaced[ids] & (P.reemployed_week[ids] >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lost = np.where(back & (P.displaced_wage[ids] > 0), 1.0 - P.wage[ids] / P.displaced_wage[ids], 0.0)
        level += p["wage_loss"] * np.clip(lost, 0.0, 1.0)
        level += (1.0 - p["reemployment_recovery"]) * back * p["job_loss"]
        level *= g
        if len(strained_households):
            in_strain = np.zeros(H.n, bool)
            in_strain[strained_households] = True
            level += p["strain"] * in_strain[P.household[ids]]
        # Spillover from the other members of the household.
        hh = P.household[ids]
        own = P.distress_state[ids]
        tot = np.bincount(hh, weights=own, minlength=H.n)[hh]
        cnt = np.bincount(hh, minlength=H.n)[hh]
        others = np.where(cnt > 1, (tot - own) / np.maximum(cnt - 1, 1), 0.0)
        level += p["household_spillover"] * others
        # Relief: informal support felt this week and formal services being received.
        felt = week - P.support_week[ids] < self.memory
        level -= np.where(felt, P.support_effect[ids], 0.0)
        serving = P.service[ids] >= 0
        if serving.any():
            kind = m.orgs.service[P.service[ids[serving]]]
            relief = np.zeros(len(ids))
            relief[serving] = self.service_effect[kind]
            level -= relief
        level = np.maximum(level, 0.0)
        state = P.distress_state[ids]
        state = state + p["adjust_rate"] * (level - state)
        state[state < 0.01] = 0.0  # negligible: back to the trait, out of the weekly update
        P.distress_state[ids] = state
        P.distress[ids] = P.distress_trait[ids] + state
        self.active = ids

    def _members(self, households: np.ndarray) -> np.ndarray:
        """Persons who arrived with ``households`` (the caller keeps those present)."""
        if len(households) == 0:
            return np.zeros(0, np.int64)
        return arrived_members(self.model.households, households)[0]
