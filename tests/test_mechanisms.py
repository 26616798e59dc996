"""The social mechanisms in small hand-built situations: each test sets up the state that
a mechanism acts on, runs the submodel, and checks what it did against what it must do."""

from __future__ import annotations

import numpy as np
import pytest

from model import CohesionModel
from model.constants import WORKING_AGE
from model.state import Status
from model.ties import KINDS


def small(**kw) -> CohesionModel:
    kw.setdefault("scale", 0.05)
    kw.setdefault("end", "2003-06")
    kw.setdefault("rng", 5)
    return CohesionModel(**kw)


def two_adults(m: CohesionModel) -> tuple[int, int]:
    """A distressed adult ``x`` and another adult ``h`` of a different household."""
    P = m.people
    adults = m.adults
    x = int(adults[0])
    h = int(adults[P.household[adults] != P.household[x]][0])
    return x, h


def only_tie(m: CohesionModel, x: int, h: int | None) -> None:
    """Make ``h`` the only confidant of ``x`` (every slot but the informal place), or none."""
    place = m.ties.slot_kind == KINDS.index("informal_place")
    m.ties.slots[x] = -1
    if h is not None:
        m.ties.slots[x, ~place] = h


def weeks_of_support(m: CohesionModel, x: int, weeks: int, seed: int) -> tuple[int, float]:
    """Run the disclosure and support step ``weeks`` times with ``x`` the only person in
    need; return the weeks ``x`` was helped and the mean effect received."""
    m.streams._streams["support"] = np.random.default_rng(seed)
    m.need = np.array([x])
    helped, effects = 0, []
    for _ in range(weeks):
        m.support.step()
        if m.support.last["helped"].any():
            helped += 1
            effects.append(float(m.people.support_effect[x]))
    return helped, float(np.mean(effects)) if effects else 0.0


def test_a_trained_helper_supports_more_and_better_than_an_untrained_one():
    m = small()
    x, h = two_adults(m)
    only_tie(m, x, h)
    m.people.trained_week[h] = -1
    untrained, eff_u = weeks_of_support(m, x, 3000, seed=11)
    m.people.trained_week[h] = m.week  # trained this week: the short-term effect
    trained, eff_t = weeks_of_support(m, x, 3000, seed=11)
    assert trained > untrained * 1.1
    assert eff_t == pytest.approx(m.config["support.effect_trained"])
    assert eff_u == pytest.approx(m.config["support.effect_untrained"])
    # the gain in helping is the modest action effect, not the large intention effect
    p = m.config["support.disclosure_rate"]
    assert trained / 3000 < p  # never more help than disclosures


def test_the_training_effect_fades_without_refreshers():
    m = small()
    x, h = two_adults(m)
    m.week = 1000
    shift_now = m.support.shift(np.array([h]))
    m.people.trained_week[h] = m.week
    fresh = float(m.support.shift(np.array([h]))[0])
    m.people.trained_week[h] = m.week - int(m.config["interventions.helper_training.long_term_weeks"])
    year = float(m.support.shift(np.array([h]))[0])
    m.people.trained_week[h] = m.week - 520
    decade = float(m.support.shift(np.array([h]))[0])
    assert shift_now[0] == 0.0
    assert fresh == pytest.approx(m.config["interventions.helper_training.action_smd"])
    assert year == pytest.approx(m.config["interventions.helper_training.action_smd_long"])
    assert 0 < decade < year


def test_nobody_supports_a_person_without_ties_or_whose_tie_has_left():
    m = small()
    x, h = two_adults(m)
    only_tie(m, x, None)
    assert weeks_of_support(m, x, 500, seed=3)[0] == 0
    only_tie(m, x, h)
    assert weeks_of_support(m, x, 500, seed=3)[0] > 0
    m.people.present[h] = False
    assert weeks_of_support(m, x, 500, seed=3)[0] == 0


def test_a_trained_helper_lowers_a_jobless_neighbours_distress_more():
    def distress_after(trained: bool) -> float:
        m = small()
        x, h = two_adults(m)
        only_tie(m, x, h)
        P = m.people
        P.status[x] = Status.UNEMPLOYED
        P.spell_start[x] = m.week
        P.distress_trait[x] = 1.5  # in high distress from the start
        P.trained_week[h] = m.week if trained else -1
        m.streams._streams["support"] = np.random.default_rng(7)
        jobless = np.array([x])
        out = []
        for _w in range(60):
            m.week += 1
            m.distress.step(jobless, np.zeros(0, np.int64))
            m.need = np.array([x]) if P.distress[x] >= m.config["distress.high_threshold"] else np.zeros(0, np.int64)
            m.support.step()
            out.append(P.distress[x])
        return float(np.mean(out[20:]))

    assert distress_after(trained=True) < distress_after(trained=False)


