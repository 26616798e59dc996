"""The run a browser tab drives: its model (and the baseline beside it), stepped only under
a lock, and the snapshot of what the page draws, taken after each week.

Drawing never reads a model. After each week, under the lock, ``Session.step`` copies
what the pictures need (per-municipality and per-cell figures, the plotted series, the
organization network, the laid-off workers' paths) into a ``Snapshot``; the pictures are
drawn from that snapshot, in any thread, while the model may already be stepping again.
Clicking the map reads the model, under the same lock.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta

import mesa
import numpy as np

from model.config import ConfigError, load_base, resolve
from model.inputs import check_memory
from model.model import CohesionModel
from model.state import Exit, Status

BASELINE = "baseline"
MASK_RESIDENTS = 5  # cells with fewer residents (model persons) are masked on the cell layers

# The laid-off workers' paths, in the order they are stacked
PATHS = ("re-employed", "in training", "searching", "retired", "outside the labour force", "moved out", "died")

# Series the page plots (DataCollector columns), copied into each snapshot
SERIES = (
    "week",
    "unemployment_rate",
    "share_high_distress",
    "support_received_share",
    "formal_service_reach",
    "unmet_need_share",
    "cohesion_index",
    "belonging_mean",
    "participation_rate",
    "tie_integrity",
    "org_partnership_density",
    "guide_copies_cumulative",
    "guide_readers_cumulative",
    "helpers_trained",
    "displaced_cumulative",
    "population",
)


def page_arguments(scenario_name, scale, seed, overrides: dict) -> dict:
    """``CohesionModel`` keyword arguments, checked: raises ConfigError with a one-line
    message for a bad scale, seed or parameter value, or when the model's estimated memory
    exceeds the memory available (``model.inputs.check_memory``)."""
    from viz.controls import number

    scale_value = number(scale, "scale")
    try:
        seed_value = number(seed, "seed")
    except ConfigError:
        seed_value = -1.0
    if not seed_value.is_integer() or seed_value < 0:
        raise ConfigError(f"seed: {seed!r} is not a whole number >= 0")
    ov = {"run.scale": scale_value, **overrides}
    cfg = resolve(str(scenario_name), None, ov, origin="page controls")
    check_memory(cfg)  # the same guard as ``cohesion run``: a scale the machine cannot hold is refused
    return {"scenario": str(scenario_name), "rng": int(seed_value), "overrides": ov}


class PageModel(CohesionModel):
    """``CohesionModel`` built from the page's controls.

    Args:
        scenario_name: a scenario of ``configs/scenarios/``.
        scale: model persons per resident (a number or its text).
        seed: the run's seed (a whole number >= 0, or its text).
        overrides: dotted parameter names and values that differ from the scenario.
        scenario: Mesa's own scenario object (which SolaraViz passes on reset); unused.
        **controls: further values keyed ``section__name``.

    A value the configuration refuses does not raise: the model is then left unbuilt,
    with ``problem`` holding the one-line message and ``running`` false. A week that
    fails stops the run with ``problem`` describing it. A stopped or finished run does not
    advance: ``step`` then does nothing (Mesa counts a week before running it, so a step
    past the last week would otherwise show "week 836 of 835").
    """

    def __init__(
        self, scenario_name: str = BASELINE, scale=1.0, seed=0, overrides: dict | None = None, scenario=None, **controls
    ):
        self.problem: str | None = None
        self.step_failed = False
        try:
            from viz.controls import parse_controls

            ov = parse_controls({**(overrides or {}), **controls})  # text fields give text
            super().__init__(**page_arguments(scenario_name, scale, seed, ov))
        except ConfigError as exc:
            self.problem = str(exc)
            if "steps" not in self.__dict__:  # refused before mesa.Model was set up
                mesa.Model.__init__(self, rng=0)
            self.running = False
        mesa_step = self.step

        def step() -> None:
            if self.running and self.problem is None:
                mesa_step()

        self.step = step

    def step(self) -> None:
        """One week (Mesa's step calls it after counting the week); a failing week sets
        ``problem`` instead of raising."""
        week = self.steps
        day = self.start_date + timedelta(days=7 * (week - 1))
        try:
            CohesionModel.step(self)
        except Exception as exc:  # a failing submodel must not take the page down
            traceback.print_exc(file=sys.stderr)
            self.problem = f"week {week} (from {day.isoformat()}) failed: {type(exc).__name__}: {exc}"
            self.step_failed = True
            self.running = False

    @property
    def finished(self) -> bool:
        return self.problem is None and not self.running


# -- what is drawn -----------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    """What the page draws of one model at one week (copies, never the model's arrays)."""

    scenario: str
    week: int  # weeks simulated
    n_weeks: int
    start: date
    end: date
    day: date  # first day of the last simulated week (the start before the first)
    finished: bool
    problem: str | None
    step_failed: bool
    residents: int
    seed: int
    scale: float
    changed: tuple[str, ...]  # "name = value" of parameters differing from base.toml
    interventions_on: tuple[str, ...]
    muni: dict[str, np.ndarray]  # per municipality
    cells: dict[str, np.ndarray]  # per cell, [x, y]
    plants: tuple[tuple[int, str, int, str], ...]  # (org row, name, municipality, state)
    series: dict[str, np.ndarray]
    paths: np.ndarray  # (weeks + 1, len(PATHS)) laid-off workers by path
    links: np.ndarray  # organization network among its members (k x k)
    base_links: np.ndarray
    recovery: np.ndarray  # members on the recovery committee
    support: np.ndarray
    committees_on: tuple[bool, bool, bool]  # recovery, support, cross-sectoral mode


@dataclass(frozen=True)
class Snapshot:
    main: RunView
    twin: RunView | None  # the baseline beside the main run, same seed
    stamp: int  # increases with every snapshot of the session


def _per_municipality(model: CohesionModel) -> dict[str, np.ndarray]:
    P, H = model.people, model.households
    n = P.n
    k = model.territory.n_municipalities
    muni = H.municipality[P.household[:n]].astype(np.int64)
    present = P.present[:n]
    status = P.status[:n]
    adult = np.zeros(n, bool)
    adult[model.adults] = True

    def count(mask):
        return np.bincount(muni[mask], minlength=k).astype(float)

    def total(mask, values):
        return np.bincount(muni[mask], weights=values[mask], minlength=k)

    out = {"residents": count(present), "adults": count(adult)}
    out["unemployed"] = count(present & (status == Status.UNEMPLOYED))
    out["labour_force"] = out["unemployed"] + count(present & (status == Status.EMPLOYED))
    displaced = np.zeros(n, bool)
    displaced[model.shocks.displaced] = True
    out["laid_off"] = count(present & displaced)
    out["laid_off_reemployed"] = count(present & displaced & (status == Status.EMPLOYED))
    distress = P.distress[:n].astype(float)
    out["distress"] = total(adult, distress)
    high = adult & (P.distress[:n] >= model.config["distress.high_threshold"])
    out["high_distress"] = count(high)
    supported, need = _help_measure(model, "support_received")
    served, _ = _help_measure(model, "in_service")
    out["in_need"] = count(need)
    out["supported"] = total(need, supported)
    out["served"] = total(need, served)
    out["belonging"] = total(adult, P.belonging[:n].astype(float))
    out["participating"] = total(adult, P.participates[:n].astype(float))
    return out


def _help_measure(model: CohesionModel, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Over all person rows, as (values, defined): informal support received in the last
    ``support.memory_weeks`` weeks (``support_received``) or being in a formal service
    (``in_service``), defined for the adults in high distress."""
    P = model.people
    n = P.n
    need = np.zeros(n, bool)
    need[model.need] = True
    if name == "support_received":
        return (model.week - P.support_week[:n] < model.config["support.memory_weeks"]).astype(float), need
    if name == "in_service":
        return (P.service[:n] >= 0).astype(float), need
    raise KeyError(f"unknown measure {name!r}; known: support_received, in_service")


def _per_cell(model: CohesionModel) -> dict[str, np.ndarray]:
    P, H = model.people, model.households
    n = P.n
    width, height = model.territory.width, model.territory.height  # the grid's, without its agents
    size = width * height
    shape = (width, height)
    hh = P.household[:n]
    cell = H.x[hh].astype(np.int64) * height + H.y[hh]
    present = P.present[:n]
    status = P.status[:n]
    adult = np.zeros(n, bool)
    adult[model.adults] = True

    def count(mask):
        return np.bincount(cell[mask], minlength=size).astype(float).reshape(shape)

    def total(mask, values):
        return np.bincount(cell[mask], weights=values[mask], minlength=size).reshape(shape)

    out = {"residents": count(present), "adults": count(adult)}
    out["unemployed"] = count(present & (status == Status.UNEMPLOYED))
    out["labour_force"] = out["unemployed"] + count(present & (status == Status.EMPLOYED))
    out["distress"] = total(adult, P.distress[:n].astype(float))
    supported, need = _help_measure(model, "support_received")
    out["in_need"] = count(need)
    out["supported"] = total(need, supported)
    out["belonging"] = total(adult, P.belonging[:n].astype(float))
    return out


def plant_states(model: CohesionModel) -> dict[int, str]:
    """State of each of the timeline's plants (org row -> open, closure announced, closed)."""
    orgs = model.orgs
    out = {}
    for row in model.population.plant_of_closure.values():
        if not orgs.open[row]:
            out[row] = "closed"
        elif orgs.announced[row]:
            out[row] = "closure announced"
        else:
            out[row] = "open"
    return out


def laid_off_paths(model: CohesionModel) -> np.ndarray:
    """Laid-off workers of the timeline so far, by path now (counts in PATHS order)."""
    P = model.people
    rows = model.shocks.displaced
    status = P.status[rows]
    gone = ~P.present[rows]
    reason = P.exit_reason[rows]
    here = ~gone
    moved = gone & ((reason == Exit.MOVED_ALONE) | (reason == Exit.MOVED_WITH_HOUSEHOLD))
    return np.array(
        [
            np.count_nonzero(here & (status == Status.EMPLOYED)),
            np.count_nonzero(here & (status == Status.TRAINING)),
            np.count_nonzero(here & (status == Status.UNEMPLOYED)),
            np.count_nonzero(here & (status == Status.RETIRED)),
            np.count_nonzero(here & (status == Status.INACTIVE)),
            np.count_nonzero(moved),
            np.count_nonzero(gone & ~moved),
        ],
        dtype=np.int64,
    )


def _changed(model: CohesionModel) -> tuple[str, ...]:
    """The parameters that differ from base.toml (kept with the model: its configuration is fixed)."""
    if "_page_changed" not in model.__dict__:
        base = load_base()
        model._page_changed = tuple(
            f"{k} = {v}" for k, v in model.config.values.items() if k != "run.scale" and v != base.values.get(k)
        )
    return model._page_changed


def run_view(model: PageModel, paths: list[np.ndarray]) -> RunView:
    """A copy of what the page draws of ``model`` now (call under the session's lock)."""
    if model.problem is not None and "territory" not in model.__dict__:  # never built
        return RunView(
            "",
            0,
            0,
            date.min,
            date.min,
            date.min,
            False,
            model.problem,
            False,
            0,
            0,
            0.0,
            (),
            (),
            {},
            {},
            (),
            {},
            np.zeros((0, len(PATHS)), np.int64),
            np.zeros((0, 0), bool),
            np.zeros((0, 0), bool),
            np.zeros(0, bool),
            np.zeros(0, bool),
            (False, False, False),
        )
    data = model.datacollector.model_vars
    series = {c: np.asarray(data.get(c, []), dtype=float) for c in SERIES}
    residents = model.stats.population if model.steps else model.n_present
    c = model.committees
    iv = model.interventions
    states = plant_states(model)
    names = model.population.org_names
    plants = tuple((row, names[row], int(model.orgs.municipality[row]), states[row]) for row in sorted(states))
    return RunView(
        scenario=model.config.scenario,
        week=model.steps,
        n_weeks=model.n_weeks,
        start=model.start_date,
        end=model.end_date,
        day=model.date,
        finished=model.finished,
        problem=model.problem,
        step_failed=model.step_failed,
        residents=int(residents),
        seed=model.seed,
        scale=float(model.config["run.scale"]),
        changed=_changed(model),
        interventions_on=tuple(name for name, i in iv.items.items() if i.on),
        muni=_per_municipality(model),
        cells=_per_cell(model),
        plants=plants,
        series=series,
        paths=np.array(paths),
        links=c.links.copy(),
        base_links=c.base.copy(),
        recovery=c.recovery.copy(),
        support=c.support.copy(),
        committees_on=(
            iv.active("recovery_committee"),
            iv.active("support_committee"),
            iv.active("csss_cross_sectoral"),
        ),
    )


# -- the session ---------------------------------------------------------------------------


@dataclass
class Settings:
    """What a run is built from: the scenario, scale, seed and the parameters the
    controls set that differ from the scenario; ``compare`` adds the baseline beside it."""

    scenario: str = BASELINE
    scale: object = 1.0
    seed: object = 0
    overrides: dict = field(default_factory=dict)
    compare: bool = False


def twin_overrides(overrides: dict) -> dict:
    """The overrides the baseline beside a run keeps: all but the interventions'."""
    return {k: v for k, v in overrides.items() if not k.startswith("interventions.")}


class Session:
    """One browser tab's run: the model, the baseline beside it when comparing, their
    laid-off workers' paths, the latest snapshot, and the speed of the last weeks."""

    def __init__(self, settings: Settings | None = None):
        self.lock = threading.RLock()  # held while a model steps or is read
        self.draw_lock = threading.Lock()  # held while a picture is drawn (matplotlib figures are reused)
        self._stamp = 0
        self._times: deque[tuple[float, int]] = deque(maxlen=20)
        self.build(settings or Settings())

    def build(self, settings: Settings) -> Snapshot:
        with self.lock:
            self.settings = settings
            self.main = PageModel(settings.scenario, settings.scale, settings.seed, settings.overrides)
            self.twin = None
            if settings.compare and self.main.problem is None:
                self.twin = PageModel(BASELINE, settings.scale, settings.seed, twin_overrides(settings.overrides))
            self.paths = {id(m): [self._paths(m)] for m in self.models}
            self._times.clear()
            return self._snap()

    @property
    def models(self) -> list[PageModel]:
        return [m for m in (self.main, self.twin) if m is not None]

    @staticmethod
    def _paths(model: PageModel) -> np.ndarray:
        if model.problem is not None and "shocks" not in model.__dict__:
            return np.zeros(len(PATHS), np.int64)
        return laid_off_paths(model)

    @property
    def can_step(self) -> bool:
        return self.main.running and self.main.problem is None

    def step(self, weeks: int = 1) -> Snapshot:
        """Step the run (and the baseline beside it) ``weeks`` weeks, or to the end."""
        with self.lock:
            for _ in range(weeks):
                if not self.can_step:
                    break
                for m in self.models:
                    m.step()
                    self.paths[id(m)].append(self._paths(m))
            self._times.append((time.perf_counter(), self.main.steps))
            return self._snap()

    def weeks_per_second(self) -> float | None:
        """Weeks simulated per second over the last steps (None before two)."""
        if len(self._times) < 2:
            return None
        (t0, w0), (t1, w1) = self._times[0], self._times[-1]
        return (w1 - w0) / (t1 - t0) if t1 > t0 and w1 > w0 else None

    def reset_speed(self) -> None:
        self._times.clear()

    def snapshot(self) -> Snapshot:
        with self.lock:
            return self.latest

    def _snap(self) -> Snapshot:
        self._stamp += 1
        twin = run_view(self.twin, self.paths[id(self.twin)]) if self.twin is not None else None
        self.latest = Snapshot(run_view(self.main, self.paths[id(self.main)]), twin, self._stamp)
        return self.latest

    def week_of(self, day: date) -> int:
        """Weeks to simulate so that the last simulated week contains ``day`` (or the end)."""
        m = self.main
        if m.problem is not None:
            return 0
        target = (day - m.start_date).days // 7 + 1
        return max(0, min(target, m.n_weeks) - m.steps)
