"""Labour market and EI mechanisms, each in a small situation that could fail."""

from datetime import date

import numpy as np
import pytest

from model import CohesionModel
from model.config import resolve
from model.constants import HOURS_PER_WEEK, RETIREMENT_AGE
from model.state import Status
from model.streams import bernoulli, bernoulli_each, stream
from model.submodels.employment_insurance import EIRules
from model.submodels.labour_market import life_course, matching


@pytest.fixture(scope="module")
def rules():
    return EIRules(resolve())


@pytest.mark.parametrize(
    "hours, rate, day, weeks",
    [
        (1820, 0.06, date(2005, 6, 1), 36),  # 6% or less: 1,820 hours give 36 weeks
        (2500, 0.05, date(2005, 6, 1), 36),  # hours beyond 1,820 add nothing
        (700, 0.06, date(2005, 6, 1), 14),  # entrance at 6%: 700 hours, 14 weeks
        (699, 0.06, date(2005, 6, 1), 0),  # below the entrance requirement
        (1820, 0.085, date(2005, 6, 1), 42),  # 8.5%: three columns above 6%, 2 weeks each
        (1820, 0.12, date(2005, 6, 1), 45),  # capped at 45
        (1820, 0.06, date(2009, 6, 1), 41),  # 2009-2010: +5 weeks for every claim
        (500, 0.13, date(2005, 6, 1), 24),  # 13%: 455 hours qualify; 10 weeks from hours + 7 columns x 2
    ],
)
def test_entitlement_follows_schedule_approximation(rules, hours, rate, day, weeks):
    assert rules.entitlement(np.array([float(hours)]), np.array([2.0]), rate, day)[0] == weeks


def test_long_tenured_workers_get_extra_weeks_in_2009(rules):
    tenure = np.array([2.0, 7.0, 10.0, 30.0])
    hours = np.full(4, 1950.0)
    w2009 = rules.entitlement(hours, tenure, 0.06, date(2009, 10, 1))
    w2005 = rules.entitlement(hours, tenure, 0.06, date(2005, 10, 1))
    assert w2005.tolist() == [36, 36, 36, 36]
    assert w2009.tolist() == [41, 46, 52, 61]  # +5 for all, then 5 + 2 per year beyond 7, at most 20


@pytest.mark.parametrize("min_extra, weeks", [(5, [41, 46, 52, 61]), (8, [41, 49, 55, 61]), (0, [41, 41, 47, 61])])
def test_long_tenured_workers_extra_weeks_start_from_the_configured_minimum(min_extra, weeks):
    rules = EIRules(resolve())
    rules.lt_min = min_extra  # the schedule's lower end (LONG_TENURED_MIN_EXTRA_WEEKS)
    tenure = np.array([2.0, 7.0, 10.0, 30.0])
    assert rules.entitlement(np.full(4, 1950.0), tenure, 0.06, date(2009, 10, 1)).tolist() == weeks


def test_unemployed_person_is_paid_exactly_the_entitlement_then_exhausted(monkeypatch):
    # Nobody finds a job, retires, retrains or stops searching: claims run to their end.
    monkeypatch.setattr(life_course, "RETIREMENT_AGE", 80.0)
    frozen = {
        "labour.matching_efficiency": 0.0,
        "labour.leave_labour_force_rate": 0.0,
        "labour.displaced_training_rate": 0.0,
        "labour.displaced_retirement_rate": 0.0,
        "labour.retirement_rate_60": 0.0,
    }
    m = CohesionModel(scale=0.05, rng=5, start="2005-01", end="2006-12", overrides=frozen)
    m.run()
    P = m.people
    laid_off = np.flatnonzero(P.ever_displaced[: P.n] & (P.status[: P.n] == Status.UNEMPLOYED))
    assert len(laid_off) > 25
    eligible = P.ei_entitlement[laid_off] > 0
    assert eligible.mean() > 0.9  # only workers hired shortly before the layoff lack the hours
    assert (P.ei_paid[laid_off[~eligible]] == 0).all()
    laid_off = laid_off[eligible]
    assert (P.ei_entitlement[laid_off] >= 14).all()
    assert (P.ei_paid[laid_off] == P.ei_entitlement[laid_off]).all()
    assert P.ei_exhausted[laid_off].all()
    assert (P.ei_left[laid_off] == 0).all()
    weekly = P.displaced_wage[laid_off].astype(float) * HOURS_PER_WEEK
    assert np.allclose(P.ei_benefit[laid_off], np.minimum(0.55 * weekly, 413.0), rtol=1e-5)


