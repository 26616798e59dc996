"""Shocks: the timeline's announcements, layoff waves and closures, replayed weekly.

A wave dated in the week that starts on the step's date lays off exactly its (scaled)
number of the plant's workers, chosen at random among them; the labour market turns them
into displaced job seekers with an EI claim. An announcement flags the plant; a closure
date marks it closed. Fifty-two weeks after each wave, the wave's workers are followed
up: how many are re-employed, retraining, retired, still searching, or otherwise out of
the labour force or gone (the outcome categories of the comparable Estrie closure,
[press-estrie-closure-2007] in docs/references.md).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ..state import Status
from ..timeline import ScheduledWave

FOLLOW_UP_WEEKS = 52
OUTCOMES = {
    "reemployed_12m": (Status.EMPLOYED,),
    "training_12m": (Status.TRAINING,),
    "retired_12m": (Status.RETIRED,),
    "searching_12m": (Status.UNEMPLOYED,),
    "other_12m": (Status.INACTIVE, Status.GONE, Status.CHILD),
}


class Shocks:
    def __init__(self, model, waves: list[ScheduledWave]):
        self.model = model
        self.waves = waves
        self.next = 0  # index of the next wave to replay
        self.plant_of_closure = model.population.plant_of_closure
        self.jobs_lost = 0
        self.events: list[dict] = []  # one per wave replayed, for layoffs.parquet
        self._followups: list[tuple[int, int, np.ndarray]] = []  # (due week, event, rows)
        self.displaced = np.zeros(0, np.int64)  # rows of everyone laid off so far
        self.remaining: dict[int, int] = {}  # plant row -> workers the waves still to come lay off
        for w in waves:
            row = self.plant_of_closure[w.closure]
            self.remaining[row] = self.remaining.get(row, 0) + w.workers
        # Announcements and closures of the plants, in date order: (date, row, announced
        # if True, else closed); those dated before the end of a week apply from that week.
        closures = model.timeline.closures
        self._plant_events = sorted(
            [(closures[c].announced, row, True) for c, row in self.plant_of_closure.items()]
            + [(closures[c].closed, row, False) for c, row in self.plant_of_closure.items()],
            key=lambda e: e[0],
        )
        self._next_event = 0

    def step(self) -> None:
        m = self.model
        week_end = m.date + timedelta(days=7)
        timeline = m.timeline
        orgs = m.orgs
        events = self._plant_events
        while self._next_event < len(events) and events[self._next_event][0] < week_end:
            _, row, announced = events[self._next_event]
            self._next_event += 1
            if announced:
                orgs.announced[row] = True
            else:
                orgs.open[row] = False
        rng = m.streams["shocks"]
        P = m.people
        while self._followups and self._followups[0][0] <= m.week:
            _, e, ids = self._followups.pop(0)
            status = P.status[ids]
            for name, codes in OUTCOMES.items():
                self.events[e][name] = int(np.isin(status, codes).sum())
        while self.next < len(self.waves) and self.waves[self.next].date < week_end:
            w = self.waves[self.next]
            self.next += 1
            row = self.plant_of_closure[w.closure]
            self.remaining[row] -= w.workers
            if not self.remaining[row]:
                del self.remaining[row]
            n = P.n
            staff = np.flatnonzero(P.employer[:n] == row)
            staff = staff[P.status[staff] == Status.EMPLOYED]
            ids = np.sort(rng.choice(staff, size=min(w.workers, len(staff)), replace=False))
            c = timeline.closures[w.closure]
            m.labour.displace(ids, w.closure, c.severance_weeks)
            m.ties.cut_workplace_ties(ids, m.streams["workplace_ties"])
            self.displaced = np.concatenate([self.displaced, ids])
            self.jobs_lost += len(ids)
            self.events.append(
                {
                    "date": w.date,
                    "week": m.week,
                    "employer": c.employer,
                    "closure_id": c.id,
                    "municipality": m.municipality_names[m.orgs.municipality[row]],
                    "workers": int(len(ids)),
                    "workers_scheduled": int(w.workers),
                    **{name: None for name in OUTCOMES},
                }
            )
            self._followups.append((m.week + FOLLOW_UP_WEEKS, len(self.events) - 1, ids))
