"""Outcomes of one run: what a sweep keeps of it.

A sweep keeps, for every run, one row of summary outcomes (``runs.parquet``), the weekly
time series (one row per run and week) and a small yearly table by municipality; never
the per-person panel. Every summary is NaN-tolerant: a time-series column that is
missing or all NaN (a submodel not in the model) gives NaN, never an error.

Summary outcomes are named ``<column>_<statistic>``:

- ``_mean``: mean over every week of the run;
- ``_peak``: highest 13-week moving average;
- ``_end``: mean over the run's last 52 weeks;
- ``_total``: last value minus the first, for running totals (``*_cumulative``).

Cohort outcomes (from the run's ``cohorts.parquet`` and ``marginalized.parquet``, see
``model/cohorts.py``) are named ``<group>_<months>m_<measure>`` (``workers_12m_unmet_need``:
the laid-off workers' share with unmet need 12 months after their layoff, pooled over
every closure's waves, members-weighted) and ``<residents>_<measure>`` for adults
``marginalized``, the ``others``, and the gap ``marginalized_gap`` (marginalized minus
others), pooled over the run's year-end snapshots (person-years). They are listed once,
in :data:`COHORT_SUMMARIES`.

Calibration measures (``cal_<target>``) are the quantities of
``configs/calibration/targets.toml`` computed the way the targets define them; a measure
whose period is outside the run is NaN.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from model.constants import WORKING_AGE

from .stats import cohens_d


@dataclass(frozen=True)
class Summary:
    name: str
    column: str
    stat: str  # mean | peak | end | total | last
    label: str
    unit: str


def _s(column: str, stat: str, label: str, unit: str) -> Summary:
    name = f"{column}_{stat}" if stat != "total" else column.replace("_cumulative", "") + "_total"
    return Summary(name, column, stat, label, unit)


SUMMARIES: tuple[Summary, ...] = (
    _s("unemployment_rate", "mean", "unemployment rate, mean over the run", "share"),
    _s("unemployment_rate", "peak", "unemployment rate, highest 13-week average", "share"),
    _s("jobs_lost_cumulative", "total", "jobs lost in closures", "jobs"),
    _s("ei_exhausted_cumulative", "total", "EI claims exhausted while jobless", "claims"),
    _s("out_migrants_cumulative", "total", "residents who moved out", "persons"),
    _s("strain_out_migrants_cumulative", "total", "residents who moved out under financial strain", "persons"),
    _s("households_under_strain", "mean", "households under financial strain, mean", "households"),
    _s("population", "end", "population, mean of the last 52 weeks", "persons"),
    _s("mean_distress", "mean", "mean distress, mean over the run", "distress score"),
    _s("mean_distress", "peak", "mean distress, highest 13-week average", "distress score"),
    _s("share_high_distress", "mean", "share in high distress, mean over the run", "share"),
    _s("share_high_distress", "peak", "share in high distress, highest 13-week average", "share"),
    _s("support_received_share", "mean", "distressed residents receiving informal support, mean", "share"),
    _s("formal_service_reach", "mean", "residents in need reached by a formal service, mean", "share"),
    _s("unmet_need_share", "mean", "residents in need with no support or service, mean", "share"),
    _s("cohesion_index", "mean", "cohesion index, mean over the run", "index 0-1"),
    _s("cohesion_index", "end", "cohesion index, mean of the last 52 weeks", "index 0-1"),
    _s("belonging_mean", "mean", "mean belonging, mean over the run", "score 0-1"),
    _s("belonging_mean", "end", "mean belonging, mean of the last 52 weeks", "score 0-1"),
    _s("participation_rate", "mean", "participation in community action, mean", "share"),
    _s("org_partnership_density", "end", "organizations' partnership density, last 52 weeks", "share"),
    _s("org_partnership_density", "mean", "organizations' partnership density, mean over the run", "share"),
    _s("tie_integrity", "mean", "tie integrity, mean over the run", "share"),
)

# -- cohort outcomes: the people the closures touched, and marginalized residents ----------
COHORT_GROUPS = {
    "workers": "laid-off workers",
    "household": "laid-off workers' household adults",
    "confidants": "laid-off workers' confidants",
}
COHORT_HORIZONS = (6, 12, 24)  # months after the layoff (model/cohorts.py: 26, 52, 104 weeks)
RESIDENT_GROUPS = {
    "marginalized": "marginalized adults",
    "others": "adults not marginalized",
    "marginalized_gap": "gap, marginalized minus other adults,",
}
# measure -> (label, unit); the columns of cohorts.parquet and marginalized.parquet.
COHORT_MEASURES = {
    "ever_supported": ("ever informally supported", "share"),
    "ever_served": ("ever in a formal service", "share"),
    "unmet_need": ("with unmet need", "share"),
    "distress": ("mean distress", "distress score"),
    "high_distress": ("in high distress", "share"),
    "employed": ("employed", "share"),
    "participation": ("participating", "share"),
    "belonging": ("mean belonging", "score 0-1"),
    "moved_out": ("moved out of the RCM", "share"),
    "died": ("died", "share"),
}
RESIDENT_MEASURES = tuple(k for k in COHORT_MEASURES if k not in ("moved_out", "died"))


def _cohort_label(group: str, months: int, measure: str) -> str:
    what, _ = COHORT_MEASURES[measure]
    if group == "workers" and measure == "employed":
        what = "re-employed"
    if measure.startswith("ever_") or measure in ("moved_out", "died"):
        return f"{COHORT_GROUPS[group]} {what} since the layoff, at {months} months"
    return f"{COHORT_GROUPS[group]} {what} {months} months after the layoff"


COHORT_SUMMARIES: tuple[Summary, ...] = tuple(
    Summary(f"{g}_{h}m_{m}", m, "cohort", _cohort_label(g, h, m), COHORT_MEASURES[m][1])
    for g in COHORT_GROUPS
    for h in COHORT_HORIZONS
    for m in COHORT_MEASURES
) + tuple(
    Summary(
        f"{g}_{m}",
        m,
        "residents",
        f"{RESIDENT_GROUPS[g]} {COHORT_MEASURES[m][0]}{' in the year' if m.startswith('ever_') else ''}",
        COHORT_MEASURES[m][1],
    )
    for g in RESIDENT_GROUPS
    for m in RESIDENT_MEASURES
)
SUMMARY_BY_NAME = {s.name: s for s in SUMMARIES + COHORT_SUMMARIES}

# The outcomes a scenario comparison reports by default (effects table, forest plot, report):
# the people the closures touched at 12 months (and the workers at 6 and 24 months on
# the main measures), marginalized residents against the others, then the RCM-wide ones.
KEY_COHORT_OUTCOMES = (
    *(
        f"workers_12m_{m}"
        for m in (
            "ever_supported",
            "ever_served",
            "unmet_need",
            "distress",
            "high_distress",
            "employed",
            "participation",
            "belonging",
            "moved_out",
        )
    ),
    "workers_6m_unmet_need",
    "workers_24m_unmet_need",
    "workers_24m_employed",
    "workers_24m_moved_out",
    *(f"household_12m_{m}" for m in ("ever_supported", "unmet_need", "distress", "participation", "belonging")),
    *(f"confidants_12m_{m}" for m in ("ever_supported", "distress", "participation", "belonging")),
    "marginalized_unmet_need",
    "marginalized_gap_unmet_need",
    "marginalized_gap_ever_supported",
    "marginalized_participation",
    "marginalized_gap_participation",
    "marginalized_gap_belonging",
)
KEY_OUTCOMES = KEY_COHORT_OUTCOMES + (
    "mean_distress_mean",
    "share_high_distress_mean",
    "share_high_distress_peak",
    "support_received_share_mean",
    "formal_service_reach_mean",
    "unmet_need_share_mean",
    "cohesion_index_mean",
    "belonging_mean_mean",
    "participation_rate_mean",
    "org_partnership_density_end",
    "unemployment_rate_mean",
    "strain_out_migrants_total",
)
# The cohesion index and its four components (their mean), reported side by side.
COHESION_COMPONENTS = (
    "cohesion_index_mean",
    "belonging_mean_mean",
    "participation_rate_mean",
    "tie_integrity_mean",
    "org_partnership_density_mean",
)
# Weekly columns drawn with 95% bands by a comparison.
KEY_SERIES = (
    "mean_distress",
    "share_high_distress",
    "support_received_share",
    "formal_service_reach",
    "unmet_need_share",
    "cohesion_index",
    "belonging_mean",
    "participation_rate",
    "org_partnership_density",
    "unemployment_rate",
)
SERIES_UNITS = {
    "mean_distress": "distress score",
    "share_high_distress": "share",
    "support_received_share": "share",
    "formal_service_reach": "share",
    "unmet_need_share": "share",
    "cohesion_index": "index 0-1",
    "belonging_mean": "score 0-1",
    "participation_rate": "share",
    "org_partnership_density": "share",
    "unemployment_rate": "share",
    "population": "persons",
}

CENSUS_2006 = date(2006, 5, 16)
CENSUS_2011 = date(2011, 5, 10)
# Survey years of the social layer's reference values (configs/calibration/targets.toml).
VOLUNTEERING_YEARS = (2004, 2007, 2013)  # Canada Survey of Giving, Volunteering and Participating
BELONGING_YEARS = (2005, 2008)  # Canadian Community Health Survey
HIGH_DISTRESS_YEARS = (2005, 2008)  # Canadian Community Health Survey (K10), through the ISQ
HELPERS_YEAR = 2008  # trained helpers' reach, the year after the 2006-2007 training
# A "very or somewhat strong" sense of community belonging: the survey's four answers
# (very weak, somewhat weak, somewhat strong, very strong) read on the 0-1 belonging
# scale as 0, 1/3, 2/3 and 1, so the two strong answers are the scores above the middle.
STRONG_BELONGING = 0.5
CALIBRATION_MEASURES = (
    "reemployed_12m",
    "training_12m",
    "retired_12m",
    "searching_12m",
    "employment_rate_25_64_2012",
    "population_2006",
    "population_2011",
    "unemployment_rise_2006",
    "unemployment_rise_2009",
    "distress_d_unemployed_employed",
    "high_distress_unemployed",
    "high_distress_employed",
    *(f"volunteering_{y}" for y in VOLUNTEERING_YEARS),
    *(f"belonging_strong_{y}" for y in BELONGING_YEARS),
    *(f"high_distress_{y}" for y in HIGH_DISTRESS_YEARS),
    "trained_helpers_never_reached",
)


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, float)
    ok = ~np.isnan(x)
    return float(x[ok].mean()) if ok.any() else float("nan")


def summarize(ts: pd.DataFrame) -> dict[str, float]:
    """The summary outcomes of one run's weekly time series."""
    out: dict[str, float] = {}
    for s in SUMMARIES:
        if s.column not in ts or len(ts) == 0:
            out[s.name] = float("nan")
            continue
        x = pd.to_numeric(ts[s.column], errors="coerce").to_numpy(float)
        if np.isnan(x).all():
            out[s.name] = float("nan")
        elif s.stat == "mean":
            out[s.name] = _nanmean(x)
        elif s.stat == "end":
            out[s.name] = _nanmean(x[-52:])
        elif s.stat == "peak":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                rolled = pd.Series(x).rolling(13, min_periods=1).mean().to_numpy()
            out[s.name] = float(np.nanmax(rolled))
        elif s.stat == "total":
            ok = x[~np.isnan(x)]
            out[s.name] = float(ok[-1] - ok[0])
        else:  # pragma: no cover - SUMMARIES is fixed above
            raise ValueError(s.stat)
    return out


