"""Disclosure and informal support, by helpers untrained, trained, or equipped by the Guide.

Each week every adult in high distress (``distress >= distress.high_threshold``) talks
about it with probability ``support.disclosure_rate`` to one of their tie slots, chosen
at random (``model/ties.py``); an empty slot or a tie who has left means nobody hears.
The tie who hears decides whether to help: the probability is
``Phi(Phi^-1(support.help_probability) + shift)``, where ``shift`` is 0 for an untrained
helper; for a helper trained in a session (``interventions.helper_training``) it is
``action_smd * exp(-t / tau)`` with ``t`` the weeks since training and ``tau`` set so that
the shift falls to ``action_smd_long`` after ``long_term_weeks`` (training raises actual
helping by 0.33 SD short-term and 0.22 SD long-term, far less than the 1.03 SD rise in
intention; Spafford et al. 2024 [spafford-2024]); for a reader of the Guide
(``interventions.guide``) it is the Guide's ``action_smd`` (a printed manual alone raised
knowledge and confidence; actions rose reliably only with training, Jorm et al. 2010
[jorm-2010]). A share ``support.aggression_share`` of disclosures come with aggressive
behaviour; an untrained helper then withdraws with probability
``aggression_withdrawal_untrained``, an equipped one (trained or a reader) with
``aggression_withdrawal_trained``. Support given is felt by the person for
``support.memory_weeks`` weeks and lowers their distress by ``effect_untrained`` or
``effect_trained`` (more under the CSSS's reinforcement mode), and buffers the effect of
their job loss (``submodels/distress.py``). A helper refers the person to the
psychosocial service with probability ``referral_trained`` if equipped, or
``referral_untrained`` if the helper knows the services.

An equipped helper who is told of someone's distress is counted as reached
(``trained_helpers_reached_share``): equipping matters only where equipped people meet
distressed ones.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from ..jit import kernel
from ..state import SERVICES
from ..streams import bernoulli

PSYCHOSOCIAL = SERVICES.index("psychosocial")


class InformalSupport:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("support")
        self.threshold = model.config["distress.high_threshold"]
        self.adult_age = model.config["demography.working_age"]
        self.training = model.interventions["helper_training"]
        self.tau = self.training.decay_weeks()
        self.guide = model.interventions["guide"]
        self.base_z = float(ndtri(min(max(self.p["help_probability"], 1e-9), 1 - 1e-9)))
        self.help_untrained = float(ndtr(self.base_z))  # probability of helping without training
        self.adult_age32 = np.float32(self.adult_age)  # ages are float32
        self._no_help = np.zeros(0)
        self.acts = 0  # helping acts this week
        self.disclosures = 0
        self.referrals = 0
        # The events of the last week, for tests and the browser view.
        self.last = {"person": np.zeros(0, np.int64), "helper": np.zeros(0, np.int64),
                     "helped": np.zeros(0, bool), "trained": np.zeros(0, bool)}

    @property
    def trained_total(self) -> int:
        return self.training.trained_total

    def _equipped_week(self) -> np.ndarray:
        """Per person, the week they were last equipped to help: trained (or refreshed), or
        reached by a copy of the Guide they read (-1: never)."""
        P = self.model.people
        if self.guide.readers == 0:
            return P.trained_week
        return np.maximum(P.trained_week, np.where(P.guide_read, P.guide_week, -1))

    def shift(self, helpers: np.ndarray) -> np.ndarray:
        """Latent helping-propensity shift (SD) of each helper from training or the Guide."""
        P, m = self.model.people, self.model
        t = P.trained_week[helpers]
        trained = t >= 0
        weeks = np.where(trained, m.week - t, 0).astype(float)
        decay = np.exp(-weeks / self.tau) if math.isfinite(self.tau) else np.ones(len(helpers))
        shift = np.where(trained, self.training.p["action_smd"] * decay, 0.0)
        return np.maximum(shift, np.where(P.guide_read[helpers], self.guide.p["action_smd"], 0.0))

    # -- the weekly step ------------------------------------------------------------------
    def step(self) -> np.ndarray:
        """Train helpers, then disclosures and support; return the persons referred to the
        psychosocial service by their helpers."""
        m, P, p, ties = self.model, self.model.people, self.p, self.model.ties
        iv = m.interventions
        if iv.active("helper_training"):
            self.training.train()
        if iv.active("guide"):
            self.guide.circulate()
        rng = m.streams["support"]
        talk = bernoulli(rng, m.need, p["disclosure_rate"])
        k = len(talk)
        u = rng.random((5, k))
        slot = (u[4] * ties.k).astype(np.int64)  # the tie each confides in, uniform over the slots
        helper = ties.targets(talk, slot)
        boost = 1.0
        if m.interventions.active("csss_reinforcement"):
            boost += m.interventions.params("csss_reinforcement")["network_boost"]
        args = (m.week, self.adult_age32, self.help_untrained, p["aggression_share"],
                p["aggression_withdrawal_untrained"], p["aggression_withdrawal_trained"],
                p["effect_untrained"] * boost, p["effect_trained"] * boost, p["referral_untrained"],
                p["referral_trained"], P.age, self._equipped_week(), P.knows_services, P.support_week, P.support_effect,
                P.helped_week, P.helps, P.met_distressed)
        done, helps, trained, referred, acts = _support_kernel(talk, helper, self._no_help, u, *args)
        if not done:  # trained helpers heard: their probability of helping, Phi(base_z + shift)
            help_trained = ndtr(self.base_z + self.shift(helper[trained]))
            done, helps, trained, referred, acts = _support_kernel(talk, helper, help_trained, u, *args)
        self.acts = acts
        self.disclosures = k
        self.referrals = len(referred)
        self.last = {"person": talk, "helper": helper, "helped": helps, "trained": trained}
        return referred


@kernel
def _support_kernel(talk, helper, help_trained, u, week, adult_age, help_untrained, aggression_share,
                    withdrawal_untrained, withdrawal_trained, effect_untrained, effect_trained, referral_untrained,
                    referral_trained, age, trained_week, knows_services, support_week, support_effect, helped_week,
                    helps_count, met_distressed):
    """Whether the tie who hears each disclosure (``helper``, -1: nobody) helps; record the
    support given and received. Only an adult tie (``age >= adult_age``) hears it. A
    trained helper (``trained_week >= 0``) helps with the probability of the next entry
    of ``help_trained``, the others with ``help_untrained``; the uniforms ``u`` decide,
    by row, helping, aggressive behaviour, withdrawal and referral. Returns whether
    ``help_trained`` had an entry for every trained helper who heard (if not, nothing
    else is done), whether each helper is trained, the help flags, the persons referred
    to the psychosocial service (in ``talk`` order) and the number of helping acts."""
    k = len(talk)
    helps = np.zeros(k, np.bool_)
    trained = np.zeros(k, np.bool_)
    valid = np.zeros(k, np.bool_)
    n_trained = 0
    for e in range(k):
        h = helper[e]
        if h >= 0 and age[h] >= adult_age:
            valid[e] = True
            if trained_week[h] >= 0:
                trained[e] = True
                n_trained += 1
    referred = np.empty(k, np.int64)
    if n_trained > len(help_trained):
        return False, helps, trained, referred[:0], 0
    n_referred = n_helps = 0
    j = 0  # next entry of help_trained
    for e in range(k):
        if not valid[e]:
            continue
        h, person = helper[e], talk[e]
        if trained[e]:
            met_distressed[h] = True
            p_help, withdrawal, effect = help_trained[j], withdrawal_trained, effect_trained
            j += 1
        else:
            p_help, withdrawal, effect = help_untrained, withdrawal_untrained, effect_untrained
        if not u[0, e] < p_help:
            continue
        if u[1, e] < aggression_share and u[2, e] < withdrawal:
            continue  # the helper withdraws from aggressive behaviour
        helps[e] = True
        n_helps += 1
        support_week[person] = week
        support_effect[person] = effect
        helped_week[h] = week
        helps_count[h] += 1
        if trained[e]:
            refer = referral_trained
        else:
            refer = referral_untrained if knows_services[h] else 0.0
        if u[3, e] < refer:
            referred[n_referred] = person
            n_referred += 1
    return True, helps, trained, referred[:n_referred], n_helps
