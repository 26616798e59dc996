"""Labour demand: the jobs outside the plants and their vacancies.

In the long run the regional economy absorbs the local labour force not working at a plant
at the structural unemployment rate, scaled by a yearly demand index (the 2008-2009
recession). The plant jobs the closures destroy are missing from it until the regional
economy replaces them: a share ``job_replacement_share`` of each layoff, with a half-life;
the rest never. Jobs keep the sector mix of the jobs held outside the plants at the start.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from ...state import WEEKS_PER_YEAR


def year_fraction(day: date) -> float:
    """The time of year of ``day`` (mid-day) in years."""
    return day.year + (day.timetuple().tm_yday - 0.5) / 365.25


def vacancies_of(jobs: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Vacancies by sector: the jobs not held."""
    return np.maximum(jobs - held, 0.0)


class LabourDemand:
    """The jobs outside the plants, week by week."""

    def __init__(self, cfg, start: date, n_weeks: int, labour_force: int, sector_share: np.ndarray):
        reg = cfg.section("regional_economy")
        self.structural_rate = reg["structural_unemployment_rate"]
        self.replacement_share = reg["job_replacement_share"]
        self.replace_per_week = 1.0 - 0.5 ** (1.0 / (reg["job_replacement_halflife_years"] * WEEKS_PER_YEAR))
        self.sector_share = sector_share
        self.labour_force = labour_force
        self.deficit = 0.0  # lost plant jobs the regional economy will still replace
        self.lost_for_good = 0.0  # lost plant jobs it never replaces
        self.index = np.asarray(reg["job_demand_index"], float)
        first_year = cfg.defs["regional_economy.job_demand_index"].extra.get("years", [2003])[0]
        self.index_mid_years = first_year + 0.5 + np.arange(len(self.index))
        # The index of every week of the run, by date (one interpolation at the start).
        dates = [start + timedelta(days=7 * w) for w in range(n_weeks)]
        self._index_of_date = dict(
            zip(dates, np.interp([year_fraction(d) for d in dates], self.index_mid_years, self.index))
        )

    def lose(self, n_jobs: int) -> None:
        """``n_jobs`` plant jobs are lost: a share is replaced over time, the rest never."""
        self.deficit += self.replacement_share * n_jobs
        self.lost_for_good += (1.0 - self.replacement_share) * n_jobs

    def index_on(self, day: date) -> float:
        """The demand index on ``day``: the yearly index holds at mid-year, weeks in
        between are interpolated."""
        index = self._index_of_date.get(day)
        if index is None:
            index = float(np.interp(year_fraction(day), self.index_mid_years, self.index))
        return index

    def jobs(self, day: date, at_plants: int, extra_jobs: float) -> np.ndarray:
        """This week's jobs outside the plants, by sector: the labour force not at a plant,
        at the structural rate, times the demand index, plus the jobs interventions add,
        less the plant jobs lost and not yet replaced (which decay by a week first)."""
        self.deficit *= 1.0 - self.replace_per_week
        total = (self.labour_force - at_plants) * (1.0 - self.structural_rate) * self.index_on(day)
        total += extra_jobs
        return max(total - self.deficit - self.lost_for_good, 0.0) * self.sector_share
