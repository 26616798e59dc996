"""The compiled fast path of distress, household finances, informal support and belonging
against the plain-NumPy reference steps of ``model/reference/``: same inputs and draws,
outputs within stated tolerances; with statistical checks of the draws, and with a
perturbed parameter shown to be caught.

Tolerances. The fast path stores distress states, belonging and support effects in
float32 (for memory) and computes in float64, as the references do: a stored value differs
from the reference's float64 value by its float32 rounding, at most 2^-24 of it (6e-8 for
a value of 1; distress states stay within a few SD), hence ``ATOL = 1e-6``. Sums are taken
in another order (1e-15). Decisions (who helps, who participates, which households are
strained) are compared exactly: the same uniform draws against probabilities that agree
to 1e-12, so a decision could differ only for a draw within 1e-12 of its probability.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from model import CohesionModel
from model.reference import belonging as ref_belonging
from model.reference import distress as ref_distress
from model.reference import household_finances as ref_finances
from model.reference import informal_support as ref_support
from model.state import Status
from model.streams import bernoulli_each
from model.submodels import belonging as belonging_module
from model.submodels import household_finances as finances_module
from model.submodels import informal_support as support_module
from model.submodels.distress import people_of

ATOL = 1e-6  # float32 storage of values within a few units (see the module docstring)
EMPLOYED, UNEMPLOYED, TRAINING, RETIRED = Status.EMPLOYED, Status.UNEMPLOYED, Status.TRAINING, Status.RETIRED


def copied(t):
    """A copy of a namedtuple of arrays (and numbers)."""
    return type(t)(*[x.copy() if isinstance(x, np.ndarray) else x for x in t])


def run_model(**kw) -> CohesionModel:
    """A small run through the closures of 2005-2006 with the integrated response and
    helper training (trained helpers, readers of the Guide, services, strain)."""
    overrides = {"interventions.helper_training.enabled": True, **kw.pop("overrides", {})}
    return CohesionModel(
        scale=0.05,
        rng=kw.pop("rng", 3),
        scenario="integrated_2005",
        start="2005-01",
        end=kw.pop("end", "2007-06"),
        overrides=overrides,
        **kw,
    )


# -- distress ------------------------------------------------------------------------------
def test_distress_fast_path_matches_the_reference_week_by_week():
    """Each week of a run, the states the kernel writes for the adults are those of
    ``reference.distress.step`` from the same state, within ATOL; a job-loss effect 2%
    larger in the reference is caught."""
    m = run_model()
    step = m.distress.step
    worst, perturbed_worst, seen = 0.0, 0.0, {"stressed": 0, "relieved": 0}

    def checked(jobless, strained):
        nonlocal worst, perturbed_worst
        before, p = copied(people_of(m.people)), m.distress.params
        args = (m.week, m.adults, np.asarray(strained, np.int64), m.orgs.service)
        expected = ref_distress.step(before, p, *args)
        perturbed = ref_distress.step(before, p._replace(job_loss=p.job_loss * 1.02), *args)
        step(jobless, strained)
        got = m.people.distress_state[m.adults]
        worst = max(worst, float(np.abs(got - expected).max(initial=0.0)))
        perturbed_worst = max(perturbed_worst, float(np.abs(got - perturbed).max(initial=0.0)))
        seen["stressed"] += int((got > 0.1).sum())
        seen["relieved"] += int((got < -0.01).sum())

    m.distress.step = checked
    while m.running:
        m.step()
    assert worst < ATOL
    assert perturbed_worst > 100 * ATOL
    assert seen["stressed"] > 1000 and seen["relieved"] > 100  # both sides of the rule were exercised
    P = m.people
    np.testing.assert_allclose(P.distress[: P.n], P.distress_trait[: P.n] + P.distress_state[: P.n], rtol=0, atol=ATOL)


# -- household finances --------------------------------------------------------------------
def _households(rng, n_households):
    """Households whose members have consecutive rows, with random members' fields."""
    arrived = rng.integers(1, 5, n_households).astype(np.int16)
    first_row = (np.cumsum(arrived) - arrived).astype(np.int32)
    n = int(arrived.sum()) + 50  # rows after the last household: children born later
    household = np.repeat(np.arange(n_households), arrived).astype(np.int32)
    household = np.concatenate([household, rng.integers(0, n_households, 50).astype(np.int32)])
    status = rng.integers(0, 7, n).astype(np.int8)
    P = finances_module.People(
        household,
        status,
        (rng.random(n) * 40).astype(np.float32),
        np.where(status == RETIRED, rng.random(n) * 600, 0.0).astype(np.float32),
        (rng.random(n) * 500).astype(np.float32),
        rng.random(n) < 0.9,
        (rng.random(n) * 80).astype(np.float32),
        rng.random(n).astype(np.float32),
    )
    strain_weeks = np.zeros(n_households, np.int32)
    H = finances_module.Households(first_row, arrived, np.zeros(n_households), np.zeros(n_households), strain_weeks)
    return P, H


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("in_row_order", [True, False])
def test_strain_kernel_matches_the_reference(seed, in_row_order):
    rng = np.random.default_rng(seed)
    n_households = 400
    P, H = _households(rng, n_households)
    jobless = np.flatnonzero((P.status == UNEMPLOYED) | (P.status == TRAINING))
    ei_paid = jobless[rng.random(len(jobless)) < 0.6]
    severance = jobless[rng.random(len(jobless)) < 0.2]
    if not in_row_order:  # the households come out of order, and the claimants in another order
        jobless, ei_paid, severance = rng.permutation(jobless), rng.permutation(ei_paid), rng.permutation(severance)
    strained_before = np.sort(rng.choice(n_households, 60, replace=False))
    H.strain_weeks[strained_before] = rng.integers(1, 40, 60)
    w = finances_module.Week(jobless, ei_paid, severance, strained_before)
    p = finances_module.Params(37.5, 0.3, 26.0, 15.0, 0.58)

    expected = ref_finances.step(w, P, H, p)
    got_H = copied(H)
    slot = np.zeros(n_households, np.int64)
    strained, eligible, belonging = finances_module._strain_kernel(w, P, got_H, p, slot)
    assert np.array_equal(strained, expected.strained) and np.array_equal(eligible, expected.eligible)
    assert len(eligible) > 0 and len(strained) > len(eligible)
    np.testing.assert_allclose(belonging, expected.belonging, rtol=1e-12)
    np.testing.assert_allclose(got_H.income[expected.households], expected.income, rtol=1e-12)
    np.testing.assert_allclose(got_H.ref_income[expected.households], expected.ref_income, rtol=1e-12)
    assert np.array_equal(got_H.strain_weeks, expected.strain_weeks)
    assert not slot.any()
    # A smaller income drop in the reference strains other households: the check can fail.
    assert not np.array_equal(ref_finances.step(w, P, H, p._replace(income_drop=0.25)).strained, strained)


