"""Formal services and referrals: capacity, waiting lists, self-referral and referrals.

Organizations offering a service (``configs/organizations.csv``, column ``service``):
psychosocial (the CSSS and its service point), employment (the local employment centre)
and community (the food bank and the volunteer centres). Each holds at most its share of
``services.capacity`` clients at once (scaled by ``run.scale``; community capacity loses
``interventions.regional_conference.community_capacity`` once the regional conference is
gone). A client stays ``services.episode_weeks`` weeks; while served, the service lowers
the client's distress by ``services.effect`` (``submodels/distress.py``).

People reach a service in three ways, all through a first-come first-served waiting list
that is served each week up to the free capacity (those waiting longer than
``max_wait_weeks`` give up):
- self-referral (user mode): an adult in high distress who knows the services asks with
  probability ``self_referral_rate`` a week: the employment centre if without a job, the
  community service if the household is under strain, the psychosocial service
  otherwise; marginalized residents ask less often (``cohesion.marginalized_reach``)
  unless inclusion actions reach them;
- referral by an informal helper (``submodels/informal_support.py``), to the psychosocial
  service;
- referral by an organization: a client with a need the organization does not meet (high
  distress, no job, a strained household) is referred with probability
  ``org_referral_rate`` a week to the nearest organization meeting it, *only if the two
  organizations know each other* (``submodels/committees.py``).
Referrals (not self-referrals) are lost to procedures with probability
``referral_friction``, which the CSSS's reinforcement mode cuts.

A client referred on by their organization waits for the other one while still served,
and moves there when admitted.

The in-plant services (``interventions.in_plant_services``) teach the workers of an
announced plant the local resources, and the plant's social worker finds distressed
workers of the plant (and those laid off in the last twelve weeks) and puts them first
on the CSSS's list, without referral friction; her caseload is added to the CSSS's
places while the intervention is active. Newspaper articles teach other residents. The
support committee's outreach teaches displaced workers the services.
"""

from __future__ import annotations

import numpy as np

from ..state import SERVICES, Status
from ..streams import bernoulli

PSY, EMP, COM = (SERVICES.index(s) for s in ("psychosocial", "employment", "community"))