def test_waves_lay_off_exactly_their_workers(small_run):
    events = small_run.model.shocks.events
    assert events and all(e["workers"] == e["workers_scheduled"] for e in events)
    ts = small_run.timeseries
    assert ts["jobs_lost_cumulative"].iloc[-1] == sum(e["workers"] for e in events)


def test_timeline_counts_are_exact_at_scale_1(full_scale_run):
    m = full_scale_run.model
    by_closure: dict[str, int] = {}
    for e in m.shocks.events:
        by_closure[e["closure_id"]] = by_closure.get(e["closure_id"], 0) + e["workers"]
    expected = {
        m.timeline.closures[i].id: m.timeline.closures[i].jobs
        for i in m.timeline.replayed
        if m.timeline.closures[i].waves[0].date >= date(2003, 1, 1)
    }
    assert by_closure == expected
    lost_2005 = full_scale_run.timeseries.set_index("date").loc[:"2005-12-31", "jobs_lost_cumulative"].iloc[-1]
    assert lost_2005 == 1746
    assert m.stats.jobs_lost_cumulative == 1746 + 500 + 400 + 400 + 40 + 250


def make_seekers(m, ids, wage, tenure, female):
    P = m.people
    P.status[ids] = Status.UNEMPLOYED
    P.employer[ids] = -1
    P.ever_displaced[ids] = True
    P.reemployed_week[ids] = -1
    P.displaced_wage[ids] = wage
    P.displaced_tenure[ids] = tenure
    P.female[ids] = female


def test_reemployment_wage_loss_follows_displaced_worker_evidence():
    m = CohesionModel(scale=0.05, rng=2, end="2003-03")
    P = m.people
    adults = np.flatnonzero((P.status[: P.n] == Status.EMPLOYED) & ~P.at_plant[: P.n])[:300]
    groups = np.array_split(adults, 3)
    make_seekers(m, groups[0], 20.0, 15.0, False)  # long-tenured men: 18-35% loss
    make_seekers(m, groups[1], 20.0, 15.0, True)  # long-tenured women: 24-35%
    make_seekers(m, groups[2], 20.0, 2.0, False)  # short tenure: 0-15%
    m.labour.give_jobs(adults, np.zeros(len(adults), np.int64), np.random.default_rng(0))
    ratio = [P.wage[g] / 20.0 for g in groups]
    assert ratio[0].min() >= 0.65 - 1e-6 and ratio[0].max() <= 0.82 + 1e-6
    assert ratio[1].min() >= 0.65 - 1e-6 and ratio[1].max() <= 0.76 + 1e-6
    assert ratio[2].min() >= 0.85 - 1e-6 and ratio[2].max() <= 1.0 + 1e-6
    assert ratio[0].mean() < ratio[2].mean()
    assert (P.reemployed_week[adults] == m.week).all()
    assert (P.status[adults] == Status.EMPLOYED).all()
    # The new employer is a background employer of the sector, not a plant.
    assert (m.orgs.sector[P.employer[adults]] == 0).all() and not P.at_plant[adults].any()


def test_no_sector_hires_more_than_its_vacancies():
    m = CohesionModel(scale=0.05, rng=4, end="2003-03")
    P = m.people
    lab = m.labour
    employed = np.flatnonzero((P.status[: P.n] == Status.EMPLOYED) & ~P.at_plant[: P.n])
    held = np.bincount(P.sector[employed], minlength=lab.n_sec)
    fired = employed[::4]
    P.status[fired] = Status.UNEMPLOYED
    P.employer[fired] = -1
    held = np.bincount(P.sector[employed[P.status[employed] == Status.EMPLOYED]], minlength=lab.n_sec)
    lab.jobs = held + 3.0  # three vacancies per sector, hundreds of seekers
    before = P.status[: P.n].copy()
    lab._match(np.random.default_rng(1), held)
    hired = np.flatnonzero((before == Status.UNEMPLOYED) & (P.status[: P.n] == Status.EMPLOYED))
    per_sector = np.bincount(P.sector[hired], minlength=lab.n_sec)
    assert per_sector.max() <= 3
    assert per_sector.sum() == lab.hires > 0


@pytest.mark.parametrize("cap", [0.95, 0.3])
def test_with_vacancies_to_spare_a_seeker_is_hired_with_the_configured_maximum_probability(cap, monkeypatch):
    monkeypatch.setattr(matching, "MAX_HIRE_PROBABILITY", cap)
    m = CohesionModel(scale=0.05, rng=4, end="2003-03", overrides={"labour.matching_efficiency": 10.0})
    P = m.people
    lab = m.labour
    employed = np.flatnonzero((P.status[: P.n] == Status.EMPLOYED) & ~P.at_plant[: P.n])
    fired = employed[::2]
    P.status[fired] = Status.UNEMPLOYED
    P.employer[fired] = -1
    held = np.bincount(P.sector[employed[P.status[employed] == Status.EMPLOYED]], minlength=lab.n_sec)
    lab.jobs = held + 10_000.0  # vacancies to spare: every seeker's chance is above the cap
    seekers = np.flatnonzero(P.status[: P.n] == Status.UNEMPLOYED)
    lab._match(np.random.default_rng(1), held)
    hired = (P.status[seekers] == Status.EMPLOYED).mean()
    assert len(seekers) > 400 and abs(hired - cap) < 0.06


