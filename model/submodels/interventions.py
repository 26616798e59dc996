"""Interventions: the local responses, each an object with its dates, parameters and effects.

Each intervention is a section ``interventions.NAME`` of ``configs/base.toml`` with
``enabled`` (the scenario switch), ``start`` and ``end`` (months, ``YYYY-MM``): it is
active in the weeks that start on or after the first day of ``start`` and before the
first day of ``end``. Scenarios (``configs/scenarios/``) switch interventions on and move
their dates; the 2015 withdrawal is the end date of the committees and of the CSSS's
modes (the merger of 1 April 2015) and of the regional conference (31 March 2016).

Every week ``Interventions.update`` sets which are active; the submodels then ask the
objects for their effects:

- ``in_plant_services`` (``InPlantServices``): the plants it serves (Olymel only by
  default: the social worker was placed in that plant), for ``submodels/services.py``;
- ``recovery_committee`` (``RecoveryCommittee``): its members for the organization
  network; jobs it helped create, which ramp up while it meets and persist after it
  ends (firms do not destroy jobs when a committee stops meeting); the employment-
  transition subcommittee's search boost;
- ``support_committee`` (``SupportCommittee``): its members; outreach to displaced
  workers (services); it produced the Guide;
- ``guide`` (``Guide``): the Guide de l'aidant, circulated while the support committee
  meets by its member organizations (to their clients) and by informal places (to
  customers with a tie to a laid-off worker), and passed on by the laid-off workers and
  their households to their ties. Who gets a copy, who reads it, and what a reader does
  are separate steps: a reader knows the local services, helps a little more often when
  told of someone's distress (far less than intention rises), and counts as reached by
  the community's concerted action (user mode to engagement mode);
- ``helper_training`` (``HelperTraining``): the training-sessions variant, with the
  sourced effects of gatekeeper training, for users who study a programme;
- ``csss_structural``, ``csss_cross_sectoral``, ``csss_reinforcement``: the three modes of
  the CSSS's 2011 community policy;
- ``regional_conference`` (``RegionalConference``): outside resources active in every
  scenario from 2003 (community groups' capacity, the rural pacts' development agents);
  its end is what the withdrawal removes.

Committees work between organizations: their effect on residents' participation passes
only through the organizations' reach (``Interventions.reached``). A local response that
is enabled but never active changes nothing: it draws no random numbers and its effects
are multiplications by one or additions of zero.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from ..config import ConfigError, parse_month
from ..constants import DEMOGRAPHY_PERIOD_WEEKS, WORKING_AGE
from ..state import COMMITTEES, ORG_KINDS
from ..streams import bernoulli

NAMES = (
    "in_plant_services",
    "recovery_committee",
    "support_committee",
    "guide",
    "helper_training",
    "csss_structural",
    "csss_cross_sectoral",
    "csss_reinforcement",
    "regional_conference",
)
CLIENT_FACING = ("public_service", "community")  # organizations that serve residents


class Intervention:
    """One local response: its window, whether it is active this week, and for how long it
    has been active so far."""

    def __init__(self, name: str, params: dict):
        self.name = name
        self.p = params
        where = f"interventions.{name}"
        start = parse_month(params["start"], f"{where}.start")
        end = parse_month(params["end"], f"{where}.end")
        self.window: tuple[date, date] | None = (start, end) if params["enabled"] else None
        self.on = False
        self.first_week: int | None = None
        self.weeks_active = 0

    def initialize(self, model) -> None:
        """Set-up that needs the model's organizations and timeline."""

    def in_window(self, today: date) -> bool:
        return self.window is not None and self.window[0] <= today < self.window[1]

    def update(self, today: date, week: int, others: Interventions) -> None:
        self.on = self.in_window(today)
        if self.on:
            self.weeks_active += 1
            if self.first_week is None:
                self.first_week = week


def _committee_members(model, committee: str) -> np.ndarray:
    O = model.orgs
    return np.flatnonzero((O.committees[: O.n] & (1 << COMMITTEES.index(committee))) > 0)