def cohort_outcomes(cohorts: pd.DataFrame | None, residents: pd.DataFrame | None) -> dict[str, float]:
    """The cohort outcomes of one run (:data:`COHORT_SUMMARIES`) from its cohorts table
    (the pooled rows, ``employer == "all"``) and its marginalized table (pooled over the
    years, weighted by the adults present). NaN where a group or horizon is not observed."""
    out = {s.name: float("nan") for s in COHORT_SUMMARIES}
    if cohorts is not None and len(cohorts):
        pooled = cohorts[(cohorts["employer"] == "all") & cohorts["observed"].astype(bool)]
        for _, r in pooled.iterrows():
            for m in COHORT_MEASURES:
                key = f"{r['group']}_{int(r['horizon_months'])}m_{m}"
                if key in out and m in r:
                    out[key] = float(r[m])
    if residents is not None and len(residents):
        for g in ("marginalized", "others"):
            sub = residents[residents["group"] == g]
            w = sub["adults"].to_numpy(float)
            for m in RESIDENT_MEASURES:
                x = sub[m].to_numpy(float) if m in sub else np.full(len(sub), np.nan)
                ok = ~np.isnan(x) & (w > 0)
                out[f"{g}_{m}"] = float(np.dot(x[ok], w[ok]) / w[ok].sum()) if ok.any() else float("nan")
        for m in RESIDENT_MEASURES:
            out[f"marginalized_gap_{m}"] = out[f"marginalized_{m}"] - out[f"others_{m}"]
    return out


