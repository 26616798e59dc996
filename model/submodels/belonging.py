"""Belonging, participation, marginalization and the cohesion index.

Adults are in *user mode* (clients of services) or *engagement mode* (citizens who act:
they take part in community activities or have helped someone in the last twelve weeks,
``engaged``). Every ``demography.period_weeks`` weeks:

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
  - w3 (high distress - 0.16) - w4 (marginalized - marginalized_share)``
  (``belonging_weights``), clipped to [0, 1].

``participation_share`` is the rate at which residents who are not marginalized settle
without shocks; marginalized residents start less often, so the overall rate sits a
little below it.

Marginalized residents (``marginalized``): a share ``cohesion.marginalized_share`` of
adults, drawn at entry with three times the weight for those inactive (of working age
and outside the labour force) or unemployed, and twice for those who arrived as a
one-person household: people with low income and weak social integration. They have fewer ties (``model/ties.py``), know and ask for services less,
and start participating less, unless inclusion actions reach them.

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

from ..state import Status, arrived_members


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
        self.engaged_share = float("nan")
        self.tie_integrity = float("nan")

    def mark_marginalized(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """Draw which of ``ids`` (new persons) are marginalized (before their ties are made)."""
        P, H = self.model.people, self.model.households
        adult = P.age[ids] >= self.adult_age
        st = P.status[ids]
        w = np.where((st == Status.INACTIVE) | (st == Status.UNEMPLOYED), 3.0, 1.0)
        w *= np.where(H.arrived[P.household[ids]] == 1, 2.0, 1.0)
        w = np.where(adult, w, 0.0)
        mean_w = w[adult].mean() if adult.any() else 1.0
        prob = np.minimum(self.p["marginalized_share"] * w / mean_w, 1.0)
        P.marginalized[ids] = rng.random(len(ids)) < prob

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        share = self.p["participation_share"]
        reach = np.where(P.marginalized[ids], self.p["marginalized_reach"], 1.0)
        P.participates[ids] = rng.random(len(ids)) < share * reach
        P.belonging[ids] = self._target(ids, helped=np.zeros(len(ids), bool))

    def _target(self, ids: np.ndarray, helped: np.ndarray) -> np.ndarray:
        P, p = self.model.people, self.p
        w = p["belonging_weights"]
        t = (p["belonging_initial"] + w[0] * (P.participates[ids] - p["participation_share"])
             + w[1] * helped - w[2] * ((P.distress[ids] >= self.threshold) - 0.16)
             - w[3] * (P.marginalized[ids] - p["marginalized_share"]))
        return np.clip(t, 0.0, 1.0).astype(np.float32)

    def step(self) -> None:
        m, P, p = self.model, self.model.people, self.p
        if m.week % self.period != self.period - 1:
            return
        iv = m.interventions
        ids = m.adults
        rng = m.streams["belonging"]
        u = rng.random(len(ids))
        helped = m.week - P.helped_week[ids] < 12
        part = P.participates[ids]
        st = P.status[ids]
        hard = (st == Status.UNEMPLOYED) | (st == Status.TRAINING) | (P.distress[ids] >= self.threshold)
        marg_reach = p["marginalized_reach"]
        if iv.active("csss_cross_sectoral"):
            marg_reach = max(marg_reach, iv.params("csss_cross_sectoral")["inclusion_reach"])
        # Probabilities over the period for each combination of the factors (a small table).
        def over_period(rate):
            return 1.0 - (1.0 - np.minimum(rate, 1.0)) ** self.period

        conc = (1.0 + p["concertation_start_extra"]) if iv.concertation else 1.0
        start_table = over_period(self.start_w * conc * np.array([[1.0, 1.0 + p["helper_start_extra"]],
                                                                  [marg_reach, marg_reach * (1.0 + p["helper_start_extra"])]]))
        stop_table = over_period(self.exit_w * np.array([1.0, 1.0 + p["displaced_exit_extra"]]))
        start_p = start_table[P.marginalized[ids].astype(np.intp), helped.astype(np.intp)]
        stop_p = stop_table[hard.astype(np.intp)]
        P.participates[ids] = np.where(part, u >= stop_p, u < start_p)
        target = self._target(ids, helped)
        keep = (1.0 - p["belonging_rate"]) ** self.period
        P.belonging[ids] = target + (P.belonging[ids] - target) * keep
        self.engaged_share = float((P.participates[ids] | helped).mean()) if len(ids) else float("nan")
        self.summarize()

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
