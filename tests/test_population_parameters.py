"""The draws of the set-up (``[population]`` and the plants' staffing in ``[labour]``) and
of demography (``[demography]``) follow their parameters and the structural constants of
``model/households.py``, ``model/labour_status.py``, ``model/population.py`` and
``model/submodels/demography.py``: a value other than the default moves what it governs."""

from __future__ import annotations

import numpy as np
import pytest

from model import CohesionModel
from model import households as hh
from model import labour_status as lfs
from model import population as pop
from model.config import resolve
from model.population import household_members, labour_status
from model.state import WEEKS_PER_YEAR, Exit, Status
from model.submodels import demography
from model.submodels.demography import gompertz_annual

N_HH = 4000


def members(sizes, monkeypatch, **settings):
    """Ages and sexes of households of ``sizes``, with each member's rank (0: the head)
    and the head's age and sex repeated on every member. ``settings`` in capitals set
    constants of ``model/households.py``, the others ``[population]`` parameters."""
    for name, value in settings.items():
        if name.isupper():
            monkeypatch.setattr(hh, name, value)
    cfg = resolve(overrides={f"population.{k}": v for k, v in settings.items() if not k.isupper()})
    sizes = np.asarray(sizes, np.int64)
    age, female = household_members(sizes, np.random.default_rng(5), cfg)
    first = np.cumsum(sizes) - sizes
    rank = np.arange(len(age)) - np.repeat(first, sizes)
    return cfg, age, female, rank, np.repeat(age[first], sizes), np.repeat(female[first], sizes)


@pytest.mark.parametrize("mean, sd", [(-1.5, 3.0), (6.0, 1.0), (-4.0, 0.5)])
def test_the_partners_age_gap_has_the_configured_mean_and_spread(mean, sd, monkeypatch):
    # Heads aged 35-54: no partner falls below PARTNER_MIN_AGE.
    _, age, _, rank, head_age, _ = members(
        np.full(N_HH, 2),
        monkeypatch,
        couple_share=1.0,
        PARTNER_AGE_GAP_MEAN=mean,
        PARTNER_AGE_GAP_SD=sd,
        head_age_shares=[0, 0, 0.5, 0.5, 0, 0, 0],
    )
    gap = age[rank == 1] - head_age[rank == 1]
    assert abs(gap.mean() - mean) < 4 * sd / np.sqrt(N_HH)
    assert gap.std() == pytest.approx(sd, rel=0.05)


@pytest.mark.parametrize("floor", [18.0, 25.0])
def test_a_partner_is_at_least_the_configured_age(floor, monkeypatch):
    _, age, _, rank, _, _ = members(
        np.full(N_HH, 2), monkeypatch, couple_share=1.0, PARTNER_MIN_AGE=floor, PARTNER_AGE_GAP_MEAN=-15.0
    )
    partner = age[rank == 1]
    assert partner.min() == floor and (partner == floor).mean() > 0.01


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_the_sexes_of_heads_partners_and_dependants_follow_their_shares(share, monkeypatch):
    _, _, female, rank, _, head_female = members(
        np.full(N_HH, 4), monkeypatch, couple_share=1.0, FEMALE_HEAD_SHARE=share, FEMALE_DEPENDANT_SHARE=1.0 - share
    )
    assert abs(female[rank == 0].mean() - share) < 0.03
    assert (female[rank == 1] != head_female[rank == 1]).all()  # the partner is of the other sex
    assert abs(female[rank >= 2].mean() - (1.0 - share)) < 0.03


@pytest.mark.parametrize("gap", [[20.0, 40.0], [25.0, 26.0]])
def test_dependants_are_younger_than_the_head_by_the_configured_gap(gap, monkeypatch):
    cfg, age, _, rank, head_age, _ = members(
        np.full(N_HH, 3), monkeypatch, couple_share=0.0, DEPENDANT_AGE_GAP=gap, ADULT_DEPENDANT_YEARS=60.0
    )
    dep = rank >= 1
    born = dep & (head_age - gap[1] >= 0)  # old enough a head: the gap is the draw
    older = head_age[born] - age[born]
    assert gap[0] <= older.min() and older.max() <= gap[1]
    assert older.mean() == pytest.approx(sum(gap) / 2, abs=0.3)


