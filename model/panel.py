"""The persons panel: one row per person present at any time during a year, recorded on
the year's last week (``panel.parquet``; columns in docs/outputs.md)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .constants import WORKING_AGE
from .state import Exit, Status


def ends_year(day: date, week: int, n_weeks: int) -> bool:
    """Whether the week that starts on ``day`` is the last of its year or of the run (of
    ``n_weeks``): the persons panel records every person then."""
    return (day + timedelta(days=7)).year != day.year or week + 1 >= n_weeks


def year_rows(model) -> dict[str, np.ndarray]:
    """The panel's rows for the year of ``model.date``: every person present at any time
    since the year's first week, with the state at the end of the week."""
    P, H = model.people, model.households
    n = P.n
    year_start_week = max(0, model.week - (model.date - date(model.date.year, 1, 1)).days // 7)
    rows = np.flatnonzero(P.present[:n] | (P.exit_week[:n] >= year_start_week))
    reason = P.exit_reason[rows]
    status = P.status[rows]
    status = np.where(status == Status.GONE, P.status_at_exit[rows], status).astype(np.int8)
    return {
        "person_id": rows.astype(np.int32),
        "household_id": P.household[rows].astype(np.int32),
        "municipality": H.municipality[P.household[rows]].astype(np.int16),
        "year": np.full(len(rows), model.date.year, np.int16),
        "age": np.floor(P.age[rows]).astype(np.int16),
        "female": P.female[rows].copy(),
        "employment_status": status,
        "sector": P.sector[rows].copy(),
        "hourly_wage": P.wage[rows].copy(),
        "ever_displaced": P.ever_displaced[rows].copy(),
        "ei_exhausted": P.ei_exhausted[rows].copy(),
        "distress": np.where(P.age[rows] >= WORKING_AGE, P.distress[rows], np.nan).astype(np.float32),
        "support_ties": model.ties.count(rows),
        "supported_weeks_ago": np.minimum(model.week - P.support_week[rows], 9999).astype(np.int16),
        "in_service": P.service[rows] >= 0,
        "knows_services": P.knows_services[rows].copy(),
        "trained_helper": P.trained_week[rows] >= 0,
        "helps": P.helps[rows].copy(),
        "belonging": P.belonging[rows].copy(),
        "participates": P.participates[rows].copy(),
        "marginalized": P.marginalized[rows].copy(),
        "moved_out": (reason == Exit.MOVED_ALONE) | (reason == Exit.MOVED_WITH_HOUSEHOLD),
        "died": reason == Exit.DIED,
    }
