"""Weekly aggregates over persons, each in one pass over the rows it needs.

Used by ``CohesionModel._aggregate``; each function returns plain counts and sums, and
the model turns them into the shares and means of ``WeekStats``.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel


@kernel
def at_or_above(rows: np.ndarray, values: np.ndarray, threshold) -> np.ndarray:
    """The rows of ``rows`` (in order) whose ``values`` are at least ``threshold``."""
    out = np.empty(len(rows), np.int64)
    m = 0
    for j in range(len(rows)):
        i = rows[j]
        out[m] = i  # written always, kept only if selected (no branch to mispredict)
        m += values[i] >= threshold
    return out[:m]


@kernel
def adult_summary(adults: np.ndarray, distress: np.ndarray, status: np.ndarray, threshold,
                  knows_services: np.ndarray, k: int):
    """Over ``adults``: count, summed distress and count in high distress by status code
    (sums in row order, as ``np.bincount`` with weights), the rows in high distress, and
    how many know which service to turn to."""
    count = np.zeros(k, np.int64)
    total = np.zeros(k)
    high = np.empty(len(adults), np.int64)
    m = 0
    for j in range(len(adults)):
        i = adults[j]
        s = status[i]
        d = distress[i]
        count[s] += 1
        total[s] += d
        high[m] = i  # written always, kept only if in high distress
        m += d >= threshold
    # Separate passes: each tally in the loop above is a chain of dependent additions.
    knows = 0
    for j in range(len(adults)):
        knows += knows_services[adults[j]]
    n_high = np.zeros(k)
    for j in range(m):
        n_high[status[high[j]]] += 1.0
    return count, total, n_high, high[:m], knows


@kernel
def displaced_summary(displaced: np.ndarray, present: np.ndarray, status: np.ndarray,
                      distress: np.ndarray, threshold, employed: int):
    """Of the ``displaced`` rows: those still present, those of them in high distress (both
    in order), and how many are employed."""
    here = np.empty(len(displaced), np.int64)
    high = np.empty(len(displaced), np.int64)
    m = 0
    h = 0
    working = 0
    for j in range(len(displaced)):
        i = displaced[j]
        working += status[i] == employed
        here[m] = i
        high[h] = i
        p = present[i]
        m += p
        h += p & (distress[i] >= threshold)
    return here[:m], high[:h], working


@kernel
def reach_counts(rows: np.ndarray, support_week: np.ndarray, service: np.ndarray, week: int,
                 memory: int):
    """Of ``rows``: how many felt informal support in the last ``memory`` weeks, how many
    are in a formal service, and how many have neither."""
    supported = 0
    served = 0
    neither = 0
    for j in range(len(rows)):
        i = rows[j]
        sup = week - support_week[i] < memory
        ser = service[i] >= 0
        supported += sup
        served += ser
        neither += (not sup) and (not ser)
    return supported, served, neither