@pytest.mark.parametrize("ages", [[18.0, 60.0], [40.0, 45.0]])
def test_plants_short_of_job_seekers_hire_inactive_residents_of_the_configured_ages(ages, monkeypatch):
    monkeypatch.setattr(life_course, "PLANT_RESTAFF_AGES", tuple(ages))
    m = CohesionModel(scale=0.1, rng=1, end="2012-12")
    P = m.people
    n = P.n
    P.status[:n][P.status[:n] == Status.UNEMPLOYED] = Status.INACTIVE  # no job seeker to take
    plant = np.flatnonzero(P.at_plant[:n])
    P.present[plant[::10]] = False  # gone before their layoff wave
    m.labour._staff_plants(np.random.default_rng(0))
    hired = np.setdiff1d(np.flatnonzero(P.at_plant[:n] & P.present[:n]), plant)
    assert len(hired) == len(plant[::10])
    assert (P.age[hired] >= ages[0]).all() and (P.age[hired] < ages[1]).all()


# Nobody is hired, loses a job, stops searching or starts retraining: only the life
# course moves the statuses.
FROZEN = {
    "labour.matching_efficiency": 0.0,
    "labour.separation_rate": 0.0,
    "labour.leave_labour_force_rate": 0.0,
    "labour.displaced_training_rate": 0.0,
}
AGED = 0.2  # more than two periods of ageing: those this much past an age at the end were past it all along


def _working(m: CohesionModel) -> np.ndarray:
    """Employed outside the plants, or searching."""
    P, n = m.people, m.people.n
    return ((P.status[:n] == Status.EMPLOYED) & ~P.at_plant[:n]) | (P.status[:n] == Status.UNEMPLOYED)


def _laid_off_35_64(m: CohesionModel) -> np.ndarray:
    """Workers outside the plants aged 35-64, laid off before the first week."""
    P, n = m.people, m.people.n
    rows = np.flatnonzero((P.status[:n] == Status.EMPLOYED) & ~P.at_plant[:n] & (P.age[:n] >= 35) & (P.age[:n] < 64))
    m.labour.displace(rows, 0, 0)
    watched = np.zeros(n, bool)
    watched[rows] = True
    return watched


def _inactive(m: CohesionModel) -> np.ndarray:
    return m.people.status[: m.people.n] == Status.INACTIVE


# Each age of the life course splits those it applies to: with the rate at 1, everyone on
# one side of the age changes status within two life-course periods, nobody on the other.
# (constant, its value, the rate set to 1, who is watched, the status they take or leave,
#  whether those older than the age change, at least this many watched on each side)
LIFE_COURSE_AGES = [
    ("EARLY_RETIREMENT_AGE", 60.0, "labour.retirement_rate_60", _working, "to", Status.RETIRED, True, (30, 300)),
    ("EARLY_RETIREMENT_AGE", 50.0, "labour.retirement_rate_60", _working, "to", Status.RETIRED, True, (30, 300)),
    (
        "DISPLACED_RETIREMENT_AGE",
        55.0,
        "labour.displaced_retirement_rate",
        _laid_off_35_64,
        "to",
        Status.RETIRED,
        True,
        (30, 30),
    ),
    (
        "DISPLACED_RETIREMENT_AGE",
        45.0,
        "labour.displaced_retirement_rate",
        _laid_off_35_64,
        "to",
        Status.RETIRED,
        True,
        (30, 30),
    ),
    # entering the labour force: searching, or taken by a plant
    ("ENTRY_MAX_AGE", 60.0, "labour.enter_labour_force_rate", _inactive, "from", Status.INACTIVE, False, (100, 50)),
    ("ENTRY_MAX_AGE", 40.0, "labour.enter_labour_force_rate", _inactive, "from", Status.INACTIVE, False, (100, 50)),
]


