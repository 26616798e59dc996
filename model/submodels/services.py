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

The same rules in plain NumPy, one week at a time, are ``model/reference/services.py``.
``Services.step`` below runs them in the ODD's order and draws the uniforms; the compiled
kernels it calls, which draw none, are in ``services_lists.py`` (capacity, episodes,
waiting lists and admission) and ``services_referrals.py`` (self-referrals and
referrals), and are tested against the reference.
"""

from __future__ import annotations

import numpy as np

from ..constants import WORKING_AGE
from ..state import SERVICES, Status
from ..streams import bernoulli
from .services_lists import (  # noqa: F401
    Capacity,
    Line,
    Lists,
    Points,
    Residents,
    _admit_in_line,
    _admit_kernel,
    _ascending,
    _free_to_ask_kernel,
    _in_line,
    _places_kernel,
    _served_and_waiting,
    _week_start_kernel,
)
from .services_referrals import (  # noqa: F401
    COM,
    EMP,
    PSY,
    Draws,
    Rates,
    Requests,
    _lists_and_admission_kernel,
    _org_referral_candidates_kernel,
)


class Services:
    def __init__(self, model):
        self.model = model
        cfg = model.config
        self.p = cfg.section("services")
        self.threshold = cfg["distress.high_threshold"]
        self.adult_age = WORKING_AGE
        O = model.orgs
        self.kind = O.service[: O.n].astype(np.int64)
        self.rows = [np.flatnonzero(self.kind == s) for s in range(len(SERVICES))]
        self.episode = np.asarray(self.p["episode_weeks"], float).round().astype(np.int64)
        self.episode_of = np.where(self.kind >= 0, self.episode[np.maximum(self.kind, 0)], 0)  # per org
        # Nearest organization of each kind for each municipality (same municipality if any,
        # else the strongest commuting pull).
        pull = model.commute
        self.nearest = np.full((pull.shape[0], len(SERVICES)), -1, np.int64)
        for s, rows in enumerate(self.rows):
            if len(rows):
                om = O.municipality[rows].astype(np.int64)
                self.nearest[:, s] = rows[
                    np.argmax(pull[:, om] + 1e6 * (np.arange(pull.shape[0])[:, None] == om[None, :]), axis=1)
                ]
        # Each service's places are shared among its points of service in proportion to the
        # residents each serves (those of the municipalities for which it is the nearest).
        P, H = model.people, model.households
        here = np.flatnonzero(P.present[: P.n])
        residents = np.bincount(H.municipality[P.household[here]], minlength=pull.shape[0]).astype(float)
        cap = np.asarray(self.p["capacity"], float) * cfg["run.scale"]
        self.base_capacity = np.zeros(O.n)
        for s, rows in enumerate(self.rows):
            if len(rows):
                served = np.bincount(self.nearest[:, s], weights=residents, minlength=O.n)[rows]
                share = served / served.sum() if served.sum() > 0 else np.full(len(rows), 1.0 / len(rows))
                self.base_capacity[rows] = cap[s] * share
        self.capacity = np.round(self.base_capacity).astype(np.int64)
        self.caseload = np.zeros(O.n, np.int64)
        self.counts = {
            "self_referrals": 0,
            "helper_referrals": 0,
            "org_referrals": 0,
            "admitted": 0,
            "outreach": 0,
            "gave_up": 0,
        }
        # This week's admissions to the psychosocial service and how long they waited.
        self.psy_admitted = 0
        self.psy_wait_weeks = float("nan")
        self.psy_waiting = 0
        self.last_org_referrals = np.zeros((0, 2), np.int64)  # (from org, to org) pairs this week
        self.clients = 0
        self.waiting = 0
        # The rows served (ascending) and those waiting with their places in line (in the
        # order the lists are served), kept from week to week: only this submodel writes
        # ``service`` and ``waiting``. None: to be found again by a scan of every row.
        self._served: np.ndarray | None = None
        self._queue = self._places = np.zeros(0, np.int64)
        self._none = np.zeros(0, np.int64)
        self._mark = np.zeros(0, np.bool_)  # scratch, one flag per person row, reused every week

    def init_people(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        P = self.model.people
        reach = np.where(P.marginalized[ids], self.model.config["cohesion.marginalized_reach"], 1.0)
        P.knows_services[ids] = rng.random(len(ids)) < self.p["knowledge_share"] * reach

    @property
    def served_rows(self) -> np.ndarray:
        """The rows being served now, ascending (kept from week to week; to be read, not
        changed)."""
        if self._served is None:
            P = self.model.people
            return np.flatnonzero(P.service[: P.n] >= 0)
        return self._served

    # -- helpers ---------------------------------------------------------------------------
    def _friction(self) -> float:
        iv = self.model.interventions
        f = self.p["referral_friction"]
        if iv.active("csss_reinforcement"):
            f *= 1.0 - iv.params("csss_reinforcement")["friction_cut"]
        return f

    # -- the weekly step ------------------------------------------------------------------
    def step(self, helper_referred: np.ndarray, strained_households: np.ndarray) -> None:
        """One week, in the order of ODD 7.8: this week's places, episodes ending and people
        giving up (1-3); outreach by the active interventions (4); self-referrals, helpers'
        and organizations' referrals (5-7); admission from the waiting lists (8). Nobody
        waits for two lists at once; a client being served may wait for another
        organization only when referred by their own, and moves there when admitted."""
        m, P = self.model, self.model.people
        lists = Lists(P.service, P.service_left, P.waiting, P.wait_since, P.wait_priority)
        residents = Residents(
            P.present,
            P.knows_services,
            P.status,
            P.marginalized,
            P.distress,
            P.household,
            m.households.municipality,
            _ascending(np.asarray(strained_households, np.int64)),
        )
        points = Points(self.kind, self.nearest, self.episode_of, m.committees.org_links)
        need = np.asarray(m.need, np.int64)
        clients, caseload, line, free = self._start_week(need, lists, residents)
        seen, free = self._outreach(need, clients, line, free)
        self._refer_and_admit(
            np.asarray(helper_referred, np.int64), clients, caseload, line, seen, free, lists, residents, points
        )

    def _start_week(self, need: np.ndarray, lists: Lists, residents: Residents) -> tuple:
        """This week's places; episodes end and people who left the RCM or waited too long
        leave their service and list. Return the clients and each organization's
        caseload, the rows still waiting in line, and who of ``need`` may ask."""
        m, P = self.model, self.model.people
        iv = m.interventions
        community_share, extra, psy = 1.0, 0.0, -1
        if not iv.active("regional_conference"):
            community_share = 1.0 - iv.params("regional_conference")["community_capacity"]
        if iv.active("in_plant_services") and len(self.rows[PSY]):
            psy = self.rows[PSY][0]
            extra = iv.params("in_plant_services")["caseload"] * m.config["run.scale"]
        if len(self._mark) < P.n:
            self._mark = np.zeros(len(P.present), np.bool_)
        if self._served is None:  # find them: the first week, or after _admit
            self._served, self._queue, self._places = _served_and_waiting(P.n, lists)
        self.capacity, clients, caseload, queue, places, gave_up, free = _week_start_kernel(
            self._served,
            Line(self._queue, self._places),
            m.week,
            float(self.p["max_wait_weeks"]),
            Capacity(self.base_capacity, self.rows[COM], float(community_share), int(psy), float(extra)),
            need,
            lists,
            residents,
            self._mark,
        )
        self.counts["gave_up"] += gave_up
        return clients, caseload, Line(queue, places), free

    def _outreach(self, need: np.ndarray, clients: np.ndarray, line: Line, free: np.ndarray) -> tuple[Line, np.ndarray]:
        """The in-plant services and the support committee's outreach, when active (their
        own streams). Return the rows the social worker put on the list (with their
        places) and who of ``need`` may still ask."""
        m, P = self.model, self.model.people
        iv = m.interventions
        outreach = False
        seen = Line(self._none, self._none)
        if iv.active("in_plant_services"):
            rows = self._in_plant(need)
            seen = Line(rows, _places_kernel(rows, P.waiting, P.wait_since, P.wait_priority))
            outreach = True
        if iv.active("support_committee"):
            r = m.streams["support_committee"]
            d = m.shocks.displaced
            d = d[P.present[d] & ~P.knows_services[d]]
            learn = bernoulli(r, d, iv.params("support_committee")["outreach_knowledge_rate"])
            P.knows_services[learn] = True
            outreach = True
        if outreach:  # who knows the services and who waits have changed
            free = _free_to_ask_kernel(need, P.knows_services, clients, line.rows, seen.rows, self._mark)
        return seen, free

    def _refer_and_admit(
        self,
        helper_referred: np.ndarray,
        clients: np.ndarray,
        caseload: np.ndarray,
        line: Line,
        seen: Line,
        free: np.ndarray,
        lists: Lists,
        residents: Residents,
        points: Points,
    ) -> None:
        """Self-referrals of those ``free`` to ask, helpers' referrals, organizations'
        referrals, then admission; the week's counts and measures."""
        m, p = self.model, self.p
        rng = m.streams["services"]
        # Uniforms, in this order: self-referral of each person free to ask, friction of each
        # helper's referral, and each client's referral by their organization for each need
        # (one draw: the same numbers as one draw each).
        n_free, n_helper = len(free), len(helper_referred)
        u = rng.random(n_free + n_helper + len(SERVICES) * len(clients))
        # Referrals between organizations that know each other; then one friction uniform each.
        org_referred, org_kinds, self.last_org_referrals = _org_referral_candidates_kernel(
            clients,
            u[n_free + n_helper :].reshape(len(SERVICES), len(clients)),
            float(p["org_referral_rate"]),
            np.float32(self.threshold),
            lists,
            residents,
            points,
        )  # distress is float32: compared in float32
        u_friction = rng.random(len(org_referred))
        # Onto the lists, then admission.
        n_self, n_helper, n_org, admitted, self._served, self._queue, self._places = _lists_and_admission_kernel(
            line,
            seen,
            Requests(free, helper_referred, org_referred, org_kinds),
            Draws(u[:n_free], u[n_free : n_free + n_helper], u_friction),
            Rates(float(p["self_referral_rate"]), float(self._marginal_reach()), float(self._friction())),
            m.week,
            caseload,
            self.capacity,
            clients,
            lists,
            residents,
            points,
        )
        self.caseload = caseload
        self.clients, self.waiting = len(self._served), len(self._queue)
        self._measure_psychosocial(clients, m.week)
        self.counts["self_referrals"] += n_self
        self.counts["helper_referrals"] += n_helper
        self.counts["org_referrals"] += n_org
        self.counts["admitted"] += admitted

    def _measure_psychosocial(self, clients_before: np.ndarray, week: int) -> None:
        """The psychosocial service's admissions this week, their mean wait in weeks, and
        how many wait on its lists."""
        P = self.model.people
        served = self._served
        new = served[~np.isin(served, clients_before, assume_unique=True)]
        new = new[self.kind[P.service[new]] == PSY]
        self.psy_admitted = len(new)
        self.psy_wait_weeks = float((week - P.wait_since[new]).mean()) if len(new) else float("nan")
        self.psy_waiting = int(np.count_nonzero(self.kind[P.waiting[self._queue]] == PSY))

    def _marginal_reach(self) -> float:
        return self.model.interventions.marginalized_reach(self.model.config["cohesion.marginalized_reach"])

    def _in_plant(self, need: np.ndarray) -> np.ndarray:
        """The in-plant services' week; return the rows the social worker put on the list."""
        m, P = self.model, self.model.people
        iv = m.interventions
        q = iv.params("in_plant_services")
        r = m.streams["in_plant_services"]
        O = m.orgs
        n = P.n
        scope = iv["in_plant_services"]  # the plants it serves
        at = np.flatnonzero(P.at_plant[:n] & (P.status[:n] == Status.EMPLOYED))
        at = at[scope.serves_plant(P.employer[at])]
        emp = P.employer[at]
        at = at[O.announced[emp] & O.open[emp]]
        learn = bernoulli(r, at[~P.knows_services[at]], q["knowledge_rate"])
        P.knows_services[learn] = True
        # The social worker sees distressed workers of announced plants and those laid off
        # in the last ``recent_layoff_weeks`` weeks, without referral friction.
        d = m.shocks.displaced
        recent = d[
            (m.week - P.displaced_week[d] < q["recent_layoff_weeks"])
            & P.present[d]
            & scope.serves_layoff(P.displaced_by[d])
        ]
        plant = np.union1d(at, recent)
        distressed = np.intersect1d(plant, need, assume_unique=True)
        seen = bernoulli(r, distressed, q["outreach_rate"])
        listed = seen[:0]
        if len(self.rows[PSY]):
            seen = listed = seen[(P.service[seen] < 0) & (P.waiting[seen] < 0)]
            P.waiting[seen] = self.rows[PSY][0]
            P.wait_since[seen] = m.week
            P.wait_priority[seen] = True  # first in line
        self.counts["outreach"] += len(seen)
        others = m.adults[~P.knows_services[m.adults]]
        P.knows_services[bernoulli(r, others, q["article_knowledge_rate"])] = True
        return listed

    def _admit(self) -> None:
        """Serve the waiting lists in order of arrival, up to each organization's free places;
        count the clients and those still waiting (the weekly step admits in
        ``_lists_and_admission_kernel``)."""
        P = self.model.people
        service = P.service[: P.n]
        caseload = np.bincount(service[service >= 0], minlength=len(self.capacity))
        queue = np.flatnonzero(P.waiting[: P.n] >= 0)
        places = _places_kernel(queue, P.waiting, P.wait_since, P.wait_priority)
        self.clients, admitted, self.waiting = _admit_kernel(
            caseload,
            Line(queue, places),
            self.capacity,
            self.episode_of,
            Lists(P.service, P.service_left, P.waiting, P.wait_since, P.wait_priority),
        )
        self.caseload = caseload
        self.counts["admitted"] += admitted
        self._served = None  # found again at the next step