class InPlantServices(Intervention):
    def initialize(self, model) -> None:
        ids = [c.id for c in model.timeline.closures]
        served = {name.strip() for name in self.p["plants"].split(",") if name.strip()}
        unknown = sorted(served - set(ids))
        if unknown:
            raise ConfigError(
                f"interventions.in_plant_services.plants: unknown closure {unknown[0]!r}; known: {', '.join(ids)}"
            )
        self.closures = np.array([i for i, c in enumerate(model.timeline.closures) if c.id in served], np.int64)
        self.plant_rows = np.array(
            [row for c, row in model.population.plant_of_closure.items() if c in set(self.closures.tolist())], np.int64
        )

    def serves_plant(self, employer_rows: np.ndarray) -> np.ndarray:
        return np.isin(employer_rows, self.plant_rows)

    def serves_layoff(self, closures: np.ndarray) -> np.ndarray:
        return np.isin(closures, self.closures)


class RecoveryCommittee(Intervention):
    def initialize(self, model) -> None:
        self.members = _committee_members(model, "recovery")

    def jobs(self) -> float:
        """Jobs it helped create (scale 1): they ramp up over ``jobs_ramp_weeks`` of
        meetings and stay once created."""
        ramp = max(float(self.p["jobs_ramp_weeks"]), 1.0)
        return self.p["jobs_created"] * min(self.weeks_active / ramp, 1.0)


class SupportCommittee(Intervention):
    def initialize(self, model) -> None:
        self.members = _committee_members(model, "support")


class Guide(Intervention):
    """The Guide de l'aidant: produced by the support committee, circulated while it meets."""

    def initialize(self, model) -> None:
        self.model = model
        self.committee_members = _committee_members(model, "support")
        O = model.orgs
        places = np.flatnonzero(O.kind[: O.n] == ORG_KINDS.index("informal_place"))
        # The informal places that carry the Guide, drawn once (from the Guide's own stream,
        # only when the Guide is enabled, so a scenario without it draws nothing).
        self.places = np.zeros(0, np.int64)
        if self.window is not None:
            pick = model.streams["guide"].random(len(places)) < self.p["place_share"]
            self.places = places[pick]
        self.copies = self.readers = 0

    def update(self, today: date, week: int, others: Interventions) -> None:
        # Circulated by the support committee's members: only while the committee meets.
        self.on = self.in_window(today) and others.active("support_committee")
        if self.on:
            self.weeks_active += 1
            if self.first_week is None:
                self.first_week = week

    def circulate(self) -> None:
        """One week of circulation: copies handed out, passed on, read."""
        m = self.model
        P, _O = m.people, m.orgs
        rng = m.streams["guide"]
        n = P.n
        adults = m.adults
        without = adults[P.guide_week[adults] < 0]
        # Member organizations hand copies to their clients.
        served = without[P.service[without] >= 0]
        clients = served[np.isin(P.service[served], self.committee_members)]
        got = [bernoulli(rng, clients, self.p["org_hand_out_rate"])]
        # Informal places that carry it hand copies to customers who know a laid-off worker.
        if len(self.places):
            ties = m.ties
            place_slot = ties.span["informal_place"]
            if len(place_slot):
                customers = without[np.isin(ties.slots[without, place_slot[0]], self.places)]
                displaced = np.zeros(n, bool)
                displaced[m.shocks.displaced] = True
                knows = np.zeros(len(customers), bool)
                for j in np.flatnonzero(~ties.slot_is_place):
                    t = ties.targets(customers, np.full(len(customers), j))
                    knows |= (t >= 0) & displaced[np.maximum(t, 0)]
                got.append(bernoulli(rng, customers[knows], self.p["place_hand_out_rate"]))
        new = np.unique(np.concatenate(got))
        # Laid-off workers and their households pass copies on to their ties.
        hit = np.zeros(m.households.n, bool)
        hit[P.household[m.shocks.displaced]] = True
        passers = new[hit[P.household[new]]]
        if len(passers):
            slots = np.repeat(np.arange(m.ties.k), len(passers))
            to = m.ties.targets(np.tile(passers, m.ties.k), slots)
            to = np.unique(to[to >= 0])
            to = to[(P.guide_week[to] < 0) & (P.age[to] >= WORKING_AGE)]
            new = np.union1d(new, bernoulli(rng, to, self.p["pass_on"]))
        if len(new) == 0:
            return
        P.guide_week[new] = m.week
        read = bernoulli(rng, new, self.p["read_share"])
        P.guide_read[read] = True
        P.knows_services[read] = True  # the Guide lists the local resources
        self.copies += len(new)
        self.readers += len(read)


