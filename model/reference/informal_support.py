"""Disclosure and informal support, one week, in plain NumPy: the rule of docs/ODD.md
section 7.7 (*Help*, *Effect*, *Referral*), from the disclosures onwards.

Who discloses and to which tie slot is drawn by the caller (``talk``, ``helper`` and the
uniforms ``u``, as in ``model/submodels/informal_support.py``); training sessions and the
Guide's circulation happen before and are not restated here. Nothing is written: the
persons' and helpers' updated arrays are returned.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri

from ..constants import WORKING_AGE


class Params(NamedTuple):
    help_probability: float  # of an untrained helper
    training_action_smd: float  # shift of the latent propensity just after training (SD)
    training_tau: float  # weeks over which the training shift falls by a factor e
    guide_action_smd: float  # shift of a reader of the Guide (SD), which does not fade
    guide_referral: float
    aggression_share: float
    withdrawal_untrained: float
    withdrawal_trained: float  # of an equipped helper (trained, or a reader of the Guide)
    effect_untrained: float  # relief, times 1 + network_boost under the CSSS's reinforcement mode
    effect_trained: float
    referral_untrained: float  # only by a helper who knows the services
    referral_trained: float
    working_age: float


class Helpers(NamedTuple):
    """Per-person arrays read about the helpers."""

    age: np.ndarray
    trained_week: np.ndarray  # last training or refresher (-1: never)
    guide_read: np.ndarray
    knows_services: np.ndarray


class Outcome(NamedTuple):
    helps: np.ndarray  # per disclosure
    equipped: np.ndarray  # per disclosure: the helper who heard is equipped
    referred: np.ndarray  # persons referred to the psychosocial service, in disclosure order
    support_week: np.ndarray  # per person, updated
    support_effect: np.ndarray
    helped_week: np.ndarray
    helps_count: np.ndarray
    met_distressed: np.ndarray


def params_of(model) -> Params:
    """The parameters in force this week in ``model``."""
    p, iv = model.config.section("support"), model.interventions
    training, guide = iv["helper_training"], iv["guide"]
    boost = 1.0 + (iv.params("csss_reinforcement")["network_boost"] if iv.active("csss_reinforcement") else 0.0)
    return Params(
        p["help_probability"],
        training.p["action_smd"],
        training.decay_weeks(),
        guide.p["action_smd"],
        guide.p["referral"],
        p["aggression_share"],
        p["aggression_withdrawal_untrained"],
        p["aggression_withdrawal_trained"],
        p["effect_untrained"] * boost,
        p["effect_trained"] * boost,
        p["referral_untrained"],
        p["referral_trained"],
        WORKING_AGE,
    )


def help_probability(s: Params, week: int, trained_week: np.ndarray, guide_read: np.ndarray) -> np.ndarray:
    """Phi(Phi^-1(help_probability) + max(training shift, Guide shift)); the training shift
    is action_smd * exp(-weeks since training / tau)."""
    trained = trained_week >= 0
    since = np.where(trained, week - trained_week, 0).astype(float)
    decay = np.exp(-since / s.training_tau) if math.isfinite(s.training_tau) else np.ones(len(since))
    shift = np.maximum(
        np.where(trained, s.training_action_smd * decay, 0.0), np.where(guide_read, s.guide_action_smd, 0.0)
    )
    z = ndtri(min(max(s.help_probability, 1e-9), 1 - 1e-9))
    return ndtr(z + shift)


def step(
    week: int,
    talk: np.ndarray,
    helper: np.ndarray,
    u: np.ndarray,
    H: Helpers,
    s: Params,
    support_week,
    support_effect,
    helped_week,
    helps_count,
    met_distressed,
) -> Outcome:
    # Only an adult tie who is still there hears the disclosure (helper -1: nobody).
    tie = np.maximum(helper, 0)
    hears = (helper >= 0) & (H.age[tie] >= s.working_age)
    trained = H.trained_week[tie] >= 0
    reader = H.guide_read[tie]
    equipped = hears & (trained | reader)

    # What each helper does: untrained, trained in a session, or a reader of the Guide.
    p_help = np.where(
        equipped,
        help_probability(s, week, H.trained_week[tie], reader),
        ndtr(ndtri(min(max(s.help_probability, 1e-9), 1 - 1e-9))),
    )
    withdrawal = np.where(equipped, s.withdrawal_trained, s.withdrawal_untrained)
    effect = np.where(equipped & trained, s.effect_trained, s.effect_untrained)
    refer = np.where(
        equipped,
        np.where(trained, s.referral_trained, s.guide_referral),
        np.where(H.knows_services[tie], s.referral_untrained, 0.0),
    )

    # Help, unless the disclosure comes with aggression and the helper withdraws.
    helps = hears & (u[0] < p_help) & ~((u[1] < s.aggression_share) & (u[2] < withdrawal))
    referred = talk[helps & (u[3] < refer)]

    # Records: the person feels the support; the helper has helped; an equipped helper who
    # heard has met someone in distress.
    support_week, support_effect = support_week.copy(), support_effect.copy()
    helped_week, helps_count, met_distressed = helped_week.copy(), helps_count.copy(), met_distressed.copy()
    support_week[talk[helps]] = week
    support_effect[talk[helps]] = effect[helps]
    helped_week[helper[helps]] = week
    np.add.at(helps_count, helper[helps], 1)
    met_distressed[helper[equipped]] = True
    return Outcome(helps, equipped, referred, support_week, support_effect, helped_week, helps_count, met_distressed)
