"""What a click shows: what a municipality, a plant or an organization holds now.

Read from the model under the session's lock (``Session.lock``); each function returns a
title and a list of (label, value) rows, plus for a municipality its organizations and
for an organization its partners.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.state import COMMITTEES, DOMAINS, ORG_KINDS, Status
from viz.controls import INTERVENTION_SHORT

KIND_NAMES = {
    "plant": "plant",
    "public_service": "public service",
    "community": "community group",
    "government": "government body",
    "union": "union",
    "employer": "employer",
    "informal_place": "informal place (shop, hair salon)",
}
INSTITUTIONAL = ("public_service", "community", "government", "union")


@dataclass
class Details:
    kind: str  # "municipality", "plant" or "organization"
    title: str
    rows: list[tuple[str, str]]
    organizations: list[tuple[int, str]] = field(default_factory=list)  # (org row, name) one can click
    partners: list[str] = field(default_factory=list)
    note: str = ""


def _pct(num: float, den: float) -> str:
    return f"{100 * num / den:.1f}%" if den else "no one to count"


def _n(x: float) -> str:
    return f"{int(round(x)):,}"


def municipality(model, m: int) -> Details:
    P, H, O = model.people, model.households, model.orgs
    n = P.n
    muni = H.municipality[P.household[:n]]
    here = P.present[:n] & (muni == m)
    status = P.status[:n]
    adult = np.zeros(n, bool)
    adult[model.adults] = True
    adults = here & adult
    lf = here & ((status == Status.EMPLOYED) | (status == Status.UNEMPLOYED))
    unemployed = here & (status == Status.UNEMPLOYED)
    displaced = np.zeros(n, bool)
    displaced[model.shocks.displaced] = True
    laid_off = here & displaced
    high = adults & (P.distress[:n] >= model.config["distress.high_threshold"])
    supported = high & (model.week - P.support_week[:n] < model.config["support.memory_weeks"])
    served = high & (P.service[:n] >= 0)
    scale = model.config["run.scale"]
    rows = [
        (
            "Residents",
            _n(here.sum()) + (f" model persons (about {_n(here.sum() / scale)} people)" if scale != 1 else ""),
        ),
        ("Unemployed", f"{_n(unemployed.sum())} ({_pct(unemployed.sum(), lf.sum())} of the labour force)"),
        (
            "Laid-off workers living here",
            f"{_n(laid_off.sum())}, of whom {_n((laid_off & (status == Status.EMPLOYED)).sum())} back in a job",
        ),
        ("Mean distress of adults", f"{P.distress[:n][adults].mean():.2f} SD" if adults.any() else "no adults"),
        ("Adults in high distress", f"{_n(high.sum())} ({_pct(high.sum(), adults.sum())})"),
        ("…who received informal support lately", f"{_n(supported.sum())} ({_pct(supported.sum(), high.sum())})"),
        ("…in a formal service", f"{_n(served.sum())} ({_pct(served.sum(), high.sum())})"),
        ("Adults who know the local services", _pct((adults & P.knows_services[:n]).sum(), adults.sum())),
        ("Mean sense of belonging", f"{P.belonging[:n][adults].mean():.2f} (0-1)" if adults.any() else "no adults"),
        ("Adults taking part in community activities", _pct((adults & P.participates[:n]).sum(), adults.sum())),
    ]
    kinds = np.array(ORG_KINDS)[O.kind[: O.n]]
    own = O.municipality[: O.n] == m
    counts = ", ".join(
        f"{int((own & (kinds == k)).sum())} {KIND_NAMES[k]}{'s' if (own & (kinds == k)).sum() > 1 else ''}"
        for k in ORG_KINDS
        if (own & (kinds == k)).any()
    )
    rows.append(("Organizations", counts or "none"))
    names = model.population.org_names
    orgs = [(int(r), names[r]) for r in np.flatnonzero(own & np.isin(kinds, INSTITUTIONAL + ("plant",)))]
    return Details("municipality", model.municipality_names[m], rows, orgs)


def organization(model, row: int) -> Details:
    O, P = model.orgs, model.people
    n = P.n
    kind = ORG_KINDS[O.kind[row]]
    names = model.population.org_names
    rows = [
        ("Kind", KIND_NAMES.get(kind, kind)),
        ("Sector", DOMAINS[O.domain[row]]),
        ("Municipality", model.municipality_names[O.municipality[row]]),
    ]
    present = P.present[:n]
    employees = int((present & (P.employer[:n] == row)).sum())
    if kind == "plant":
        closure = next(
            (
                c
                for c in model.timeline.closures
                if model.population.plant_of_closure.get(model.timeline.closures.index(c)) == row
            ),
            None,
        )
        state = "closed" if not O.open[row] else ("closure announced" if O.announced[row] else "open")
        rows.append(("State", state))
        if closure is not None:
            rows.append(("Closure announced", closure.announced.isoformat()))
            rows.append(("Closure date", closure.closed.isoformat()))
        idx = [k for k, r in model.population.plant_of_closure.items() if r == row]
        laid = np.flatnonzero(np.isin(P.displaced_by[:n], idx)) if idx else np.zeros(0, np.int64)
        rows.append(("Employees now", _n(employees)))
        rows.append(("Laid off so far", _n(len(laid))))
        if len(laid):
            st, here = P.status[laid], P.present[laid]
            rows.append(("…back in a job", _n((here & (st == Status.EMPLOYED)).sum())))
            rows.append(("…in training", _n((here & (st == Status.TRAINING)).sum())))
            rows.append(("…searching", _n((here & (st == Status.UNEMPLOYED)).sum())))
            rows.append(("…moved away or died", _n((~here).sum())))
            high = here & (P.distress[laid] >= model.config["distress.high_threshold"])
            rows.append(("…in high distress", _n(high.sum())))
        served = model.interventions["in_plant_services"]
        if served.on and served.serves_plant(np.array([row])).any():
            rows.append(("Social worker in the plant", "yes, now"))
        return Details("plant", names[row], rows)
    if employees:
        rows.append(("Employees", _n(employees)))
    clients = int((present & (P.service[:n] == row)).sum())
    waiting = int((present & (P.waiting[:n] == row)).sum())
    if O.service[row] >= 0:
        rows.append(("Clients now", _n(clients)))
        rows.append(("Waiting list", _n(waiting)))
    member_of = [c for i, c in enumerate(COMMITTEES) if O.committees[row] & (1 << i)]
    active = [c for c in member_of if model.interventions.active(f"{c}_committee")]
    rows.append(
        (
            "Committees",
            ", ".join(
                f"{INTERVENTION_SHORT.get(c + '_committee', c).lower()}{' (meeting now)' if c in active else ''}"
                for c in member_of
            )
            or "none",
        )
    )
    partners = []
    c = model.committees
    where = np.flatnonzero(c.members == row)
    if len(where):
        i = int(where[0])
        for j in np.flatnonzero(c.links[i] | c.links[:, i]):
            formed = not (c.base[i, j] or c.base[j, i])
            partners.append(names[c.members[j]] + (" (met through a committee)" if formed else ""))
        rows.append(("Partners (know each other's missions)", str(len(partners))))
    else:
        rows.append(("Partners", "not in the partnership network"))
    return Details("organization", names[row], rows, partners=partners)
