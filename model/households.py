"""Households and their members, at the set-up and when households move in.

Household sizes adding up to a municipality's count (:func:`households_for`), home cells
drawn by residential density (:class:`CellSampler`), and the ages and sexes of a
household's head, partner and dependants (:func:`household_members`, with its compiled
kernels), following ``[population]`` and the structural constants below. The draws of
the labour-force status are in ``model/labour_status.py``; the set-up that puts them
together is ``model/population.py``.
"""

from __future__ import annotations

import numpy as np

from .config import Config
from .jit import kernel
from .territory import Territory

HEAD_AGE_BANDS = np.array([[18, 25], [25, 35], [35, 45], [45, 55], [55, 65], [65, 75], [75, 95]], float)

# Rules of the synthetic population (structural constants, not parameters).
CHILD_AGE = 18.0  # years: dependent children are under 18 (convention)
FEMALE_HEAD_SHARE = 0.5  # a household head is a woman or a man with equal probability
FEMALE_DEPENDANT_SHARE = 0.5  # a dependant is a woman or a man with equal probability
PARTNER_AGE_GAP_MEAN = -1.5  # years: partner's age less the head's, mean of a normal draw
PARTNER_AGE_GAP_SD = 3.0  # years: spread of the partners' age gap
PARTNER_MIN_AGE = 18.0  # years: partners are adults; a gap that would make one younger is raised to this
DEPENDANT_AGE_GAP = (20.0, 40.0)  # years: dependants are younger than the head by a gap uniform in this range
PARENT_MIN_AGE = 17.0  # years: a head is at least this much older than a dependant
ADULT_DEPENDANT_YEARS = 17.0  # years past CHILD_AGE: the oldest dependants (adult children at home, 35)


