"""Demography's compiled period against its plain-NumPy reference
(``model/reference/demography.py``), and a statistical check of mortality.

Tolerances: with the same inputs and draws, who dies, leaves, is born and moves in, and
every whole-number state, agree exactly; ages agree within 1e-5 years (float32 storage)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from model import CohesionModel
from model.constants import WORKING_AGE
from model.reference import demography as ref
from model.submodels.demography import FEMALE_BIRTH_SHARE

PERSON = ("present", "age", "status", "female", "household", "status_at_exit", "exit_week", "exit_reason")
HOUSEHOLD = ("present", "size", "municipality", "exit_week")


def model(seed: int) -> CohesionModel:
    """A model some weeks in, with frequent moves out so that every rule is used."""
    m = CohesionModel(
        scale=0.2,
        rng=seed,
        start="2003-01",
        end="2004-12",
        overrides={"demography.young_adult_leaving_rate": 1.0, "demography.household_out_migration_rate": 0.5},
    )
    for _ in range(10):
        m.step()
    return m


def parameters(m: CohesionModel) -> dict:
    D = m.demography
    return {
        "years": D.years,
        "working_age": WORKING_AGE,
        "young": (D.young_from, D.young_to),
        "fertile": (D.fertile_from, D.fertile_to),
        "death_by_age": D.death_by_age,
        "young_leaving_rate": D.p["young_adult_leaving_rate"],
        "out_migration_rate": D.p["household_out_migration_rate"],
        "birth_prob": D.birth_prob,
        "female_birth_share": FEMALE_BIRTH_SHARE,
        "growth_per_period": D.growth_per_period,
        "mean_household_size": m.mean_household_size,
    }


def to_period_end(m: CohesionModel) -> None:
    m.week += 1
    while not m.demography.period_ends(m.week):
        m.week += 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_compiled_period_is_the_reference_period(seed):
    m = model(seed)
    P, H, D = m.people, m.households, m.demography
    to_period_end(m)
    rng = np.random.default_rng(seed)
    D.request_moves(rng.choice(np.flatnonzero(H.present[: H.n]), 15, replace=False))  # under strain
    n, n_hh = P.n, H.n
    p_ref = {k: getattr(P, k)[:n].copy() for k in PERSON}
    h_ref = {k: getattr(H, k)[:n_hh].copy() for k in HOUSEHOLD}
    pending = D.pending[:n_hh].copy()
    draws = copy.deepcopy(m.streams["demography"])
    before = dict(D.counts)

    entered, exits = D.step()
    got = ref.period(p_ref, h_ref, parameters(m), pending, m.week, draws)

    for k in PERSON:
        if k == "age":
            assert np.allclose(P.age[:n], p_ref["age"], rtol=0, atol=1e-5)
        else:
            assert np.array_equal(getattr(P, k)[:n], p_ref[k]), k
    for k in HOUSEHOLD:
        assert np.array_equal(getattr(H, k)[:n_hh], h_ref[k]), k
    nb = len(got["born_household"])
    born = np.arange(n, n + nb)
    assert D.counts["births"] - before["births"] == nb and np.array_equal(entered[:nb], born)
    assert np.array_equal(P.household[born], got["born_household"])
    assert np.array_equal(P.female[born], got["born_female"])
    assert np.allclose(P.age[born], got["born_age"], rtol=0, atol=1e-5)
    assert np.array_equal(P.present[born], ~got["born_leaves"])
    expected_exits = np.concatenate([got["die"], got["alone"], got["leaving"], born[got["born_leaves"]]])
    assert np.array_equal(np.sort(exits), np.sort(expected_exits))
    assert D.counts["deaths"] - before["deaths"] == len(got["die"])
    assert D.counts["households_strain_left"] - before["households_strain_left"] == len(got["strain_households"])
    moved_in = np.bincount(H.municipality[n_hh : H.n], minlength=len(got["moving_in"]))
    assert np.array_equal(moved_in, got["moving_in"])
    assert min(len(got["die"]), len(got["alone"]), len(got["leaving"]), nb, got["moving_in"].sum()) > 0


def test_deaths_follow_the_period_probabilities_by_age():
    """Statistical: over 40 periods, deaths are the sum of each person's probability of
    dying in the period at their age, within 4 standard deviations."""
    m = model(4)
    P, D = m.people, m.demography
    expected = variance = 0.0
    before = D.counts["deaths"]
    for _ in range(40):
        to_period_end(m)
        here = np.flatnonzero(P.present[: P.n])
        # the ages of the period's draw: after this period's ageing
        age = (P.age[here] + D.years).astype(P.age.dtype)
        q = D.death_by_age[np.minimum(age.astype(np.int64), 120)]
        expected += q.sum()
        variance += (q * (1 - q)).sum()
        D.step()
    deaths = D.counts["deaths"] - before
    assert abs(deaths - expected) < 4.0 * np.sqrt(variance)
    assert deaths > 20
