"""Belonging, participation, marginalization and the cohesion index.

Adults are in *user mode* (clients of services) or *engagement mode* (citizens who act:
they take part in community activities or have helped someone in the last
``cohesion.helped_window_weeks`` weeks, ``engaged``). Every ``DEMOGRAPHY_PERIOD_WEEKS`` weeks:

- participation: a non-participant starts with a probability set so that, without
  shocks, a share ``cohesion.participation_share`` of adults participate; it is raised by
  having helped someone lately (``helper_start_extra``), and for the adults a concerted
  structure reaches (``concertation_start_extra``, see below); it is lowered for
  marginalized residents (``marginalized_reach``, lifted by the inclusion actions of the
  cross-sectoral mode). A participant stops at ``participation_exit_rate``, raised by job
  loss along three pathways (Kunze & Suppa 2014 [kunze-suppa-2014]: plant-closure job
  loss lowers social participation, lastingly for some activities, and the spouses of
  the displaced withdraw from public social activities too [kunze-suppa-2020]):
  ``displaced_exit_extra`` for those without a job or in high distress (withdrawal and
  stigma), ``scar_exit_extra`` for displaced workers back in a job (the effect outlasts
  re-employment, Pohlan 2019 [pohlan-2019]), and ``household_exit_extra`` for the other
  adults of a household with a member without a job;
- belonging (0-1) moves a share ``belonging_rate`` a week towards
  ``belonging_initial + w1 (participating - participation_share) + w2 helped lately
  - w3 (high distress - high_distress_share) - w4 (marginalized - marginalized_share)
  - jobless_belonging * without a job - scar_belonging * displaced and re-employed``
  (``belonging_weights``), clipped to [0, 1]: job loss lowers perceived social
  integration, more with duration, and the effect outlasts re-employment (Pohlan 2019).

Committees and the cross-sectoral mode work between organizations: their participation
effect passes only through the organizations' reach. An adult is *reached* while they
are a client of a member organization of an active committee (of any client-facing
organization under the cross-sectoral mode), once they have read the Guide
(``interventions.guide``), and, while the regional conference funds the rural pacts'
development agents (``interventions.regional_conference.rural_agents``), if they live in
a rural municipality (all but the city of Magog).

``participation_share`` is the rate at which residents who are not marginalized settle
without shocks; marginalized residents start less often, so the overall rate sits a
little below it.

Marginalized residents (``marginalized``): a share ``cohesion.marginalized_share`` of
adults, drawn at entry with the weights ``marginalized_weights``: by default three times
the weight for those inactive (of working age and outside the labour force) or
unemployed, and twice for those who arrived as a one-person household: people with low
income and weak social integration. They have fewer ties (``model/ties.py``), know and
ask for services less, and start participating less, unless inclusion actions reach
them.

``cohesion_index`` is the mean of four components in [0, 1]: ``belonging_mean``
(attitudinal, horizontal), ``participation_rate`` (behavioural, horizontal),
``tie_integrity`` (the share of adults' ties outside the household who still live in
the RCM and were not cut by a layoff, measured each January before lost ties are
renewed: the network side) and ``org_partnership_density`` (vertical and institutional
ties). It follows Chan, To & Chan (2006), who define cohesion by horizontal and vertical
interactions with both subjective (belonging) and objective (participation, ties)
components, and Bollen & Hoyle (1990) on perceived cohesion as sense of belonging;
equal weights are an assumption.

``model/reference/belonging.py`` states one period of participation and belonging, and
the draw of the marginalized, in plain NumPy; the compiled kernels below are checked
against it (``tests/test_reference_social.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..constants import DEMOGRAPHY_PERIOD_WEEKS, WORKING_AGE
from ..jit import kernel
from ..state import Status, arrived_members

UNEMPLOYED, TRAINING, EMPLOYED, INACTIVE = Status.UNEMPLOYED, Status.TRAINING, Status.EMPLOYED, Status.INACTIVE


# Exposure to job loss, for stopping participation (``stop`` table) and belonging (``target``).
NONE, HOUSEHOLD, SCARRED, JOBLESS = 0, 1, 2, 3  # own exposure; JOBLESS also covers high distress


def belonging_targets(p: dict) -> np.ndarray:
    """Belonging a person moves towards, as a table indexed by
    ``[participates, helped lately, high distress, marginalized, displacement]`` where
    displacement is 0 (none), 1 (displaced, back in a job) or 2 (without a job)."""
    w_part, w_helped, w_high, w_marg = p["belonging_weights"]
    part, helped, high, marg, disp = np.ix_([0, 1], [0, 1], [0, 1], [0, 1], [0, 1, 2])
    t = (
        p["belonging_initial"]
        + w_part * (part - p["participation_share"])
        + w_helped * helped
        - w_high * (high - p["high_distress_share"])
        - w_marg * (marg - p["marginalized_share"])
        - p["scar_belonging"] * (disp == 1)
        - p["jobless_belonging"] * (disp == 2)
    )
    return np.clip(t, 0.0, 1.0)


class Belonging:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("cohesion")
        self.period = DEMOGRAPHY_PERIOD_WEEKS
        self.threshold = model.config["distress.high_threshold"]
        self.adult_age = WORKING_AGE
        share = self.p["participation_share"]
        exit_w = self.p["participation_exit_rate"]
        self.start_w = exit_w * share / max(1.0 - share, 1e-9)
        self.exit_w = exit_w
        self.target = belonging_targets(self.p)
        jobless_weight, alone_weight = self.p["marginalized_weights"]
        self.entry = EntryParams(
            float(self.adult_age),
            float(self.p["marginalized_share"]),
            float(jobless_weight),
            float(alone_weight),
            float(self.p["participation_share"]),
            float(self.p["marginalized_reach"]),
        )
        self.keep = (1.0 - self.p["belonging_rate"]) ** self.period
        self._table_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self.engaged_share = float("nan")
        self.tie_integrity = float("nan")

    def mark_marginalized(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """Draw which of ``ids`` (new persons) are marginalized (before their ties are made):
        a share ``marginalized_share`` of the adults, more often the inactive or unemployed
        and those who arrived alone."""
        P, H = self.model.people, self.model.households
        _marginalized_kernel(
            np.asarray(ids, np.int64),
            rng.random(len(ids)),
            self.entry,
            Entrants(P.age, P.status, P.household, H.arrived, P.marginalized),
        )

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """Whether new persons participate (less often if marginalized), and their
        belonging: its target."""
        P = self.model.people
        ids = np.asarray(ids, np.int64)
        _participation_kernel(ids, rng.random(len(ids)), self.entry, P.marginalized, P.participates)
        high = (P.distress[ids] >= np.float32(self.threshold)).astype(np.int64)
        part, marg = P.participates[ids].astype(np.int64), P.marginalized[ids].astype(np.int64)
        P.belonging[ids] = self.target.ravel()[((part * 2 * 2 + high) * 2 + marg) * 3 + self._displacement(ids)]

    def _displacement(self, ids: np.ndarray) -> np.ndarray:
        """0: no job loss, 1: displaced by a closure and back in a job, 2: without a job."""
        P = self.model.people
        status = P.status[ids]
        jobless = (status == UNEMPLOYED) | (status == TRAINING)
        scarred = P.ever_displaced[ids] & (status == Status.EMPLOYED)
        return np.where(jobless, 2, scarred.astype(np.int64))

    def exposure(
        self, ids: np.ndarray, displacement: np.ndarray | None = None, high: np.ndarray | None = None
    ) -> np.ndarray:
        """Each adult's exposure to job loss: ``JOBLESS`` (without a job, or in high
        distress), ``SCARRED`` (displaced by a closure, back in a job), ``HOUSEHOLD`` (lives
        with someone without a job) or ``NONE``."""
        m, P = self.model, self.model.people
        disp = self._displacement(ids) if displacement is None else displacement
        if high is None:
            high = P.distress[ids] >= np.float32(self.threshold)
        household_hit = np.zeros(m.households.n, bool)
        household_hit[P.household[m.labour.jobless]] = True
        out = np.where(household_hit[P.household[ids]], HOUSEHOLD, NONE)
        out[disp == 1] = SCARRED
        out[(disp == 2) | high] = JOBLESS
        return out

    def step(self) -> None:
        """Participation and belonging of the adults, once a period: a non-participant
        starts more often having helped lately or reached by concerted action, less often
        marginalized; a participant stops more often the more exposed to job loss; then
        belonging moves towards its target (participation, helping, high distress,
        marginalization, job loss)."""
        m, P, p = self.model, self.model.people, self.p
        if not m.demography.period_ends(m.week):
            return
        iv = m.interventions
        ids = m.adults
        u = m.streams["belonging"].random(len(ids))
        start_p, stop_p = self._tables(iv.marginalized_reach(p["marginalized_reach"]))
        household_hit = np.zeros(m.households.n, bool)  # households with a member without a job
        household_hit[P.household[m.labour.jobless]] = True
        rules = Rules(m.week, float(p["helped_window_weeks"]), np.float32(self.threshold), self.keep)
        people = People(
            P.status,
            P.ever_displaced,
            P.distress,
            P.helped_week,
            P.marginalized,
            P.household,
            P.participates,
            P.belonging,
        )
        n_part, n_engaged, total = _period_kernel(
            np.asarray(ids, np.int64),
            u,
            iv.reached(ids),
            household_hit,
            Tables(start_p, stop_p, self.target),
            rules,
            people,
        )
        if len(ids):
            self.engaged_share = n_engaged / len(ids)
            self.belonging_mean = total / len(ids)
            self.participation_rate = n_part / len(ids)
        else:
            self.engaged_share = self.belonging_mean = self.participation_rate = float("nan")

    def _tables(self, marg_reach: float) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities over the period of starting, by ``[marginalized, helped lately,
        reached by a concerted structure]``, and of stopping, by exposure to job loss
        (``NONE``, ``HOUSEHOLD``, ``SCARRED``, ``JOBLESS``); they change only with the
        inclusion actions in force."""
        if marg_reach not in self._table_cache:
            p = self.p

            def over_period(rate):
                return 1.0 - (1.0 - np.minimum(rate, 1.0)) ** self.period

            reach = np.array([1.0, marg_reach])[:, None, None]
            helped = np.array([1.0, 1.0 + p["helper_start_extra"]])[None, :, None]
            concerted = np.array([1.0, 1.0 + p["concertation_start_extra"]])[None, None, :]
            start = over_period(self.start_w * reach * helped * concerted)
            stop = over_period(
                self.exit_w
                * np.array(
                    [1.0, 1.0 + p["household_exit_extra"], 1.0 + p["scar_exit_extra"], 1.0 + p["displaced_exit_extra"]]
                )
            )
            self._table_cache[marg_reach] = start, stop
        return self._table_cache[marg_reach]

    def summarize(self) -> None:
        """Belonging and participation of the adults present (changed only in period weeks)."""
        P, ids = self.model.people, self.model.adults
        self.belonging_mean = float(P.belonging[ids].mean()) if len(ids) else float("nan")
        self.participation_rate = float(P.participates[ids].mean()) if len(ids) else float("nan")

    def household_belonging(self, households: np.ndarray) -> np.ndarray:
        """Mean belonging of the adult members who arrived with each household."""
        P, H = self.model.people, self.model.households
        members, slot = arrived_members(H, households)
        ok = P.present[members] & (P.age[members] >= self.adult_age)
        tot = np.bincount(slot[ok], weights=P.belonging[members[ok]], minlength=len(households))
        cnt = np.bincount(slot[ok], minlength=len(households))
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), self.p["belonging_initial"])


