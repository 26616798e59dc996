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

from ..jit import kernel
from ..state import Status

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
        self.active = _distress_kernel(
            self.active, np.asarray(jobless, np.int64), m.shocks.displaced,
            np.asarray(strained_households, np.int64), P.n, H.n, m.week, np.float32(self.adult_age), self.memory,
            Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING,
            P.present, P.age, P.household, P.status, P.female, P.sector, P.spell_start,
            P.ei_exhausted, P.ever_displaced, P.reemployed_week, P.wage, P.displaced_wage,
            P.support_week, P.support_effect, P.service, P.distress_trait, P.distress_state,
            P.distress, H.first_row, H.arrived, self.blue, m.orgs.service, self.service_effect,
            p["job_loss"], p["duration"], p["ei_exhausted"], np.float32(p["wage_loss"]),
            p["reemployment_recovery"], p["men_extra"], p["blue_collar_extra"], p["strain"],
            p["household_spillover"], p["adjust_rate"])


@kernel
def _distress_kernel(active, jobless, displaced, strained, n, n_households, week, adult_age, memory,
                     employed, unemployed, training,
                     present, age, household, status, female, sector, spell_start,
                     ei_exhausted, ever_displaced, reemployed_week, wage, displaced_wage,
                     support_week, support_effect, service, trait, state, distress,
                     first_row, arrived, blue, org_service, service_effect,
                     job_loss, duration, exhausted_effect, wage_loss, recovery, men_extra,
                     blue_extra, strain, spillover, adjust_rate):
    """One week of distress: select the adults to update, move their state towards its
    level, write ``state`` and ``distress``; return the rows updated (sorted).

    Selected are the adults present among: those updated last week (``active``) whose
    state is above zero, the jobless, the displaced re-employed, and every member who
    arrived with the household of one of these. ``wage_loss`` is float32: the share of
    wage lost is computed in single precision, as the wages are stored."""
    # Selection: mark the persons with a stressor and their households, then the
    # members of those households.
    mark = np.zeros(n, np.bool_)
    hh_on = np.zeros(n_households, np.bool_)
    households = np.empty(len(active) + len(jobless) + len(displaced), np.int64)
    n_hh = 0
    for src in range(3):
        rows = active if src == 0 else (jobless if src == 1 else displaced)
        for i in rows:
            if src == 0 and not (state[i] > 0 and present[i]):
                continue
            if src == 2 and not (status[i] == employed and reemployed_week[i] >= 0):
                continue
            mark[i] = True
            h = household[i]
            if not hh_on[h]:
                hh_on[h] = True
                households[n_hh] = h
                n_hh += 1
    for k in range(n_hh):
        h = households[k]
        mark[first_row[h]:first_row[h] + arrived[h]] = True
    count = 0
    for i in range(n):
        if mark[i] and present[i] and age[i] >= adult_age:
            count += 1
    ids = np.empty(count, np.int64)
    count = 0
    for i in range(n):
        if mark[i] and present[i] and age[i] >= adult_age:
            ids[count] = i
            count += 1

    # Mean state of the other members updated with each person (sums in row order).
    in_strain = np.zeros(n_households, np.bool_)
    for h in strained:
        in_strain[h] = True
    hh_total = np.zeros(n_households)
    hh_count = np.zeros(n_households, np.int64)
    for i in ids:
        hh_total[household[i]] += np.float64(state[i])
        hh_count[household[i]] += 1

    for i in ids:
        h = household[i]
        jobless_now = status[i] == unemployed or status[i] == training
        level = 0.0
        if jobless_now:
            level = job_loss + duration * min((week - spell_start[i]) / 52.0, 1.0)
            if ei_exhausted[i]:
                level += exhausted_effect
        # Re-employed displaced workers keep part of the distress in proportion to the wage lost.
        if status[i] == employed and ever_displaced[i] and reemployed_week[i] >= 0:
            lost = np.float32(0.0)
            if displaced_wage[i] > 0:
                lost = np.float32(1.0) - wage[i] / displaced_wage[i]
                lost = min(max(lost, np.float32(0.0)), np.float32(1.0))
            level += wage_loss * lost
            level += (1.0 - recovery) * job_loss
        gain = 1.0
        if not female[i]:
            gain += men_extra
        if sector[i] >= 0 and blue[sector[i]]:
            gain += blue_extra
        level *= gain
        if in_strain[h]:
            level += strain
        own = np.float64(state[i])
        if hh_count[h] > 1:
            level += spillover * ((hh_total[h] - own) / (hh_count[h] - 1))
        # Relief: informal support felt this week and formal services being received.
        if week - support_week[i] < memory:
            level -= support_effect[i]
        if service[i] >= 0:
            level -= service_effect[org_service[service[i]]]
        level = max(level, 0.0)
        new = own + adjust_rate * (level - own)
        if new < 0.01:
            new = 0.0  # negligible: back to the trait, out of the weekly update
        state[i] = new
        distress[i] = trait[i] + new
    return ids