def model_cohort_outcomes(model) -> dict[str, float]:
    """:func:`cohort_outcomes` of a model run to its end (NaN if it has no tracker)."""
    tracker = getattr(model, "cohorts", None)
    if tracker is None:
        return cohort_outcomes(None, None)
    return cohort_outcomes(tracker.table(), tracker.residents_table())


class Probes:
    """Measurements taken while a run steps (the state of persons at a given week)."""

    def __init__(self):
        self.values: dict[str, float] = {}

    def __call__(self, model) -> None:
        d = model.date
        if d.year == 2012 and d.month == 6 and d.day <= 7 and "employment_rate_25_64_2012" not in self.values:
            from model.state import Status

            P = model.people
            age, status = P.age[: P.n], P.status[: P.n]
            adults = (status != Status.GONE) & (age >= 25) & (age < 65)
            n = int(adults.sum())
            employed = int(((status == Status.EMPLOYED) & adults).sum())
            self.values["employment_rate_25_64_2012"] = employed / n if n else float("nan")


def calibration_measures(
    ts: pd.DataFrame, layoffs: pd.DataFrame, probes: Probes, scale: float = 1.0
) -> dict[str, float]:
    """The quantities of the calibration targets, ``NaN`` where the run does not cover them.
    Population counts are divided by ``scale`` (residents of the real territory)."""
    nan = float("nan")
    out = {name: nan for name in CALIBRATION_MEASURES}
    if len(layoffs):
        followed = layoffs[layoffs["reemployed_12m"].notna()]
        workers = float(followed["workers"].sum())
        if workers > 0:
            for name in ("reemployed_12m", "training_12m", "retired_12m", "searching_12m"):
                out[name] = float(followed[name].astype(float).sum()) / workers
    out.update({k: v for k, v in probes.values.items() if k in out})
    if len(ts):
        dates = pd.to_datetime(ts["date"])
        for name, day in (("population_2006", CENSUS_2006), ("population_2011", CENSUS_2011)):
            day = pd.Timestamp(day)
            hit = (dates <= day) & (day < dates + pd.Timedelta(days=7))
            if hit.any():
                out[name] = float(ts.loc[hit, "population"].iloc[0]) / scale
        u = pd.to_numeric(ts["unemployment_rate"], errors="coerce").groupby(dates.dt.year).mean()
        full = dates.dt.year.value_counts()
        years = {y for y in u.index if full.get(y, 0) >= 52}
        if {2004, 2006} <= years:
            out["unemployment_rise_2006"] = float(u[2006] - u[2004])
        if {2007, 2008, 2009} <= years:
            out["unemployment_rise_2009"] = float(max(u[2008], u[2009]) - u[2007])
        out.update(yearly_shares(ts, years))
    return out


