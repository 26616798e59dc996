"""Set-up of the synthetic population: households, persons, employers and organizations.

Counts: municipality m starts with ``rint(scale * P_m(start))`` persons, where ``P_m`` is
the census population interpolated log-linearly between the 2006 and 2011 census days
(``territory.population_on``); ``rint`` rounds half to even. Households are drawn from
the household-size distribution until the municipality's count is reached, the last one
trimmed to fit. Plant workforces are the scaled layoff waves the run will replay, so
every wave can be filled.

The members of a household are drawn in ``model/households.py``, their labour-force
status, jobs and pensions in ``model/labour_status.py``; this module puts them together
with the employers and organizations, at the set-up and when households move in
(:func:`make_members`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from .config import CONFIG_DIR, Config, ConfigError
from .constants import SECTORS
from .households import HEAD_AGE_BANDS as HEAD_AGE_BANDS
from .households import CellSampler, household_members, households_for
from .households import categorical as categorical
from .jit import kernel
from .labour_status import PARTICIPATION_BANDS as PARTICIPATION_BANDS
from .labour_status import band_index as band_index
from .labour_status import labour_status
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

# Rules of the set-up (structural constants, not parameters); those of the households'
# members are in model/households.py, of the labour-force status in model/labour_status.py.
PLANT_TENURE_START_AGE = 17.0  # years: a plant worker's tenure is at most the years since this age (at least 0.5)
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
        sizes = households_for(int(targets[m]), shares, rng)
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
    """The rows of organizations.csv, checked (model/input_tables.py); with a territory, their
    municipality codes must be the territory's."""
    from .config import in_force
    from .input_tables import read_organizations

    codes = None if territory is None else [str(c) for c in territory.municipalities["code"]]
    return read_organizations(in_force(ORG_FILE, "organizations.csv"), codes)
