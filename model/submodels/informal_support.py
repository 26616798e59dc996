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
``aggression_withdrawal_untrained``, an equipped one (trained, or a reader: the Guide
teaches a safe response) with ``aggression_withdrawal_trained``. Support given is felt by
the person for ``support.memory_weeks`` weeks and lowers their distress by
``effect_trained`` if the helper was trained, else ``effect_untrained`` (a manual alone
does not make a better listener without practice; both larger under the CSSS's
reinforcement mode), and buffers the effect of their job loss
(``submodels/distress.py``). A helper refers the person to the psychosocial service
with probability ``referral_trained`` if trained, the Guide's ``referral`` if a reader
(it lists the local resources), or ``referral_untrained`` if the helper knows the
services.

An equipped helper who is told of someone's distress is marked (``met_distressed``); the
share of trained helpers so marked is ``trained_helpers_reached_share``: equipping
matters only where equipped people meet distressed ones.

``model/reference/informal_support.py`` states one week of disclosure and help in plain
NumPy; the compiled kernel below (``_support_kernel``) is checked against it
(``tests/test_reference_social.py``).
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri

from ..constants import WORKING_AGE
from ..jit import kernel
from ..state import SERVICES
from ..streams import bernoulli

PSYCHOSOCIAL = SERVICES.index("psychosocial")


class InformalSupport:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("support")
        self.threshold = model.config["distress.high_threshold"]
        self.adult_age = WORKING_AGE
        self.training = model.interventions["helper_training"]
        self.tau = self.training.decay_weeks()
        self.guide = model.interventions["guide"]
        self.base_z = float(ndtri(min(max(self.p["help_probability"], 1e-9), 1 - 1e-9)))
        self.help_untrained = float(ndtr(self.base_z))  # probability of helping without training
        self.params = Params(float(self.adult_age), float(self.p["aggression_share"]))
        self._no_help = np.zeros((4, 0))
        # The persons supported in each of the last ``support.memory_weeks`` weeks (newest last).
        self._recent: deque[np.ndarray] = deque(maxlen=int(self.p["memory_weeks"]))
        self.acts = 0  # helping acts this week
        self.disclosures = 0
        self.referrals = 0
        # The events of the last week, for tests and the browser view.
        self.last = {
            "person": np.zeros(0, np.int64),
            "helper": np.zeros(0, np.int64),
            "helped": np.zeros(0, bool),
            "trained": np.zeros(0, bool),
        }

    def recently_supported(self) -> np.ndarray:
        """The persons supported in the last ``support.memory_weeks`` weekly steps (any
        order, possibly repeated): everyone who may feel support now."""
        return np.concatenate(self._recent) if self._recent else np.zeros(0, np.int64)

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

    def equipped_terms(self, helpers: np.ndarray, effects: tuple[float, float]) -> np.ndarray:
        """For equipped helpers who heard a disclosure (trained, or readers of the Guide):
        rows of probability of helping (``Phi(base_z + shift)``), of withdrawing from
        aggression, relief given (``effects``: untrained, trained) and probability of
        referring. A reader gets the Guide's own shift and referral, the trained response to
        aggression (the Guide teaches it) and an untrained listener's relief (a manual alone
        does not make a better listener without practice); a trained helper gets the
        training's."""
        P, p = self.model.people, self.p
        trained = P.trained_week[helpers] >= 0
        return np.array(
            [
                ndtr(self.base_z + self.shift(helpers)),
                np.full(len(helpers), p["aggression_withdrawal_trained"]),
                np.where(trained, effects[1], effects[0]),
                np.where(trained, p["referral_trained"], self.guide.p["referral"]),
            ]
        )

    # -- the weekly step ------------------------------------------------------------------
    def step(self) -> np.ndarray:
        """One week of informal support; return the persons referred to the psychosocial
        service by their helpers.

        Helpers are trained and the Guide circulates (if active); each adult in high
        distress (``model.need``) talks to a tie slot at random with probability
        ``disclosure_rate``; an adult tie who hears helps with a probability raised by
        training or the Guide, may withdraw when met with aggression, and may refer the
        person to the psychosocial service. Support given is recorded on the person
        (``support_week``, ``support_effect``, felt for ``memory_weeks``) and the helper."""
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
        d = Disclosures(talk, ties.targets(talk, slot), u)
        boost = 1.0
        if m.interventions.active("csss_reinforcement"):
            boost += m.interventions.params("csss_reinforcement")["network_boost"]
        boosted = (p["effect_untrained"] * boost, p["effect_trained"] * boost)
        untrained = np.array(
            [self.help_untrained, p["aggression_withdrawal_untrained"], boosted[0], p["referral_untrained"]]
        )
        people = People(
            P.age,
            self._equipped_week(),
            P.knows_services,
            P.support_week,
            P.support_effect,
            P.helped_week,
            P.helps,
            P.met_distressed,
        )
        # A first pass finds which helpers who heard are equipped (and stops there if any
        # is); the second gives each of them their own terms.
        done, helps, equipped, referred, acts = _support_kernel(
            m.week, d, Terms(untrained, self._no_help), self.params, people
        )
        if not done:
            terms = Terms(untrained, self.equipped_terms(d.helper[equipped], boosted))
            done, helps, equipped, referred, acts = _support_kernel(m.week, d, terms, self.params, people)
        self.acts = acts
        self.disclosures = k
        self.referrals = len(referred)
        self.last = {"person": talk, "helper": d.helper, "helped": helps, "trained": equipped}
        self._recent.append(talk[helps])
        return referred


