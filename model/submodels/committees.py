"""Committees and the organization network: who knows whose mission.

The partnership network links the RCM's institutional organizations (public services,
community groups, government offices and councils, unions): a link means the two know
each other's missions well enough to refer people (``submodels/services.py`` refers only
along links). Before the closures, organizations of the same domain know each other with
probability ``network.base_tie_same_domain`` and of different domains with
``base_tie_cross_domain`` (sector-by-sector "mosaic" management); these base links last.

Each week:
- members of an active committee (``organizations.csv``, column ``committees``) who do
  not yet know each other come to with probability ``network.committee_learning_rate``:
  the recovery committee (economic agencies, the school board, the city, elected
  officials' offices and one CSSS representative; the provincial and federal economic
  development agencies are not modelled) and the support committee (cross-sectoral);
- while both committees are active, a member of one and a member of the other come to
  know each other with probability ``committee_link_rate`` (the support committee links
  the social-services partners to the recovery committee);
- under the CSSS's cross-sectoral mode (2011), any two organizations come to with
  probability ``cross_sectoral_rate``;
- a link formed this way and no longer sustained by an active structure fades with a
  half-life of ``link_halflife_weeks`` (staff turnover).

Measured: ``org_partnership_density`` (links over possible pairs) and
``org_cross_sector_share`` (share of links across domains). One matrix of uniform draws
is made every week whatever is active, so switching structures on never reshuffles the
draws of the others.
"""

from __future__ import annotations

import numpy as np

from ..state import COMMITTEES, ORG_KINDS

INSTITUTIONAL = ("public_service", "community", "government", "union")
RECOVERY, SUPPORT = (1 << COMMITTEES.index("recovery")), (1 << COMMITTEES.index("support"))


class Committees:
    def __init__(self, model):
        self.model = model
        self.p = model.config.section("network")
        O = model.orgs
        kinds = [ORG_KINDS.index(k) for k in INSTITUTIONAL]
        self.members = np.flatnonzero(np.isin(O.kind[: O.n], kinds))  # org rows in the network
        k = len(self.members)
        self.domain = O.domain[self.members].astype(np.int64)
        self.recovery = (O.committees[self.members] & RECOVERY) > 0
        self.support = (O.committees[self.members] & SUPPORT) > 0
        rng = model.streams["committees"]
        same = self.domain[:, None] == self.domain[None, :]
        p0 = np.where(same, self.p["base_tie_same_domain"], self.p["base_tie_cross_domain"])
        u = np.triu(rng.random((k, k)), 1)
        u = u + u.T
        self.base = (u < p0) & ~np.eye(k, dtype=bool)
        self.links = self.base.copy()
        self.cross = ~same
        self.fade = 1.0 - 0.5 ** (1.0 / self.p["link_halflife_weeks"])
        self.org_links = np.zeros((O.n, O.n), bool)  # the same links indexed by org row
        self._publish()

    def _publish(self) -> None:
        self.org_links[np.ix_(self.members, self.members)] = self.links

    def step(self) -> None:
        iv = self.model.interventions
        k = len(self.members)
        u = np.triu(self.model.streams["committees"].random((k, k)), 1)
        u = u + u.T + np.eye(k)  # symmetric, and never below a rate on the diagonal
        rate = np.zeros((k, k))
        rec, sup = iv.active("recovery_committee"), iv.active("support_committee")
        if rec:
            rate = np.maximum(rate, np.outer(self.recovery, self.recovery) * self.p["committee_learning_rate"])
        if sup:
            rate = np.maximum(rate, np.outer(self.support, self.support) * self.p["committee_learning_rate"])
        if rec and sup:
            bridge = np.outer(self.support, self.recovery)
            rate = np.maximum(rate, (bridge | bridge.T) * self.p["committee_link_rate"])
        if iv.active("csss_cross_sectoral"):
            rate = np.maximum(rate, self.p["cross_sectoral_rate"])
        sustained = rate > 0
        np.fill_diagonal(sustained, False)
        formed = ~self.links & (u < rate)
        # Links outside the base that no active structure sustains fade (same draws, upper band).
        fading = self.links & ~self.base & ~sustained & (u > 1.0 - self.fade)
        if formed.any() or fading.any():
            self.links = (self.links | formed) & ~fading
            self._publish()

    @property
    def density(self) -> float:
        k = len(self.members)
        return float(self.links.sum() / (k * (k - 1))) if k > 1 else float("nan")

    @property
    def cross_sector_share(self) -> float:
        total = self.links.sum()
        return float((self.links & self.cross).sum() / total) if total else float("nan")
