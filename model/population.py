"""Set-up of the synthetic population: households, persons, employers and organizations.

Counts: municipality m starts with ``rint(scale * P_m(start))`` persons, where ``P_m`` is
the census population interpolated log-linearly between the 2006 and 2011 census days
(``territory.population_on``); ``rint`` rounds half to even. Households are drawn from
the household-size distribution until the municipality's count is reached, the last one
trimmed to fit. Plant workforces are the scaled layoff waves the run will replay, so
every wave can be filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import numpy as np

from .config import CONFIG_DIR, Config, ConfigError
from .constants import HOURS_PER_WEEK, RETIREMENT_AGE, SECTORS, WORKING_AGE
from .jit import kernel
from .state import (
    COMMITTEES,
    DOMAINS,
    HOUSEHOLD_FIELDS,
    ORG_FIELDS,
    ORG_KINDS,
    PERSON_FIELDS,
    SERVICES,
    WEEKS_PER_YEAR,
    Status,
    Table,
)
from .territory import Territory, population_on
from .timeline import ScheduledWave, Timeline

ORG_FILE = CONFIG_DIR / "organizations.csv"
HEAD_AGE_BANDS = np.array([[18, 25], [25, 35], [35, 45], [45, 55], [55, 65], [65, 75], [75, 95]], float)
PARTICIPATION_BANDS = np.array([15, 20, 25, 45, 55, 65, 75, 200], float)
CHILD, EMPLOYED, UNEMPLOYED, RETIRED, INACTIVE = (
    Status.CHILD,
    Status.EMPLOYED,
    Status.UNEMPLOYED,
    Status.RETIRED,
    Status.INACTIVE,
)

# Rules of the synthetic population (structural constants, not parameters).
CHILD_AGE = 18.0  # years: dependent children are under 18 (convention)
FEMALE_HEAD_SHARE = 0.5  # a household head is a woman or a man with equal probability
FEMALE_DEPENDANT_SHARE = 0.5  # a dependant is a woman or a man with equal probability
PARTNER_AGE_GAP_MEAN = -1.5  # years: partner's age less the head's, mean of a normal draw
PARTNER_AGE_GAP_SD = 3.0  # years: spread of the partners' age gap
PARTNER_MIN_AGE = 18.0  # years: partners are adults; a gap that would make one younger is raised to this
DEPENDANT_AGE_GAP = (20.0, 40.0)  # years: dependants are younger than the head by a gap uniform in this range
PARENT_MIN_AGE = 17.0  # years: a head is at least this much older than a dependant
ADULT_DEPENDANT_YEARS = 17.0  # years past CHILD_AGE: the oldest dependants (adult children at home, 35)
TENURE_START_AGE = 16.0  # years: a tenure drawn at the start is at most the years since this age
PLANT_TENURE_START_AGE = 17.0  # years: the same for a closing plant's worker (at least half a year)
INITIAL_SPELL_MAX_WEEKS = 40  # those unemployed at the start have searched 0 to this less one weeks


@dataclass
class Population:
    people: Table
    households: Table
    orgs: Table
    org_names: list[str]
    plant_of_closure: dict[int, int]  # closure index -> org row
    sectors: list[str]
    employers_by_sector: list[np.ndarray]  # background employer rows per sector


def municipality_index(territory: Territory, key) -> int:
    """Index of a municipality given its census code or its name (with or without the
    parenthesised kind, when that is unambiguous)."""
    df = territory.municipalities
    codes = [str(c) for c in df["code"]]
    if str(key) in codes:
        return codes.index(str(key))
    names = list(df["name"])
    if key in names:
        return names.index(key)
    short = [n.split(" (")[0] for n in names]
    if short.count(key) == 1:
        return short.index(key)
    raise ConfigError(f"unknown municipality {key!r}")


def band_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band of each value for bands [edges[i], edges[i+1])."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def _households_for(n_persons: int, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Household sizes adding up exactly to ``n_persons``."""
    if n_persons <= 0:
        return np.zeros(0, dtype=np.int64)
    mean = float(np.dot(shares, np.arange(1, len(shares) + 1)))
    sizes = 1 + categorical(rng, shares, int(n_persons / mean * 1.2) + 10)
    while sizes.sum() < n_persons:
        sizes = np.concatenate([sizes, 1 + categorical(rng, shares, len(sizes))])
    cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, n_persons))  # first household reaching the count
    sizes = sizes[: k + 1].copy()
    sizes[-1] -= cum[k] - n_persons
    return sizes[sizes > 0]