def test_job_loss_raises_distress_and_reemployment_lowers_it():
    m = small(overrides={"distress.household_spillover": 0.0})
    P = m.people
    employed = m.adults[(P.status[m.adults] == Status.EMPLOYED) & (P.distress_state[m.adults] == 0)]
    x = int(employed[m.households.arrived[P.household[employed]] > 1][0])
    mates = np.flatnonzero((P.household[: P.n] == P.household[x]) & (np.arange(P.n) != x))
    P.female[x], P.sector[x] = True, m.sectors.index("trade")  # no extra for men or blue-collar
    P.support_week[x] = -10_000
    only_tie(m, x, None)
    P.status[x] = Status.UNEMPLOYED
    P.spell_start[x] = m.week
    p = m.config.section("distress")
    for _ in range(52):
        m.week += 1
        m.distress.step(np.array([x]), np.zeros(0, np.int64))
    after_year = float(P.distress_state[x])
    assert p["job_loss"] < after_year <= p["job_loss"] + p["duration"] + 1e-6
    assert (P.distress_state[mates] == 0).all()  # no spillover when it is switched off
    m.distress.p["household_spillover"] = 0.25
    m.distress.step(np.array([x]), np.zeros(0, np.int64))
    assert (P.distress_state[mates[P.age[mates] >= 15]] > 0).all()  # adult housemates share it
    P.status[x] = Status.EMPLOYED
    for _ in range(52):
        m.week += 1
        m.distress.step(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert P.distress_state[x] == 0.0
    assert P.distress[x] == P.distress_trait[x]


def test_only_adults_are_scored_children_of_a_jobless_household_are_not():
    m = small()
    P = m.people
    child = (P.age[: P.n] < WORKING_AGE) & P.present[: P.n]
    # A household with an adult and a child: a jobless adult marks the housemates, of
    # whom only the adults are scored.
    kids = np.flatnonzero(child)
    x = int(next(a for a in m.adults if (P.household[kids] == P.household[a]).any()))
    kid = int(kids[P.household[kids] == P.household[x]][0])
    P.status[x], P.spell_start[x] = Status.UNEMPLOYED, m.week
    for _ in range(8):
        m.week += 1
        m.distress.step(np.array([x]), np.zeros(0, np.int64))
    assert P.distress_state[x] > 0
    assert P.distress_state[kid] == 0.0 and kid not in m.distress.active


@pytest.mark.parametrize("weeks", [52.0, 13.0])
def test_distress_grows_with_the_spell_over_the_given_weeks(weeks, monkeypatch):
    # The state takes its level at once: the job loss, plus the duration effect in
    # proportion to the weeks without a job, up to DURATION_WEEKS.
    monkeypatch.setattr("model.submodels.distress.DURATION_WEEKS", weeks)
    m = small(overrides={"distress.adjust_rate": 1.0, "distress.household_spillover": 0.0})
    P = m.people
    x = int(m.adults[(P.status[m.adults] == Status.EMPLOYED) & (P.distress_state[m.adults] == 0)][0])
    P.female[x], P.sector[x] = True, m.sectors.index("trade")  # no extra for men or blue-collar
    P.support_week[x], P.service[x] = -10_000, -1
    P.status[x] = Status.UNEMPLOYED
    P.spell_start[x] = m.week
    p = m.config.section("distress")
    levels = []
    for _ in range(26):
        m.week += 1
        m.distress.step(np.array([x]), np.zeros(0, np.int64))
        levels.append(float(P.distress_state[x]))
    expected = [p["job_loss"] + p["duration"] * min(w / weeks, 1.0) for w in range(1, 27)]
    assert levels == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("cut", [0.01, 0.1])
def test_a_negligible_state_goes_back_to_the_trait_and_out_of_the_update(cut, monkeypatch):
    monkeypatch.setattr("model.submodels.distress.NEGLIGIBLE_STATE", cut)
    m = small(overrides={"distress.household_spillover": 0.0})
    P = m.people
    x = int(m.adults[(P.status[m.adults] == Status.EMPLOYED) & ~P.ever_displaced[m.adults]][0])
    P.support_week[x], P.service[x] = -10_000, -1
    P.distress_state[x] = 0.05  # no stressor: the state decays by adjust_rate a week
    m.distress.active = np.array([x])
    m.distress.step(np.zeros(0, np.int64), np.zeros(0, np.int64))
    decayed = 0.05 * (1.0 - m.config["distress.adjust_rate"])
    if decayed < cut:
        assert P.distress_state[x] == 0.0 and P.distress[x] == P.distress_trait[x]
        m.distress.step(np.zeros(0, np.int64), np.zeros(0, np.int64))
        assert x not in m.distress.active
    else:
        assert P.distress_state[x] == pytest.approx(decayed) and x in m.distress.active


def test_job_loss_hurts_men_and_blue_collar_workers_more():
    m = small()
    P = m.people
    ids = m.adults[:4]
    P.female[ids] = [True, False, True, False]
    P.sector[ids] = [m.sectors.index("trade")] * 2 + [m.sectors.index("manufacturing")] * 2
    g = m.distress.gain(ids)
    assert g[0] == 1.0 and g[1] > g[0] and g[2] > g[0] and g[3] > max(g[1], g[2])


def test_no_service_takes_more_than_its_capacity():
    m = small(
        end="2006-12",
        scenario="integrated_2005",
        overrides={
            "services.capacity": [2.0 / 0.05, 2.0 / 0.05, 1.0 / 0.05],
            "services.self_referral_rate": 0.5,
            "services.knowledge_share": 1.0,
        },
    )
    P = m.people
    full = 0
    load = np.zeros(m.orgs.n, np.int64)
    while m.running:
        m.step()
        before, load = load, np.bincount(P.service[: P.n][P.service[: P.n] >= 0], minlength=m.orgs.n)
        # nobody is admitted beyond the places; when places are cut (the in-plant social
        # worker leaves), clients already in finish their episode
        assert (load <= np.maximum(m.services.capacity, before)).all()
        full += int((load == m.services.capacity)[m.services.capacity > 0].any())
    assert full > 50  # the lists were long enough to fill the places
    assert m.stats.service_waiting > 0


def test_organizations_refer_only_to_those_they_know():
    m = small(
        end="2008-12",
        scenario="support_committee",
        overrides={"services.org_referral_rate": 0.5, "services.referral_friction": 0.0},
    )
    pairs = moved = 0
    P = m.people
    while m.running:
        before = P.service[: P.n].copy()
        m.step()
        r = m.services.last_org_referrals
        pairs += len(r)
        if len(r):
            assert m.committees.org_links[r[:, 0], r[:, 1]].all()
        after = P.service[: len(before)]
        switched = (before >= 0) & (after >= 0) & (before != after)
        moved += int(switched.sum())
        if switched.any():  # a client moved on only along a link
            assert m.committees.org_links[before[switched], after[switched]].all()
    assert pairs > 0 and moved > 0
    assert m.stats.org_referrals_cumulative > 0
    # without any link nobody is referred between organizations
    m = small(
        end="2005-12",
        overrides={
            "services.org_referral_rate": 0.5,
            "services.referral_friction": 0.0,
            "network.base_tie_same_domain": 0.0,
            "network.base_tie_cross_domain": 0.0,
        },
    )
    while m.running:
        m.step()
        assert len(m.services.last_org_referrals) == 0
    assert m.stats.org_referrals_cumulative == 0


def test_committee_members_learn_each_others_missions_and_forget_after_it_ends():
    m = small(
        end="2009-12",
        scenario="support_committee",
        overrides={"interventions.support_committee.end": "2007-01", "network.link_halflife_weeks": 26.0},
    )
    c = m.committees
    base = c.links.copy()
    density = []
    while m.running:
        m.step()
        density.append((m.date.isoformat(), c.density))
        new = c.links & ~base
        if new.any():
            i, j = np.nonzero(new)
            assert (c.support[i] & c.support[j]).all()  # only between the committee's members
    before = dict(density)
    start = max(d for d, _ in density if d < "2005-06-01")
    peak = max(v for d, v in density if d < "2007-01-01")
    assert peak > before[start]
    after = [v for d, v in density if d >= "2007-01-01"]
    assert all(b <= a for a, b in zip(after, after[1:]))  # after the end, links only fade
    assert after[-1] < peak
    assert (c.links >= c.base).all()  # base links last


def test_the_in_plant_social_worker_puts_her_clients_first_and_they_keep_waiting():
    m = small()
    S, P = m.services, m.people
    psy = S.rows[0][0]
    P.service[: P.n] = -1
    P.waiting[: P.n] = -1
    ids = m.adults[:10]
    P.waiting[ids] = psy
    P.wait_since[ids[:7]] = m.week - 3  # waiting for three weeks already
    P.wait_since[ids[7:]] = m.week  # found by the social worker this week
    P.wait_priority[ids[7:]] = True
    S.capacity = np.zeros(m.orgs.n, np.int64)
    S.capacity[psy] = 3
    S._admit()
    assert set(np.flatnonzero(P.service[: P.n] == psy)) == set(ids[7:])
    # with no free place they stay on the list, like everyone else, up to max_wait_weeks
    P.service[ids[7:]] = -1
    P.waiting[ids[7:]] = psy
    P.wait_priority[ids[7:]] = True
    S.base_capacity[:] = 0
    m.need = np.zeros(0, np.int64)
    for _ in range(int(m.config["services.max_wait_weeks"])):
        m.week += 1
        S.step(np.zeros(0, np.int64), np.zeros(0, np.int64))
        assert (P.waiting[ids[7:]] == psy).all()
    assert (P.waiting[ids[:7]] < 0).all()  # the others, waiting three weeks longer, gave up first
    m.week += 1
    S.step(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert (P.waiting[ids[7:]] < 0).all()


@pytest.mark.parametrize("window", [12, 26])
def test_the_in_plant_social_worker_sees_those_laid_off_within_the_window(window):
    m = small(
        start="2005-06",
        end="2005-12",
        scenario="in_plant_services",
        overrides={
            "interventions.in_plant_services.outreach_rate": 1.0,
            "interventions.in_plant_services.recent_layoff_weeks": window,
        },
    )
    P = m.people
    m.step()
    x = int(m.adults[~P.at_plant[m.adults]][0])
    P.status[x], P.service[x], P.waiting[x] = Status.UNEMPLOYED, -1, -1
    P.ever_displaced[x], P.displaced_week[x] = True, m.week - 20  # laid off 20 weeks ago
    P.displaced_by[x] = m.interventions["in_plant_services"].closures[0]  # by Olymel
    m.shocks.displaced = np.append(m.shocks.displaced, x)
    listed = m.services._in_plant(np.array([x]))
    assert (x in listed) == (20 < window)


def test_helper_training_trains_only_while_active_and_reaches_some_helpers():
    m = small(end="2009-12", scenario="helper_training", scale=0.1)
    trained = []
    while m.running:
        m.step()
        trained.append((m.date.isoformat(), m.support.trained_total))
    during = [t for d, t in trained if "2006-01-01" <= d < "2008-01-01"]
    after = [t for d, t in trained if d >= "2008-01-01"]
    assert [t for d, t in trained if d < "2006-01-01"] == [0] * sum(d < "2006-01-01" for d, _ in trained)
    assert during[-1] == pytest.approx(600 * 0.1, abs=2)
    assert set(after) == {during[-1]}
    assert 0 < m.stats.trained_helpers_reached_share < 1


@pytest.mark.parametrize("target", ["random_residents", "network_of_displaced", "service_workers"])
def test_who_is_trained_decides_the_reach(target):
    m = small(
        end="2007-12", scale=0.1, scenario="helper_training", overrides={"interventions.helper_training.target": target}
    )
    while m.running:
        m.step()
    P = m.people
    trained = np.flatnonzero(P.trained_week[: P.n] >= 0)
    assert len(trained)
    if target == "service_workers":  # those still here still work at their place
        assert set(trained[P.present[trained]]) <= set(m.ties.place_worker[m.ties.places])
    if target == "network_of_displaced":
        displaced = m.shocks.displaced
        ties = {int(t) for j in range(m.ties.k) for t in m.ties.targets(displaced, np.full(len(displaced), j))}
        alive = trained[P.present[trained]]
        assert np.isin(alive, list(ties)).mean() > 0.9


def test_an_intervention_present_but_never_active_changes_nothing():
    never = {
        f"interventions.{name}.{key}": value
        for name in (
            "in_plant_services",
            "recovery_committee",
            "support_committee",
            "guide",
            "helper_training",
            "csss_structural",
            "csss_cross_sectoral",
            "csss_reinforcement",
        )
        for key, value in (("enabled", True), ("start", "2010-01"), ("end", "2011-01"))
    }
    a = small(end="2006-12", rng=9)
    b = small(end="2006-12", rng=9, overrides=never)
    a.run()
    b.run()
    ta = a.datacollector.get_model_vars_dataframe()
    tb = b.datacollector.get_model_vars_dataframe()
    assert ta.equals(tb)
    for ca, cb in zip(a.panel, b.panel):
        for k in ca:
            np.testing.assert_array_equal(ca[k], cb[k])
    for name in ("distress", "belonging", "trained_week", "service", "knows_services"):
        np.testing.assert_array_equal(getattr(a.people, name)[: a.people.n], getattr(b.people, name)[: b.people.n])


def test_an_active_intervention_changes_only_its_window():
    """Switched on for a window, an intervention leaves everything before it untouched."""
    a = small(end="2006-12", rng=4)
    b = small(end="2006-12", rng=4, scenario="integrated_2005")
    a.run()
    b.run()
    ta = a.datacollector.get_model_vars_dataframe().drop(columns="interventions_active")
    tb = b.datacollector.get_model_vars_dataframe().drop(columns="interventions_active")
    first = int(np.flatnonzero(ta["date"].values >= "2005-05-01")[0])
    assert ta.iloc[:first].equals(tb.iloc[:first])
    assert not ta.iloc[first:].equals(tb.iloc[first:])


def test_marginalized_residents_have_fewer_ties_and_know_services_less():
    m = small(scale=0.2)
    P = m.people
    adults = m.adults
    marg = P.marginalized[adults]
    share = marg.mean()
    assert abs(share - m.config["cohesion.marginalized_share"]) < 0.02
    ties = m.ties.count(adults)
    assert ties[marg].mean() < ties[~marg].mean()
    assert P.knows_services[adults][marg].mean() < P.knows_services[adults][~marg].mean()


@pytest.mark.parametrize("weights", [[3.0, 2.0], [1.0, 1.0], [10.0, 1.0], [1.0, 10.0]])
def test_marginalization_is_weighted_towards_the_jobless_and_those_alone_as_configured(weights):
    m = small(scale=0.2, overrides={"cohesion.marginalized_weights": weights})
    P, H = m.people, m.households
    adults = m.adults
    marg = P.marginalized[adults]
    jobless = np.isin(P.status[adults], [Status.INACTIVE, Status.UNEMPLOYED])
    alone = H.arrived[P.household[adults]] == 1
    w = np.where(jobless, weights[0], 1.0) * np.where(alone, weights[1], 1.0)
    p = np.minimum(m.config["cohesion.marginalized_share"] * w / w.mean(), 1.0)
    for group in (jobless & ~alone, alone & ~jobless, jobless & alone, ~jobless & ~alone):
        expected, sd = p[group].sum(), np.sqrt((p[group] * (1.0 - p[group])).sum())
        assert abs(marg[group].sum() - expected) < 4.0 * sd


@pytest.mark.parametrize("share", [0.16, 0.4])
def test_belonging_measures_high_distress_from_the_configured_share(share):
    w = 0.5  # belonging moved by high distress only
    m = small(
        scale=0.02,
        overrides={
            "cohesion.high_distress_share": share,
            "cohesion.belonging_weights": [0.0, 0.0, w, 0.0],
            "cohesion.jobless_belonging": 0.0,
            "cohesion.scar_belonging": 0.0,
        },
    )
    initial = m.config["cohesion.belonging_initial"]
    target = m.belonging.target
    assert np.allclose(target[:, :, 0], initial + w * share)
    assert np.allclose(target[:, :, 1], initial - w * (1.0 - share))
    # Adults whose distress stayed on one side of the threshold through the spin-up sit at
    # their target: most of them.
    P = m.people
    high = P.distress[m.adults] >= np.float32(m.config["distress.high_threshold"])
    assert np.median(P.belonging[m.adults][~high]) == pytest.approx(initial + w * share, abs=1e-6)
    assert np.median(P.belonging[m.adults][high]) == pytest.approx(initial - w * (1.0 - share), abs=1e-6)


def test_helping_raises_participation_and_belonging():
    m = small(scale=0.1)
    P = m.people
    ids = m.adults
    half = ids[: len(ids) // 2]
    P.participates[ids] = False
    P.helped_week[half] = m.week  # the first half helped someone this week
    m.week = m.belonging.period - 1  # a period's last week
    m.belonging.step()
    assert P.participates[half].mean() > P.participates[ids[len(ids) // 2 :]].mean()
    assert P.belonging[half].mean() > P.belonging[ids[len(ids) // 2 :]].mean()


def test_weekly_social_outputs_are_consistent():
    m = small(end="2007-06", scenario="integrated_2005")
    while m.running:
        m.step()
        s = m.stats
        if s.in_need:
            assert 0 <= s.support_received_share <= 1 and 0 <= s.formal_service_reach <= 1
            assert s.unmet_need_share <= 1 - max(s.support_received_share, s.formal_service_reach) + 1e-9
        assert s.helping_acts <= s.disclosures
        assert 0 <= s.cohesion_index <= 1
        high = m.people.distress[m.adults] >= m.config["distress.high_threshold"]
        assert s.in_need == high.sum()
        assert s.share_high_distress == pytest.approx(high.mean())
