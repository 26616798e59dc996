"""Distress: psychological distress of adults, in SD units of a distress scale.

A person's distress is a stable trait (individual differences, mean 0 and SD
``TRAIT_SD`` = 1 among employed adults: the definition of the unit) plus a state that follows the person's
circumstances and the help they receive. Each week the state moves a share
``distress.adjust_rate`` of the way to its current level::

    stressors = g * b * (job_loss * jobless + duration * min(weeks without a job / DURATION_WEEKS, 1)
                         + ei_exhausted * exhausted + wage_loss * share of wage lost on re-employment)
                + strain * household under strain
                + household_spillover * mean stressed state of the other members of the household
    level = max(stressors, 0) - informal support felt this week - effect of a formal service being received

where ``g = 1 + men_extra * man + blue_collar_extra * blue-collar`` (last job in
manufacturing, construction or the primary sector) and ``b = 1 - support_buffering`` while
the person feels informal support, else 1: support buffers the effect of job loss (Cohen
& Wills 1985 [cohen-wills-1985]; no pooled size of the interaction exists, so it is an
assumption with a range). Re-employment removes the duration and exhaustion terms and a
share ``reemployment_recovery`` of the job-loss term; a displaced worker re-employed at
a lower wage keeps ``wage_loss`` times the share of the wage lost.

Relief is not bounded by the stressors: support and services lower distress below the
trait, so they help people whose high distress is chronic as well as those whose
distress comes from job loss (programmes for the unemployed reduce distress by
d = 0.35, Paul & Moser 2009). The state is negative while relief outweighs the
stressors. ``distress = trait + state``; ``distress.high_threshold`` marks high distress.
A state within ``NEGLIGIBLE_STATE`` of zero is set to zero (a numerical tolerance).

Only adults (age at least ``WORKING_AGE``) are scored. Each week the submodel
updates only those whose state is not zero or who have a current stressor or relief
(without a job, in a strained household, a displaced worker back in a job, living with
someone stressed, in a formal service, or feeling informal support); everyone else's
distress is their trait.
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel
from ..state import Status

BLUE_COLLAR = ("manufacturing", "construction", "primary")
TRAIT_SD = 1.0  # SD of the trait among employed adults: the unit of distress
DURATION_WEEKS = 52.0  # the duration effect grows linearly to distress.duration over this many weeks (a year)
NEGLIGIBLE_STATE = 0.01  # SD: a smaller state is set to zero and leaves the weekly update (a tolerance)


class Distress:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("distress")
        self.memory = int(model.config["support.memory_weeks"])
        self.blue = np.zeros(len(model.sectors) + 1, bool)
        for name in BLUE_COLLAR:
            if name in model.sectors:
                self.blue[model.sectors.index(name)] = True
        self.service_effect = np.asarray(model.config["services.effect"], np.float32)
        self.active = np.zeros(0, np.int64)  # the adults updated last week
        # Work arrays of the weekly kernel, all zero between weeks (grown with the tables).
        self._person_mark = np.zeros(0, bool)
        self._household_flag = np.zeros(0, np.int8)
        self._household_total = np.zeros(0)
        self._household_count = np.zeros(0, np.int32)

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        P.distress_trait[ids] = rng.normal(0.0, TRAIT_SD, len(ids))
        P.distress_state[ids] = 0.0
        P.distress[ids] = P.distress_trait[ids]

    def gain(self, ids: np.ndarray) -> np.ndarray:
        """Multiplier of the job-loss effects: larger for men and blue-collar workers."""
        P = self.model.people
        return _gains(np.asarray(ids, np.int64), P.female, P.sector, self.blue, self.p["men_extra"],
                      self.p["blue_collar_extra"])

    def step(self, jobless: np.ndarray, strained_households: np.ndarray) -> None:
        """Update the distress of adults affected this week (see the module docstring). The
        adults are ``model.adults``, which the model refreshes whenever ages or presence
        change (only in demography weeks)."""
        m, P, H, p = self.model, self.model.people, self.model.households, self.p
        if len(self._person_mark) < P.n:
            self._person_mark = np.zeros(len(P.present), bool)
        if len(self._household_flag) < H.n:
            self._household_flag = np.zeros(len(H.present), np.int8)
            self._household_total = np.zeros(len(H.present))
            self._household_count = np.zeros(len(H.present), np.int32)
        # Relief reaches those in a formal service or feeling informal support, whatever
        # their stressors: they are updated with those who have one.
        relieved = np.concatenate([m.services.served_rows, m.support.recently_supported()]).astype(np.int64)
        self.active = _distress_kernel(
            self.active, np.asarray(jobless, np.int64), m.shocks.displaced, relieved,
            np.asarray(strained_households, np.int64), m.adults, P.n, m.week,
            self.memory, Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING,
            P.present, P.household, P.status, P.female, P.sector, P.spell_start,
            P.ei_exhausted, P.ever_displaced, P.reemployed_week, P.wage, P.displaced_wage,
            P.support_week, P.support_effect, P.service, P.distress_trait, P.distress_state,
            P.distress, H.first_row, H.arrived, self.blue, m.orgs.service, self.service_effect,
            p["job_loss"], p["duration"], DURATION_WEEKS, p["ei_exhausted"], np.float32(p["wage_loss"]),
            p["reemployment_recovery"], p["men_extra"], p["blue_collar_extra"], p["strain"],
            p["household_spillover"], p["support_buffering"], p["adjust_rate"], NEGLIGIBLE_STATE,
            self._person_mark, self._household_flag, self._household_total, self._household_count)


@kernel
def _gain(female, sector, blue, men_extra, blue_extra):
    """Multiplier of the job-loss effects of one person (``sector`` -1: never worked)."""
    g = 1.0
    if not female:
        g += men_extra
    if sector >= 0 and blue[sector]:
        g += blue_extra
    return g


@kernel
def _gains(ids, female, sector, blue, men_extra, blue_extra):
    out = np.empty(len(ids))
    for j in range(len(ids)):
        out[j] = _gain(female[ids[j]], sector[ids[j]], blue, men_extra, blue_extra)
    return out


@kernel
def _distress_kernel(active, jobless, displaced, relieved, strained, adults, n, week, memory,
                     employed, unemployed, training,
                     present, household, status, female, sector, spell_start,
                     ei_exhausted, ever_displaced, reemployed_week, wage, displaced_wage,
                     support_week, support_effect, service, trait, state, distress,
                     first_row, arrived, blue, org_service, service_effect,
                     job_loss, duration, duration_weeks, exhausted_effect, wage_loss, recovery, men_extra,
                     blue_extra, strain, spillover, buffering, adjust_rate, negligible,
                     person_mark, household_flag, household_total, household_count):
    """One week of distress: select the adults to update, move their state towards its
    level, write ``state`` and ``distress``; return the rows updated (sorted).

    Selected are the adults present (``adults``, sorted) among: those updated last week
    (``active``) whose state is not zero, the jobless, the displaced re-employed, those
    in a service or feeling support (``relieved``), and every member who arrived with the
    household of one who is stressed (relief alone is not passed on to housemates). ``wage_loss`` is float32: the share of
    wage lost is computed in single precision, as the wages are stored. The last four
    arrays are work space, zero on entry and left zero."""
    # The persons with a stressor, and their households (each listed once).
    households = np.empty(len(active) + len(jobless) + len(displaced) + len(relieved), np.int32)
    n_households = 0
    for source in range(4):
        rows = active if source == 0 else (jobless if source == 1 else (displaced if source == 2 else relieved))
        for i in rows:
            if source == 0:
                on = state[i] != 0 and present[i]
            elif source == 2:
                on = status[i] == employed and reemployed_week[i] >= 0
            else:
                on = True
            person_mark[i] |= on
            # Housemates follow only a stressed member (relief is not passed on).
            stressed = on and source != 3 and (source != 0 or state[i] > 0)
            h = household[i]
            households[n_households] = h
            n_households += stressed and household_flag[h] == 0
            household_flag[h] |= stressed
    # Their households' members, then the adults among everyone marked, in row order.
    most = len(active) + len(jobless) + len(displaced) + len(relieved)
    for k in range(n_households):
        h = households[k]
        household_flag[h] = 0
        person_mark[first_row[h]:first_row[h] + arrived[h]] = True
        most += arrived[h]
    ids = np.empty(min(most, len(adults)) + 1, np.int64)
    count = 0
    for i in adults:
        ids[count] = i
        count += person_mark[i]
    person_mark[:n] = False
    ids = ids[:count]

    # Total stressed state (relief is not passed on) and number of the persons updated in
    # each household (sums in row order).
    for i in ids:
        household_total[household[i]] += max(np.float64(state[i]), 0.0)
        household_count[household[i]] += 1
    for h in strained:
        household_flag[h] = 1
    for i in ids:
        h = household[i]
        felt = week - support_week[i] < memory  # informal support felt this week
        level = 0.0
        if status[i] == unemployed or status[i] == training:
            level = job_loss + duration * min(max(week - spell_start[i], 0) / duration_weeks, 1.0)
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
        level *= _gain(female[i], sector[i], blue, men_extra, blue_extra)
        if felt:
            level *= 1.0 - buffering  # support buffers the job-loss effects
        if household_flag[h]:  # under strain
            level += strain
        # Spillover: the mean stressed state of the other members of the household.
        own = np.float64(state[i])
        if household_count[h] > 1:
            level += spillover * ((household_total[h] - max(own, 0.0)) / (household_count[h] - 1))
        level = max(level, 0.0)
        # Relief: informal support felt this week and formal services being received, which
        # may take the state below zero (distress below the trait).
        if felt:
            level -= support_effect[i]
        if service[i] >= 0:
            level -= service_effect[org_service[service[i]]]
        new = own + adjust_rate * (level - own)
        if abs(new) < negligible:
            new = 0.0  # back to the trait, out of the weekly update
        state[i] = new
        distress[i] = trait[i] + new
    for i in ids:
        household_total[household[i]] = 0.0
        household_count[household[i]] = 0
    for h in strained:
        household_flag[h] = 0
    return ids
