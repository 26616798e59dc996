"""The organization network's compiled weekly update against the plain-NumPy reference
(``model/reference/committees.py``), a statistical check of the committee learning rate,
and a perturbed reference shown to be caught.

Tolerance: links are booleans drawn from the same uniforms against the same rates, so the
fast path and the reference must agree exactly."""

from __future__ import annotations

import copy

import numpy as np

from model import CohesionModel
from model.reference import committees as ref
from model.submodels.committees import LinkRates, Network, _network_kernel

# Every structure on and off within two years: the committees from 2005-06 to 2006-06 and
# 2006-09, the cross-sectoral mode from 2005-09 to 2006-12, then fading (a short half-life,
# so that many links fade within the run).
OVERRIDES = {
    "interventions.recovery_committee.end": "2006-06",
    "interventions.support_committee.end": "2006-09",
    "interventions.csss_cross_sectoral.start": "2005-09",
    "interventions.csss_cross_sectoral.end": "2006-12",
    "network.link_halflife_weeks": 20.0,
}


def run_model(seed: int = 2) -> CohesionModel:
    return CohesionModel(
        scale=0.02, rng=seed, scenario="withdrawal_2015", start="2005-01", end="2007-06", overrides=OVERRIDES
    )


def test_the_compiled_network_step_is_the_reference_step():
    """Each week of the run, the links the fast path leaves are those of ``ref.step`` from
    the same links and the same draws; a reference with a learning rate 1.5 times larger
    disagrees in some week."""
    m = run_model()
    C = m.committees
    step = C.step
    p = dict(C.p)
    perturbed_p = {**p, "committee_learning_rate": 1.5 * p["committee_learning_rate"]}
    seen = {"formed": 0, "faded": 0, "cross": 0, "bridge": 0, "perturbed_mismatches": 0}

    def checked():
        iv = m.interventions
        active = (iv.active("recovery_committee"), iv.active("support_committee"), iv.active("csss_cross_sectoral"))
        before = C.links.copy()
        u = copy.deepcopy(m.streams["committees"]).random(before.shape)  # the draws the step will make
        args = (C.base, C.recovery, C.support, C.cross_ok, u)
        expected = ref.step(before, *args, p, *active)
        perturbed = ref.step(before, *args, perturbed_p, *active)
        step()
        assert np.array_equal(C.links, expected)
        assert np.array_equal(C.org_links[np.ix_(C.members, C.members)], expected)
        seen["formed"] += int((expected & ~before).sum())
        seen["faded"] += int((before & ~expected).sum())
        seen["cross"] += active[2]
        seen["bridge"] += active[0] and active[1]
        seen["perturbed_mismatches"] += int((perturbed != C.links).sum())

    C.step = checked
    while m.running:
        m.step()
    assert seen["cross"] > 20 and seen["bridge"] > 20  # every structure was active for weeks
    assert seen["formed"] > 20 and seen["faded"] > 10  # both sides of the rule were exercised
    assert seen["perturbed_mismatches"] > 0  # the comparison can fail


def new_link_share(C, learning_rate: float, weeks: int, seed: int) -> tuple[int, int]:
    """Links formed and trials over ``weeks`` independent weeks, each from the network's
    links at set-up with only the recovery committee active at ``learning_rate``: the
    unlinked pairs of recovery-committee members (each pair once)."""
    k = len(C.members)
    eligible = np.triu(np.outer(C.recovery, C.recovery) & ~C.links, 1)
    rng = np.random.default_rng(seed)
    formed = 0
    for _ in range(weeks):
        links = C.links.copy()
        net = Network(links, C.base, C.recovery, C.support, C.cross_ok, C.members, C.org_links.copy())
        _network_kernel(rng.random((k, k)), net, LinkRates(learning_rate, 0.0, 0.0, 0.0, 1.0))
        formed += int((links & eligible).sum())
    return formed, int(eligible.sum()) * weeks


def test_committee_members_link_at_the_learning_rate():
    """Statistical: the share of eligible pairs (two recovery-committee members not yet
    linked) that link in a week agrees with committee_learning_rate within 4.5 standard
    errors; the same check rejects a rate 1.5 times larger."""
    C = run_model().committees
    q = float(C.p["committee_learning_rate"])
    formed, trials = new_link_share(C, q, weeks=3000, seed=7)
    assert trials > 20_000
    se = np.sqrt(trials * q * (1 - q))
    assert abs(formed - trials * q) < 4.5 * se
    q_wrong = 1.5 * q
    assert abs(formed - trials * q_wrong) > 4.5 * np.sqrt(trials * q_wrong * (1 - q_wrong))