def test_household_finances_match_the_reference_in_a_run():
    """Each week of a run, the strained and eligible households and the incomes are the
    reference's; ``Belonging.household_belonging`` agrees with the reference's mean."""
    m = run_model()
    F = m.finances
    step = F.step
    weeks_with_eligible = 0

    def checked(jobless, ei_paid, severance):
        nonlocal weeks_with_eligible
        P, H = m.people, m.households
        w = finances_module.Week(
            np.asarray(jobless, np.int64),
            np.asarray(ei_paid, np.int64),
            np.asarray(severance, np.int64),
            F.strained_households.copy(),
        )
        people = finances_module.People(
            P.household, P.status, P.wage, P.pension, P.ei_benefit, P.present, P.age, P.belonging
        )
        expected = ref_finances.step(
            w,
            people,
            finances_module.Households(H.first_row, H.arrived, H.income, H.ref_income, H.strain_weeks.copy()),
            F.params,
        )
        leaving = step(jobless, ei_paid, severance)
        assert np.array_equal(F.strained_households, expected.strained)
        assert np.array_equal(H.strain_weeks[: H.n], expected.strain_weeks[: H.n])
        np.testing.assert_allclose(H.income[expected.households], expected.income, rtol=1e-12)
        assert np.isin(leaving, expected.eligible).all()
        if len(expected.eligible):
            weeks_with_eligible += 1
            assert np.allclose(m.belonging.household_belonging(expected.eligible), expected.belonging)
        return leaving

    F.step = checked
    while m.running:
        m.step()
    assert weeks_with_eligible > 20


