"""Every picture of one run, drawn from its snapshots (one ``Pictures`` per run built)."""

from __future__ import annotations

import threading

import numpy as np

from viz.charts import CHARTS, GUIDE_CHART, LineChart, NetworkChart, PathsChart, closures_of
from viz.mapview import MapView
from viz.session import RunView, Session


class Pictures:
    """The map, the charts, the network and the laid-off workers' paths of a session's
    run. Built from the model's fixed parts (territory, timeline, organizations) under
    the session's lock; afterwards drawn from snapshots only, one picture at a time."""

    def __init__(self, session: Session):
        self.lock = threading.Lock()
        with session.lock:
            m = session.main
            self.ok = m.problem is None or "territory" in m.__dict__
            if not self.ok:
                return
            self.map = MapView(m.territory, m.municipality_names, (m.territory.width, m.territory.height))
            self.closures = closures_of(m)
            members = m.committees.members
            self.network_rows = members.copy()
            self.network = NetworkChart([m.population.org_names[r] for r in members], m.orgs.domain[members])
        self.charts: dict[tuple, object] = {}

    def _chart(self, key, make):
        if key not in self.charts:
            self.charts[key] = make()
        return self.charts[key]

    def map_png(self, view: RunView, layer: str, level: str) -> bytes:
        with self.lock:
            return self.map.png(view, layer, level)

    def chart_png(self, index: int, view: RunView, twin: RunView | None, difference: bool = False) -> bytes:
        spec = CHARTS[index] if index >= 0 else GUIDE_CHART
        compare = twin is not None
        size = (5.2, 3.2) if difference else (5.0, 2.05)
        with self.lock:
            chart = self._chart(
                (spec.key, compare, difference),
                lambda: LineChart(spec, view, self.closures, size=size, compare=compare, difference=difference),
            )
            return chart.png(view, twin)

    def paths_png(self, view: RunView) -> bytes:
        with self.lock:
            return self._chart(("paths", view.scenario), lambda: PathsChart(view)).png(view)

    def network_png(self, view: RunView) -> bytes:
        with self.lock:
            return self.network.png(view)

    def pick_network(self, col: float, row: float) -> int | None:
        """Org row of the network node at a pixel of the network picture."""
        with self.lock:
            i = self.network.pick(col, row)
        return None if i is None else int(self.network_rows[i])


def blank() -> np.ndarray:
    return np.full((10, 10, 3), 255, np.uint8)
