"""Job search and matching.

Search effort: e = ``search_by_age``[age band], times ``long_tenure_search`` after a
layoff from a long-tenure job, times ``training_search_boost`` after retraining, times the
transition boost for the displaced. A seeker aims e at the sector of the last job and
c * e at each other sector (e everywhere if never employed), c = ``cross_sector_search``.
The matching function, by sector s::

    S_s = c * sum_i e_i + (1 - c) * sum_{i: last_i = s} e_i     effort aimed at s
    M_s = min(V_s, mu * S_s**a * V_s**(1 - a))                  hires in s
    r_s = M_s / S_s                                             hires per unit of effort
    P(i hired) = min(e_i * (c * sum_s r_s + (1 - c) * r_{last_i}), MAX_HIRE_PROBABILITY)
    P(i hired in s | hired) ~ (c + (1 - c) [s = last_i]) * r_s

and no sector hires more than its whole vacancies: a random subset of its hires is kept.
"""

from __future__ import annotations

import numpy as np

from ...jit import kernel
from .rows import TRAINING, UNEMPLOYED

MAX_HIRE_PROBABILITY = 0.95  # a job seeker is hired in a week with at most this probability (a numerical cap)


@kernel
def age_bands_kernel(rows, age, edges):
    """The age band of each of ``rows`` (the last of ``edges`` at or below the age, the
    first band below the first edge, the last above the last but one)."""
    bands = np.empty(len(rows), np.int64)
    top = len(edges) - 2
    for i in range(len(rows)):
        band = -1
        for edge in edges:
            if edge <= age[rows[i]]:
                band += 1
        bands[i] = min(max(band, 0), top)
    return bands


@kernel
def search_efforts_kernel(rows, P, terms):
    """The search effort e of each of ``rows``, and their age bands."""
    bands = age_bands_kernel(rows, P.age, terms.age_bands)
    effort = np.empty(len(rows))
    for i in range(len(rows)):
        p = rows[i]
        e = terms.by_age[bands[i]]
        if P.ever_displaced[p] and P.displaced_tenure[p] >= terms.long_tenure_years:
            e *= terms.long_tenure_search
        if P.retrained[p]:
            e *= terms.training_boost
        if P.ever_displaced[p]:
            e *= terms.transition_boost
        effort[i] = e
    return effort, bands


@kernel
def aimed_effort_kernel(effort, last, cross_sector, n_sec):
    """S_s, the effort aimed at each sector: c * sum(e) + (1 - c) * the effort of those
    whose last job was in s (those never employed aim e at every sector)."""
    aimed = np.zeros(n_sec)
    everywhere = 0.0
    for i in range(len(effort)):
        s = last[i]
        if s >= 0:
            everywhere += cross_sector * effort[i]
            aimed[s] += (1.0 - cross_sector) * effort[i]
        else:
            everywhere += effort[i]
    for s in range(n_sec):
        aimed[s] += everywhere
    return aimed


@kernel
def effort_of_kernel(seekers, P, terms, n_sec):
    """The search effort of ``seekers``, their last sector and the effort aimed at each
    sector: the parts of a :class:`~.rows.Search`."""
    effort, _ = search_efforts_kernel(seekers, P, terms)
    last = np.empty(len(seekers), np.int64)
    for i in range(len(seekers)):
        last[i] = P.sector[seekers[i]]
    return effort, last, aimed_effort_kernel(effort, last, terms.cross_sector, n_sec)


@kernel
def searching_kernel(jobless, separated, entered, aged, P, terms, n_sec):
    """The week's search, from three sorted lists of rows (the ``jobless`` with the
    effort found for them before, those ``separated`` and those who ``entered`` the
    labour force this week; no row in two), merged in order: those searching or
    retraining (rows, effort, kind; effort NaN for those retraining), and the job seekers
    (status unemployed) with their effort, last sector and the effort aimed at each
    sector. An effort found before holds unless it was NaN or, after ageing (``aged``),
    the age band changed."""
    size = len(jobless.rows) + len(separated) + len(entered)
    rows = np.empty(size, np.int64)
    effort = np.empty(size)
    kind = np.empty((size, 2), np.int64)
    seeking = np.empty(size, np.bool_)
    none = np.iinfo(np.int64).max
    i = j = k = ns = n = 0
    while True:
        a = jobless.rows[i] if i < len(jobless.rows) else none
        b = separated[j] if j < len(separated) else none
        c = entered[k] if k < len(entered) else none
        p = min(a, b, c)
        if p == none:
            break
        e = np.nan
        s0 = s1 = 0
        if p == a:
            e = jobless.effort[i]
            s0, s1 = jobless.kind[i, 0], jobless.kind[i, 1]
            i += 1
        elif p == b:
            j += 1
        else:
            k += 1
        st = P.status[p]
        rows[ns] = p
        effort[ns] = e if st == UNEMPLOYED else np.nan
        kind[ns, 0] = s0
        kind[ns, 1] = s1
        seeking[ns] = st == UNEMPLOYED
        n += st == UNEMPLOYED
        ns += (st == UNEMPLOYED) | (st == TRAINING)
    todo = np.empty(ns, np.int64)
    m = 0
    if aged:  # the effort of those whose age band changed is found again
        for i in range(ns):
            todo[m] = i
            m += seeking[i] and not np.isnan(effort[i])
        bands = age_bands_kernel(rows[todo[:m]], P.age, terms.age_bands)
        for i in range(m):
            if bands[i] != kind[todo[i], 1]:
                effort[todo[i]] = np.nan
    m = 0
    for i in range(ns):
        todo[m] = i
        m += seeking[i] and np.isnan(effort[i])
    found, bands = search_efforts_kernel(rows[todo[:m]], P, terms)
    for i in range(m):
        effort[todo[i]] = found[i]
        kind[todo[i], 0] = P.sector[rows[todo[i]]]
        kind[todo[i], 1] = bands[i]
    seekers = np.empty(n, np.int64)
    seeker_effort = np.empty(n)
    last = np.empty(n, np.int64)
    n = 0
    for i in range(ns):
        if seeking[i]:
            seekers[n] = rows[i]
            seeker_effort[n] = effort[i]
            last[n] = kind[i, 0]
            n += 1
    aimed = aimed_effort_kernel(seeker_effort, last, terms.cross_sector, n_sec)
    return rows[:ns], effort[:ns], kind[:ns], seekers, seeker_effort, last, aimed