def yearly_shares(ts: pd.DataFrame, years: set[int]) -> dict[str, float]:
    """The social layer's yearly shares among adults (15 and over), each the mean of the
    weekly share over a calendar year the run covers in full (NaN otherwise):
    ``volunteering_<year>`` (participating in community action), ``high_distress_<year>``
    (above the high-distress threshold), and ``trained_helpers_never_reached`` (trained or
    Guide-equipped helpers never told of anyone's distress; NaN when nobody is equipped)."""
    nan = float("nan")
    year = pd.to_datetime(ts["date"]).dt.year

    def annual(column: str, y: int) -> float:
        if column not in ts or y not in years:
            return nan
        return _nanmean(pd.to_numeric(ts.loc[year == y, column], errors="coerce").to_numpy(float))

    out = {f"volunteering_{y}": annual("participation_rate", y) for y in VOLUNTEERING_YEARS}
    out.update({f"high_distress_{y}": annual("share_high_distress", y) for y in HIGH_DISTRESS_YEARS})
    out["trained_helpers_never_reached"] = 1.0 - annual("trained_helpers_reached_share", HELPERS_YEAR)
    return out


def municipal_table(model) -> pd.DataFrame:
    """Per municipality and calendar year (at the year's last week): residents, unemployment
    rate, and mean distress where the model records it (NaN otherwise)."""
    from model.state import Status

    rows = []
    names = list(model.municipality_names)
    n_m = len(names)
    for chunk in model.panel:
        present = ~(chunk["moved_out"] | chunk["died"])
        mun = chunk["municipality"][present].astype(np.int64)
        status = chunk["employment_status"][present]
        year = int(chunk["year"][0]) if len(chunk["year"]) else None
        if year is None:
            continue
        residents = np.bincount(mun, minlength=n_m)
        emp = np.bincount(mun, weights=(status == Status.EMPLOYED), minlength=n_m)
        une = np.bincount(mun, weights=(status == Status.UNEMPLOYED), minlength=n_m)
        with np.errstate(invalid="ignore", divide="ignore"):
            urate = une / (emp + une)
            if "distress" in chunk:
                dist = np.asarray(chunk["distress"], float)[present]
                ok = ~np.isnan(dist)
                dsum = np.bincount(mun[ok], weights=dist[ok], minlength=n_m)
                dn = np.bincount(mun[ok], minlength=n_m)
                distress = np.where(dn > 0, dsum / np.maximum(dn, 1), np.nan)
            else:
                distress = np.full(n_m, np.nan)
        for m in range(n_m):
            rows.append((year, names[m], int(residents[m]), float(urate[m]), float(distress[m])))
    return pd.DataFrame(rows, columns=["year", "municipality", "residents", "unemployment_rate", "mean_distress"])