@pytest.mark.parametrize("years", [17.0, 5.0])
def test_dependants_are_at_most_the_child_age_plus_the_configured_years(years, monkeypatch):
    cfg, age, _, rank, _, _ = members(np.full(N_HH, 3), monkeypatch, couple_share=0.0, ADULT_DEPENDANT_YEARS=years)
    cap = hh.CHILD_AGE + years
    dep = age[rank >= 1]
    assert dep.max() == cap and (dep == cap).mean() > 0.05


@pytest.mark.parametrize("parent_age", [17.0, 30.0])
def test_a_young_heads_dependants_are_at_least_the_configured_age_younger(parent_age, monkeypatch):
    # Every dependant's drawn gap exceeds the head's age: their ages are drawn anew.
    cfg, age, _, rank, head_age, _ = members(
        np.full(N_HH, 3),
        monkeypatch,
        couple_share=0.0,
        DEPENDANT_AGE_GAP=(59.0, 60.0),
        PARENT_MIN_AGE=parent_age,
        ADULT_DEPENDANT_YEARS=60.0,
        head_age_shares=[0, 0, 0, 0, 0.5, 0.5, 0],
    )
    dep = (rank >= 1) & (head_age < 59.0)
    younger = head_age[dep] - age[dep]
    assert younger.min() >= parent_age
    assert younger.min() < parent_age + 0.5  # uniform between 0 and the head's age less PARENT_MIN_AGE


def initial_tenure(age, **overrides):
    """The tenure of those of ``age`` in the labour force at the start."""
    cfg = resolve(overrides={f"population.{k}": v for k, v in overrides.items()})
    status, _, _, tenure, _ = labour_status(np.asarray(age, float), np.random.default_rng(2), cfg, 9)
    return tenure[(status == Status.EMPLOYED) | (status == Status.UNEMPLOYED)]


@pytest.mark.parametrize("mean", [8.0, 3.0])
def test_the_initial_tenure_has_the_configured_mean(mean):
    tenure = initial_tenure(np.full(20_000, 50.0), tenure_mean_years=mean)
    cap = 50.0 - lfs.TENURE_START_AGE  # exponential, at most the years since the start age
    assert tenure.mean() == pytest.approx(mean * (1.0 - np.exp(-cap / mean)), rel=0.03)


@pytest.mark.parametrize("start", [16.0, 19.0])
def test_the_initial_tenure_counts_from_the_configured_age(start, monkeypatch):
    monkeypatch.setattr(lfs, "TENURE_START_AGE", start)
    tenure = initial_tenure(np.full(5000, 25.0), tenure_mean_years=50.0)
    assert tenure.max() == np.float32(25.0 - start)
    assert (tenure == np.float32(25.0 - start)).mean() > 0.5


@pytest.mark.parametrize("weeks", [40, 8])
def test_the_initially_unemployed_have_searched_up_to_the_configured_weeks(weeks, monkeypatch):
    monkeypatch.setattr(pop, "INITIAL_SPELL_MAX_WEEKS", weeks)
    m = CohesionModel(scale=0.05, rng=1, end="2003-02")
    P = m.people
    unemployed = P.status[: P.n] == Status.UNEMPLOYED
    searched = -P.spell_start[: P.n][unemployed]
    assert unemployed.sum() > 50
    assert searched.min() >= 0 and 0.75 * (weeks - 1) < searched.max() <= weeks - 1


def plants_at_start(**overrides) -> CohesionModel:
    """A model built with every layoff wave to 2012 (its plants staffed), not stepped."""
    return CohesionModel(scale=0.1, rng=1, end="2012-12", overrides={f"labour.{k}": v for k, v in overrides.items()})