def hire_rate(aimed: np.ndarray, vacancies: np.ndarray, efficiency: float, elasticity: float) -> np.ndarray:
    """r_s = M_s / S_s with M_s = min(V_s, mu * S_s**a * V_s**(1 - a)); 0 where S_s = 0."""
    hires = np.minimum(vacancies, efficiency * aimed**elasticity * vacancies ** (1.0 - elasticity))
    return np.divide(hires, aimed, out=np.zeros_like(aimed), where=aimed > 0)


@kernel
def hired_kernel(u, effort, last, rate, cross_sector, max_probability):
    """Positions of the seekers hired: seeker i is hired when ``u[i]`` falls below
    min(e_i * (c * sum(r) + (1 - c) * r[last_i]), max_probability) (e_i * sum(r) if never
    employed)."""
    total = rate.sum()
    hired = np.empty(len(u), np.int64)
    k = 0
    for i in range(len(u)):
        s = last[i]
        aimed = cross_sector * total + (1.0 - cross_sector) * rate[s] if s >= 0 else total
        if u[i] < min(effort[i] * aimed, max_probability):
            hired[k] = i
            k += 1
    return hired[:k]


@kernel
def hire_sector_kernel(u, hired, last, rate, cross_sector, vacancies):
    """The sector of each hire (``hired``: positions among seekers whose last sector is
    ``last``), drawn by inverse transform (``u`` uniform) in proportion to
    (c + (1 - c) [s = last]) * r_s; the hires grouped by sector, in order
    (``by_sector``: positions in ``hired``); and for each sector with more hires than whole
    vacancies, where its group starts, ends, and where the hires past its vacancies start."""
    n_sec = len(rate)
    sector = np.empty(len(u), np.int64)
    cum = np.empty(n_sec)
    for i in range(len(u)):
        s = last[hired[i]]
        base = cross_sector if s >= 0 else 1.0
        total = 0.0
        for j in range(n_sec):
            w = base * rate[j]
            if j == s:
                w += (1.0 - cross_sector) * rate[j]
            total += w
            cum[j] = total
        target = u[i] * total
        pick = 0
        for j in range(n_sec):
            if cum[j] < target:
                pick += 1
        sector[i] = min(pick, n_sec - 1)
    counts = np.zeros(n_sec, np.int64)
    for s in sector:
        counts[s] += 1
    starts = np.zeros(n_sec, np.int64)
    for s in range(1, n_sec):
        starts[s] = starts[s - 1] + counts[s - 1]
    by_sector = np.empty(len(u), np.int64)
    filled = starts.copy()
    for i in range(len(u)):
        by_sector[filled[sector[i]]] = i
        filled[sector[i]] += 1
    over = np.empty((n_sec, 3), np.int64)
    k = 0
    for s in range(n_sec):
        cap = np.floor(vacancies[s])
        if counts[s] > cap:
            over[k, 0] = starts[s]
            over[k, 1] = starts[s] + counts[s]
            over[k, 2] = starts[s] + np.int64(cap)
            k += 1
    return sector, by_sector, over[:k]


@kernel
def kept_hires_kernel(seekers, hired, sector, by_sector, over, P):
    """The hires kept (rows, in order) and their sectors: all but those placed past the
    vacancies of their sector in ``by_sector`` (``over``: see :func:`hire_sector_kernel`);
    which of them are displaced workers in their first job since the layoff, and how many."""
    keep = np.ones(len(hired), np.bool_)
    for k in range(len(over)):
        for i in range(over[k, 2], over[k, 1]):
            keep[by_sector[i]] = False
    n = keep.sum()
    ids = np.empty(n, np.int64)
    kept_sector = np.empty(n, np.int64)
    first = np.empty(n, np.bool_)
    n = n_first = 0
    for i in range(len(hired)):
        if keep[i]:
            p = seekers[hired[i]]
            ids[n] = p
            kept_sector[n] = sector[i]
            first[n] = P.ever_displaced[p] and P.reemployed_week[p] < 0
            n_first += first[n]
            n += 1
    return ids, kept_sector, first, n_first


def match(
    rng: np.random.Generator, search, cross_sector: float, efficiency: float, elasticity: float, P
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The hires of the week among ``search.seekers``, by the matching function: their
    rows (in order), sectors, which are displaced workers' first job since the layoff,
    and how many. The draws, in order: one uniform per seeker (hired or not), one per hire
    (the sector), then a shuffle of the hires of each sector short of vacancies."""
    rate = hire_rate(search.aimed, search.vacancies, efficiency, elasticity)
    hired = hired_kernel(
        rng.random(len(search.seekers)), search.effort, search.last, rate, cross_sector, MAX_HIRE_PROBABILITY
    )
    sector, by_sector, over = hire_sector_kernel(
        rng.random(len(hired)), hired, search.last, rate, cross_sector, search.vacancies
    )
    for start, end, _ in over.tolist():  # a random subset of each such sector's hires is kept
        rng.shuffle(by_sector[start:end])
    return kept_hires_kernel(search.seekers, hired, sector, by_sector, over, P)