def panel_measures(model) -> dict[str, float]:
    """The measures read from the year-end panels: :func:`distress_measures` and
    :func:`belonging_measures`."""
    return {**distress_measures(model), **belonging_measures(model)}


def belonging_measures(model) -> dict[str, float]:
    """``belonging_strong_<year>``: the share of residents aged 15 and over, present at the
    year's end, whose belonging is above :data:`STRONG_BELONGING` (a very or somewhat
    strong sense of community belonging); NaN when the run does not reach that year's end."""
    out = {f"belonging_strong_{y}": float("nan") for y in BELONGING_YEARS}
    for c in model.panel:
        if "belonging" not in c or not len(c["year"]) or int(c["year"][0]) not in BELONGING_YEARS:
            continue
        adults = ~(c["moved_out"] | c["died"]) & (c["age"] >= WORKING_AGE)
        if adults.any():
            out[f"belonging_strong_{int(c['year'][0])}"] = float((c["belonging"][adults] > STRONG_BELONGING).mean())
    return out


# Paul & Moser 2009: the distress of job loss is larger for blue-collar workers.
BLUE_COLLAR_SECTORS = ("manufacturing", "construction", "primary")


def _distress_panel(model) -> dict[str, np.ndarray] | None:
    """Residents aged 15-64 with a distress value in the year-end panels of 2005-2007 (the
    population of the distress targets): age, employment status, distress, sex and sector
    (for the jobless, that of their last job; -1 if none); None when the run does not cover
    the three years or the model records no distress."""
    chunks = [c for c in model.panel if "distress" in c and len(c["year"]) and 2005 <= int(c["year"][0]) <= 2007]
    if len({int(c["year"][0]) for c in chunks}) < 3 or "distress.high_threshold" not in model.config.values:
        return None
    cat = {
        k: np.concatenate([c[k] for c in chunks]) for k in ("age", "employment_status", "distress", "female", "sector")
    }
    cat["distress"] = np.asarray(cat["distress"], float)
    keep = (cat["age"] >= 15) & (cat["age"] < 65) & ~np.isnan(cat["distress"])
    return {k: v[keep] for k, v in cat.items()}


