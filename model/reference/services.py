"""Formal services and referrals, one week, in plain NumPy (ODD 7.8, docs/ODD.md).

The mechanism of ``model/submodels/services.py`` stated directly, for a reader to hold
beside its ODD section and for the tests to check the compiled fast path against. It
covers the weekly order without the interventions' own steps (in-plant services and the
support committee's outreach, which run on their own streams):

1. this week's places: the base places, community places cut while the regional
   conference is gone, extra places at the CSSS, rounded;
2. episodes count down and end at zero or when the client left the RCM;
3. persons on a list who left or waited more than ``max_wait_weeks`` give up;
4. self-referrals, 5. helpers' referrals, 6. organizations' referrals, each onto the list
   of the nearest organization of the kind asked for; nobody waits on two lists, and
   only a client referred by their own organization waits while served;
7. each list is served in order (first in line, then week joined, then row) up to its
   organization's free places.

The uniforms are drawn from ``rng`` in the fast path's order: one per person free to ask,
one per helper's referral, one per client and service; then one per organization's
referral.
"""

from __future__ import annotations

import numpy as np

PSY, EMP, COM = 0, 1, 2  # model.state.SERVICES
LISTS = ("service", "service_left", "waiting", "wait_since", "wait_priority")


def step(s: dict, people: dict, orgs: dict, p: dict, need, helper_referred, week: int, rng) -> dict:
    """One week. ``s``: the arrays of ``LISTS`` by person row (changed in place).
    ``people``: present, knows, jobless, marginalized, distress, household (by person),
    municipality (by household), strained (households). ``orgs``: kind, nearest
    (municipality x kind), episode, links, base_capacity, community_share, extra_row,
    extra. ``p``: max_wait, self_rate, reach, friction, org_rate, threshold. Returns the
    week's counts and capacity."""
    service, waiting = s["service"], s["waiting"]
    n_orgs = len(orgs["kind"])
    # 1. Places.
    cap = orgs["base_capacity"] * np.where(orgs["kind"] == COM, orgs["community_share"], 1.0)
    if orgs["extra_row"] >= 0:
        cap[orgs["extra_row"]] += orgs["extra"]
    capacity = np.rint(cap).astype(np.int64)
    # 2. Episodes end.
    served = np.flatnonzero(service >= 0)
    s["service_left"][served] -= 1
    ends = served[(s["service_left"][served] <= 0) | ~people["present"][served]]
    service[ends] = -1
    clients = np.flatnonzero(service >= 0)
    # 3. Giving up.
    listed = np.flatnonzero(waiting >= 0)
    gives_up = listed[~people["present"][listed] | (week - s["wait_since"][listed] > p["max_wait"])]
    waiting[gives_up] = -1
    s["wait_priority"][gives_up] = False
    # Draws.
    need = np.asarray(need, np.int64)
    free = need[people["knows"][need] & (service[need] < 0) & (waiting[need] < 0)]
    helper_referred = np.asarray(helper_referred, np.int64)
    u = rng.random(len(free) + len(helper_referred) + 3 * len(clients))
    u_self, u_helper = u[: len(free)], u[len(free) : len(free) + len(helper_referred)]
    u_org = u[len(free) + len(helper_referred) :].reshape(3, len(clients))
    home = people["municipality"][people["household"]]  # by person
    strained = np.isin(people["household"], people["strained"])  # by person
    # 4. Self-referral: the employment centre if jobless, else the community service if
    # the household is under strain, else the psychosocial service.
    rate = p["self_rate"] * np.where(people["marginalized"][free], p["reach"], 1.0)
    asks = free[u_self < rate]
    kind_self = np.where(people["jobless"][asks], EMP, np.where(strained[asks], COM, PSY))
    # 5. Helpers' referrals to the psychosocial service, lost to friction.
    helped = helper_referred[u_helper >= p["friction"]]
    # 6. Organizations' referrals: for each need their organization does not meet, to the
    # nearest organization meeting it, if the two know each other; lost to friction.
    has_need = np.stack([people["distress"][clients] >= p["threshold"], people["jobless"][clients], strained[clients]])
    kinds, cols = np.nonzero((u_org < p["org_rate"]) & has_need)  # service-major, then client
    who = clients[cols]
    frm, dest = service[who], orgs["nearest"][home[who], kinds]
    ok = (orgs["kind"][frm] != kinds) & (dest >= 0)
    ok[ok] = orgs["links"][frm[ok], dest[ok]]
    who, kinds = who[ok], kinds[ok]
    kept = rng.random(len(who)) >= p["friction"]
    # Onto the lists, in that order: the first request of a person counts; a person served
    # asks only when referred on by their own organization.
    cand = np.concatenate([asks, helped, who[kept]])
    kind = np.concatenate([kind_self, np.full(len(helped), PSY), kinds[kept]])
    served_ok = np.repeat([False, False, True], [len(asks), len(helped), kept.sum()])
    stage = np.repeat([0, 1, 2], [len(asks), len(helped), kept.sum()])
    org = orgs["nearest"][home[cand], kind]
    ok = (waiting[cand] < 0) & (served_ok | (service[cand] < 0)) & (org >= 0) & (org != service[cand])
    cand, org, stage = cand[ok], org[ok], stage[ok]
    _, first = np.unique(cand, return_index=True)
    first = np.sort(first)
    cand, org, stage = cand[first], org[first], stage[first]
    waiting[cand], s["wait_since"][cand], s["wait_priority"][cand] = org, week, False
    # 7. Admission, in line, up to the free places.
    caseload = np.bincount(service[clients], minlength=n_orgs)
    free_places = np.maximum(capacity - caseload, 0)
    line = np.flatnonzero(waiting >= 0)
    line = line[np.lexsort((line, s["wait_since"][line], ~s["wait_priority"][line], waiting[line]))]
    at = waiting[line].astype(np.int64)
    rank = np.arange(len(line)) - np.searchsorted(at, at, side="left")
    admit, to = line[rank < free_places[at]], at[rank < free_places[at]]
    service[admit], s["service_left"][admit] = to, orgs["episode"][to]
    waiting[admit], s["wait_priority"][admit] = -1, False
    return {
        "capacity": capacity,
        "gave_up": len(gives_up),
        "self_referrals": int((stage == 0).sum()),
        "helper_referrals": int((stage == 1).sum()),
        "org_referrals": int((stage == 2).sum()),
        "admitted": len(admit),
    }