def commute_weights(territory: Territory, cfg: Config) -> np.ndarray:
    """w[a, b]: relative pull of a workplace in municipality b on residents of a."""
    lat = territory.municipalities["lat"].to_numpy(float)
    lon = territory.municipalities["lon"].to_numpy(float)
    dy = (lat[:, None] - lat[None, :]) * 111.2
    dx = (lon[:, None] - lon[None, :]) * 111.2 * np.cos(np.radians(45.2))
    dist = np.hypot(dx, dy)
    return np.exp(-dist / cfg["labour.commute_scale_km"])


def build_population(
    cfg: Config,
    territory: Territory,
    timeline: Timeline,
    waves: list[ScheduledWave],
    start: date,
    rng: np.random.Generator,
) -> Population:
    scale = cfg["run.scale"]
    n_muni = territory.n_municipalities
    targets = np.rint(scale * population_on(territory, start)).astype(np.int64)
    shares = np.asarray(cfg["population.household_size_shares"], float)

    # Households and their members.
    hh_muni, hh_size = [], []
    for m in range(n_muni):
        sizes = _households_for(int(targets[m]), shares, rng)
        hh_size.append(sizes)
        hh_muni.append(np.full(len(sizes), m, dtype=np.int64))
    hh_size = np.concatenate(hh_size)
    hh_muni = np.concatenate(hh_muni)
    n_hh = len(hh_size)
    n = int(hh_size.sum())

    households = Table(HOUSEHOLD_FIELDS, capacity=int(n_hh * 1.6) + 64)
    hx, hy = CellSampler(territory).draw(hh_muni, rng)
    hh_ids = households.add(
        n_hh,
        present=True,
        municipality=hh_muni,
        x=hx,
        y=hy,
        size=hh_size,
        first_row=np.cumsum(hh_size) - hh_size,
        arrived=hh_size,
    )
    people = Table(PERSON_FIELDS, capacity=int(n * 1.6) + 64)
    age, female = household_members(hh_size, rng, cfg)
    member_hh = np.repeat(hh_ids, hh_size)
    people.add(n, present=True, household=member_hh, age=age, female=female)
    sectors = sector_names(cfg)
    status, sector, wage, tenure, pension = labour_status(age, rng, cfg, len(sectors))
    people.status[:n] = status
    people.sector[:n] = sector
    people.wage[:n] = wage
    people.job_start[:n] = -tenure * WEEKS_PER_YEAR
    people.job_end[:n][status != Status.EMPLOYED] = 0.0
    people.pension[:n] = pension
    unemployed = status == Status.UNEMPLOYED
    people.spell_start[:n][unemployed] = -rng.integers(0, INITIAL_SPELL_MAX_WEEKS, unemployed.sum())
    wages = np.asarray(cfg["labour.hourly_wage"], float)
    n_sec = len(sectors)

    # Organizations: the timeline's plants, background employers, services, informal places.
    orgs = Table(ORG_FIELDS, capacity=256)
    names: list[str] = []
    muni_of_person = hh_muni[member_hh]
    pull = commute_weights(territory, cfg)
    kind = {k: i for i, k in enumerate(ORG_KINDS)}
    dom = {d: i for i, d in enumerate(DOMAINS)}

    def add_org(name, kind_name, domain, m, sector_idx=-1, closure=-1):
        x, y = territory.centre_cell[m]
        names.append(name)
        return int(
            orgs.add(
                1,
                kind=kind[kind_name],
                domain=dom[domain],
                sector=sector_idx,
                municipality=m,
                x=x,
                y=y,
                closure=closure,
            )[0]
        )

    manuf = sectors.index("manufacturing") if "manufacturing" in sectors else 0
    plant_of_closure: dict[int, int] = {}
    workforce: dict[int, int] = {}
    for w in waves:
        workforce[w.closure] = workforce.get(w.closure, 0) + w.workers
    pt_lo, pt_hi = cfg["labour.plant_tenure_years"]
    pa_lo, pa_hi = cfg["labour.plant_worker_age"]
    pt_start = PLANT_TENURE_START_AGE
    manuf_weight = cfg["labour.plant_manufacturing_weight"]
    taken = np.zeros(n, bool)
    for c_idx in sorted(workforce):
        c = timeline.closures[c_idx]
        m = municipality_index(territory, c.municipality)
        row = add_org(c.employer, "plant", "economic", m, manuf, c_idx)
        plant_of_closure[c_idx] = row
        add_org(f"Union at {c.employer}", "union", "community", m)
        need = workforce[c_idx]
        cand = np.flatnonzero(~taken & (age >= pa_lo) & (age <= pa_hi) & (status == Status.EMPLOYED))
        if need > len(cand):
            raise ConfigError(f"closure {c.id!r}: {need} workers needed but only {len(cand)} residents can fill them")
        w_c = pull[muni_of_person[cand], m] * np.where(sector[cand] == manuf, manuf_weight, 1.0)
        chosen = rng.choice(cand, size=need, replace=False, p=w_c / w_c.sum())
        taken[chosen] = True
        people.status[chosen] = Status.EMPLOYED
        people.sector[chosen] = manuf
        people.employer[chosen] = row
        people.at_plant[chosen] = True
        people.job_end[chosen] = np.nan
        people.wage[chosen] = np.maximum(
            wages[manuf] * np.exp(rng.normal(0, cfg["labour.wage_sigma"], need)), cfg["labour.minimum_wage"]
        )
        people.job_start[chosen] = -WEEKS_PER_YEAR * np.minimum(
            rng.uniform(pt_lo, pt_hi, need), np.maximum(age[chosen] - pt_start, 0.5)
        )

    # Background employers by sector, spread over municipalities by population.
    status = people.status[:n]
    sector = people.sector[:n]
    emp_sizes = np.asarray(cfg["labour.employer_mean_size"], float)
    employers_by_sector = []
    pop_share = targets / max(targets.sum(), 1)
    for s in range(n_sec):
        workers = np.flatnonzero((status == Status.EMPLOYED) & (sector == s) & ~taken)
        k = max(1, int(np.rint(len(workers) / emp_sizes[s])))
        counts = _largest_remainder(pop_share, k)
        rows = []
        for m in np.flatnonzero(counts):
            for _j in range(counts[m]):
                rows.append(add_org(f"{sectors[s]} employer {len(rows) + 1}", "employer", "economic", m, s))
        rows = np.asarray(rows, np.int64)
        employers_by_sector.append(rows)
        if len(workers):
            emp_muni = orgs.municipality[rows]
            for a in np.unique(muni_of_person[workers]):
                who = workers[muni_of_person[workers] == a]
                p = pull[a, emp_muni]
                people.employer[who] = rows[rng.choice(len(rows), size=len(who), p=p / p.sum())]

    # Services, community and public organizations, informal places.
    for rec in _read_orgs(territory):
        munis = (
            range(n_muni)
            if rec["municipality_code"] == "*"
            else [municipality_index(territory, rec["municipality_code"])]
        )
        for m in munis:
            if rec["per_residents"]:
                count = int(np.rint(targets[m] / float(rec["per_residents"])))
            else:
                count = int(rec["count"])
            base = (
                rec["name"]
                if rec["municipality_code"] != "*"
                else f"{rec['name']} ({territory.municipalities['name'].iloc[m]})"
            )
            service = SERVICES.index(rec["service"]) if rec.get("service") else -1
            member = sum(1 << COMMITTEES.index(c) for c in filter(None, (rec.get("committees") or "").split(";")))
            for j in range(count):
                row = add_org(base if count == 1 else f"{base} {j + 1}", rec["kind"], rec["domain"], m)
                orgs.service[row] = service
                orgs.committees[row] = member

    return Population(people, households, orgs, names, plant_of_closure, sectors, employers_by_sector)


