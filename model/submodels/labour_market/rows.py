"""The named structures the labour market's kernels take.

A kernel reads and writes whole columns of the person table; it takes them as one
:class:`Persons` (the columns by name) rather than as a positional list, and its
parameters as small named tuples, so two arguments can never be swapped unnoticed. Numba
compiles named tuples of arrays and numbers like plain arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...state import Status

# Rows per block in the counts of those employed outside the plants: the i-th of them is
# found by skipping whole blocks (a tuning constant of the data structure, not of the model).
BLOCK = 128
# Edges of the age bands of ``labour.search_by_age`` (under 25, 25-44, 45-54, 55-59, 60+):
# the bands the search-effort evidence is tabulated in.
AGE_SEARCH_BANDS = np.array([0, 25, 45, 55, 60, 200], float)
EMPLOYED, UNEMPLOYED, TRAINING, RETIRED, INACTIVE = (
    Status.EMPLOYED,
    Status.UNEMPLOYED,
    Status.TRAINING,
    Status.RETIRED,
    Status.INACTIVE,
)
NO_ROWS = np.zeros(0, np.int64)
NO_DRAWS = np.zeros(0)


class Persons(NamedTuple):
    """The person columns the labour market reads and writes (views of the person table)."""

    status: np.ndarray
    at_plant: np.ndarray
    sector: np.ndarray  # sector of the current or last job (-1: never employed)
    employer: np.ndarray
    age: np.ndarray
    female: np.ndarray
    household: np.ndarray
    wage: np.ndarray
    pension: np.ndarray
    job_start: np.ndarray
    job_end: np.ndarray
    spell_start: np.ndarray
    ever_displaced: np.ndarray
    displaced_week: np.ndarray
    displaced_tenure: np.ndarray
    displaced_wage: np.ndarray
    reemployed_week: np.ndarray
    retrained: np.ndarray
    training_left: np.ndarray
    ei_entitlement: np.ndarray
    ei_left: np.ndarray
    ei_paid: np.ndarray
    ei_exhausted: np.ndarray
    ei_benefit: np.ndarray
    ei_wait: np.ndarray
    severance_left: np.ndarray

    @classmethod
    def of(cls, people) -> Persons:
        """The columns of the person table ``people`` (re-taken each step: the table may grow)."""
        return cls._make(getattr(people, name) for name in cls._fields)


class Pool(NamedTuple):
    """Those employed outside the plants: marked by row (``member``), counted by block of
    :data:`BLOCK` rows (``blocks``) and by sector (``held``: the jobs held outside the
    plants). Kernels update all three together."""

    member: np.ndarray
    blocks: np.ndarray
    held: np.ndarray


class Jobless(NamedTuple):
    """Rows searching for a job or retraining, sorted, with the search effort found for
    each (NaN: to be found) and the kind it was found for: ``kind[:, 0]`` the last sector,
    ``kind[:, 1]`` the age band."""

    rows: np.ndarray
    effort: np.ndarray
    kind: np.ndarray


class SearchTerms(NamedTuple):
    """The parameters of search effort and of where it is aimed."""

    age_bands: np.ndarray  # edges of the age bands (AGE_SEARCH_BANDS)
    by_age: np.ndarray  # labour.search_by_age
    long_tenure_years: float
    long_tenure_search: float  # factor after a layoff from a long-tenure job
    training_boost: float  # factor after retraining
    transition_boost: float  # factor for the displaced (recovery committee), 1 otherwise
    cross_sector: float  # share of effort aimed at each sector other than the last job's


class Search(NamedTuple):
    """The week's job seekers (sorted) with their search effort ``effort``, last sector
    ``last`` (-1: never employed), the effort ``aimed`` at each sector (S_s) and the
    vacancies by sector (V_s)."""

    seekers: np.ndarray
    effort: np.ndarray
    last: np.ndarray
    aimed: np.ndarray
    vacancies: np.ndarray


class KeptPools(NamedTuple):
    """The pools as a step left them, taken over by the next week's step: the ``week``,
    how many person rows there were, the jobless and the transition ``boost`` their
    effort was found with. (Those employed outside the plants are the :class:`Pool`,
    updated in place.)"""

    week: int
    n_rows: int
    jobless: Jobless
    boost: float
