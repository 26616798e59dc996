"""Belonging, participation, marginalization and the cohesion index.

Adults are in *user mode* (clients of services) or *engagement mode* (citizens who act:
they take part in community activities or have helped someone in the last
``cohesion.helped_window_weeks`` weeks, ``engaged``). Every ``demography.period_weeks`` weeks:

- participation: a non-participant starts with a probability set so that, without
  shocks, a share ``cohesion.participation_share`` of adults participate; it is raised by
  having helped someone lately (``helper_start_extra``) and while concertation brings
  public organizations, elected officials and residents together
  (``concertation_start_extra``), and lowered for marginalized residents
  (``marginalized_reach``, lifted by the inclusion actions of the cross-sectoral mode). A
  participant stops at ``participation_exit_rate``, raised by ``displaced_exit_extra``
  for those without a job or in high distress (displacement lowers participation);
- belonging (0-1) moves a share ``belonging_rate`` a week towards
  ``belonging_initial + w1 (participating - participation_share) + w2 helped lately
  - w3 (high distress - high_distress_share) - w4 (marginalized - marginalized_share)``
  (``belonging_weights``), clipped to [0, 1].

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
the RCM, measured each January before lost ties are renewed: the network side) and ``org_partnership_density`` (vertical and institutional
ties). It follows Chan, To & Chan (2006), who define cohesion by horizontal and vertical
interactions with both subjective (belonging) and objective (participation, ties)
components, and Bollen & Hoyle (1990) on perceived cohesion as sense of belonging;
equal weights are an assumption.
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel
from ..state import Status, arrived_members

UNEMPLOYED, TRAINING = Status.UNEMPLOYED, Status.TRAINING


@kernel
def _belonging_target(participates, helped, high, marginalized, coef):
    """Belonging a person moves towards (0-1); ``coef``: belonging_initial, the four
    belonging_weights, participation_share, marginalized_share, high_distress_share."""
    initial, w_part, w_helped, w_high, w_marg, share, marg_share, high_share = coef
    t = (initial + w_part * ((1.0 if participates else 0.0) - share) + w_helped * (1.0 if helped else 0.0)
         - w_high * ((1.0 if high else 0.0) - high_share) - w_marg * ((1.0 if marginalized else 0.0) - marg_share))
    return np.float32(min(max(t, 0.0), 1.0))


@kernel
def _initial_belonging_kernel(ids, coef, threshold, participates, distress, marginalized, belonging):
    """Belonging of new persons ``ids``: their target, without having helped anyone."""
    for i in ids:
        belonging[i] = _belonging_target(participates[i], False, distress[i] >= threshold, marginalized[i], coef)


@kernel
def _marginalized_kernel(ids, u, adult_age, share, jobless_weight, alone_weight, age, status, household, arrived,
                         inactive, unemployed, marginalized):
    """Which of ``ids`` are marginalized: ``u`` below ``share`` times the person's weight
    over the adults' mean weight (at most 1). Adults weigh 1, ``jobless_weight`` times
    that if inactive or unemployed, ``alone_weight`` times that if they arrived as a
    one-person household; children 0."""
    n = len(ids)
    w = np.zeros(n)
    total = 0.0  # summed in the order of ids
    n_adults = 0
    for j in range(n):
        i = ids[j]
        if age[i] >= adult_age:
            w[j] = (jobless_weight if status[i] == inactive or status[i] == unemployed else 1.0) * (
                alone_weight if arrived[household[i]] == 1 else 1.0)
            total += w[j]
            n_adults += 1
    mean_w = total / n_adults if n_adults else 1.0
    for j in range(n):
        marginalized[ids[j]] = u[j] < min(share * w[j] / mean_w, 1.0)


@kernel
def _participation_kernel(ids, u, share, marginalized_reach, marginalized, participates):
    """Whether new persons ``ids`` participate: ``u`` below ``share``, times
    ``marginalized_reach`` for the marginalized."""
    for j in range(len(ids)):
        i = ids[j]
        participates[i] = u[j] < share * (marginalized_reach if marginalized[i] else 1.0)


@kernel
def _period_kernel(ids, u, week, start_p, stop_p, keep, coef, threshold, helped_window, helped_week, status,
                   distress, marginalized, participates, belonging):
    """Participation and belonging of adults ``ids`` over one period. A non-participant
    starts at ``u < start_p[marginalized, helped lately]``, a participant stops at
    ``u < stop_p[without a job or in high distress]``; belonging then keeps a share
    ``keep`` of its distance to the target. Return the adults' new belonging, how many
    participate, and how many participate or have helped lately (engagement mode)."""
    # The threshold of ``u`` and the target depend on yes/no factors only: tables of them.
    # threshold[participates, marginalized, helped, without a job or in high distress]
    # target[participates, helped, high distress, marginalized]
    threshold_u = np.empty((2, 2, 2, 2))
    target = np.empty((2, 2, 2, 2), np.float32)
    for a in range(2):
        for b in range(2):
            for c in range(2):
                for d in range(2):
                    threshold_u[a, b, c, d] = stop_p[d] if a else start_p[b, c]
                    target[a, b, c, d] = _belonging_target(a == 1, b == 1, c == 1, d == 1, coef)
    new = np.empty(len(ids), np.float32)
    n_part = n_engaged = 0
    for j in range(len(ids)):
        i = ids[j]
        was = participates[i]
        helped = week - helped_week[i] < helped_window
        high = distress[i] >= threshold
        marg = marginalized[i]
        hard = (status[i] == UNEMPLOYED) | (status[i] == TRAINING) | high
        # a participant stays at u >= threshold, a non-participant starts at u < threshold
        part = (u[j] < threshold_u[np.int64(was), np.int64(marg), np.int64(helped), np.int64(hard)]) != was
        participates[i] = part
        t = target[np.int64(part), np.int64(helped), np.int64(high), np.int64(marg)]
        new[j] = belonging[i] = t + (belonging[i] - t) * keep
        n_part += part
        n_engaged += part | helped
    return new, n_part, n_engaged


class Belonging:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("cohesion")
        self.period = int(model.config["demography.period_weeks"])
        self.threshold = model.config["distress.high_threshold"]
        self.adult_age = model.config["demography.working_age"]
        share = self.p["participation_share"]
        exit_w = self.p["participation_exit_rate"]
        self.start_w = exit_w * share / max(1.0 - share, 1e-9)
        self.exit_w = exit_w
        p = self.p
        self.coef = np.array([p["belonging_initial"], *p["belonging_weights"], share, p["marginalized_share"],
                              p["high_distress_share"]], float)
        self._table_cache: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
        self.engaged_share = float("nan")
        self.tie_integrity = float("nan")

    def mark_marginalized(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """Draw which of ``ids`` (new persons) are marginalized (before their ties are made)."""
        P, H = self.model.people, self.model.households
        jobless_weight, alone_weight = self.p["marginalized_weights"]
        _marginalized_kernel(np.asarray(ids, np.int64), rng.random(len(ids)), np.float32(self.adult_age),
                             float(self.p["marginalized_share"]), float(jobless_weight), float(alone_weight), P.age,
                             P.status, P.household, H.arrived, Status.INACTIVE, Status.UNEMPLOYED, P.marginalized)

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        ids = np.asarray(ids, np.int64)
        _participation_kernel(ids, rng.random(len(ids)), float(self.p["participation_share"]),
                              float(self.p["marginalized_reach"]), P.marginalized, P.participates)
        _initial_belonging_kernel(ids, self.coef, np.float32(self.threshold), P.participates,
                                  P.distress, P.marginalized, P.belonging)

    def step(self) -> None:
        m, P, p = self.model, self.model.people, self.p
        if not m.demography.period_ends(m.week):
            return
        iv = m.interventions
        ids = m.adults
        rng = m.streams["belonging"]
        u = rng.random(len(ids))
        marg_reach = p["marginalized_reach"]
        if iv.active("csss_cross_sectoral"):
            marg_reach = max(marg_reach, iv.params("csss_cross_sectoral")["inclusion_reach"])
        conc = (1.0 + p["concertation_start_extra"]) if iv.concertation else 1.0
        start_table, stop_table = self._tables(marg_reach, conc)
        keep = np.float32((1.0 - p["belonging_rate"]) ** self.period)  # belonging is held in float32
        belonging, n_part, n_engaged = _period_kernel(
            np.asarray(ids, np.int64), u, m.week, start_table, stop_table, keep, self.coef, np.float32(self.threshold),
            int(p["helped_window_weeks"]), P.helped_week, P.status, P.distress, P.marginalized, P.participates,
            P.belonging)
        if len(ids):
            self.engaged_share = n_engaged / len(ids)
            self.belonging_mean = float(belonging.mean())
            self.participation_rate = n_part / len(ids)
        else:
            self.engaged_share = self.belonging_mean = self.participation_rate = float("nan")

    def _tables(self, marg_reach: float, conc: float) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities over the period of starting (by marginalized, helped lately) and of
        stopping (by without a job or in high distress); they change only with the
        interventions in force."""
        key = (marg_reach, conc)
        if key not in self._table_cache:
            p = self.p

            def over_period(rate):
                return 1.0 - (1.0 - np.minimum(rate, 1.0)) ** self.period

            start = over_period(self.start_w * conc * np.array([[1.0, 1.0 + p["helper_start_extra"]],
                                                                [marg_reach, marg_reach * (1.0 + p["helper_start_extra"])]]))
            stop = over_period(self.exit_w * np.array([1.0, 1.0 + p["displaced_exit_extra"]]))
            self._table_cache[key] = start, stop
        return self._table_cache[key]

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