def sector_names(cfg: Config) -> list[str]:
    sectors = list(SECTORS)
    if len(cfg["labour.sector_shares"]) != len(sectors):
        raise ConfigError(
            f"labour.sector_shares has {len(cfg['labour.sector_shares'])} values for {len(sectors)} sectors"
        )
    return sectors


class CellSampler:
    """Draws home cells by residential density for households of given municipalities,
    all municipalities in one vectorised call (built once per territory)."""

    def __init__(self, territory: Territory):
        cells, keys = [], []
        for m in range(territory.n_municipalities):
            c = territory.cells_of(m)
            w = territory.cell_weight[c[:, 0], c[:, 1]]
            cdf = np.cumsum(w / w.sum())
            cdf[-1] = 1.0
            cells.append(c)
            keys.append(m + cdf)  # increasing across municipalities
        self.cells = np.concatenate(cells)
        self.keys = np.concatenate(keys)

    def draw(self, muni: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = np.searchsorted(self.keys, muni + rng.random(len(muni)), side="right")
        idx = np.minimum(idx, len(self.cells) - 1)
        return self.cells[idx, 0], self.cells[idx, 1]


def categorical(rng: np.random.Generator, shares, size: int) -> np.ndarray:
    """Indices drawn with probabilities ``shares`` (which add up to 1)."""
    cdf = np.cumsum(shares)
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(cdf) - 1)


