"""Demography, one period, in plain NumPy (ODD 7.5, docs/ODD.md).

The mechanism of ``model/submodels/demography.py`` stated directly, for a reader to hold
beside its ODD section and for the tests to check the compiled fast path against. Every
``DEMOGRAPHY_PERIOD_WEEKS`` (four) weeks, with the period's probabilities:

1. everyone present ages by the period; children reaching working age become adults
   outside the labour force;
2. each person dies with the probability of their whole year of age;
3. young adults still alive move out alone at the young adults' leaving rate;
4. households move out at the background rate, and those that asked to leave under
   strain since the last period move out too; the members still alive go with them;
5. women of fertile age give birth (newborns join the mother's household and leave with
   it if it moves out);
6. the persons who died or moved out leave the population; a household ends when it
   moves out or nobody is left in it;
7. households move in, by municipality: a Poisson number with mean (the municipality's
   census growth over the period plus its deaths and background moves out, less its
   births) / the mean household size. Who they are is ``population.make_members``'s
   business, not restated here.

The draws are made from ``rng`` in the fast path's order (``streams.bernoulli`` and
``bernoulli_each`` are the model's Bernoulli draws).
"""

from __future__ import annotations

import numpy as np

from ..state import Exit, Status
from ..streams import bernoulli, bernoulli_each


def period(P: dict, H: dict, d: dict, pending: np.ndarray, week: int, rng) -> dict:
    """One period. ``P`` (by person row: present, age, status, female, household,
    status_at_exit, exit_week, exit_reason) and ``H`` (by household row: present, size,
    municipality, exit_week) are changed in place; ``pending``: households that asked to
    leave under strain (cleared). ``d``: years, working_age, young (from, below), fertile
    (from, below), death_by_age (by whole year, 0-120), young_leaving_rate,
    out_migration_rate, birth_prob, female_birth_share, growth_per_period (by
    municipality), mean_household_size. Returns the period's events; newborns are
    described (household, age, female), not added to ``P``."""
    here = np.flatnonzero(P["present"])
    # 1. Ageing, in the ages' own float type.
    P["age"][here] = (P["age"][here] + d["years"]).astype(P["age"].dtype)
    age = P["age"]
    P["status"][here[(P["status"][here] == Status.CHILD) & (age[here] >= d["working_age"])]] = Status.INACTIVE
    # 2. Deaths by age.
    die = bernoulli_each(rng, here, d["death_by_age"][np.minimum(age[here].astype(np.int64), 120)])
    alive = P["present"].copy()
    alive[die] = False
    living = np.flatnonzero(alive)
    young = living[(age[living] >= d["young"][0]) & (age[living] < d["young"][1])]
    fertile = living[P["female"][living] & (age[living] >= d["fertile"][0]) & (age[living] < d["fertile"][1])]
    # 3. Young adults moving out alone; 4. households moving out (background, then strain).
    alone = bernoulli(rng, young, d["young_leaving_rate"] * d["years"])
    chosen = bernoulli(rng, np.flatnonzero(H["present"]), d["out_migration_rate"] * d["years"])
    leave = np.zeros(len(H["present"]), bool)
    leave[chosen] = True
    strain = pending[: len(leave)] & H["present"] & ~leave
    leave |= strain
    pending[:] = False
    household = P["household"]
    alone = alone[~leave[household[alone]]]  # who moves out with the household is not alone
    leaving = living[leave[household[living]]]
    # 5. Births, before the exits: a newborn leaves with a household that moves out.
    mothers = bernoulli(rng, fertile, d["birth_prob"])
    born_age = rng.uniform(0.0, d["years"], len(mothers))
    born_female = rng.random(len(mothers)) < d["female_birth_share"]
    born_hh = household[mothers]
    born_leaves = leave[born_hh]
    # 6. Exits.
    for ids, reason in ((die, Exit.DIED), (alone, Exit.MOVED_ALONE), (leaving, Exit.MOVED_WITH_HOUSEHOLD)):
        P["present"][ids] = False
        P["status_at_exit"][ids] = P["status"][ids]
        P["status"][ids] = Status.GONE
        P["exit_week"][ids], P["exit_reason"][ids] = week, reason
    n_hh, muni = len(H["present"]), H["municipality"]
    H["size"][:] = np.bincount(household[P["present"]], minlength=n_hh) + np.bincount(
        born_hh[~born_leaves], minlength=n_hh
    )
    ends = H["present"] & (leave | (H["size"] == 0))
    H["present"][ends], H["exit_week"][ends] = False, week
    # 7. Moves in: census growth plus the period's net natural and background losses.
    n_muni = len(d["growth_per_period"])

    def by_muni(rows):
        return np.bincount(muni[household[rows]], minlength=n_muni)

    background = leaving[~strain[household[leaving]]]
    losses = (
        by_muni(die)
        + by_muni(alone)
        + by_muni(background)
        + np.bincount(muni[born_hh[born_leaves & ~strain[born_hh]]], minlength=n_muni)
        - np.bincount(muni[born_hh], minlength=n_muni)
    )
    residents = by_muni(np.flatnonzero(P["present"])) + np.bincount(muni[born_hh[~born_leaves]], minlength=n_muni)
    expected = np.maximum(residents * d["growth_per_period"] + losses, 0.0)
    moving_in = rng.poisson(expected / d["mean_household_size"])
    return {
        "die": die,
        "alone": alone,
        "leaving": leaving,
        "strain_households": np.flatnonzero(strain),
        "born_household": born_hh,
        "born_age": born_age,
        "born_female": born_female,
        "born_leaves": born_leaves,
        "moving_in": moving_in,
    }