def test_households_strained_long_enough_leave_at_the_reference_rate():
    """Statistical: the fast path's decisions to leave, over many weeks of the same
    eligible households, occur at the reference's probability (binomial, |z| < 4); a
    rate 30% higher is rejected."""
    m = CohesionModel(
        scale=0.05,
        rng=5,
        end="2003-06",
        overrides={"strain.out_migration_after_weeks": 1, "strain.out_migration_rate": 0.02},
    )
    P = m.people
    adults = m.adults[m.people.status[m.adults] == EMPLOYED]
    P.status[adults[::7]] = UNEMPLOYED  # a seventh of the employed lose their job: most households strain
    jobless = np.sort(adults[::7])
    none = np.zeros(0, np.int64)
    m.finances.step(jobless, none, none)  # strained for a first week
    eligible = m.finances.strained_households
    belonging = m.belonging.household_belonging(eligible)
    c = m.config
    prob = ref_finances.leave_probability(
        0.02, c["cohesion.belonging_migration"], c["cohesion.belonging_initial"], belonging
    )
    weeks = 400
    left = sum(len(m.finances.step(jobless, none, none)) for _ in range(weeks))
    expected, var = weeks * prob.sum(), weeks * (prob * (1 - prob)).sum()
    assert len(eligible) > 50 and np.ptp(prob) > 0
    assert abs(left - expected) / np.sqrt(var) < 4
    assert abs(left - 1.3 * expected) / np.sqrt(var) > 4
    # The same decision rule, drawn directly, gives the same rate.
    rng = np.random.default_rng(0)
    direct = sum(len(bernoulli_each(rng, eligible, prob)) for _ in range(weeks))
    assert abs(direct - expected) / np.sqrt(var) < 4


# -- informal support ----------------------------------------------------------------------
def test_support_fast_path_matches_the_reference_week_by_week(monkeypatch):
    """Each week of a run with trained helpers and readers of the Guide, who helps, who
    is referred and what is recorded are the reference's; an untrained helping
    probability 0.02 higher in the reference is caught."""
    m = run_model()
    kernel = support_module._support_kernel
    counts = {"weeks": 0, "equipped": 0, "helped": 0, "differ": 0, "first_passes": 0}

    def checked(week, d, terms, p, P):
        before = copied(P)
        out = kernel(week, d, terms, p, P)
        if not out[0]:  # a first pass that found equipped helpers: nothing is done
            assert all(np.array_equal(x, y) for x, y in zip(P, before))
            counts["first_passes"] += 1
            return out
        _, helps, equipped, referred, acts = out
        Q = m.people
        H = ref_support.Helpers(Q.age, Q.trained_week, Q.guide_read, Q.knows_services)
        s = ref_support.params_of(m)
        exp = ref_support.step(
            week,
            d.talk,
            d.helper,
            d.u,
            H,
            s,
            before.support_week,
            before.support_effect,
            before.helped_week,
            before.helps,
            before.met_distressed,
        )
        assert np.array_equal(helps, exp.helps) and np.array_equal(equipped, exp.equipped)
        assert np.array_equal(referred, exp.referred) and acts == exp.helps.sum()
        for got, want in zip(
            (P.support_week, P.helped_week, P.helps, P.met_distressed),
            (exp.support_week, exp.helped_week, exp.helps_count, exp.met_distressed),
        ):
            assert np.array_equal(got, want)
        np.testing.assert_allclose(P.support_effect, exp.support_effect, rtol=0, atol=ATOL)
        more = ref_support.step(
            week,
            d.talk,
            d.helper,
            d.u,
            H,
            s._replace(help_probability=s.help_probability + 0.02),
            before.support_week,
            before.support_effect,
            before.helped_week,
            before.helps,
            before.met_distressed,
        )
        counts["differ"] += int((more.helps != exp.helps).sum())
        counts["weeks"] += 1
        counts["equipped"] += int(equipped.sum())
        counts["helped"] += int(acts)
        return out

    monkeypatch.setattr(support_module, "_support_kernel", checked)
    while m.running:
        m.step()
    assert counts["weeks"] > 100 and counts["equipped"] > 20 and counts["helped"] > 200 and counts["first_passes"] > 5
    assert counts["differ"] > 0


