"""The formal services' compiled step against its plain-NumPy reference
(``model/reference/services.py``), and a statistical check of the friction.

Tolerance: the services' state is whole numbers (rows, weeks), so with the same inputs and
the same draws the fast path and the reference must agree exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from model import CohesionModel
from model.reference import services as ref
from model.state import Status


def model(**overrides) -> CohesionModel:
    m = CohesionModel(
        scale=0.05,
        rng=7,
        start="2003-01",
        end="2003-12",
        overrides={"services.self_referral_rate": 0.3, "services.org_referral_rate": 0.3, **overrides},
    )
    for _ in range(6):  # a few weeks: some served, some waiting
        m.step()
    return m


def reference_inputs(m: CohesionModel, strained: np.ndarray) -> tuple[dict, dict, dict, dict]:
    """The reference's arguments, copied from the model's arrays before the step."""
    P, H, S, iv = m.people, m.households, m.services, m.interventions
    n = P.n
    s = {k: getattr(P, k)[:n].copy() for k in ref.LISTS}
    status = P.status[:n]
    people = {
        "present": P.present[:n].copy(),
        "knows": P.knows_services[:n].copy(),
        "jobless": (status == Status.UNEMPLOYED) | (status == Status.TRAINING),
        "marginalized": P.marginalized[:n].copy(),
        "distress": P.distress[:n].copy(),
        "household": P.household[:n].astype(np.int64),
        "municipality": H.municipality.astype(np.int64),
        "strained": strained,
    }
    community_share = (
        1.0 if iv.active("regional_conference") else (1.0 - iv.params("regional_conference")["community_capacity"])
    )
    orgs = {
        "kind": S.kind,
        "nearest": S.nearest,
        "episode": S.episode_of,
        "links": m.committees.org_links.copy(),
        "base_capacity": S.base_capacity.copy(),
        "community_share": community_share,
        "extra_row": -1,
        "extra": 0.0,
    }
    p = {
        "max_wait": float(S.p["max_wait_weeks"]),
        "self_rate": S.p["self_referral_rate"],
        "reach": S._marginal_reach(),
        "friction": S._friction(),
        "org_rate": S.p["org_referral_rate"],
        "threshold": np.float32(S.threshold),
    }
    return s, people, orgs, p


@pytest.mark.parametrize("week", range(4))
def test_the_compiled_step_is_the_reference_step(week):
    m = model(**{"services.org_referral_rate": 1.0})
    for _ in range(week):
        m.step()
    P, S = m.people, m.services
    assert not m.interventions.active("in_plant_services") and not m.interventions.active("support_committee")
    rng = np.random.default_rng(week)
    adults = m.adults
    helper = np.sort(rng.choice(adults, 40, replace=False)).astype(np.int64)
    strained = np.unique(rng.choice(m.households.n, 200)).astype(np.int64)
    jobless = adults[np.isin(P.status[adults], (Status.UNEMPLOYED, Status.TRAINING))]
    m.need = np.union1d(jobless, rng.choice(adults, len(adults) // 5, replace=False)).astype(np.int64)
    m.committees.org_links[:] = True  # every organization may refer to every other
    s, people, orgs, p = reference_inputs(m, strained)
    before = dict(S.counts)
    draws = copy.deepcopy(m.streams["services"])

    S.step(helper, strained)
    counts = ref.step(s, people, orgs, p, m.need, helper, m.week, draws)

    for k in ref.LISTS:
        assert np.array_equal(getattr(P, k)[: P.n], s[k]), k
    assert np.array_equal(S.capacity, counts["capacity"])
    for k in ("gave_up", "self_referrals", "helper_referrals", "org_referrals", "admitted"):
        assert S.counts[k] - before[k] == counts[k], k
    assert min(counts["self_referrals"], counts["org_referrals"], counts["admitted"]) > 0  # the rules were used
    assert draws.random() == m.streams["services"].random()  # the same draws were used up


def test_a_helper_referral_reaches_a_list_at_one_minus_the_friction():
    """Statistical: helpers' referrals of persons neither served nor waiting reach a list
    with probability 1 - referral_friction (within 4 standard errors over the weeks)."""
    m = model(**{"services.self_referral_rate": 0.0, "services.org_referral_rate": 0.0})
    P, S = m.people, m.services
    rng = np.random.default_rng(3)
    m.need = np.zeros(0, np.int64)
    sent = reached = 0
    for _ in range(20):
        idle = m.adults[(P.service[m.adults] < 0) & (P.waiting[m.adults] < 0)]
        helper = np.sort(rng.choice(idle, min(100, len(idle)), replace=False)).astype(np.int64)
        before = S.counts["helper_referrals"]
        S.step(helper, np.zeros(0, np.int64))
        sent += len(helper)
        reached += S.counts["helper_referrals"] - before
        m.week += 1
    q = 1.0 - S._friction()
    assert abs(reached - sent * q) < 4.0 * np.sqrt(sent * q * (1 - q))