@pytest.mark.parametrize(
    "constant, age, rate, watched, way, status, older_change, at_least",
    LIFE_COURSE_AGES,
    ids=[f"{c[0]}={c[1]:g}" for c in LIFE_COURSE_AGES],
)
def test_a_life_course_age_splits_who_changes_status(
    constant, age, rate, watched, way, status, older_change, at_least, monkeypatch
):
    monkeypatch.setattr(life_course, constant, age)
    m = CohesionModel(scale=0.05, rng=3, end="2003-02", overrides={**FROZEN, rate: 1.0})
    P = m.people
    n = P.n
    kept = watched(m)
    m.run()
    kept &= P.present[:n]
    if watched is _working:
        kept &= ~P.ever_displaced[:n]  # a layoff wave's workers follow the displaced's rules
    now = P.status[:n] == status
    changed = now if way == "to" else ~now
    older = kept & (P.age[:n] >= age + AGED) & (P.age[:n] < RETIREMENT_AGE if way == "to" else True)
    younger = kept & (P.age[:n] < age)
    moving, staying = (older, younger) if older_change else (younger, older)
    assert moving.sum() > at_least[0] and changed[moving].all()
    assert staying.sum() > at_least[1] and not changed[staying].any()


@pytest.mark.parametrize("window", [52, 8])
def test_displaced_job_seekers_start_retraining_only_within_the_configured_window(window, monkeypatch):
    monkeypatch.setattr(life_course, "TRAINING_WINDOW_WEEKS", window)
    m = CohesionModel(scale=0.05, rng=3, end="2003-06", overrides=FROZEN)
    P = m.people
    n = P.n
    laid_off = np.flatnonzero((P.status[:n] == Status.EMPLOYED) & ~P.at_plant[:n])[::5]
    m.labour.displace(laid_off, 0, 0)
    for _ in range(12):
        m.step()
    searching = laid_off[(P.status[laid_off] == Status.UNEMPLOYED) & P.present[laid_off]]
    m.labour.p["displaced_training_rate"] = 1.0  # twelve weeks after the layoff, all who may start do
    m.step()
    started = P.status[searching] == Status.TRAINING
    assert len(searching) > 100
    assert started.all() if window > 12 else not started.any()


def test_streams_depend_only_on_seed_and_name():
    a = stream(7, "labour").random(5)
    stream(7, "demography").random(100)
    assert np.array_equal(a, stream(7, "labour").random(5))
    assert not np.array_equal(a, stream(8, "labour").random(5))
    assert not np.array_equal(a, stream(7, "shocks").random(5))


def test_a_parameter_of_one_submodel_leaves_the_set_up_draws_alone():
    a = CohesionModel(scale=0.02, rng=9, end="2003-02")
    b = CohesionModel(scale=0.02, rng=9, end="2003-02", overrides={"demography.young_adult_leaving_rate": 0.2})
    for field in ("age", "female", "status", "sector", "wage", "employer", "household"):
        assert np.array_equal(getattr(a.people, field)[: a.people.n], getattr(b.people, field)[: b.people.n])


@pytest.mark.parametrize("p", [0.02, 0.35, 0.9])
def test_bernoulli_selects_each_member_independently_with_probability_p(p):
    rng = np.random.default_rng(11)
    n, reps = 40, 20_000
    ids = np.arange(n)[::-1] * 3  # unsorted: the selection comes back sorted
    hits = np.zeros((reps, n), bool)
    for r in range(reps):
        picked = bernoulli(rng, ids, p)
        assert (np.diff(picked) > 0).all()
        hits[r, np.searchsorted(np.sort(ids), picked)] = True
    se = np.sqrt(p * (1 - p) / reps)
    assert np.abs(hits.mean(axis=0) - p).max() < 5 * se  # every position, the last included
    both = (hits[:, :-1] & hits[:, 1:]).mean(axis=0)  # neighbours: independent
    assert np.abs(both - p * p).max() < 5 * np.sqrt(p * p * (1 - p * p) / reps)
    counts = hits.sum(axis=1)  # binomial(n, p) counts
    assert abs(counts.mean() - n * p) < 5 * np.sqrt(n * p * (1 - p) / reps)
    assert abs(counts.var() / (n * p * (1 - p)) - 1) < 0.1


@pytest.mark.parametrize("p", [0.0, 0.01, 0.3, 1.0])
def test_bernoulli_draws_have_the_right_rate(p):
    rng = np.random.default_rng(0)
    ids = np.arange(200_000)
    picked = bernoulli(rng, ids, p)
    assert len(np.unique(picked)) == len(picked)
    assert abs(len(picked) / len(ids) - p) < 0.005
    each = bernoulli_each(rng, ids, np.where(ids % 2 == 0, p, p / 2))
    assert abs((each % 2 == 0).sum() / 100_000 - p) < 0.01
    assert abs((each % 2 == 1).sum() / 100_000 - p / 2) < 0.01