class Services:
    def __init__(self, model):
        self.model = model
        cfg = model.config
        self.p = cfg.section("services")
        self.threshold = cfg["distress.high_threshold"]
        self.adult_age = cfg["demography.working_age"]
        O = model.orgs
        self.kind = O.service[: O.n].astype(np.int64)
        self.rows = [np.flatnonzero(self.kind == s) for s in range(len(SERVICES))]
        scale = cfg["run.scale"]
        cap = np.asarray(self.p["capacity"], float) * scale
        self.base_capacity = np.zeros(O.n)
        for s, rows in enumerate(self.rows):
            if len(rows):
                self.base_capacity[rows] = cap[s] / len(rows)
        self.capacity = np.round(self.base_capacity).astype(np.int64)
        self.episode = np.asarray(self.p["episode_weeks"], float).round().astype(np.int64)
        # Nearest organization of each kind for each municipality (same municipality if any,
        # else the strongest commuting pull).
        pull = model.commute
        self.nearest = np.full((pull.shape[0], len(SERVICES)), -1, np.int64)
        for s, rows in enumerate(self.rows):
            if len(rows):
                om = O.municipality[rows].astype(np.int64)
                self.nearest[:, s] = rows[np.argmax(pull[:, om] + 1e6 * (np.arange(pull.shape[0])[:, None] == om[None, :]), axis=1)]
        self.caseload = np.zeros(O.n, np.int64)
        self.counts = {"self_referrals": 0, "helper_referrals": 0, "org_referrals": 0, "admitted": 0,
                       "outreach": 0, "gave_up": 0}
        self.last_org_referrals = np.zeros((0, 2), np.int64)  # (from org, to org) pairs this week
        self.clients = 0
        self.waiting = 0

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        reach = np.where(P.marginalized[ids], self.model.config["cohesion.marginalized_reach"], 1.0)
        P.knows_services[ids] = rng.random(len(ids)) < self.p["knowledge_share"] * reach

    # -- helpers ---------------------------------------------------------------------------
    def _friction(self) -> float:
        iv = self.model.interventions
        f = self.p["referral_friction"]
        if iv.active("csss_reinforcement"):
            f *= 1.0 - iv.params("csss_reinforcement")["friction_cut"]
        return f

    def _queue(self, ids: np.ndarray, kind: int | np.ndarray, served_ok: bool = False,
               priority: bool = False) -> int:
        """Put ``ids`` on the waiting list of the nearest organization of ``kind``; return
        how many were put on a list. Nobody waits for two lists at once; a client being
        served may wait for another organization only when referred by their own
        (``served_ok``), and moves there when admitted. ``priority`` puts them ahead of
        those already waiting (the in-plant social worker's clients)."""
        m, P = self.model, self.model.people
        kind = np.broadcast_to(np.asarray(kind), ids.shape)
        free = P.waiting[ids] < 0
        if not served_ok:
            free &= P.service[ids] < 0
        ids, kind = ids[free], kind[free]
        if len(ids) == 0:
            return 0
        muni = m.households.municipality[P.household[ids]].astype(np.int64)
        org = self.nearest[muni, kind]
        ok = (org >= 0) & (org != P.service[ids])
        P.waiting[ids[ok]] = org[ok]
        P.wait_since[ids[ok]] = m.week
        P.wait_priority[ids[ok]] = priority
        return int(ok.sum())

    def refer(self, ids: np.ndarray, kind: int, rng: np.random.Generator, friction: bool = True,
              served_ok: bool = False) -> int:
        """Referrals of ``ids`` to a service of ``kind``; return how many reach its list."""
        if len(ids) == 0:
            return 0
        u = rng.random(len(ids))
        if friction:
            ids = ids[u >= self._friction()]
        return self._queue(ids, kind, served_ok=served_ok)

    # -- the weekly step ------------------------------------------------------------------
    def step(self, helper_referred: np.ndarray, strained_households: np.ndarray) -> None:
        m, P, p = self.model, self.model.people, self.p
        iv = m.interventions
        rng = m.streams["services"]
        n = P.n
        week = m.week
        # Capacity this week.
        cap = self.base_capacity.copy()
        if not iv.active("regional_conference") and len(self.rows[COM]):
            cap[self.rows[COM]] *= 1.0 - iv.params("regional_conference")["community_capacity"]
        if iv.active("in_plant_services") and len(self.rows[PSY]):
            cap[self.rows[PSY][0]] += iv.params("in_plant_services")["caseload"] * m.config["run.scale"]
        self.capacity = np.round(cap).astype(np.int64)

        # Episodes end; people who left the RCM leave their service and list.
        clients = np.flatnonzero(P.service[:n] >= 0)
        P.service_left[clients] -= 1
        done = clients[(P.service_left[clients] <= 0) | ~P.present[clients]]
        P.service[done] = -1
        waiting = np.flatnonzero(P.waiting[:n] >= 0)
        quit_ = waiting[~P.present[waiting] | (week - P.wait_since[waiting] > p["max_wait_weeks"])]
        P.waiting[quit_] = -1
        P.wait_priority[quit_] = False
        self.counts["gave_up"] += len(quit_)

        in_strain = np.zeros(m.households.n, bool)
        in_strain[strained_households] = True
        need = m.need

        # In-plant services and the support committee's outreach (their own streams).
        if iv.active("in_plant_services"):
            self._in_plant(need)
        if iv.active("support_committee"):
            r = m.streams["support_committee"]
            d = m.shocks.displaced
            d = d[P.present[d] & ~P.knows_services[d]]
            learn = bernoulli(r, d, iv.params("support_committee")["outreach_knowledge_rate"])
            P.knows_services[learn] = True

        # Self-referral.
        free = need[(P.service[need] < 0) & (P.waiting[need] < 0) & P.knows_services[need]]
        reach = np.where(P.marginalized[free], self._marginal_reach(), 1.0)
        u = rng.random(len(free))
        asking = free[u < p["self_referral_rate"] * reach]
        st = P.status[asking]
        kind = np.where((st == Status.UNEMPLOYED) | (st == Status.TRAINING), EMP,
                        np.where(in_strain[P.household[asking]], COM, PSY))
        self.counts["self_referrals"] += self._queue(asking, kind)

        # Referrals by informal helpers.
        self.counts["helper_referrals"] += self.refer(helper_referred, PSY, rng)

        # Referrals between organizations that know each other.
        clients = np.flatnonzero(P.service[:n] >= 0)
        self._org_referrals(clients, in_strain, rng)

        self._admit()
        clients = P.service[:n] >= 0
        self.caseload = np.bincount(P.service[:n][clients], minlength=m.orgs.n)
        self.clients = int(clients.sum())
        self.waiting = int((P.waiting[:n] >= 0).sum())

    def _marginal_reach(self) -> float:
        iv = self.model.interventions
        base = self.model.config["cohesion.marginalized_reach"]
        if iv.active("csss_cross_sectoral"):
            return max(base, iv.params("csss_cross_sectoral")["inclusion_reach"])
        return base

    def _in_plant(self, need: np.ndarray) -> None:
        m, P = self.model, self.model.people
        iv = m.interventions
        q = iv.params("in_plant_services")
        r = m.streams["in_plant_services"]
        O = m.orgs
        n = P.n
        at = np.flatnonzero(P.at_plant[:n] & (P.status[:n] == Status.EMPLOYED))
        emp = P.employer[at]
        at = at[O.announced[emp] & O.open[emp]]
        learn = bernoulli(r, at[~P.knows_services[at]], q["knowledge_rate"])
        P.knows_services[learn] = True
        # The social worker sees distressed workers of announced plants and those laid off
        # in the last 12 weeks, without referral friction.
        d = m.shocks.displaced
        recent = d[(m.week - P.displaced_week[d] < 12) & P.present[d]]
        plant = np.union1d(at, recent)
        distressed = np.intersect1d(plant, need, assume_unique=True)
        seen = bernoulli(r, distressed, q["outreach_rate"])
        if len(self.rows[PSY]):
            seen = seen[(P.service[seen] < 0) & (P.waiting[seen] < 0)]
            P.waiting[seen] = self.rows[PSY][0]
            P.wait_since[seen] = m.week
            P.wait_priority[seen] = True  # first in line
        self.counts["outreach"] += len(seen)
        others = m.adults[~P.knows_services[m.adults]]
        P.knows_services[bernoulli(r, others, q["article_knowledge_rate"])] = True

    def _org_referrals(self, clients: np.ndarray, in_strain: np.ndarray, rng: np.random.Generator) -> None:
        m, P = self.model, self.model.people
        links = m.committees.org_links  # org x org, True where the two know each other
        org = P.service[clients].astype(np.int64)
        own = self.kind[org]
        st = P.status[clients]
        needs = np.stack([
            P.distress[clients] >= self.threshold,                      # psychosocial
            (st == Status.UNEMPLOYED) | (st == Status.TRAINING),        # employment
            in_strain[P.household[clients]],                            # community
        ])
        u = rng.random((len(SERVICES), len(clients)))
        muni = m.households.municipality[P.household[clients]].astype(np.int64)
        pairs = []
        for s in range(len(SERVICES)):
            cand = needs[s] & (own != s) & (u[s] < self.p["org_referral_rate"])
            if not cand.any():
                continue
            to = self.nearest[muni[cand], s]
            frm = org[cand]
            known = (to >= 0) & links[frm, np.maximum(to, 0)]
            ids = clients[cand][known]
            pairs.append(np.stack([frm[known], to[known]], axis=1))
            self.counts["org_referrals"] += self.refer(ids, s, rng, served_ok=True)
        self.last_org_referrals = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)

    def _admit(self) -> None:
        """Serve the waiting lists in order of arrival, up to each organization's free places."""
        m, P = self.model, self.model.people
        n = P.n
        waiting = np.flatnonzero(P.waiting[:n] >= 0)
        if len(waiting) == 0:
            return
        org = P.waiting[waiting].astype(np.int64)
        clients = P.service[:n] >= 0
        load = np.bincount(P.service[:n][clients], minlength=m.orgs.n)
        free = np.maximum(self.capacity - load, 0)
        order = np.lexsort((waiting, P.wait_since[waiting], ~P.wait_priority[waiting], org))
        waiting, org = waiting[order], org[order]
        first = np.searchsorted(org, org, side="left")
        rank = np.arange(len(org)) - first
        take = rank < free[org]
        ids, where = waiting[take], org[take]
        P.service[ids] = where  # a client referred on leaves the former service
        P.service_left[ids] = self.episode[self.kind[where]]
        P.waiting[ids] = -1
        P.wait_priority[ids] = False
        self.counts["admitted"] += len(ids)
