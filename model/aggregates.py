"""What a week records: the weekly aggregates (one row of ``timeseries.parquet``).

``WeekStats`` names the figures; ``Aggregates.update`` computes them at the end of each
week from the state the submodels left, and the model's DataCollector records them. The
counts and sums over persons are compiled kernels (below), each one pass over the rows
it needs; ``Aggregates`` turns them into the shares and means.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .jit import kernel
from .state import Status

NA = float("nan")


@dataclass
class WeekStats:
    """The aggregates of one week (one row of ``timeseries.parquet``). Names say what they
    are: a stock (count now), a share or rate, or a running total (``_cumulative``).
    Shares are NaN when their denominator is empty."""

    week: int = 0
    date: str = ""
    population: int = 0
    households: int = 0
    employed: int = 0
    unemployed: int = 0
    in_training: int = 0
    retired: int = 0
    labour_force: int = 0
    unemployment_rate: float = 0.0
    jobs_lost_cumulative: int = 0
    displaced_cumulative: int = 0
    displaced_reemployed: int = 0
    ei_beneficiaries: int = 0
    ei_exhausted_cumulative: int = 0
    vacancies: float = 0.0
    hires: int = 0
    separations: int = 0
    households_under_strain: int = 0
    births_cumulative: int = 0
    deaths_cumulative: int = 0
    in_migrants_cumulative: int = 0
    out_migrants_cumulative: int = 0
    strain_out_migrants_cumulative: int = 0
    mean_distress: float = NA
    share_high_distress: float = NA
    mean_distress_employed: float = NA
    mean_distress_unemployed: float = NA
    share_high_distress_employed: float = NA
    share_high_distress_unemployed: float = NA
    in_need: int = 0
    support_received_share: float = NA
    formal_service_reach: float = NA
    unmet_need_share: float = NA
    mean_distress_displaced: float = NA
    share_high_distress_displaced: float = NA
    support_received_share_displaced: float = NA
    formal_service_reach_displaced: float = NA
    unmet_need_share_displaced: float = NA
    disclosures: int = 0
    helping_acts: int = 0
    helpers_trained: int = 0
    trained_helpers_reached_share: float = NA
    guide_copies_cumulative: int = 0
    guide_readers_cumulative: int = 0
    helper_referrals_cumulative: int = 0
    self_referrals_cumulative: int = 0
    org_referrals_cumulative: int = 0
    service_clients: int = 0
    service_waiting: int = 0
    psychosocial_waiting: int = 0
    psychosocial_admitted: int = 0
    psychosocial_wait_weeks: float = NA
    knows_services_share: float = NA
    cohesion_index: float = NA
    belonging_mean: float = NA
    participation_rate: float = NA
    engagement_share: float = NA
    tie_integrity: float = NA
    org_partnership_density: float = NA
    org_cross_sector_share: float = NA
    interventions_active: str = ""


STAT_NAMES = tuple(f.name for f in fields(WeekStats))


def read_stat(name: str, model) -> float | int | str:
    """DataCollector reporter (bound to a name with ``functools.partial``): an aggregate
    the step has already computed."""
    return getattr(model.stats, name)


class Aggregates:
    """The weekly aggregates of ``model``, kept in ``stats`` (updated in place) with the
    running total of EI exhaustions."""

    def __init__(self, model):
        self.model = model
        self.stats = WeekStats()
        self.ei_exhausted_total = 0
        # Distress is stored in float32 and compared with the threshold in float32.
        self._high = np.float32(model.config["distress.high_threshold"])
        self._support_memory = int(model.config["support.memory_weeks"])

    def update(self, paid: np.ndarray) -> WeekStats:
        """The week's aggregates, written into ``stats``; ``paid`` are the rows paid EI
        benefits this week."""
        m = self.model
        P = m.people
        # Everyone with a labour-force status is a present adult (children hold CHILD until
        # working age, persons who left hold GONE), so the adults' tally by status is the
        # whole population's for those statuses.
        tally = adult_summary(m.adults, P.distress, P.status, self._high, P.knows_services, len(Status.NAMES))
        counts = tally[0]
        s = self.stats
        s.week = m.week
        s.date = m.date.isoformat()
        s.population = m.n_present
        s.households = m.n_households
        s.employed = int(counts[Status.EMPLOYED])
        s.unemployed = int(counts[Status.UNEMPLOYED])
        s.in_training = int(counts[Status.TRAINING])
        s.retired = int(counts[Status.RETIRED])
        s.labour_force = s.employed + s.unemployed
        s.unemployment_rate = s.unemployed / s.labour_force if s.labour_force else NA
        s.jobs_lost_cumulative = m.shocks.jobs_lost
        displaced = m.shocks.displaced
        s.displaced_cumulative = len(displaced)
        # The laid-off workers of the timeline still in the RCM, and those in high distress.
        here, high, reemployed = displaced_summary(
            displaced, P.present, P.status, P.distress, self._high, Status.EMPLOYED
        )
        s.displaced_reemployed = int(reemployed)
        s.ei_beneficiaries = len(paid)
        self.ei_exhausted_total += int(np.count_nonzero(P.ei_left[paid] == 0))
        s.ei_exhausted_cumulative = self.ei_exhausted_total
        s.vacancies = float(m.labour.vacancies.sum())
        s.hires = m.labour.hires
        s.separations = m.labour.separations
        s.households_under_strain = m.finances.strained
        c = m.demography.counts
        s.births_cumulative = c["births"]
        s.deaths_cumulative = c["deaths"]
        s.in_migrants_cumulative = c["in_migrants"]
        s.out_migrants_cumulative = c["moved_alone"] + c["moved_with_household"]
        s.strain_out_migrants_cumulative = c["strain_moved"]
        self._social(tally, here, high)
        return s

    def _social(self, tally: tuple, dis: np.ndarray, dis_high: np.ndarray) -> None:
        """Distress, need and help, services, belonging and the organization network;
        ``tally`` is ``adult_summary``'s, ``dis`` and ``dis_high`` the displaced workers
        still here and those of them in high distress."""
        m = self.model
        P, s = m.people, self.stats
        adult = m.adults
        count, total, n_high, need, knows = tally
        s.mean_distress = float(total.sum() / count.sum()) if len(adult) else NA
        s.share_high_distress = float(n_high.sum() / count.sum()) if len(adult) else NA
        e, u = int(count[Status.EMPLOYED]), int(count[Status.UNEMPLOYED])
        s.mean_distress_employed = float(total[Status.EMPLOYED]) / e if e else NA
        s.mean_distress_unemployed = float(total[Status.UNEMPLOYED]) / u if u else NA
        s.share_high_distress_employed = float(n_high[Status.EMPLOYED]) / e if e else NA
        s.share_high_distress_unemployed = float(n_high[Status.UNEMPLOYED]) / u if u else NA
        s.in_need = len(need)
        (s.support_received_share, s.formal_service_reach, s.unmet_need_share) = self._reach(need)
        s.mean_distress_displaced = float(P.distress[dis].mean()) if len(dis) else NA
        s.share_high_distress_displaced = len(dis_high) / len(dis) if len(dis) else NA
        (s.support_received_share_displaced, s.formal_service_reach_displaced, s.unmet_need_share_displaced) = (
            self._reach(dis_high)
        )
        sup = m.support
        s.disclosures = sup.disclosures
        s.helping_acts = sup.acts
        if sup.trained_total:
            trained = adult[P.trained_week[adult] >= 0]
            s.helpers_trained = len(trained)
            s.trained_helpers_reached_share = float(P.met_distressed[trained].mean()) if len(trained) else NA
        else:
            s.helpers_trained, s.trained_helpers_reached_share = 0, NA
        guide = m.interventions["guide"]
        s.guide_copies_cumulative = guide.copies
        s.guide_readers_cumulative = guide.readers
        c = m.services.counts
        s.helper_referrals_cumulative = c["helper_referrals"]
        s.self_referrals_cumulative = c["self_referrals"]
        s.org_referrals_cumulative = c["org_referrals"]
        s.service_clients = m.services.clients
        s.service_waiting = m.services.waiting
        s.psychosocial_waiting = m.services.psy_waiting
        s.psychosocial_admitted = m.services.psy_admitted
        s.psychosocial_wait_weeks = m.services.psy_wait_weeks
        s.knows_services_share = knows / len(adult) if len(adult) else NA
        b = m.belonging
        s.belonging_mean = b.belonging_mean
        s.participation_rate = b.participation_rate
        s.engagement_share = b.engaged_share if b.engaged_share == b.engaged_share else s.participation_rate
        s.tie_integrity = b.tie_integrity
        s.org_partnership_density = m.committees.density
        s.org_cross_sector_share = m.committees.cross_sector_share
        # The mean of the four (NaN if any is): np.mean's additions, in the same order.
        s.cohesion_index = (
            float(s.belonging_mean)
            + float(s.participation_rate)
            + float(s.tie_integrity)
            + float(s.org_partnership_density)
        ) / 4
        s.interventions_active = m.interventions.active_names

    def _reach(self, need: np.ndarray) -> tuple[float, float, float]:
        """Shares of ``need`` with informal support felt now, in a formal service, and with neither."""
        if len(need) == 0:
            return NA, NA, NA
        m = self.model
        supported, served, neither = reach_counts(
            need, m.people.support_week, m.people.service, m.week, self._support_memory
        )
        return supported / len(need), served / len(need), neither / len(need)


@kernel
def at_or_above(rows: np.ndarray, values: np.ndarray, threshold) -> np.ndarray:
    """The rows of ``rows`` (in order) whose ``values`` are at least ``threshold``."""
    out = np.empty(len(rows), np.int64)
    m = 0
    for j in range(len(rows)):
        i = rows[j]
        out[m] = i  # written always, kept only if selected (no branch to mispredict)
        m += values[i] >= threshold
    return out[:m]


@kernel
def adult_summary(
    adults: np.ndarray, distress: np.ndarray, status: np.ndarray, threshold, knows_services: np.ndarray, k: int
):
    """Over ``adults``: count, summed distress and count in high distress by status code
    (sums in row order, as ``np.bincount`` with weights), the rows in high distress, and
    how many know which service to turn to."""
    count = np.zeros(k, np.int64)
    total = np.zeros(k)
    high = np.empty(len(adults), np.int64)
    m = 0
    for j in range(len(adults)):
        i = adults[j]
        s = status[i]
        d = distress[i]
        count[s] += 1
        total[s] += d
        high[m] = i  # written always, kept only if in high distress
        m += d >= threshold
    # Separate passes: each tally in the loop above is a chain of dependent additions.
    knows = 0
    for j in range(len(adults)):
        knows += knows_services[adults[j]]
    n_high = np.zeros(k)
    for j in range(m):
        n_high[status[high[j]]] += 1.0
    return count, total, n_high, high[:m], knows


@kernel
def displaced_summary(
    displaced: np.ndarray, present: np.ndarray, status: np.ndarray, distress: np.ndarray, threshold, employed: int
):
    """Of the ``displaced`` rows: those still present, those of them in high distress (both
    in order), and how many are employed."""
    here = np.empty(len(displaced), np.int64)
    high = np.empty(len(displaced), np.int64)
    m = 0
    h = 0
    working = 0
    for j in range(len(displaced)):
        i = displaced[j]
        working += status[i] == employed
        here[m] = i
        high[h] = i
        p = present[i]
        m += p
        h += p & (distress[i] >= threshold)
    return here[:m], high[:h], working


@kernel
def reach_counts(rows: np.ndarray, support_week: np.ndarray, service: np.ndarray, week: int, memory: int):
    """Of ``rows``: how many felt informal support in the last ``memory`` weeks, how many
    are in a formal service, and how many have neither."""
    supported = 0
    served = 0
    neither = 0
    for j in range(len(rows)):
        i = rows[j]
        sup = week - support_week[i] < memory
        ser = service[i] >= 0
        supported += sup
        served += ser
        neither += (not sup) and (not ser)
    return supported, served, neither