# -- the fast path: named structures and compiled kernels -----------------------------
class EntryParams(NamedTuple):
    """What decides, at entry, who is marginalized and who participates."""

    working_age: float  # ``WORKING_AGE``
    marginalized_share: float
    jobless_weight: float  # ``marginalized_weights[0]``: inactive or unemployed
    alone_weight: float  # ``marginalized_weights[1]``: arrived as a one-person household
    participation_share: float
    marginalized_reach: float


class Entrants(NamedTuple):
    """Per-person arrays read at entry (``household_arrived`` is by household) and the
    mark written."""

    age: np.ndarray
    status: np.ndarray
    household: np.ndarray
    household_arrived: np.ndarray
    marginalized: np.ndarray


@kernel
def _marginalized_kernel(ids, u, p, P):
    """Which of ``ids`` are marginalized (``EntryParams`` ``p``, ``Entrants`` ``P``): ``u``
    below ``marginalized_share`` times the person's weight over the adults' mean weight
    (at most 1). Adults weigh 1, ``jobless_weight`` times that if inactive or unemployed,
    ``alone_weight`` times that if they arrived as a one-person household; children 0."""
    n = len(ids)
    w = np.zeros(n)
    total = 0.0  # summed in the order of ids
    n_adults = 0
    for j in range(n):
        i = ids[j]
        if P.age[i] >= p.working_age:
            st = P.status[i]
            w[j] = (p.jobless_weight if st == INACTIVE or st == UNEMPLOYED else 1.0) * (
                p.alone_weight if P.household_arrived[P.household[i]] == 1 else 1.0
            )
            total += w[j]
            n_adults += 1
    mean_w = total / n_adults if n_adults else 1.0
    for j in range(n):
        P.marginalized[ids[j]] = u[j] < min(p.marginalized_share * w[j] / mean_w, 1.0)