class HelperTraining(Intervention):
    """Training sessions with the Guide: ``trainees`` residents (at scale 1), spread evenly
    over the active weeks, chosen by ``target``."""

    def initialize(self, model) -> None:
        self.model = model
        self.trained_total = 0
        self._owed = 0.0  # fractional trainees carried to the next week
        self._pool_cache: tuple[int, np.ndarray] | None = None
        self.pool_weeks = DEMOGRAPHY_PERIOD_WEEKS

    def train(self) -> None:
        m, P = self.model, self.model.people
        rng = m.streams["helper_training"]
        start, end = self.window
        weeks = max((end - start).days / 7.0, 1.0)
        self._owed += self.p["trainees"] * m.config["run.scale"] / weeks
        count = int(self._owed)
        self._owed -= count
        n = P.n
        if self.p["refresher_weeks"] > 0:
            t = P.trained_week[:n]
            due = np.flatnonzero((t >= 0) & (m.week - t >= self.p["refresher_weeks"]) & P.present[:n])
            P.trained_week[due] = m.week
        if count <= 0:
            return
        if self._pool_cache is None or m.week - self._pool_cache[0] >= self.pool_weeks:
            self._pool_cache = (m.week, self._pool(self.p["target"]))  # candidates, renewed every period
        pool = self._pool_cache[1]
        adult_age = WORKING_AGE
        pool = pool[(P.trained_week[pool] < 0) & P.present[pool] & (P.age[pool] >= adult_age)]
        if len(pool) == 0:
            return
        chosen = rng.choice(pool, size=min(count, len(pool)), replace=False)
        P.trained_week[chosen] = m.week
        P.knows_services[chosen] = True  # the Guide lists the local resources
        self.trained_total += len(chosen)

    def _pool(self, target: str) -> np.ndarray:
        m, P = self.model, self.model.people
        ties = m.ties
        if target == "random_residents":
            return np.flatnonzero(P.present[: P.n])
        if target == "service_workers":
            w = ties.place_worker[ties.places]
            return np.unique(w[w >= 0])
        displaced = m.shocks.displaced
        displaced = displaced[P.present[displaced]]
        slots = ties.span["coworkers"] if target == "coworkers_of_displaced" else np.arange(ties.k)
        found = [ties.targets(displaced, np.full(len(displaced), j)) for j in slots]
        pool = np.concatenate(found) if found else np.zeros(0, np.int64)
        return np.unique(pool[pool >= 0])

    def decay_weeks(self) -> float:
        """Weeks over which the helping shift falls by a factor e: from ``action_smd`` right
        after training to ``action_smd_long`` after ``long_term_weeks``."""
        short, long_ = self.p["action_smd"], self.p["action_smd_long"]
        if short <= 0 or long_ <= 0 or long_ >= short:
            return math.inf if long_ >= short and short > 0 else 1e-9
        return self.p["long_term_weeks"] / math.log(short / long_)


class CrossSectoral(Intervention):
    def initialize(self, model) -> None:
        O = model.orgs
        self.client_facing = np.flatnonzero(np.isin(O.kind[: O.n], [ORG_KINDS.index(k) for k in CLIENT_FACING]))


class RegionalConference(Intervention):
    def initialize(self, model) -> None:
        # Residents of the rural municipalities (all but the city of Magog, the most
        # populous): the rural pacts fund development agents there.
        self.city = int(np.argmax(model.territory.municipalities["pop_2011"].to_numpy(float)))