def distress_measures(model) -> dict[str, float]:
    """Distress of unemployed against employed residents aged 15-64 in the year-end panels of
    2005-2007 (the definition of the distress targets); NaN when the run does not cover
    those years or the model records no distress."""
    from model.state import Status

    nan = float("nan")
    out = {"distress_d_unemployed_employed": nan, "high_distress_unemployed": nan, "high_distress_employed": nan}
    panel = _distress_panel(model)
    if panel is None:
        return out
    d, status = panel["distress"], panel["employment_status"]
    unemployed, employed = d[status == Status.UNEMPLOYED], d[status == Status.EMPLOYED]
    if len(unemployed) < 2 or len(employed) < 2:
        return out
    threshold = model.config["distress.high_threshold"]
    out["distress_d_unemployed_employed"] = cohens_d(employed, unemployed)  # persons: unemployed minus employed
    out["high_distress_unemployed"] = float((unemployed >= threshold).mean())
    out["high_distress_employed"] = float((employed >= threshold).mean())
    return out


def distress_moderators(model) -> dict[str, float]:
    """Paul & Moser 2009's moderators of the distress targets' d (unemployed minus employed,
    same panels): ``distress_d_men``, ``distress_d_women``, ``distress_d_blue_collar``
    (:data:`BLUE_COLLAR_SECTORS`) and ``distress_d_other_workers`` (any other known sector).
    NaN where a group has fewer than two persons employed or unemployed."""
    from model.state import Status

    names = ("men", "women", "blue_collar", "other_workers")
    out = {f"distress_d_{g}": float("nan") for g in names}
    panel = _distress_panel(model)
    if panel is None:
        return out
    sector = panel["sector"]
    blue = np.isin(sector, [model.sectors.index(s) for s in BLUE_COLLAR_SECTORS if s in model.sectors])
    groups = {
        "men": ~panel["female"],
        "women": panel["female"].astype(bool),
        "blue_collar": blue,
        "other_workers": (sector >= 0) & ~blue,
    }
    d, status = panel["distress"], panel["employment_status"]
    for g, member in groups.items():
        employed, unemployed = d[member & (status == Status.EMPLOYED)], d[member & (status == Status.UNEMPLOYED)]
        if len(employed) >= 2 and len(unemployed) >= 2:
            out[f"distress_d_{g}"] = cohens_d(employed, unemployed)
    return out
