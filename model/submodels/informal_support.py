"""Disclosure and informal support, and the training of helpers with the Guide.

Each week every adult in high distress (``distress >= distress.high_threshold``) talks
about it with probability ``support.disclosure_rate`` to one of their tie slots, chosen
at random (``model/ties.py``); an empty slot or a tie who has left means nobody hears.
The tie who hears decides whether to help: the probability is
``Phi(Phi^-1(support.help_probability) + shift)``, where ``shift`` is 0 for an untrained
helper and, for a helper trained with the Guide, ``action_smd * exp(-t / tau)`` with ``t``
the weeks since training and ``tau`` set so that the shift falls to ``action_smd_long``
after ``long_term_weeks`` (training raises actual helping by 0.33 SD short-term and
0.22 SD long-term, far less than the 1.03 SD rise in intention; [spafford-2024]). A share
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
        self.train = model.config.section("interventions.helper_training")
        short, long_ = self.train["action_smd"], self.train["action_smd_long"]
        if short <= 0 or long_ <= 0 or long_ >= short:
            self.tau = math.inf if long_ >= short and short > 0 else 1e-9
        else:
            self.tau = self.train["long_term_weeks"] / math.log(short / long_)
        self.base_z = float(ndtri(min(max(self.p["help_probability"], 1e-9), 1 - 1e-9)))
        self.help_untrained = float(ndtr(self.base_z))  # probability of helping without training
        self.adult_age32 = np.float32(self.adult_age)  # ages are float32
        self._no_help = np.zeros(0)
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
        m, P, p, ties = self.model, self.model.people, self.p, self.model.ties
        self._train()
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
                p["referral_trained"], P.age, P.trained_week, P.knows_services, P.support_week, P.support_effect,
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
