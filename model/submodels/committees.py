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
- under the CSSS's cross-sectoral mode (2011), two client-facing organizations (public
  services and community groups) that share a territory (the same municipality, or one
  of them in the city of Magog, whose organizations serve the whole RCM) come to know each
  other with probability ``cross_sectoral_rate``; a municipal council acts at its own
  scale: it links only with the client-facing organizations of its municipality;
- a link formed this way and no longer sustained by an active structure fades with a
  half-life of ``link_halflife_weeks`` (staff turnover).

Measured: ``org_partnership_density`` (links over possible pairs) and
``org_cross_sector_share`` (share of links across domains). One matrix of uniform draws
is made every week whatever is active, so switching structures on never reshuffles the
draws of the others.

``Committees.step`` sets the week's rates from the active structures; ``_network_kernel``
applies them to every pair (``Network``, ``LinkRates``). ``model/reference/committees.py``
states the same week in plain NumPy; the kernel is tested against it
(``tests/test_reference_committees.py``) and against one NumPy statement of the rule in
``tests/test_kernels_services.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..jit import kernel
from ..state import COMMITTEES, ORG_KINDS

INSTITUTIONAL = ("public_service", "community", "government", "union")
RECOVERY, SUPPORT = (1 << COMMITTEES.index("recovery")), (1 << COMMITTEES.index("support"))


class Network(NamedTuple):
    """The partnership network among its ``k`` members (k x k unless said otherwise)."""

    links: np.ndarray  # the two know each other (updated in place)
    base: np.ndarray  # links from before the closures, which last
    recovery: np.ndarray  # (k,) on the recovery committee
    support: np.ndarray  # (k,) on the support committee
    cross_ok: np.ndarray  # pairs the cross-sectoral mode links
    members: np.ndarray  # (k,) organization row of each member
    org_links: np.ndarray  # the same links indexed by organization row


class LinkRates(NamedTuple):
    """This week's rates of forming a link (zero for a structure not active)."""

    recovery: float  # both on the recovery committee
    support: float  # both on the support committee
    bridge: float  # one on each committee
    cross: float  # a pair the cross-sectoral mode links
    fade_above: float  # a link no structure sustains fades at u above this


@kernel
def _network_kernel(u, net, rates):
    """One week of the partnership network ``net``. ``u`` (k x k uniforms) is read above
    its diagonal for both orders of a pair, and as 1 on it. A pair not linked forms a
    link at ``u`` below its rate: the largest of the rates of ``rates`` that apply to the
    pair. A link outside the base that no active structure sustains (a rate of zero)
    fades at ``u > rates.fade_above``. ``net.links`` is updated in place and, if it
    changed, copied to the rows and columns ``net.members`` of ``net.org_links``; return
    whether it changed."""
    links, base, recovery, support, cross_ok = net.links, net.base, net.recovery, net.support, net.cross_ok
    recovery_rate, support_rate, bridge_rate, cross_rate = rates.recovery, rates.support, rates.bridge, rates.cross
    fade_above, members, org_links = rates.fade_above, net.members, net.org_links
    k = len(links)
    changed = False
    for i in range(k):
        for j in range(k):
            uij = 1.0 if i == j else (u[i, j] if i < j else u[j, i])
            rate = 0.0
            if recovery[i] and recovery[j]:
                rate = max(rate, recovery_rate)
            if support[i] and support[j]:
                rate = max(rate, support_rate)
            if (support[i] and recovery[j]) or (support[j] and recovery[i]):
                rate = max(rate, bridge_rate)
            if cross_ok[i, j]:
                rate = max(rate, cross_rate)
            if links[i, j]:
                sustained = rate > 0 and i != j
                if not base[i, j] and not sustained and uij > fade_above:
                    links[i, j] = False
                    changed = True
            elif uij < rate:
                links[i, j] = True
                changed = True
    if changed:
        for i in range(k):
            for j in range(k):
                org_links[members[i], members[j]] = links[i, j]
    return changed


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
        self.cross_ok = self._cross_sectoral_pairs()
        self.fade = 1.0 - 0.5 ** (1.0 / self.p["link_halflife_weeks"])
        self.org_links = np.zeros((O.n, O.n), bool)  # the same links indexed by org row
        self._formed = False  # some link outside the base exists
        self._publish()
        self._measure()

    def _cross_sectoral_pairs(self) -> np.ndarray:
        """Pairs the cross-sectoral mode links: client-facing organizations sharing a
        territory, and a municipal council with the client-facing organizations of its
        own municipality."""
        m = self.model
        O = m.orgs
        rows = self.members
        kind = O.kind[rows]
        muni = O.municipality[rows].astype(np.int64)
        facing = np.isin(kind, [ORG_KINDS.index(k) for k in ("public_service", "community")])
        hub = int(np.argmax(m.territory.municipalities["pop_2011"].to_numpy(float)))
        council = kind == ORG_KINDS.index("government")  # councils, the city, elected officials' offices
        same = muni[:, None] == muni[None, :]
        share = same | (muni[:, None] == hub) | (muni[None, :] == hub)
        ok = facing[:, None] & facing[None, :] & share
        ok |= (council[:, None] & facing[None, :] & same) | (facing[:, None] & council[None, :] & same)
        np.fill_diagonal(ok, False)
        return ok

    def _measure(self) -> None:
        """The network's density and share of cross-sector links (kept until links change)."""
        k = len(self.members)
        total = self.links.sum()
        self.density = float(total / (k * (k - 1))) if k > 1 else float("nan")
        self.cross_sector_share = float((self.links & self.cross).sum() / total) if total else float("nan")

    def _publish(self) -> None:
        self.org_links[np.ix_(self.members, self.members)] = self.links

    def step(self) -> None:
        iv = self.model.interventions
        k = len(self.members)
        u = self.model.streams["committees"].random((k, k))
        rec, sup = iv.active("recovery_committee"), iv.active("support_committee")
        learn, bridge = float(self.p["committee_learning_rate"]), float(self.p["committee_link_rate"])
        cross = float(self.p["cross_sectoral_rate"]) if iv.active("csss_cross_sectoral") else 0.0
        rates = (learn if rec else 0.0, learn if sup else 0.0, bridge if rec and sup else 0.0, cross)
        if not self._formed and max(rates) <= 0:
            return  # no structure active and only base links: nothing forms or fades
        net = Network(self.links, self.base, self.recovery, self.support, self.cross_ok, self.members, self.org_links)
        if _network_kernel(u, net, LinkRates(*rates, 1.0 - self.fade)):
            self._formed = bool((self.links & ~self.base).any())
            self._measure()
