"""The organization network, one week, in plain NumPy: the rule of docs/ODD.md section 7.9
(*Weekly learning and forgetting*).

The fast path, ``_network_kernel`` in ``model/submodels/committees.py``, loops over the
pairs and writes the links in place (and skips a week in which nothing is active and no
link outside the base exists: then nothing forms or fades, so the result is the same).
Here every pair is updated at once from the same inputs: the links, the base links, the
two committees' members, the pairs the cross-sectoral mode links, the week's k x k matrix
of uniform draws ``u`` (read above its diagonal for both orders of a pair), the
``network`` parameters and which structures are active. Nothing is written: the new
links are returned.
"""

from __future__ import annotations

import numpy as np


def rate(recovery, support, cross_ok, p, recovery_active: bool, support_active: bool, cross_active: bool):
    """Each pair's rate of forming a link: the largest of those that apply (0 if none)."""
    learn = float(p["committee_learning_rate"])
    both_recovery = np.outer(recovery, recovery) * (learn if recovery_active else 0.0)
    both_support = np.outer(support, support) * (learn if support_active else 0.0)
    # One on each committee, while both meet (the support committee links the social
    # partners to the recovery committee).
    one_each = np.outer(support, recovery) | np.outer(recovery, support)
    bridge = one_each * (float(p["committee_link_rate"]) if recovery_active and support_active else 0.0)
    # The CSSS's cross-sectoral mode (2011): the eligible pairs fixed at set-up.
    cross = cross_ok * (float(p["cross_sectoral_rate"]) if cross_active else 0.0)
    return np.maximum.reduce([both_recovery, both_support, bridge, cross])


def step(
    links, base, recovery, support, cross_ok, u, p, recovery_active: bool, support_active: bool, cross_active: bool
) -> np.ndarray:
    """The links after this week."""
    k = len(links)
    off_diagonal = ~np.eye(k, dtype=bool)
    # One draw per pair, the same for both orders: the upper triangle, mirrored.
    upper = np.triu(u, 1)
    draw = np.where(off_diagonal, upper + upper.T, 1.0)
    r = rate(recovery, support, cross_ok, p, recovery_active, support_active, cross_active)

    # An unlinked pair links if its draw is below its rate.
    formed = ~links & (draw < r)

    # A link outside the base that no active structure sustains (a rate of zero) fades
    # with a half-life of link_halflife_weeks: at u > 1 - f, f = 1 - 0.5^(1 / half-life).
    f = 1.0 - 0.5 ** (1.0 / p["link_halflife_weeks"])
    sustained = (r > 0) & off_diagonal
    faded = links & ~base & ~sustained & (draw > 1.0 - f)
    return (links | formed) & ~faded