KINDS = {
    "in_plant_services": InPlantServices,
    "recovery_committee": RecoveryCommittee,
    "support_committee": SupportCommittee,
    "guide": Guide,
    "helper_training": HelperTraining,
    "csss_cross_sectoral": CrossSectoral,
    "regional_conference": RegionalConference,
}


class Interventions:
    def __init__(self, model):
        cfg = model.config
        self.model = model
        self.items: dict[str, Intervention] = {
            name: KINDS.get(name, Intervention)(name, cfg.section(f"interventions.{name}")) for name in NAMES
        }
        self.windows = {name: iv.window for name, iv in self.items.items()}
        self.first_active_week: dict[str, int] = {}
        self.active_names = ""  # the active ones, joined by ";" (the time series' column)

    def initialize(self) -> None:
        for iv in self.items.values():
            iv.initialize(self.model)

    def __getitem__(self, name: str) -> Intervention:
        return self.items[name]

    def update(self, today: date, week: int) -> None:
        """Set which interventions are active in the week starting ``today``."""
        before = self.snapshot()
        for name, iv in self.items.items():  # in NAMES order: the Guide after its committee
            iv.update(today, week, self)
            if iv.on and name not in self.first_active_week:
                self.first_active_week[name] = week
        if self.snapshot() != before or week == 0:
            self.active_names = ";".join(name for name, iv in self.items.items() if iv.on)

    def hold(self, today: date) -> None:
        """Set which interventions are in force on ``today`` without counting a week of
        activity (the social spin-up before the start)."""
        for iv in self.items.values():
            iv.on = iv.in_window(today)
        self.items["guide"].on = False  # circulates only in weeks of the run
        self.items["helper_training"].on = False
        self.active_names = ";".join(name for name, iv in self.items.items() if iv.on)

    def active(self, name: str) -> bool:
        return self.items[name].on

    def params(self, name: str) -> dict:
        return self.items[name].p

    def extra_jobs(self, scale: float) -> float:
        """Jobs added to labour demand by the interventions (model persons): those the
        recovery committee helped create (kept after it ends) and the CSSS's structural
        mode's, while it lasts."""
        jobs = self.items["recovery_committee"].jobs()
        if self.active("csss_structural"):
            jobs += self.params("csss_structural")["jobs_created"]
        return jobs * scale

    def marginalized_reach(self, base: float) -> float:
        """How often marginalized residents ask for services and start participating,
        relative to others: lifted by the cross-sectoral mode's inclusion actions."""
        if self.active("csss_cross_sectoral"):
            return max(base, self.params("csss_cross_sectoral")["inclusion_reach"])
        return base

    def reached(self, ids: np.ndarray) -> np.ndarray:
        """Which adults of ``ids`` a concerted structure reaches this week: clients of a
        member organization of an active committee (of any client-facing organization under
        the cross-sectoral mode), readers of the Guide, and residents of the rural
        municipalities while the regional conference funds their development agents. (The
        organizations' own staff are not modelled as residents.)"""
        m = self.model
        P = m.people
        orgs = [self.items[c].members for c in ("recovery_committee", "support_committee") if self.active(c)]
        if self.active("csss_cross_sectoral"):
            orgs.append(self.items["csss_cross_sectoral"].client_facing)
        out = np.zeros(len(ids), bool)
        if orgs:
            member = np.zeros(m.orgs.n + 1, bool)  # the last entry: no organization (-1)
            member[np.concatenate(orgs)] = True
            out |= member[P.service[ids]]
        if self.items["guide"].window is not None:
            out |= P.guide_read[ids]
        if self.active("regional_conference") and self.params("regional_conference")["rural_agents"]:
            out |= m.households.municipality[P.household[ids]] != self.items["regional_conference"].city
        return out

    def snapshot(self) -> dict[str, bool]:
        return {name: iv.on for name, iv in self.items.items()}