def test_untrained_helpers_help_at_the_stated_probability():
    """Statistical: over many disclosures to untrained adult helpers, the fast path helps
    at help_probability x (1 - aggression_share x withdrawal) (binomial, |z| < 4)."""
    rng = np.random.default_rng(11)
    n, k = 2000, 20_000
    talk = rng.integers(0, n, k)
    helper = rng.integers(0, n, k)
    age = np.full(n, 40.0, np.float32)
    P = support_module.People(
        age,
        np.full(n, -1, np.int32),
        np.zeros(n, bool),
        np.full(n, -10_000, np.int32),
        np.zeros(n, np.float32),
        np.full(n, -10_000, np.int32),
        np.zeros(n, np.int32),
        np.zeros(n, bool),
    )
    h, withdrawal, share = 0.45, 0.6, 0.25
    terms = support_module.Terms(np.array([h, withdrawal, 0.1, 0.05]), np.zeros((4, 0)))
    done, helps, _, _, acts = support_module._support_kernel(
        7, support_module.Disclosures(talk, helper, rng.random((5, k))), terms, support_module.Params(15.0, share), P
    )
    q = h * (1 - share * withdrawal)
    assert done and acts == helps.sum()
    assert abs(acts - k * q) / np.sqrt(k * q * (1 - q)) < 4
    assert abs(acts - k * h) / np.sqrt(k * h * (1 - h)) > 4  # without the withdrawals: rejected
    # The reference's probability for a helper trained this week is Phi(Phi^-1(h) + smd).
    s = ref_support.Params(h, 0.33, 128.0, 0.1, 0.15, share, withdrawal, 0.2, 0.1, 0.15, 0.05, 0.3, 15.0)
    p_now = ref_support.help_probability(s, 7, np.array([7]), np.array([False]))
    assert p_now[0] == pytest.approx(float(ndtr(ndtri(h) + 0.33)))


# -- belonging -----------------------------------------------------------------------------
def test_period_kernel_matches_the_reference_in_a_run(monkeypatch):
    """Each period of a run, participation is the reference's and belonging within ATOL;
    an exit rate 10% higher in the reference is caught."""
    m = run_model(end="2008-12")
    kernel = belonging_module._period_kernel
    seen = {"periods": 0, "differ": 0, "worst": 0.0}

    def checked(ids, u, reached, household_hit, tables, rules, P):
        before = copied(P)
        out = kernel(ids, u, reached, household_hit, tables, rules, P)
        c = m.belonging.p
        reach = m.interventions.marginalized_reach(c["marginalized_reach"])
        args = (
            m.belonging.period,
            reach,
            rules.high_threshold,
            rules.week,
            u,
            reached,
            before.status[ids],
            before.ever_displaced[ids],
            before.distress[ids],
            before.helped_week[ids],
            before.marginalized[ids],
            household_hit[before.household[ids]],
            before.participates[ids],
            before.belonging[ids],
        )
        part, belonging = ref_belonging.period(c, *args)
        assert np.array_equal(P.participates[ids], part)
        seen["worst"] = max(seen["worst"], float(np.abs(P.belonging[ids] - belonging).max(initial=0.0)))
        assert out[0] == part.sum() and out[2] == pytest.approx(belonging.sum(), rel=1e-9)
        more, _ = ref_belonging.period({**c, "participation_exit_rate": 1.1 * c["participation_exit_rate"]}, *args)
        seen["differ"] += int((more != part).sum())
        seen["periods"] += 1
        return out

    monkeypatch.setattr(belonging_module, "_period_kernel", checked)
    while m.running:
        m.step()
    assert seen["periods"] > 40 and seen["worst"] < ATOL and seen["differ"] > 0