# -- the fast path: named structures and compiled kernel ------------------------------
class Params(NamedTuple):
    working_age: float  # only an adult tie hears a disclosure (``WORKING_AGE``)
    aggression_share: float  # share of disclosures that come with aggressive behaviour


class Disclosures(NamedTuple):
    """This week's disclosures, one per entry: who talks, the tie who hears (-1: nobody)
    and the uniform draws (rows: helping, aggression, withdrawal, referral, slot)."""

    talk: np.ndarray
    helper: np.ndarray
    u: np.ndarray


class Terms(NamedTuple):
    """What a helper does, as four numbers (probability of helping, of withdrawing when met
    with aggression, relief given, probability of referring): ``untrained`` for every
    helper who is not equipped, one column of ``equipped`` for each equipped helper who
    heard, in the order of the disclosures."""

    untrained: np.ndarray  # (4,)
    equipped: np.ndarray  # (4, equipped helpers who heard)


class People(NamedTuple):
    """The per-person arrays of disclosure and help; the last five are written."""

    age: np.ndarray
    equipped_week: np.ndarray  # week the person was last equipped to help (-1: never)
    knows_services: np.ndarray
    support_week: np.ndarray
    support_effect: np.ndarray
    helped_week: np.ndarray
    helps: np.ndarray
    met_distressed: np.ndarray


@kernel
def _support_kernel(week, d, terms, p, P):
    """Whether the tie who hears each disclosure (``Disclosures`` ``d``) helps; record the
    support given and received on ``People`` ``P``. Only an adult tie (``age >=
    p.working_age``) hears it. An equipped helper (``equipped_week >= 0``: trained, or a
    reader of the Guide) takes the next column of ``terms.equipped``; the others take
    ``terms.untrained``, and refer only if they know the services. The uniforms ``d.u``
    decide, by row, helping, aggressive behaviour, withdrawal and referral. Returns
    whether ``terms.equipped`` had a column for every equipped helper who heard (if not,
    nothing else is done), the help flags, whether each helper is equipped, the persons
    referred (in ``d.talk`` order) and the number of helping acts."""
    talk, helper, u = d.talk, d.helper, d.u
    untrained, equipped = terms.untrained, terms.equipped
    k = len(talk)
    helps = np.zeros(k, np.bool_)
    is_equipped = np.zeros(k, np.bool_)
    valid = np.zeros(k, np.bool_)
    n_equipped = 0
    for e in range(k):
        h = helper[e]
        if h >= 0 and P.age[h] >= p.working_age:
            valid[e] = True
            if P.equipped_week[h] >= 0:
                is_equipped[e] = True
                n_equipped += 1
    referred = np.empty(k, np.int64)
    if n_equipped > equipped.shape[1]:
        return False, helps, is_equipped, referred[:0], 0
    n_referred = n_helps = 0
    j = 0  # next column of equipped
    for e in range(k):
        if not valid[e]:
            continue
        h, person = helper[e], talk[e]
        if is_equipped[e]:
            P.met_distressed[h] = True
            p_help, withdrawal, effect, refer = equipped[0, j], equipped[1, j], equipped[2, j], equipped[3, j]
            j += 1
        else:
            p_help, withdrawal, effect = untrained[0], untrained[1], untrained[2]
            refer = untrained[3] if P.knows_services[h] else 0.0
        if not u[0, e] < p_help:
            continue
        if u[1, e] < p.aggression_share and u[2, e] < withdrawal:
            continue  # the helper withdraws from aggressive behaviour
        helps[e] = True
        n_helps += 1
        P.support_week[person] = week
        P.support_effect[person] = effect
        P.helped_week[h] = week
        P.helps[h] += 1
        if u[3, e] < refer:
            referred[n_referred] = person
            n_referred += 1
    return True, helps, is_equipped, referred[:n_referred], n_helps