def households_for(n_persons: int, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Household sizes adding up exactly to ``n_persons``."""
    if n_persons <= 0:
        return np.zeros(0, dtype=np.int64)
    mean = float(np.dot(shares, np.arange(1, len(shares) + 1)))
    sizes = 1 + categorical(rng, shares, int(n_persons / mean * 1.2) + 10)
    while sizes.sum() < n_persons:
        sizes = np.concatenate([sizes, 1 + categorical(rng, shares, len(sizes))])
    cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, n_persons))  # first household reaching the count
    sizes = sizes[: k + 1].copy()
    sizes[-1] -= cum[k] - n_persons
    return sizes[sizes > 0]


class CellSampler:
    """Draws home cells by residential density for households of given municipalities,
    all municipalities in one vectorised call (built once per territory)."""

    def __init__(self, territory: Territory):
        cells, keys = [], []
        for m in range(territory.n_municipalities):
            c = territory.cells_of(m)
            w = territory.cell_weight[c[:, 0], c[:, 1]]
            cdf = np.cumsum(w / w.sum())
            cdf[-1] = 1.0
            cells.append(c)
            keys.append(m + cdf)  # increasing across municipalities
        self.cells = np.concatenate(cells)
        self.keys = np.concatenate(keys)

    def draw(self, muni: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = np.searchsorted(self.keys, muni + rng.random(len(muni)), side="right")
        idx = np.minimum(idx, len(self.cells) - 1)
        return self.cells[idx, 0], self.cells[idx, 1]


def categorical(rng: np.random.Generator, shares, size: int) -> np.ndarray:
    """Indices drawn with probabilities ``shares`` (which add up to 1)."""
    cdf = np.cumsum(shares)
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(cdf) - 1)


def household_members(sizes: np.ndarray, rng: np.random.Generator, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Ages and sexes of the members of households of the given sizes, household by
    household: a head (age from ``population.head_age_shares``, a woman with probability
    ``FEMALE_HEAD_SHARE``), a partner of the other sex in couples (the head's age plus a
    normal gap of mean ``PARTNER_AGE_GAP_MEAN`` and SD ``PARTNER_AGE_GAP_SD``, at least
    ``PARTNER_MIN_AGE``), and dependants younger than the head by a gap uniform in
    ``DEPENDANT_AGE_GAP`` (young children for young heads: a head is at least
    ``PARENT_MIN_AGE`` older than a dependant), at most ``CHILD_AGE`` plus
    ``ADULT_DEPENDANT_YEARS`` old, women with probability ``FEMALE_DEPENDANT_SHARE``.

    The draws, in order: the heads' age bands, their ages within the band, couples and
    the heads' sex (one uniform per household each); the partners' age differences; the
    dependants' age differences; new ages for the dependants that difference would make
    not yet born; the dependants' sex."""
    n_hh, n = len(sizes), int(sizes.sum())
    sizes = np.asarray(sizes, np.int64)
    band_cdf = np.cumsum(np.asarray(cfg["population.head_age_shares"], float))
    u = rng.random(4 * n_hh).reshape(4, n_hh)
    n_couples = int(np.count_nonzero((sizes >= 2) & (u[2] < cfg["population.couple_share"])))
    gap = rng.normal(PARTNER_AGE_GAP_MEAN, PARTNER_AGE_GAP_SD, n_couples)
    n_dep = n - n_hh - n_couples
    gap_lo, gap_hi = DEPENDANT_AGE_GAP
    older = rng.uniform(gap_lo, gap_hi, n_dep)
    age, female, dep, dep_head_age, n_young = _members_kernel(
        sizes,
        n,
        u,
        band_cdf,
        HEAD_AGE_BANDS,
        float(cfg["population.couple_share"]),
        FEMALE_HEAD_SHARE,
        PARTNER_MIN_AGE,
        gap,
        older,
    )
    young_u = rng.random(n_young)
    _dependants_kernel(
        age,
        female,
        dep,
        dep_head_age,
        young_u,
        rng.random(n_dep),
        PARENT_MIN_AGE,
        CHILD_AGE + ADULT_DEPENDANT_YEARS,
        FEMALE_DEPENDANT_SHARE,
    )
    return age, female


@kernel
def _band_of(cdf, u):
    """Index drawn by the uniform ``u`` from the cumulative shares ``cdf`` (as ``categorical``)."""
    x = u * cdf[-1]
    b = 0
    while b < len(cdf) and cdf[b] <= x:
        b += 1
    return min(b, len(cdf) - 1)


@kernel
def _members_kernel(sizes, n, u, band_cdf, bands, couple_share, female_head_share, partner_min_age, gap, older):
    """The members of households of ``sizes`` (``n`` in all), from the uniforms ``u``
    (by household: head's age band, age within the band, couple, head's sex: a woman
    below ``female_head_share``), the partners' age differences ``gap`` (a partner is at
    least ``partner_min_age``) and the dependants' ``older`` (how much younger than the
    head). Returns the ages and sexes (the dependants' sexes are set later), the
    dependants' rows with their heads' ages, and how many dependants the difference
    makes not yet born (a negative age, drawn anew)."""
    age = np.empty(n)
    female = np.zeros(n, np.bool_)
    n_dep = len(older)
    dep = np.empty(n_dep, np.int64)
    dep_head_age = np.empty(n_dep)
    i = c = d = 0
    n_young = 0
    for h in range(len(sizes)):
        band = _band_of(band_cdf, u[0, h])
        lo = bands[band, 0]
        head_age = lo + (bands[band, 1] - lo) * u[1, h]  # as rng.uniform(lo, hi)
        couple = sizes[h] >= 2 and u[2, h] < couple_share
        head_female = u[3, h] < female_head_share
        for r in range(sizes[h]):
            if r == 0:
                age[i] = head_age
                female[i] = head_female
            elif r == 1 and couple:
                age[i] = max(partner_min_age, head_age + gap[c])
                female[i] = not head_female
                c += 1
            else:
                a = head_age - older[d]
                age[i] = a
                dep[d] = i
                dep_head_age[d] = head_age
                n_young += a < 0
                d += 1
            i += 1
    return age, female, dep, dep_head_age, n_young


@kernel
def _dependants_kernel(age, female, dep, dep_head_age, young_u, female_u, parent_min_age, max_age, female_share):
    """Dependants ``dep``: those with a negative age (not yet born) get an age uniform
    between 0 and the head's age less ``parent_min_age`` (at least 1) from ``young_u``;
    ages are capped at ``max_age``; women where ``female_u`` is below ``female_share``."""
    k = 0
    for j in range(len(dep)):
        i = dep[j]
        a = age[i]
        if a < 0:
            a = max(dep_head_age[j] - parent_min_age, 1.0) * young_u[k]  # as rng.uniform(0, hi)
            k += 1
        age[i] = min(a, max_age)
        female[i] = female_u[j] < female_share