def household_members(sizes: np.ndarray, rng: np.random.Generator, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Ages and sexes of the members of households of the given sizes, household by
    household: a head (age from ``population.head_age_shares``, a woman with probability
    ``FEMALE_HEAD_SHARE``), a partner of the other sex in couples (the head's age plus a
    normal gap of mean ``PARTNER_AGE_GAP_MEAN`` and SD ``PARTNER_AGE_GAP_SD``, at least
    ``PARTNER_MIN_AGE``), and dependants younger than the head by a gap uniform in
    ``DEPENDANT_AGE_GAP`` (young children for young heads: a head is at least
    ``PARENT_MIN_AGE`` older than a dependant), at most ``CHILD_AGE`` plus
    ``ADULT_DEPENDANT_YEARS`` old, women with probability ``FEMALE_DEPENDANT_SHARE``.

    The draws, in order: the heads' age bands, their ages within the band, couples and
    the heads' sex (one uniform per household each); the partners' age differences; the
    dependants' age differences; new ages for the dependants that difference would make
    not yet born; the dependants' sex."""
    n_hh, n = len(sizes), int(sizes.sum())
    sizes = np.asarray(sizes, np.int64)
    band_cdf = np.cumsum(np.asarray(cfg["population.head_age_shares"], float))
    u = rng.random(4 * n_hh).reshape(4, n_hh)
    n_couples = int(np.count_nonzero((sizes >= 2) & (u[2] < cfg["population.couple_share"])))
    gap = rng.normal(PARTNER_AGE_GAP_MEAN, PARTNER_AGE_GAP_SD, n_couples)
    n_dep = n - n_hh - n_couples
    gap_lo, gap_hi = DEPENDANT_AGE_GAP
    older = rng.uniform(gap_lo, gap_hi, n_dep)
    age, female, dep, dep_head_age, n_young = _members_kernel(
        sizes,
        n,
        u,
        band_cdf,
        HEAD_AGE_BANDS,
        float(cfg["population.couple_share"]),
        FEMALE_HEAD_SHARE,
        PARTNER_MIN_AGE,
        gap,
        older,
    )
    young_u = rng.random(n_young)
    _dependants_kernel(
        age,
        female,
        dep,
        dep_head_age,
        young_u,
        rng.random(n_dep),
        PARENT_MIN_AGE,
        CHILD_AGE + ADULT_DEPENDANT_YEARS,
        FEMALE_DEPENDANT_SHARE,
    )
    return age, female


@kernel
def _band_of(cdf, u):
    """Index drawn by the uniform ``u`` from the cumulative shares ``cdf`` (as ``categorical``)."""
    x = u * cdf[-1]
    b = 0
    while b < len(cdf) and cdf[b] <= x:
        b += 1
    return min(b, len(cdf) - 1)


@kernel
def _members_kernel(sizes, n, u, band_cdf, bands, couple_share, female_head_share, partner_min_age, gap, older):
    """The members of households of ``sizes`` (``n`` in all), from the uniforms ``u``
    (by household: head's age band, age within the band, couple, head's sex: a woman
    below ``female_head_share``), the partners' age differences ``gap`` (a partner is at
    least ``partner_min_age``) and the dependants' ``older`` (how much younger than the
    head). Returns the ages and sexes (the dependants' sexes are set later), the
    dependants' rows with their heads' ages, and how many dependants the difference
    makes not yet born (a negative age, drawn anew)."""
    age = np.empty(n)
    female = np.zeros(n, np.bool_)
    n_dep = len(older)
    dep = np.empty(n_dep, np.int64)
    dep_head_age = np.empty(n_dep)
    i = c = d = 0
    n_young = 0
    for h in range(len(sizes)):
        band = _band_of(band_cdf, u[0, h])
        lo = bands[band, 0]
        head_age = lo + (bands[band, 1] - lo) * u[1, h]  # as rng.uniform(lo, hi)
        couple = sizes[h] >= 2 and u[2, h] < couple_share
        head_female = u[3, h] < female_head_share
        for r in range(sizes[h]):
            if r == 0:
                age[i] = head_age
                female[i] = head_female
            elif r == 1 and couple:
                age[i] = max(partner_min_age, head_age + gap[c])
                female[i] = not head_female
                c += 1
            else:
                a = head_age - older[d]
                age[i] = a
                dep[d] = i
                dep_head_age[d] = head_age
                n_young += a < 0
                d += 1
            i += 1
    return age, female, dep, dep_head_age, n_young


@kernel
def _dependants_kernel(age, female, dep, dep_head_age, young_u, female_u, parent_min_age, max_age, female_share):
    """Dependants ``dep``: those with a negative age (not yet born) get an age uniform
    between 0 and the head's age less ``parent_min_age`` (at least 1) from ``young_u``;
    ages are capped at ``max_age``; women where ``female_u`` is below ``female_share``."""
    k = 0
    for j in range(len(dep)):
        i = dep[j]
        a = age[i]
        if a < 0:
            a = max(dep_head_age[j] - parent_min_age, 1.0) * young_u[k]  # as rng.uniform(0, hi)
            k += 1
        age[i] = min(a, max_age)
        female[i] = female_u[j] < female_share


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


def make_members(model, muni: np.ndarray, sizes: np.ndarray, rng: np.random.Generator, entry_week: int) -> np.ndarray:
    """Add households moving into municipalities ``muni`` with the given sizes; return
    the new person rows. Members in the labour force arrive with a job (in a sector drawn
    from the sector shares) or searching, in the initial proportions."""
    cfg, P, H = model.config, model.people, model.households
    hx, hy = model.cell_sampler.draw(muni, rng)
    hh = H.add(
        len(sizes),
        present=True,
        municipality=muni,
        x=hx,
        y=hy,
        size=sizes,
        first_row=P.n + np.cumsum(sizes) - sizes,
        arrived=sizes,
    )
    age, female = household_members(sizes, rng, cfg)
    ids = P.add(
        len(age),
        present=True,
        household=np.repeat(hh, sizes),
        age=age,
        female=female,
        entry_week=entry_week,
        entry_kind=2,
    )
    status, sector, wage, tenure, pension = labour_status(age, rng, cfg, len(model.sectors))
    employed, employed_sector, employed_tenure = _arrivals_kernel(
        ids,
        status,
        sector,
        wage,
        tenure,
        pension,
        Status.EMPLOYED,
        Status.UNEMPLOYED,
        P.status,
        P.sector,
        P.wage,
        P.pension,
    )
    model.labour.give_jobs(employed, employed_sector, rng)
    P.job_start[employed] = model.week - employed_tenure * WEEKS_PER_YEAR
    return ids


@kernel
def _arrivals_kernel(
    ids, status, sector, wage, tenure, pension, employed, unemployed, p_status, p_sector, p_wage, p_pension
):
    """Labour status, sector, wage and pension of persons ``ids``; those whose status is
    ``employed`` arrive searching (``unemployed``) and are returned, with their sectors
    and tenures, to be given a job near their new home."""
    n_employed = 0
    for j in range(len(ids)):
        n_employed += status[j] == employed
    hired = np.empty(n_employed, np.int64)
    hired_sector = np.empty(n_employed, np.int64)
    hired_tenure = np.empty(n_employed, np.float32)
    k = 0
    for j in range(len(ids)):
        i = ids[j]
        p_status[i] = unemployed if status[j] == employed else status[j]
        p_sector[i] = sector[j]
        p_wage[i] = wage[j]
        p_pension[i] = pension[j]
        if status[j] == employed:
            hired[k] = i
            hired_sector[k] = sector[j]
            hired_tenure[k] = tenure[j]
            k += 1
    return hired, hired_sector, hired_tenure


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    raw = shares * total
    out = np.floor(raw).astype(np.int64)
    rest = total - out.sum()
    if rest > 0:
        out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def _read_orgs(territory: Territory | None = None) -> list[dict]:
    """The rows of organizations.csv, checked (model/inputs.py); with a territory, their
    municipality codes must be the territory's."""
    from .config import in_force
    from .inputs import read_organizations

    codes = None if territory is None else [str(c) for c in territory.municipalities["code"]]
    return read_organizations(in_force(ORG_FILE, "organizations.csv"), codes)
