"""Labour-force status, jobs and pensions of persons at the set-up and when they move in.

Each person of working age takes part in the labour force with the participation rate
of the age band, and is then unemployed at the initial rate; the others are retired,
inactive or children (:func:`labour_status` with its compiled kernels). Those in the
labour force get a sector, a wage and a tenure, the retired a pension. The set-up that
places them with employers is ``model/population.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .config import Config
from .constants import HOURS_PER_WEEK, RETIREMENT_AGE, WORKING_AGE
from .households import _band_of
from .jit import kernel
from .state import Status

PARTICIPATION_BANDS = np.array([15, 20, 25, 45, 55, 65, 75, 200], float)
CHILD, EMPLOYED, UNEMPLOYED, RETIRED, INACTIVE = (
    Status.CHILD,
    Status.EMPLOYED,
    Status.UNEMPLOYED,
    Status.RETIRED,
    Status.INACTIVE,
)

# A rule of the synthetic population (a structural constant, not a parameter).
TENURE_START_AGE = 16.0  # years: a tenure drawn at the start is at most the years since this age


def band_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band of each value for bands [edges[i], edges[i+1])."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def labour_status(age: np.ndarray, rng: np.random.Generator, cfg: Config, n_sec: int):
    """Status, sector, hourly wage, tenure and pension of persons of the given ages. The
    tenure of those in the labour force is exponential with mean
    ``population.tenure_mean_years``, at most the years since ``TENURE_START_AGE``.

    The draws, in order: taking part in the labour force, being unemployed (one uniform
    per person each); the sector, the wage's spread of those in the labour force; the
    tenure (one per person); the pension's spread of the retired."""
    n = len(age)
    u = rng.random(2 * n)
    status, n_lf, n_retired = _labour_status_kernel(
        np.asarray(age, np.float64),
        u[:n],
        u[n:],
        StatusTerms(
            np.asarray(cfg["population.participation_by_age"], float),
            PARTICIPATION_BANDS,
            WORKING_AGE,
            RETIREMENT_AGE,
            float(cfg["population.initial_unemployment_rate"]),
        ),
    )
    sector_u = rng.random(n_lf)
    wages = np.asarray(cfg["labour.hourly_wage"], float)
    sigma = cfg["labour.wage_sigma"]
    wage_spread = np.exp(rng.normal(0, sigma, n_lf))
    tenure_draw = rng.exponential(cfg["population.tenure_mean_years"], n)
    pension_base = cfg["strain.pension_share"] * HOURS_PER_WEEK * wages.mean()
    pension_spread = np.exp(rng.normal(0, sigma, n_retired))
    terms = JobTerms(
        np.cumsum(np.asarray(cfg["labour.sector_shares"], float)),
        wages,
        float(cfg["labour.minimum_wage"]),
        TENURE_START_AGE,
        pension_base,
    )
    sector, wage, tenure, pension = _jobs_kernel(
        np.asarray(age, np.float64), status, JobDraws(sector_u, wage_spread, tenure_draw, pension_spread), terms
    )
    return status, sector, wage, tenure, pension


class StatusTerms(NamedTuple):
    """The parameters of the initial labour-force status."""

    participation: np.ndarray  # population.participation_by_age, by band of PARTICIPATION_BANDS
    edges: np.ndarray  # PARTICIPATION_BANDS
    working_age: float
    retirement_age: float
    unemployment_rate: float  # population.initial_unemployment_rate


@kernel
def _labour_status_kernel(age, u_part, u_unemp, terms):
    """Status by age: in the labour force with the participation rate of the age band
    (bands ``[edges[b], edges[b+1])``, the last bands open), and then unemployed at the
    initial rate; otherwise retired from the retirement age, inactive from
    working age, a child before. Returns the statuses, how many are in the labour
    force and how many are retired."""
    n = len(age)
    status = np.empty(n, np.int8)
    n_lf = n_retired = 0
    for i in range(n):
        a = age[i]
        b = 0
        while b < len(terms.edges) and terms.edges[b] <= a:
            b += 1
        b = min(max(b - 1, 0), len(terms.edges) - 2)
        in_lf = a >= terms.working_age and u_part[i] < terms.participation[b]
        if in_lf:
            status[i] = UNEMPLOYED if u_unemp[i] < terms.unemployment_rate else EMPLOYED
            n_lf += 1
        elif a >= terms.retirement_age:
            status[i] = RETIRED
            n_retired += 1
        elif a >= terms.working_age:
            status[i] = INACTIVE
        else:
            status[i] = CHILD
    return status, n_lf, n_retired


class JobDraws(NamedTuple):
    """The draws of :func:`labour_status` that place persons in jobs and pay them."""

    sector_u: np.ndarray  # uniform, one per person in the labour force: the sector
    wage_spread: np.ndarray  # one per person in the labour force
    tenure_draw: np.ndarray  # years, one per person
    pension_spread: np.ndarray  # one per retired person


class JobTerms(NamedTuple):
    """The parameters of the initial jobs and pensions."""

    sector_cdf: np.ndarray  # cumulative labour.sector_shares
    wages: np.ndarray  # labour.hourly_wage
    minimum_wage: float
    tenure_start_age: float
    pension_base: float  # weekly pension before its spread


@kernel
def _jobs_kernel(age, status, draws, terms):
    """Sector (from ``sector_u``), wage (the sector's wage times ``wage_spread``, at
    least ``minimum_wage``) and tenure (``tenure_draw`` years, at most the years since
    ``tenure_start_age``) of those in the labour force, in row order; pensions of the
    retired."""
    n = len(age)
    sector = np.full(n, -1, np.int8)
    wage = np.zeros(n, np.float32)
    tenure = np.zeros(n, np.float32)
    pension = np.zeros(n, np.float32)
    k = r = 0
    for i in range(n):
        if status[i] == EMPLOYED or status[i] == UNEMPLOYED:
            s = _band_of(terms.sector_cdf, draws.sector_u[k])
            sector[i] = s
            wage[i] = max(terms.wages[s] * draws.wage_spread[k], terms.minimum_wage)
            tenure[i] = min(draws.tenure_draw[i], max(age[i] - terms.tenure_start_age, 0.0))
            k += 1
        elif status[i] == RETIRED:
            pension[i] = terms.pension_base * draws.pension_spread[r]
            r += 1
    return sector, wage, tenure, pension