@kernel
def _participation_kernel(ids, u, p, marginalized, participates):
    """Whether new persons ``ids`` participate: ``u`` below ``participation_share``, times
    ``marginalized_reach`` for the marginalized."""
    for j in range(len(ids)):
        i = ids[j]
        participates[i] = u[j] < p.participation_share * (p.marginalized_reach if marginalized[i] else 1.0)


class Tables(NamedTuple):
    """Probabilities over a period and belonging targets (``Belonging._tables``,
    ``belonging_targets``)."""

    start: np.ndarray  # [marginalized, helped lately, reached]
    stop: np.ndarray  # [exposure]
    target: np.ndarray  # [participates, helped lately, high distress, marginalized, displacement]


class Rules(NamedTuple):
    week: int
    helped_window_weeks: float  # helped lately: week - helped_week < this
    high_threshold: np.float32  # high distress: distress >= this (both float32, as model.need)
    keep: float  # share of the distance to the target belonging keeps over a period


class People(NamedTuple):
    """The per-person arrays of the period; ``participates`` and ``belonging`` are
    written."""

    status: np.ndarray
    ever_displaced: np.ndarray
    distress: np.ndarray
    helped_week: np.ndarray
    marginalized: np.ndarray
    household: np.ndarray
    participates: np.ndarray
    belonging: np.ndarray