@pytest.mark.parametrize("seed", range(3))
def test_marginalization_at_entry_matches_the_reference(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    ids = np.sort(rng.choice(2 * n, n, replace=False)).astype(np.int64)
    age = rng.uniform(0, 90, 2 * n).astype(np.float32)
    status = rng.integers(0, 6, 2 * n).astype(np.int8)
    household = rng.integers(0, n, 2 * n).astype(np.int32)
    arrived = rng.integers(1, 4, n).astype(np.int16)
    u = rng.random(n)
    c = {"marginalized_weights": [3.0, 2.0], "marginalized_share": 0.1}
    p = belonging_module.EntryParams(15.0, 0.1, 3.0, 2.0, 0.35, 0.4)
    marginalized = np.zeros(2 * n, bool)
    belonging_module._marginalized_kernel(
        ids, u, p, belonging_module.Entrants(age, status, household, arrived, marginalized)
    )
    alone = arrived[household[ids]] == 1
    expected = ref_belonging.marginalized(c, 15.0, u, age[ids], status[ids], alone)
    assert np.array_equal(marginalized[ids], expected) and expected.any()
    assert not np.array_equal(
        ref_belonging.marginalized({**c, "marginalized_weights": [2.0, 2.0]}, 15.0, u, age[ids], status[ids], alone),
        expected,
    )
    # Statistical: about marginalized_share of the adult entrants are marked.
    adult = age[ids] >= 15.0
    share = marginalized[ids][adult].mean()
    assert abs(share - 0.1) < 4 * np.sqrt(0.1 * 0.9 / adult.sum())


def test_participation_settles_at_its_share_without_shocks():
    """Statistical: adults neither marginalized, exposed, reached nor recent helpers
    settle at ``participation_share`` under the fast path (binomial, |z| < 4), whatever
    they start from; a share 0.03 away is rejected."""
    m = CohesionModel(scale=0.05, rng=1, end="2003-06")
    c, b = m.config.section("cohesion"), m.belonging
    n = 20_000
    ids = np.arange(n, dtype=np.int64)
    P = belonging_module.People(
        np.full(n, EMPLOYED, np.int8),
        np.zeros(n, bool),
        np.zeros(n, np.float32),
        np.full(n, -10_000, np.int32),
        np.zeros(n, bool),
        np.zeros(n, np.int32),
        np.zeros(n, bool),
        np.full(n, 0.5, np.float32),
    )
    start, stop = b._tables(c["marginalized_reach"])
    tables = belonging_module.Tables(start, stop, b.target)
    rng = np.random.default_rng(2)
    rates = []
    for period in range(400):
        rules = belonging_module.Rules(4 * period, float(c["helped_window_weeks"]), np.float32(0.994), b.keep)
        n_part, _, _ = belonging_module._period_kernel(
            ids, rng.random(n), np.zeros(n, bool), np.zeros(1, bool), tables, rules, P
        )
        rates.append(n_part / n)
    share = c["participation_share"]
    settled = rates[-1]
    assert abs(settled - share) < 4 * np.sqrt(share * (1 - share) / n)
    assert abs(settled - (share + 0.03)) > 4 * np.sqrt(share * (1 - share) / n)
    assert rates[0] < share / 2  # it started from nobody participating