@pytest.mark.parametrize("start", [17.0, 21.0])
def test_plant_workers_tenure_counts_from_the_configured_age(start, monkeypatch):
    monkeypatch.setattr(pop, "PLANT_TENURE_START_AGE", start)
    m = plants_at_start(plant_tenure_years=[40.0, 40.0])
    P = m.people
    at = np.flatnonzero(P.at_plant[: P.n])
    tenure = -P.job_start[at] / WEEKS_PER_YEAR
    assert len(at) > 100
    assert np.allclose(tenure, np.minimum(40.0, np.maximum(P.age[at] - start, 0.5)), atol=1e-3)


def test_manufacturing_workers_staff_the_plants_by_the_configured_weight():
    manufacturing_outside = []
    for weight in (1.0, 3.0, 100.0):
        m = plants_at_start(plant_manufacturing_weight=weight)
        P = m.people
        n = P.n
        plant_workers = int(P.at_plant[:n].sum())
        manufacturing = (P.status[:n] == Status.EMPLOYED) & (P.sector[:n] == m.sectors.index("manufacturing"))
        manufacturing_outside.append(int((manufacturing & ~P.at_plant[:n]).sum()))
    # The plants take more of the residents already in manufacturing the larger the weight.
    assert manufacturing_outside[0] > manufacturing_outside[1] > manufacturing_outside[2]
    assert manufacturing_outside[0] - manufacturing_outside[2] > 0.5 * plant_workers


@pytest.mark.parametrize("cap", [0.9, 0.3])
def test_the_annual_probability_of_dying_is_at_most_the_configured_cap(cap, monkeypatch):
    monkeypatch.setattr(demography, "MORTALITY_CAP", cap)
    m = CohesionModel(scale=0.01, rng=1, end="2003-02")
    d = m.demography
    annual = 1.0 - (1.0 - d.death_by_age) ** (1.0 / d.years)
    assert annual.max() == pytest.approx(cap) and annual[40] < cap
    assert gompertz_annual(np.arange(121.0), *m.config["demography.mortality_gompertz"], cap).max() == cap


@pytest.mark.parametrize("ages", [[15.0, 45.0], [25.0, 35.0]])
def test_births_are_to_women_of_the_configured_fertile_ages(ages, monkeypatch):
    seen = []

    def ageing(persons, *rest):
        out = kernel(persons, *rest)
        rows, age, female = out[0], persons.age, persons.female
        fertile = rows[female[rows] & (age[rows] >= ages[0]) & (age[rows] < ages[1])]
        seen.append(np.array_equal(out[2], fertile) and len(fertile) > 0)
        return out

    kernel = demography._age_kernel
    monkeypatch.setattr(demography, "_age_kernel", ageing)
    monkeypatch.setattr(demography, "FERTILE_AGES", tuple(ages))
    m = CohesionModel(scale=0.02, rng=1, end="2003-06")
    rate = m.config["demography.fertility_rate"]
    assert m.demography.birth_prob == pytest.approx(rate / (ages[1] - ages[0]) * m.demography.years)
    while m.running:
        m.step()
    assert len(seen) >= 5 and all(seen)


@pytest.mark.parametrize("ages", [[18.0, 30.0], [40.0, 45.0]])
def test_young_adults_leaving_alone_are_of_the_configured_ages(ages, monkeypatch):
    monkeypatch.setattr(demography, "YOUNG_ADULT_AGES", tuple(ages))
    m = CohesionModel(scale=0.02, rng=1, end="2003-12", overrides={"demography.young_adult_leaving_rate": 1.0})
    while m.running:
        m.step()
    P = m.people
    alone = P.exit_reason[: P.n] == Exit.MOVED_ALONE
    age = P.age[: P.n][alone]  # as they left: the ages of those gone stay
    assert alone.sum() > 20 and (age >= ages[0]).all() and (age < ages[1]).all()


@pytest.mark.parametrize("share", [1.0, 0.0])
def test_the_newborns_sex_follows_the_configured_share(share, monkeypatch):
    monkeypatch.setattr(demography, "FEMALE_BIRTH_SHARE", share)
    m = CohesionModel(scale=0.05, rng=1, end="2003-12", overrides={"demography.fertility_rate": 6.0})
    while m.running:
        m.step()
    P = m.people
    born = P.entry_kind[: P.n] == 1
    assert born.sum() > 50 and (P.female[: P.n][born] == (share == 1.0)).all()