@kernel
def _period_kernel(ids, u, reached, household_hit, tables, rules, P):
    """One period of participation and belonging for adults ``ids`` (``Belonging.step``;
    ``Tables`` ``tables``, ``Rules`` ``rules``, ``People`` ``P``): a participant stops at
    ``u < stop[exposure]``, a non-participant starts at ``u < start[marginalized, helped
    lately, reached]``, then belonging keeps a share ``keep`` of its distance to
    ``target[participates, helped, high distress, marginalized, displacement]``. Return
    how many participate, how many are engaged (participating or helped lately) and the
    sum of their belonging."""
    start, stop, target = tables.start, tables.stop, tables.target
    n_part = n_engaged = 0
    total = 0.0
    for j in range(len(ids)):
        i = ids[j]
        st = P.status[i]
        jobless = st == UNEMPLOYED or st == TRAINING
        disp = 2 if jobless else (1 if P.ever_displaced[i] and st == EMPLOYED else 0)
        high = P.distress[i] >= rules.high_threshold
        if disp == 2 or high:
            exposure = JOBLESS
        elif disp == 1:
            exposure = SCARRED
        elif household_hit[P.household[i]]:
            exposure = HOUSEHOLD
        else:
            exposure = NONE
        marg = 1 if P.marginalized[i] else 0
        helped = 1 if rules.week - P.helped_week[i] < rules.helped_window_weeks else 0
        if P.participates[i]:
            part = not (u[j] < stop[exposure])
        else:
            part = u[j] < start[marg, helped, 1 if reached[j] else 0]
        P.participates[i] = part
        t = target[1 if part else 0, helped, 1 if high else 0, marg, disp]
        b = t + (P.belonging[i] - t) * rules.keep
        P.belonging[i] = b
        total += b
        n_part += part
        n_engaged += part or helped == 1
    return n_part, n_engaged, total
