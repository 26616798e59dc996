"""Disclosure and informal support, and the training of helpers with the Guide.

Each week every adult in high distress (``distress >= distress.high_threshold``) talks
about it with probability ``support.disclosure_rate`` to one of their tie slots, chosen
at random (``model/ties.py``); an empty slot or a tie who has left means nobody hears.
The tie who hears decides whether to help: the probability is
``Phi(Phi^-1(support.help_probability) + shift)``, where ``shift`` is 0 for an untrained
helper and, for a helper trained with the Guide, ``action_smd * exp(-t / tau)`` with ``t``
the weeks since training and ``tau`` set so that the shift falls to ``action_smd_long``
after ``long_term_weeks`` (training raises actual helping by 0.33 SD short-term and
0.22 SD long-term, far less than the 1.03 SD rise in intention; EVIDENCE.md). A share
``support.aggression_share`` of disclosures come with aggressive behaviour; an untrained
helper then withdraws with probability ``aggression_withdrawal_untrained``, a trained one
with ``aggression_withdrawal_trained``. Support given is felt by the person for
``support.memory_weeks`` weeks and lowers their distress by ``effect_untrained`` or
``effect_trained`` (more under the CSSS's reinforcement mode). A helper refers the person
to the psychosocial service with probability ``referral_trained``, or
``referral_untrained`` if the helper knows the services.

Helper training (``interventions.helper_training``) trains ``trainees`` residents (at
scale 1), spread evenly over its active weeks, chosen by ``target``: the laid-off
workers' network (any tie of a displaced resident), their co-workers, random residents,
or the workers of informal places (hairdressers, grocers). Refreshers every
``refresher_weeks`` restore the short-term effect while the programme is active. A
trained helper who is told of someone's distress is counted as reached
(``trained_helpers_reached_share``): training matters only where trained people meet
distressed ones.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from ..state import SERVICES
from ..streams import bernoulli

PSYCHOSOCIAL = SERVICES.index("psychosocial")


class InformalSupport:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("support")
        self.threshold = model.config["distress.high_threshold"]
        self.adult_age = model.config["demography.working_age"]
        self.train = model.config.section("interventions.helper_training")
        short, long_ = self.train["action_smd"], self.train["action_smd_long"]
        if short <= 0 or long_ <= 0 or long_ >= short:
            self.tau = math.inf if long_ >= short and short > 0 else 1e-9
        else:
            self.tau = self.train["long_term_weeks"] / math.log(short / long_)
        self.base_z = float(ndtri(min(max(self.p["help_probability"], 1e-9), 1 - 1e-9)))
        self.acts = 0  # helping acts this week
        self.disclosures = 0
        self.referrals = 0
        self.trained_total = 0
        self._owed = 0.0  # fractional trainees carried to the next week
        self._pool_cache: tuple[int, np.ndarray] | None = None
        self.pool_weeks = int(model.config["demography.period_weeks"])
        # The events of the last week, for tests and the browser view.
        self.last = {"person": np.zeros(0, np.int64), "helper": np.zeros(0, np.int64),
                     "helped": np.zeros(0, bool), "trained": np.zeros(0, bool)}

    # -- helper training -------------------------------------------------------------------
    def _train(self) -> None:
        m, P = self.model, self.model.people
        iv = m.interventions
        if not iv.active("helper_training"):
            return
        rng = m.streams["helper_training"]
        start, end = iv.windows["helper_training"]
        weeks = max((end - start).days / 7.0, 1.0)
        self._owed += self.train["trainees"] * m.config["run.scale"] / weeks
        count = int(self._owed)
        self._owed -= count
        n = P.n
        if self.train["refresher_weeks"] > 0:
            t = P.trained_week[:n]
            due = np.flatnonzero((t >= 0) & (m.week - t >= self.train["refresher_weeks"]) & P.present[:n])
            P.trained_week[due] = m.week
        if count <= 0:
            return
        if self._pool_cache is None or m.week - self._pool_cache[0] >= self.pool_weeks:
            self._pool_cache = (m.week, self._pool(self.train["target"]))  # candidates, renewed every period
        pool = self._pool_cache[1]
        pool = pool[(P.trained_week[pool] < 0) & P.present[pool] & (P.age[pool] >= self.adult_age)]
        if len(pool) == 0:
            return
        chosen = rng.choice(pool, size=min(count, len(pool)), replace=False)
        P.trained_week[chosen] = m.week
        P.knows_services[chosen] = True  # the Guide lists the local resources
        self.trained_total += len(chosen)

    def _pool(self, target: str) -> np.ndarray:
        m, P = self.model, self.model.people
        ties = m.ties
        if target == "random_residents":
            return np.flatnonzero(P.present[: P.n])
        if target == "service_workers":
            w = ties.place_worker[ties.places]
            return np.unique(w[w >= 0])
        displaced = m.shocks.displaced
        displaced = displaced[P.present[displaced]]
        slots = ties.span["coworkers"] if target == "coworkers_of_displaced" else np.arange(ties.k)
        found = [ties.targets(displaced, np.full(len(displaced), j)) for j in slots]
        pool = np.concatenate(found) if found else np.zeros(0, np.int64)
        return np.unique(pool[pool >= 0])

    def shift(self, helpers: np.ndarray) -> np.ndarray:
        """Latent helping-propensity shift (SD) of each helper from training."""
        P, m = self.model.people, self.model
        t = P.trained_week[helpers]
        trained = t >= 0
        weeks = np.where(trained, m.week - t, 0).astype(float)
        decay = np.exp(-weeks / self.tau) if math.isfinite(self.tau) else np.ones(len(helpers))
        return np.where(trained, self.train["action_smd"] * decay, 0.0)

    # -- the weekly step ------------------------------------------------------------------
    def step(self) -> np.ndarray:
        """Train helpers, then disclosures and support; return the persons referred to the
        psychosocial service by their helpers."""
        m, P, p = self.model, self.model.people, self.p
        self._train()
        rng = m.streams["support"]
        talk = bernoulli(rng, m.need, p["disclosure_rate"])
        k = len(talk)
        slot = rng.integers(0, m.ties.k, k)
        u = rng.random((4, k))
        helper = m.ties.targets(talk, slot)
        valid = helper >= 0
        valid[valid] = P.age[helper[valid]] >= self.adult_age
        h = np.maximum(helper, 0)
        trained = valid & (P.trained_week[h] >= 0)
        shift = np.where(trained, self.shift(h), 0.0)
        helps = valid & (u[0] < ndtr(self.base_z + shift))
        aggressive = u[1] < p["aggression_share"]
        withdraw = np.where(trained, p["aggression_withdrawal_trained"], p["aggression_withdrawal_untrained"])
        helps &= ~(aggressive & (u[2] < withdraw))
        boost = 1.0
        if m.interventions.active("csss_reinforcement"):
            boost += m.interventions.params("csss_reinforcement")["network_boost"]
        effect = np.where(trained, p["effect_trained"], p["effect_untrained"]) * boost
        recv, giver = talk[helps], helper[helps]
        P.support_week[recv] = m.week
        P.support_effect[recv] = effect[helps]
        P.helped_week[giver] = m.week
        np.add.at(P.helps, giver, 1)
        P.met_distressed[helper[trained]] = True
        refer_p = np.where(trained, p["referral_trained"], p["referral_untrained"] * P.knows_services[h])
        referred = recv[(u[3] < refer_p)[helps]]
        self.acts = int(helps.sum())
        self.disclosures = k
        self.referrals = len(referred)
        self.last = {"person": talk, "helper": helper, "helped": helps, "trained": trained}
        return referred
