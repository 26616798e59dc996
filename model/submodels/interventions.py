"""Interventions: which of the local responses are in force this week.

Each response of the case study [small-cities-magog] is a section ``interventions.NAME`` of
``configs/base.toml`` with ``enabled`` (the scenario switch), ``start`` and ``end``
(months, ``YYYY-MM``): it is active in the weeks that start on or after the first day of
``start`` and before the first day of ``end``. Scenarios (``configs/scenarios/``) switch
interventions on and move their dates; the 2015 withdrawal is the end date of the
committees and of the CSSS's cross-sectoral and reinforcement modes (the merger of 1 April
2015), and the end of the regional conference (31 March 2016).

The submodels ask ``model.interventions.active(NAME)`` and read the intervention's own
parameters from ``model.interventions.params(NAME)``. A local response that is enabled
but never active changes nothing: every draw the submodels make is the same whether it
is active or not, and its effects are multiplications by one or additions of zero. The
regional conference is the other way round: it is active in every scenario (outside
resources the RCM had from 2003), and its effect is what its end removes.
"""

from __future__ import annotations

from datetime import date

from ..config import parse_month

NAMES = ("in_plant_services", "recovery_committee", "support_committee", "helper_training",
         "csss_structural", "csss_cross_sectoral", "csss_reinforcement", "regional_conference")


class Interventions:
    def __init__(self, model):
        cfg = model.config
        self._params = {name: cfg.section(f"interventions.{name}") for name in NAMES}
        self.windows: dict[str, tuple[date, date] | None] = {}
        for name, p in self._params.items():
            where = f"interventions.{name}"
            start = parse_month(p["start"], f"{where}.start")
            end = parse_month(p["end"], f"{where}.end")
            self.windows[name] = (start, end) if p["enabled"] else None
        self._active = {name: False for name in NAMES}
        self.first_active_week: dict[str, int] = {}
        self.active_names = ""  # the active ones, joined by ";" (the time series' column)

    def update(self, today: date, week: int) -> None:
        """Set which interventions are active in the week starting ``today``."""
        changed = False
        for name, window in self.windows.items():
            on = window is not None and window[0] <= today < window[1]
            changed |= self._active[name] != on
            self._active[name] = on
            if on and name not in self.first_active_week:
                self.first_active_week[name] = week
        if changed:
            self.active_names = ";".join(name for name, on in self._active.items() if on)

    def active(self, name: str) -> bool:
        return self._active[name]

    def params(self, name: str) -> dict:
        return self._params[name]

    def extra_jobs(self, scale: float) -> float:
        """Jobs added to labour demand by the active interventions (model persons)."""
        jobs = 0.0
        if self._active["recovery_committee"]:
            jobs += self._params["recovery_committee"]["jobs_created"]
        if self._active["csss_structural"]:
            jobs += self._params["csss_structural"]["jobs_created"]
        return jobs * scale

    @property
    def concertation(self) -> bool:
        """Public organizations, elected officials and residents sit together: a committee
        with elected members meets, or the CSSS works in its cross-sectoral mode."""
        a = self._active
        return a["recovery_committee"] or a["support_committee"] or a["csss_cross_sectoral"]

    def snapshot(self) -> dict[str, bool]:
        return dict(self._active)
