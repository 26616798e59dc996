"""Outcomes that follow the people the closures touched, and marginalized residents.

The tracker reads the model's person arrays at the end of each week (after the
aggregates); it draws no random numbers and writes no model state, so a run with or
without it is the same run.

**Cohorts.** Each layoff wave the shocks replay opens a cohort, whose members are fixed at
the end of the layoff week, in three disjoint groups:

- ``workers``: the wave's laid-off persons (exactly its rows);
- ``household``: the other adults present in their households (not laid off in the wave);
- ``confidants``: the adults present whom the workers' tie slots point to
  (``Ties.targets``, a place's worker for a place slot), outside the worker's household,
  neither laid off in the wave nor in the household group; each counted once. These are
  the network the workers keep after the layoff: co-worker ties cut by the layoff
  (``Ties.cut_workplace_ties``) no longer point to anyone.

From the layoff week on, each member's ``ever_supported`` (received informal support in
some week since the layoff week: ``support_week``, the last week support was received, at
or after it) and ``ever_served`` (in a formal service, ``service >= 0``, at the end of
some week since the layoff week; checked every week) are kept. At the end of week ``layoff week + h`` for each
horizon ``h`` of :data:`HORIZON_WEEKS` (26, 52, 104 weeks: 6, 12 and 24 months) a snapshot
is taken of each group: how many members moved out of the RCM or died since the layoff
(over all members), and over the members still present: ever supported, ever served,
unmet need (high distress and neither support felt within ``support.memory_weeks`` weeks
nor a service), mean distress, high distress, employed (for workers: re-employed),
participating, and mean belonging. Members who left are counted as moved out or died and
are left out of every other measure.

**Marginalized residents.** At each year's last week (when the persons panel records),
the adults present, marginalized or not, are compared on the same measures, with
``ever_supported`` and ``ever_served`` over the calendar year (from the year's first week
or the run's).

Only the cohorts with a horizon still ahead are updated; their members are held in one
concatenated array, so a week costs one vectorised gather over them and one pass over
the persons' ``service`` (for the year's ``ever_served``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .constants import WORKING_AGE
from .jit import kernel
from .state import Exit, Status

HORIZON_WEEKS = (26, 52, 104)
HORIZON_MONTHS = (6, 12, 24)
GROUPS = ("workers", "household", "confidants")
RESIDENT_GROUPS = ("marginalized", "others")
# Counts kept per snapshot, in this order (sums of booleans, or of values for the means).
_COUNTS = (
    "members",
    "members_present",
    "moved_out",
    "died",
    "ever_supported",
    "ever_served",
    "unmet_need",
    "distress",
    "high_distress",
    "employed",
    "participation",
    "belonging",
)
# The outcome columns of cohorts.parquet and marginalized.parquet: (name, unit, denominator).
OUTCOMES = (
    ("ever_supported", "share", "present"),
    ("ever_served", "share", "present"),
    ("unmet_need", "share", "present"),
    ("distress", "distress score", "present"),
    ("high_distress", "share", "present"),
    ("employed", "share", "present"),
    ("participation", "share", "present"),
    ("belonging", "score 0-1", "present"),
    ("moved_out", "share", "members"),
    ("died", "share", "members"),
)
RESIDENT_OUTCOMES = tuple(o for o in OUTCOMES if o[0] not in ("moved_out", "died"))


_MOVED_ALONE, _MOVED_WITH_HOUSEHOLD, _DIED, _EMPLOYED = (
    Exit.MOVED_ALONE,
    Exit.MOVED_WITH_HOUSEHOLD,
    Exit.DIED,
    Status.EMPLOYED,
)


class Measured(NamedTuple):
    """The person arrays a snapshot reads."""

    present: np.ndarray
    exit_reason: np.ndarray
    distress: np.ndarray
    support_week: np.ndarray  # last week support was received
    service: np.ndarray  # organization serving the person, -1: none
    status: np.ndarray
    participates: np.ndarray
    belonging: np.ndarray


@kernel
def _counts(rows, since, served, week, high, memory, persons):
    """The counts of ``_COUNTS`` over ``rows`` (arrays ``persons``, a ``Measured``):
    supported means ``support_week >= since``; ``served`` is by position in ``rows``.
    Sums of distress and belonging in row order."""
    present, exit_reason, distress, support_week = (
        persons.present,
        persons.exit_reason,
        persons.distress,
        persons.support_week,
    )
    service, status, participates, belonging = (
        persons.service,
        persons.status,
        persons.participates,
        persons.belonging,
    )
    out = np.zeros(12)
    out[0] = len(rows)
    for j in range(len(rows)):
        i = rows[j]
        if not present[i]:
            r = exit_reason[i]
            out[2] += r == _MOVED_ALONE or r == _MOVED_WITH_HOUSEHOLD
            out[3] += r == _DIED
            continue
        out[1] += 1
        out[4] += support_week[i] >= since
        out[5] += served[j]
        d = distress[i]
        in_high = d >= high
        felt = week - support_week[i] < memory
        out[6] += in_high and not felt and service[i] < 0
        out[7] += d
        out[8] += in_high
        out[9] += status[i] == _EMPLOYED
        out[10] += participates[i]
        out[11] += belonging[i]
    return out


def _snapshot(
    P, rows: np.ndarray, since: int, served: np.ndarray, week: int, high: np.float32, memory: int
) -> np.ndarray:
    """The counts of ``_COUNTS`` over ``rows`` (supported: since week ``since``; ``served``
    by position in ``rows``)."""
    return _counts(
        np.asarray(rows, np.int64),
        since,
        served,
        week,
        high,
        memory,
        Measured(
            P.present, P.exit_reason, P.distress, P.support_week, P.service, P.status, P.participates, P.belonging
        ),
    )


def _shares(counts: np.ndarray, outcomes=OUTCOMES) -> dict[str, float]:
    """Shares and means from summed counts (NaN where the denominator is 0)."""
    c = dict(zip(_COUNTS, counts))
    out = {}
    for name, _unit, denominator in outcomes:
        d = c["members_present"] if denominator == "present" else c["members"]
        out[name] = c[name] / d if d > 0 else np.nan
    return out


class Cohorts:
    """The cohort tracker (see the module docstring). ``step()`` once a week, at the end."""

    def __init__(self, model):
        from .model import ends_year  # the persons panel's rule for a year's last week

        self.model = model
        self._ends_year = ends_year
        cfg = model.config
        self.high = np.float32(cfg["distress.high_threshold"])  # distress is float32, compared in float32
        self.memory = int(cfg["support.memory_weeks"])
        self.adult_age = WORKING_AGE
        self.cohorts: list[dict] = []  # one per layoff wave, in order
        self._events_seen = 0
        self._displaced_seen = 0
        # The members of the cohorts still followed, concatenated (each cohort's rows
        # together, its groups in order), with the cohort of each and its ever-served flag.
        self._rows = np.zeros(0, np.int64)
        self._cohort = np.zeros(0, np.int64)
        self._served = np.zeros(0, bool)
        self._due: dict[int, list[tuple[int, int]]] = {}  # week -> (cohort, horizon index) measured then
        self._year_served = np.zeros(0, bool)  # by person row, reset each year
        self._year_start = 0
        self.residents: list[dict] = []  # one per year and group of residents

    # -- weekly ----------------------------------------------------------------------------
    def step(self) -> None:
        m = self.model
        P = m.people
        week = m.week
        if len(m.shocks.events) > self._events_seen:
            self._open_cohorts()
        n = P.n
        if len(self._year_served) < n:
            grown = np.zeros(max(n, 2 * len(self._year_served)), bool)
            grown[: len(self._year_served)] = self._year_served
            self._year_served = grown
        self._year_served[m.services.served_rows] = True  # those in a formal service now
        self._served |= P.service[self._rows] >= 0
        due = self._due.pop(week, None)
        if due:
            self._take_snapshots(week, due)
        if self._ends_year(m.date, week, m.n_weeks):
            self._record_residents()
            self._year_served[:] = False
            self._year_start = week + 1

    def _open_cohorts(self) -> None:
        """Cohorts of the waves replayed this week (the shocks' new events and rows)."""
        m = self.model
        P = m.people
        events = m.shocks.events
        displaced = m.shocks.displaced
        adults = m.adults
        new_rows = [self._rows]
        new_cohort = [self._cohort]
        for e in events[self._events_seen :]:
            workers = np.asarray(displaced[self._displaced_seen : self._displaced_seen + e["workers"]], np.int64)
            self._displaced_seen += e["workers"]
            workers_hh = P.household[workers]
            home = np.zeros(m.households.n, bool)
            home[workers_hh] = True
            others = adults[home[P.household[adults]]]
            others = others[~np.isin(others, workers)]
            k = m.ties.k
            who = m.ties.targets(np.repeat(workers, k), np.tile(np.arange(k), len(workers)))
            own_hh = np.repeat(workers_hh, k)
            ok = who >= 0
            ok[ok] = (P.household[who[ok]] != own_hh[ok]) & (P.age[who[ok]] >= self.adult_age)
            confidants = np.unique(who[ok])
            confidants = confidants[~np.isin(confidants, workers) & ~np.isin(confidants, others)]
            index = len(self.cohorts)
            self.cohorts.append(
                {
                    "employer": e["employer"],
                    "closure_id": e["closure_id"],
                    "layoff_week": int(e["week"]),
                    "layoff_date": e["date"],
                    "members": {"workers": workers, "household": others, "confidants": confidants},
                    "snapshots": {},  # horizon index -> {group: counts}
                }
            )
            for h, lag in enumerate(HORIZON_WEEKS):
                self._due.setdefault(int(e["week"]) + lag, []).append((index, h))
            rows = np.concatenate([workers, others, confidants])
            new_rows.append(rows)
            new_cohort.append(np.full(len(rows), index, np.int64))
        self._events_seen = len(events)
        self._displaced_seen = len(displaced)
        added = len(np.concatenate(new_rows)) - len(self._rows)
        self._rows = np.concatenate(new_rows)
        self._cohort = np.concatenate(new_cohort)
        self._served = np.concatenate([self._served, np.zeros(added, bool)])

    def flags(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows of cohort ``c`` (its groups in order) with their ``ever_supported`` and
        ``ever_served`` flags now (empty once the cohort is no longer followed). Ever
        supported since the layoff is ``support_week`` at or after the layoff week, since
        ``support_week`` is the last week support was received."""
        sel = self._cohort == c
        rows = self._rows[sel]
        return rows, self.model.people.support_week[rows] >= self.cohorts[c]["layoff_week"], self._served[sel]

    def _take_snapshots(self, week: int, due: list[tuple[int, int]]) -> None:
        """Snapshots of the cohorts at a horizon this week; cohorts past their last
        horizon are dropped from the followed rows."""
        P = self.model.people
        done = []
        for c, h in due:
            co = self.cohorts[c]
            sel = self._cohort == c
            rows, ser = self._rows[sel], self._served[sel]
            snap = {}
            start = 0
            for g in GROUPS:
                n = len(co["members"][g])
                snap[g] = _snapshot(
                    P, rows[start : start + n], co["layoff_week"], ser[start : start + n], week, self.high, self.memory
                )
                start += n
            co["snapshots"][h] = snap
            if h == len(HORIZON_WEEKS) - 1:
                done.append(c)
        if done:
            keep = ~np.isin(self._cohort, done)
            self._rows, self._cohort, self._served = self._rows[keep], self._cohort[keep], self._served[keep]

    def _record_residents(self) -> None:
        """The year's snapshot of adults present, marginalized against the others."""
        m = self.model
        P = m.people
        adults = m.adults
        marg = P.marginalized[adults]
        for g, sel in zip(RESIDENT_GROUPS, (marg, ~marg)):
            rows = adults[sel]
            counts = _snapshot(P, rows, self._year_start, self._year_served[rows], m.week, self.high, self.memory)
            self.residents.append({"year": m.date.year, "group": g, "counts": counts})

    # -- tables ----------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """``cohorts.parquet``: one row per cohort, group and horizon, then the pooled rows
        (``employer = "all"``) per group and horizon over the cohorts observed there."""
        rows = []
        pooled = {(g, h): np.zeros(len(_COUNTS)) for g in GROUPS for h in range(len(HORIZON_WEEKS))}
        n_pooled = {key: 0 for key in pooled}
        for co in self.cohorts:
            for h, (hw, hm) in enumerate(zip(HORIZON_WEEKS, HORIZON_MONTHS)):
                snap = co["snapshots"].get(h)
                for g in GROUPS:
                    base = {
                        "employer": co["employer"],
                        "closure_id": co["closure_id"],
                        "layoff_date": pd.Timestamp(co["layoff_date"]),
                        "layoff_week": co["layoff_week"],
                        "group": g,
                        "horizon_months": hm,
                        "horizon_week": co["layoff_week"] + hw,
                        "observed": snap is not None,
                        "cohorts": 1,
                        "members": len(co["members"][g]),
                    }
                    if snap is None:
                        rows.append({**base, "members_present": None, **{o[0]: np.nan for o in OUTCOMES}})
                        continue
                    pooled[g, h] += snap[g]
                    n_pooled[g, h] += 1
                    rows.append({**base, "members_present": int(snap[g][1]), **_shares(snap[g])})
        for h, hm in enumerate(HORIZON_MONTHS):
            for g in GROUPS:
                counts = pooled[g, h]
                rows.append(
                    {
                        "employer": "all",
                        "closure_id": None,
                        "layoff_date": pd.NaT,
                        "layoff_week": None,
                        "group": g,
                        "horizon_months": hm,
                        "horizon_week": None,
                        "observed": n_pooled[g, h] > 0,
                        "cohorts": n_pooled[g, h],
                        "members": int(counts[0]),
                        "members_present": int(counts[1]) if n_pooled[g, h] else None,
                        **(_shares(counts) if n_pooled[g, h] else {o[0]: np.nan for o in OUTCOMES}),
                    }
                )
        df = pd.DataFrame(rows, columns=COHORT_COLUMNS)
        df["layoff_date"] = pd.to_datetime(df["layoff_date"])
        for c in ("layoff_week", "horizon_week", "members_present"):
            df[c] = df[c].astype("Int32")
        for c in ("horizon_months", "cohorts", "members"):
            df[c] = df[c].astype(np.int32)
        df["observed"] = df["observed"].astype(bool)
        for name, _u, _d in OUTCOMES:
            df[name] = df[name].astype(np.float64)
        return df

    def residents_table(self) -> pd.DataFrame:
        """``marginalized.parquet``: one row per year and group of adult residents."""
        rows = []
        for r in self.residents:
            c = r["counts"]
            rows.append({"year": r["year"], "group": r["group"], "adults": int(c[1]), **_shares(c, RESIDENT_OUTCOMES)})
        df = pd.DataFrame(rows, columns=RESIDENT_COLUMNS)
        df["year"] = df["year"].astype(np.int16)
        df["adults"] = df["adults"].astype(np.int32)
        for name, _u, _d in RESIDENT_OUTCOMES:
            df[name] = df[name].astype(np.float64)
        return df


COHORT_COLUMNS = [
    "employer",
    "closure_id",
    "layoff_date",
    "layoff_week",
    "group",
    "horizon_months",
    "horizon_week",
    "observed",
    "cohorts",
    "members",
    "members_present",
    *(o[0] for o in OUTCOMES),
]
RESIDENT_COLUMNS = ["year", "group", "adults", *(o[0] for o in RESIDENT_OUTCOMES)]
