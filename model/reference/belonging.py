"""Marginalization at entry, and one period of participation and belonging, in plain
NumPy: the rules of docs/ODD.md section 7.10.

The inputs are the parameters of ``[cohesion]`` (a dict, as ``config.section``) and
person arrays; who is reached by concerted action (``Interventions.reached``) and the
uniform draws are the caller's, as in ``model/submodels/belonging.py``. Nothing is
written: the new values are returned.
"""

from __future__ import annotations

import numpy as np

from ..state import Status


def marginalized(c: dict, working_age: float, u, age, status, alone) -> np.ndarray:
    """Whether each entrant is marginalized: u < min(marginalized_share * w / mean w over
    the adult entrants, 1), w = w_jobless if inactive or unemployed, times w_alone if the
    household arrived with one member; children never."""
    w_jobless, w_alone = c["marginalized_weights"]
    adult = age >= working_age
    w = np.where((status == Status.INACTIVE) | (status == Status.UNEMPLOYED), w_jobless, 1.0)
    w = np.where(adult, w * np.where(alone, w_alone, 1.0), 0.0)
    mean_w = w[adult].mean() if adult.any() else 1.0
    return u < np.minimum(c["marginalized_share"] * w / mean_w, 1.0)


def over_period(weekly, weeks: int):
    """A weekly rate as the probability of at least one event in ``weeks`` weeks."""
    return 1.0 - (1.0 - np.minimum(weekly, 1.0)) ** weeks


def period(
    c: dict,
    weeks: int,
    marginalized_reach: float,
    high_threshold: float,
    week: int,
    u,
    reached,
    status,
    ever_displaced,
    distress,
    helped_week,
    marg,
    household_jobless,
    participates,
    belonging,
):
    """Participation and belonging of adults after one period of ``weeks`` weeks (one entry
    per adult); ``household_jobless``: a member of the household is without a job;
    ``marginalized_reach`` is the one in force (lifted by inclusion actions)."""
    jobless = (status == Status.UNEMPLOYED) | (status == Status.TRAINING)
    scarred = ~jobless & ever_displaced & (status == Status.EMPLOYED)
    high = distress >= high_threshold
    helped = week - helped_week < c["helped_window_weeks"]

    # Start: the rate that balances exits at participation_share, lowered for the
    # marginalized, raised for recent helpers and for the adults reached.
    share, exit_rate = c["participation_share"], c["participation_exit_rate"]
    start = (
        exit_rate
        * share
        / max(1.0 - share, 1e-9)
        * np.where(marg, marginalized_reach, 1.0)
        * (1.0 + c["helper_start_extra"] * helped)
        * (1.0 + c["concertation_start_extra"] * reached)
    )
    # Stop: raised by exposure to job loss, the first that applies of: without a job or in
    # high distress; displaced and back in a job; living with someone without a job.
    extra = np.select(
        [jobless | high, scarred, household_jobless],
        [c["displaced_exit_extra"], c["scar_exit_extra"], c["household_exit_extra"]],
        0.0,
    )
    stop = exit_rate * (1.0 + extra)
    part = np.where(participates, ~(u < over_period(stop, weeks)), u < over_period(start, weeks))

    # Belonging moves towards its target, a share belonging_rate a week.
    w_part, w_helped, w_high, w_marg = c["belonging_weights"]
    target = np.clip(
        c["belonging_initial"]
        + w_part * (part - share)
        + w_helped * helped
        - w_high * (high - c["high_distress_share"])
        - w_marg * (marg - c["marginalized_share"])
        - c["jobless_belonging"] * jobless
        - c["scar_belonging"] * scarred,
        0.0,
        1.0,
    )
    keep = (1.0 - c["belonging_rate"]) ** weeks
    return part, target + (belonging - target) * keep
