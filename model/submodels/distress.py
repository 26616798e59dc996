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

Only adults (age at least ``model.constants.WORKING_AGE``) are scored. Each week the submodel
updates only those whose state is not zero or who have a current stressor or relief
(without a job, in a strained household, a displaced worker back in a job, living with
someone stressed, in a formal service, or feeling informal support); everyone else's
distress is their trait.

``model/reference/distress.py`` states one week of this rule in plain NumPy over every
adult; the compiled kernel below (``_distress_kernel``) is checked against it
(``tests/test_reference_social.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..jit import kernel
from ..state import Status

BLUE_COLLAR = ("manufacturing", "construction", "primary")
EMPLOYED, UNEMPLOYED, TRAINING = Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING
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
        self.service_effect = np.asarray(model.config["services.effect"], np.float64)
        self.active = np.zeros(0, np.int64)  # the adults updated last week
        self._work = Work(np.zeros(0, bool), np.zeros(0, np.int8), np.zeros(0), np.zeros(0, np.int32))

    @property
    def params(self) -> Params:
        """The parameters in force (read from ``self.p`` when asked: a few microseconds, and
        a parameter changed during a run takes effect at the next step)."""
        return params_of(self.p, self.memory, self.service_effect, self.blue)

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        P.distress_trait[ids] = rng.normal(0.0, TRAIT_SD, len(ids))
        P.distress_state[ids] = 0.0
        P.distress[ids] = P.distress_trait[ids]

    def gain(self, ids: np.ndarray) -> np.ndarray:
        """Multiplier of the job-loss effects: larger for men and blue-collar workers."""
        P = self.model.people
        return _gains(np.asarray(ids, np.int64), P.female, P.sector, self.params)

    def step(self, jobless: np.ndarray, strained_households: np.ndarray) -> None:
        """One week of distress: each adult's state moves a share ``adjust_rate`` towards
        the level set by their stressors (job loss, its duration, EI exhaustion, a lower
        wage on re-employment, household strain, stressed housemates) less the relief of
        informal support and formal services (see the module docstring).

        Only adults whose state is not zero or who have a stressor or relief are updated
        (everyone else's level and state are zero); the adults are ``model.adults``, which
        the model refreshes whenever ages or presence change (only in demography weeks)."""
        m, P, H = self.model, self.model.people, self.model.households
        work = self._work
        if len(work.person_mark) < P.n or len(work.household_flag) < H.n:
            self._work = work = Work(
                np.zeros(len(P.present), bool),
                np.zeros(len(H.present), np.int8),
                np.zeros(len(H.present)),
                np.zeros(len(H.present), np.int32),
            )
        relieved = np.concatenate([m.services.served_rows, m.support.recently_supported()]).astype(np.int64)
        week = Week(
            m.week,
            self.active,
            np.asarray(jobless, np.int64),
            m.shocks.displaced,
            relieved,
            np.asarray(strained_households, np.int64),
            m.adults,
            H.first_row,
            H.arrived,
            m.orgs.service,
        )
        self.active = _distress_kernel(week, people_of(P), self.params, work, P.n)


# -- the fast path: named structures and compiled kernels -----------------------------
class Params(NamedTuple):
    """The distress parameters (``[distress]``), with the support memory and the services'
    relief that the level reads."""

    job_loss: float
    duration: float
    duration_weeks: float
    ei_exhausted: float
    wage_loss: float
    reemployment_recovery: float
    men_extra: float
    blue_collar_extra: float
    strain: float
    household_spillover: float
    support_buffering: float
    adjust_rate: float
    negligible_state: float
    memory_weeks: int  # informal support is felt while week - support_week < memory_weeks
    service_effect: np.ndarray  # relief by kind of service (``services.effect``)
    blue: np.ndarray  # by sector index (last one: never worked): blue-collar


class People(NamedTuple):
    """The per-person arrays distress reads; ``state`` and ``distress`` are written."""

    present: np.ndarray
    household: np.ndarray
    status: np.ndarray
    female: np.ndarray
    sector: np.ndarray
    spell_start: np.ndarray
    ei_exhausted: np.ndarray
    ever_displaced: np.ndarray
    reemployed_week: np.ndarray
    wage: np.ndarray
    displaced_wage: np.ndarray
    support_week: np.ndarray
    support_effect: np.ndarray
    service: np.ndarray  # organization serving the person (-1: none)
    trait: np.ndarray
    state: np.ndarray
    distress: np.ndarray


class Week(NamedTuple):
    """This week's inputs: who has a stressor or relief, and the households' layout."""

    week: int
    active: np.ndarray  # adults updated last week
    jobless: np.ndarray  # without a job (searching or retraining)
    displaced: np.ndarray  # displaced by a closure of the timeline
    relieved: np.ndarray  # in a formal service or feeling informal support (any order, repeats)
    strained: np.ndarray  # households under financial strain
    adults: np.ndarray  # adults present, sorted
    first_row: np.ndarray  # by household: first row of the members who arrived with it
    arrived: np.ndarray  # by household: how many arrived with it
    org_service: np.ndarray  # by organization: the kind of service it gives


class Work(NamedTuple):
    """Scratch arrays of the kernel, all zero between weeks (grown with the tables)."""

    person_mark: np.ndarray
    household_flag: np.ndarray
    household_total: np.ndarray
    household_count: np.ndarray


def params_of(p: dict, memory_weeks: int, service_effect, blue: np.ndarray) -> Params:
    """The kernel's parameters from the ``[distress]`` section."""
    return Params(
        float(p["job_loss"]),
        float(p["duration"]),
        DURATION_WEEKS,
        float(p["ei_exhausted"]),
        float(p["wage_loss"]),
        float(p["reemployment_recovery"]),
        float(p["men_extra"]),
        float(p["blue_collar_extra"]),
        float(p["strain"]),
        float(p["household_spillover"]),
        float(p["support_buffering"]),
        float(p["adjust_rate"]),
        NEGLIGIBLE_STATE,
        int(memory_weeks),
        np.asarray(service_effect, np.float64),
        blue,
    )


def people_of(P) -> People:
    """The person arrays of ``model.people`` that distress reads and writes."""
    return People(
        P.present,
        P.household,
        P.status,
        P.female,
        P.sector,
        P.spell_start,
        P.ei_exhausted,
        P.ever_displaced,
        P.reemployed_week,
        P.wage,
        P.displaced_wage,
        P.support_week,
        P.support_effect,
        P.service,
        P.distress_trait,
        P.distress_state,
        P.distress,
    )


@kernel
def _gain(female, sector, blue, men_extra, blue_collar_extra):
    """Multiplier of the job-loss effects of one person (``sector`` -1: never worked)."""
    g = 1.0
    if not female:
        g += men_extra
    if sector >= 0 and blue[sector]:
        g += blue_collar_extra
    return g


@kernel
def _gains(ids, female, sector, p):
    out = np.empty(len(ids))
    for j in range(len(ids)):
        out[j] = _gain(female[ids[j]], sector[ids[j]], p.blue, p.men_extra, p.blue_collar_extra)
    return out


@kernel
def _select(w, P, work, n):
    """The adults to update this week, sorted: those present (``w.adults``) among the
    adults updated last week whose state is not zero, the jobless, the displaced
    re-employed, those in a service or feeling support (``w.relieved``), and every member
    who arrived with the household of one who is stressed (relief alone is not passed on
    to housemates). ``work.person_mark`` and ``work.household_flag`` are left zero."""
    mark, flag = work.person_mark, work.household_flag
    most = len(w.active) + len(w.jobless) + len(w.displaced) + len(w.relieved)
    households = np.empty(most, np.int32)
    n_households = 0
    for source in range(4):
        rows = w.active if source == 0 else (w.jobless if source == 1 else (w.displaced if source == 2 else w.relieved))
        for i in rows:
            if source == 0:
                on = P.state[i] != 0 and P.present[i]
            elif source == 2:
                on = P.status[i] == EMPLOYED and P.reemployed_week[i] >= 0
            else:
                on = True
            mark[i] |= on
            # Housemates follow only a stressed member (relief is not passed on).
            stressed = on and source != 3 and (source != 0 or P.state[i] > 0)
            h = P.household[i]
            households[n_households] = h
            n_households += stressed and flag[h] == 0
            flag[h] |= stressed
    for k in range(n_households):
        h = households[k]
        flag[h] = 0
        mark[w.first_row[h] : w.first_row[h] + w.arrived[h]] = True
        most += w.arrived[h]
    ids = np.empty(min(most, len(w.adults)) + 1, np.int64)
    count = 0
    for i in w.adults:
        ids[count] = i
        count += mark[i]
    mark[:n] = False
    return ids[:count]


@kernel
def _distress_kernel(w, P, p, work, n):
    """One week of distress (``Week`` ``w``, ``People`` ``P``, ``Params`` ``p``): select
    the adults to update (``_select``), move their state towards its level, write
    ``P.state`` and ``P.distress``; return the rows updated (sorted). The household sums
    are taken over the states before this week's update; ``work`` (``Work``) is zero on
    entry and left zero. (The level is computed in the loop, not in a function called per
    person: passing the structures to a call per person costs more than the rule.)"""
    ids = _select(w, P, work, n)
    total, count, flag = work.household_total, work.household_count, work.household_flag
    for i in ids:
        total[P.household[i]] += max(np.float64(P.state[i]), 0.0)
        count[P.household[i]] += 1
    for h in w.strained:
        flag[h] = 1
    week, memory, duration_weeks = w.week, p.memory_weeks, p.duration_weeks
    for i in ids:
        h = P.household[i]
        own = np.float64(P.state[i])
        felt = week - P.support_week[i] < memory  # informal support felt this week
        # Stressors: job loss, its duration and an exhausted claim while without a job.
        level = 0.0
        st = P.status[i]
        if st == UNEMPLOYED or st == TRAINING:
            level = p.job_loss + p.duration * min(max(week - P.spell_start[i], 0) / duration_weeks, 1.0)
            if P.ei_exhausted[i]:
                level += p.ei_exhausted
        # Re-employed displaced workers keep part of it, in proportion to the wage lost.
        if st == EMPLOYED and P.ever_displaced[i] and P.reemployed_week[i] >= 0:
            lost = 0.0
            if P.displaced_wage[i] > 0:
                lost = min(max(1.0 - np.float64(P.wage[i]) / np.float64(P.displaced_wage[i]), 0.0), 1.0)
            level += p.wage_loss * lost + (1.0 - p.reemployment_recovery) * p.job_loss
        level *= _gain(P.female[i], P.sector[i], p.blue, p.men_extra, p.blue_collar_extra)
        if felt:
            level *= 1.0 - p.support_buffering  # support buffers the job-loss effects
        if flag[h]:  # the household is under strain
            level += p.strain
        if count[h] > 1:  # the mean stressed state of the other members updated
            level += p.household_spillover * (total[h] - max(own, 0.0)) / (count[h] - 1)
        level = max(level, 0.0)
        # Relief, which may take the state below zero (distress below the trait).
        if felt:
            level -= P.support_effect[i]
        if P.service[i] >= 0:
            level -= p.service_effect[w.org_service[P.service[i]]]
        new = own + p.adjust_rate * (level - own)
        if abs(new) < p.negligible_state:
            new = 0.0  # back to the trait, out of the weekly update
        P.state[i] = new
        P.distress[i] = P.trait[i] + new
    for i in ids:
        total[P.household[i]] = 0.0
        count[P.household[i]] = 0
    for h in w.strained:
        flag[h] = 0
    return ids
