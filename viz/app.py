"""The Magog cohesion model in the browser: a Solara page for ``CohesionModel``.

The Memphrémagog RCM (Québec) after the plant closures of 2003-2018, week by week:

- *Territory*: a map of the 17 municipalities (by municipality, or by the model's 1 km
  cells) coloured by unemployment, distress, support received or sense of belonging,
  with the plants marked open, announced or closed; click a municipality or a plant to
  see what it holds. Beside it, unemployment, high distress, help for those in distress
  and cohesion over time.
- *Mechanisms*: the organization network, whose links form in the committees and fade
  after; what became of the laid-off workers; the Guide de l'aidant and the helpers.
- *Scenario vs baseline*: the chosen scenario and the baseline stepped together with
  the same seed, and their difference.

The sidebar runs the model (step, play at a chosen pace with its speed in weeks per
second, run to a month, reset) and holds the controls a run is built from, in plain
words with each parameter's unit, range and source in a tooltip; the scenario's
description is shown and its interventions are ticked.

This page replaces Mesa's generic SolaraViz controller, whose play loop let the page
draw a model while it stepped (and offered "Use Threads" and "Render Interval" without
explanation): here the model steps only under a lock, and every picture is drawn from a
snapshot taken after a week (``viz/session.py``). The model is Mesa's
(``CohesionModel``, a ``mesa.Model`` with its DataCollector and grid).

Open it with ``cohesion viz`` (see ``docs/viz.md``), or with
``solara run viz/app.py --production`` from the repository root.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from datetime import date, timedelta
from html import escape
from pathlib import Path

if not __package__:  # run as a file (``solara run viz/app.py``): the repository's packages
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import solara  # noqa: E402

from model.config import scenario_names  # noqa: E402
from viz import inspection  # noqa: E402
from viz.charts import CHARTS  # noqa: E402
from viz.controls import (  # noqa: E402
    Control,
    changed_values,
    controls,
    display,
    scenario_description,
    scenario_values,
)
from viz.mapview import DEFAULT_LAYER, DEFAULT_LEVEL, LAYERS, LEVELS  # noqa: E402
from viz.pictures import Pictures  # noqa: E402
from viz.session import BASELINE, PageModel, RunView, Session, Settings, page_arguments  # noqa: E402
from viz.widgets import ClickImage, data_url  # noqa: E402

__all__ = ["LAYERS", "Page", "PageModel", "Session", "Settings", "page", "page_arguments", "run_text", "week_text"]

PAGE_SCALE = 1.0  # the model's default: the real territory at 1:1
DEFAULT_SEED = 0
DEFAULT_SCENARIO = BASELINE
MIN_INTERVAL_MS = 0
MAX_INTERVAL_MS = 1000
DEFAULT_INTERVAL_MS = 100
VIEWS = ("Territory", "Mechanisms", "Scenario vs baseline")


# -- texts ---------------------------------------------------------------------------------


def week_text(view: RunView) -> str:
    """The current week and its calendar dates, e.g. ``Week 3 of 835: 2003-01-15 to 2003-01-21``."""
    if view.week == 0:
        return f"Week 0 of {view.n_weeks}: the run starts on {view.start.isoformat()}"
    last = view.day + timedelta(days=6)
    return f"Week {view.week} of {view.n_weeks}: {view.day.isoformat()} to {last.isoformat()}"


def finished_text(view: RunView) -> str:
    return (
        f"The run has finished: its last week, {view.week} of {view.n_weeks}, ends on "
        f"{(view.day + timedelta(days=6)).isoformat()} (the run covers {view.start.year} to "
        f"{view.end.year}). Press Reset to start a new run."
    )


def run_text(view: RunView) -> str:
    """Scenario, scale, seed, residents, and the parameters that differ from the defaults."""
    text = f"Scenario {view.scenario}, scale {view.scale:g}, seed {view.seed}, {view.residents:,} residents"
    return text + (f"; differs from the defaults: {', '.join(view.changed)}" if view.changed else "")


def speed_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f} weeks per second"


def month_of(text: str, view: RunView) -> date | None:
    """The first day of a month typed as ``YYYY-MM`` (or ``YYYY``), inside the run; None if not."""
    try:
        parts = [int(p) for p in str(text).strip().split("-")]
        day = date(parts[0], parts[1] if len(parts) > 1 else 1, 1)
    except (ValueError, IndexError):
        return None
    return day if view.start <= day <= view.end else None


# -- the run: controller ----------------------------------------------------------------------


def _kernel_context():
    """The browser tab's Solara context (None outside Solara's server, e.g. in tests)."""
    from solara.server import kernel_context

    return kernel_context.get_current_context() if kernel_context.has_current_context() else None


class Runner:
    """Plays a session in a background thread: steps, then hands the snapshot to the page.

    With ``threaded`` the model steps in its own thread without waiting for the page, and
    the page shows the latest snapshot each time it has drawn the previous one (weeks in
    between are simulated but not drawn). Either way pictures are drawn from snapshots,
    never from the model while it steps."""

    def __init__(self, session: Session, publish, interval_ms, threaded, target_week, done):
        self.session = session
        self.publish = publish  # called with each snapshot to show
        self.interval_ms = interval_ms  # callables, read at each week
        self.threaded = threaded
        self.target_week = target_week
        self.done = done
        self.stop = threading.Event()
        self.context = _kernel_context()  # the browser tab's, so that the thread can update its page
        self.thread = threading.Thread(target=self._run, daemon=True, name="cohesion-play")

    def start(self) -> None:
        self.thread.start()

    def _more(self) -> bool:
        s = self.session
        target = self.target_week()
        return not self.stop.is_set() and s.can_step and (target is None or s.main.steps < target)

    def _run(self) -> None:
        with self.context or contextlib.nullcontext():
            self._play()

    def _play(self) -> None:
        try:
            self.session.reset_speed()
            if self.threaded():
                self._run_threaded()
            else:
                while self._more():
                    t0 = time.perf_counter()
                    self.publish(self.session.step())
                    rest = self.interval_ms() / 1000 - (time.perf_counter() - t0)
                    if rest > 0:
                        self.stop.wait(rest)
        finally:
            self.done(self)

    def _run_threaded(self) -> None:
        finished = threading.Event()

        def stepper():
            try:
                while self._more():
                    self.session.step()
                    if self.interval_ms() > 0:
                        self.stop.wait(self.interval_ms() / 1000)
            finally:
                finished.set()

        worker = threading.Thread(target=stepper, daemon=True, name="cohesion-step")
        worker.start()
        shown = None
        while True:
            latest = self.session.latest
            if latest.stamp != shown:
                shown = latest.stamp
                self.publish(latest)
            elif finished.is_set():
                break
            else:
                time.sleep(0.005)
        worker.join()


# -- components ---------------------------------------------------------------------------------


def _stop(runner_ref) -> None:
    """Stop the runner held in ``runner_ref`` (if any) and wait for its thread, unless this
    is that thread."""
    runner = runner_ref.current
    if runner is not None:
        runner.stop.set()
        if runner.thread is not threading.current_thread():
            runner.thread.join(30)
        runner_ref.current = None


@solara.component
def Picture(png: bytes, css: str, alt: str, on_pick=None):
    ClickImage.element(src=data_url(png) if png else "", img_class=css, alt=alt, handler=on_pick)


@solara.component
def ParameterControl(control: Control, value, on_value):
    with solara.Tooltip(control.tooltip):
        with solara.Column(gap="0px", classes=["cohesion-control"]):
            if control.kind == "switch":
                solara.Checkbox(label=control.label, value=bool(value), on_value=on_value)
            elif control.kind == "choice":
                solara.Select(label=control.label, value=str(value), values=list(control.choices), on_value=on_value)
            else:
                solara.InputText(label=control.label, value=display(value), on_value=on_value, continuous_update=False)


@solara.component
def Details(details: inspection.Details | None, on_org, on_close):
    if details is None:
        solara.Text(
            "Click a municipality or a plant on the map, or an organization in the network, to see what it holds.",
            style={"font-size": "13px", "color": "#555"},
        )
        return
    with solara.Card(details.title, classes=["cohesion-details"], margin=0, style={"padding": "4px"}):
        rows = "".join(
            f"<tr><td style='padding-right:12px'>{escape(k)}</td><td><b>{escape(v)}</b></td></tr>"
            for k, v in details.rows
        )
        solara.HTML(tag="table", unsafe_innerHTML=rows, style={"font-size": "12px"}, classes=["cohesion-details-table"])
        if details.organizations:
            solara.Text("Its organizations (click one):", style={"font-size": "12px"})
            with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
                for row, name in details.organizations:
                    solara.Button(
                        name,
                        on_click=lambda row=row: on_org(row),
                        small=True,
                        text=True,
                        classes=["cohesion-org"],
                        style={"text-transform": "none"},
                    )
        if details.partners:
            solara.Text(
                "Partners: " + "; ".join(details.partners), style={"font-size": "12px"}, classes=["cohesion-partners"]
            )
        solara.Button("Close", on_click=on_close, small=True, text=True)


@solara.component
def Page():
    """One run per browser tab, built from the controls when the tab opens.

    The week's snapshot is held in a reactive value read only by the components that
    show it (the run card and the main area), so that a new week does not re-render the
    controls."""
    scenario, set_scenario = solara.use_state(DEFAULT_SCENARIO)
    initial_values = solara.use_memo(lambda: scenario_values(DEFAULT_SCENARIO), [])
    values, set_values = solara.use_state(initial_values)
    scale, set_scale = solara.use_state(repr(float(PAGE_SCALE)))
    seed, set_seed = solara.use_state(str(DEFAULT_SEED))
    compare, set_compare = solara.use_state(False)
    session = solara.use_memo(lambda: Session(Settings(DEFAULT_SCENARIO, PAGE_SCALE, DEFAULT_SEED)), [])
    solara.use_memo(lambda: setattr(session, "pictures", Pictures(session)), [])  # drawn from snapshots
    snap = solara.use_reactive(session.latest)
    playing = solara.use_reactive(False)
    built, set_built = solara.use_state(0)  # runs built so far (the settings the run was built from)
    details = solara.use_reactive(None)
    runner_ref = solara.use_ref(None)

    def stop_runner():
        _stop(runner_ref)

    def reset():
        stop_runner()
        playing.set(False)
        overrides = changed_values(values, scenario)
        session.build(Settings(scenario, scale, seed, overrides, compare))
        session.pictures = Pictures(session)  # the pictures and the snapshot change together
        details.set(None)
        snap.set(session.latest)
        set_built(built + 1)

    solara.use_effect(lambda: stop_runner, [])  # stop playing when the tab closes

    def choose_scenario(name):
        set_scenario(name)
        set_values(scenario_values(name))

    def set_value(name, value):
        set_values(lambda old: {**old, name: value})

    switches, main_controls, advanced = controls()
    with solara.Sidebar():
        RunCard(session, snap, playing, runner_ref, reset)
        with solara.Card("Scenario", margin=0):
            solara.Select("Scenario", value=scenario, values=scenario_names(), on_value=choose_scenario)
            solara.Text(
                scenario_description(scenario),
                classes=["cohesion-description"],
                style={"font-size": "12px", "color": "#333"},
            )
            solara.Checkbox(
                label="Compare with the baseline (same seed, stepped together)", value=compare, on_value=set_compare
            )
            solara.Text(
                "Local responses in this scenario (hover for details):",
                style={"font-size": "12px", "font-weight": "bold"},
            )
            for c in switches:
                ParameterControl(c, values[c.name], lambda v, n=c.name: set_value(n, v))
            with solara.Tooltip(
                "Model persons per resident: 1 is the real territory (about 45,000 residents); "
                "0.1 is a tenth, faster. Range 0.001 to 4."
            ):
                with solara.Column(gap="0px"):
                    solara.InputText("Scale (1 = real size)", value=scale, on_value=set_scale, continuous_update=False)
            with solara.Tooltip("The run's random seed: the same seed gives the same run."):
                with solara.Column(gap="0px"):
                    solara.InputText("Seed", value=seed, on_value=set_seed, continuous_update=False)
            chosen = (scenario, str(scale), str(seed), changed_values(values, scenario), compare)
            used = session.settings
            if chosen != (used.scenario, str(used.scale), str(used.seed), used.overrides, used.compare):
                solara.Info("Press Reset to start a run with these settings.", dense=True, classes=["cohesion-pending"])
        with solara.Details("Main parameters", expand=False):
            for c in main_controls:
                ParameterControl(c, values[c.name], lambda v, n=c.name: set_value(n, v))
        with solara.Details("Advanced: every intervention's dates and strengths", expand=False):
            for c in advanced:
                ParameterControl(c, values[c.name], lambda v, n=c.name: set_value(n, v))
    MainArea(session, snap, details)


@solara.component
def RunCard(session: Session, snap, playing, runner_ref, reset):
    """Reset, play or pause, step; the pause between weeks and the speed; run to a month."""
    interval = solara.use_reactive(DEFAULT_INTERVAL_MS)
    threaded = solara.use_reactive(False)
    target = solara.use_reactive(None)  # week to run to, or None
    run_to = solara.use_reactive("2008-03")
    main = snap.value.main
    problem = main.problem

    def finished(runner):
        if runner_ref.current is runner:
            runner_ref.current = None
            target.set(None)
            playing.set(False)

    def play(to_week=None):
        if runner_ref.current is not None:
            return
        target.set(to_week)
        runner = Runner(
            session, snap.set, lambda: interval.value, lambda: threaded.value, lambda: target.value, finished
        )
        runner_ref.current = runner
        playing.set(True)
        runner.start()

    def pause():
        _stop(runner_ref)
        target.set(None)
        playing.set(False)

    def step():
        if not playing.value:
            snap.set(session.step())

    def run_to_month():
        day = month_of(run_to.value, main)
        if day is not None:
            play(session.main.steps + session.week_of(day))

    stopped = problem is not None or main.finished
    with solara.Card("Run", margin=0, classes=["cohesion-runcard"]):
        with solara.Row(justify="space-between"):
            solara.Button("Reset", color="primary", on_click=reset)
            solara.Button(
                "❚❚" if playing.value else "▶",
                color="primary",
                on_click=pause if playing.value else (lambda: play()),
                disabled=not playing.value and stopped,
            )
            solara.Button("Step", color="primary", on_click=step, disabled=playing.value or stopped)
        solara.SliderInt(
            f"Pause between weeks: {interval.value} ms",
            value=interval,
            min=MIN_INTERVAL_MS,
            max=MAX_INTERVAL_MS,
            step=10,
        )
        solara.Text(
            f"Speed: {speed_text(session.weeks_per_second() if playing.value else None)}",
            classes=["cohesion-speed"],
            style={"font-size": "13px"},
        )
        with solara.Tooltip(
            "Off: each week is drawn before the next is simulated. On: the model keeps "
            "stepping in the background and the page shows the latest week each time it "
            "has drawn the previous one (faster; the weeks in between are simulated but "
            "not drawn). Either way the pictures are drawn from a copy of the week, never "
            "from the model while it steps."
        ):
            with solara.Column(gap="0px"):
                solara.Checkbox(
                    label="Use threads: keep simulating while drawing", value=threaded, disabled=playing.value
                )
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Run to (year-month)", value=run_to, continuous_update=False, classes=["cohesion-runto"])
            solara.Button(
                "Run to",
                on_click=run_to_month,
                disabled=playing.value or stopped or month_of(run_to.value, main) is None,
            )


@solara.component
def MainArea(session: Session, snap, details):
    view, set_view = solara.use_state(VIEWS[0])
    s = snap.value
    pictures = session.pictures
    main = s.main
    problem = main.problem

    def show_org(row):
        with session.lock:
            details.set(inspection.organization(session.main, row))

    def pick_map(col, row):
        hit = pictures.map.pick(main, col, row) if pictures.ok else None
        with session.lock:
            if hit is None:
                details.set(None)
            elif hit[0] == "plant":
                details.set(inspection.organization(session.main, hit[1]))
            else:
                details.set(inspection.municipality(session.main, hit[1]))

    def pick_network(col, row):
        org = pictures.pick_network(col, row)
        if org is not None:
            show_org(org)

    with solara.Column(gap="4px", style={"padding": "4px 10px", "width": "100%"}):
        if problem:
            if main.step_failed:
                solara.Error(
                    f"The run stopped: {problem}. Press Reset to start a new run.", classes=["cohesion-problem"]
                )
            else:
                solara.Error(
                    f"The model was not built: {problem}. Correct the value and press Reset.",
                    classes=["cohesion-problem"],
                )
            return
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}, gap="16px"):
            solara.Text(week_text(main), classes=["cohesion-week"], style={"font-weight": "bold", "font-size": "16px"})
            solara.Text(run_text(main), classes=["cohesion-run"], style={"font-size": "12px"})
        if main.finished:
            solara.Success(finished_text(main), dense=True, classes=["cohesion-finished"])
        solara.ToggleButtonsSingle(value=view, values=list(VIEWS), on_value=set_view, classes=["cohesion-views"])
        close = lambda: details.set(None)  # noqa: E731
        if view == VIEWS[0]:
            TerritoryView(pictures, s, pick_map, details.value, show_org, close)
        elif view == VIEWS[1]:
            MechanismsView(pictures, s, pick_network, details.value, show_org, close)
        else:
            CompareView(pictures, s)


@solara.component
def ChartPicture(pictures, snap, index: int, difference: bool, css: str, alt: str):
    """Chart ``index`` of CHARTS (-1: the Guide's), redrawn for each snapshot."""
    png = solara.use_memo(
        lambda: pictures.chart_png(index, snap.main, snap.twin, difference), [pictures, snap.stamp, index, difference]
    )
    Picture(png, css, alt)


@solara.component
def TerritoryView(pictures, snap, pick_map, details, show_org, close):
    layer, set_layer = solara.use_state(DEFAULT_LAYER)
    level, set_level = solara.use_state(DEFAULT_LEVEL)
    main = snap.main
    map_png = solara.use_memo(lambda: pictures.map_png(main, layer, level), [pictures, snap.stamp, layer, level])
    with solara.Row(gap="12px", style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
        with solara.Column(gap="2px", style={"flex": "7 1 0", "min-width": "0"}):
            with solara.Row(gap="8px"):
                solara.Select(
                    "Map layer",
                    values=[s.label for s in LAYERS.values()],
                    value=LAYERS[layer].label,
                    on_value=lambda label: set_layer(next(k for k, s in LAYERS.items() if s.label == label)),
                    dense=True,
                    classes=["cohesion-layer"],
                    style={"max-width": "260px"},
                )
                solara.Select(
                    "Show",
                    values=list(LEVELS.values()),
                    value=LEVELS[level],
                    on_value=lambda label: set_level(next(k for k, v in LEVELS.items() if v == label)),
                    dense=True,
                    classes=["cohesion-level"],
                    style={"max-width": "300px"},
                )
            Picture(map_png, "cohesion-map", "Map of the Memphrémagog RCM", pick_map)
            Details(details, show_org, close)
        with solara.Column(gap="4px", style={"flex": "4 1 0", "min-width": "0"}):
            for i, spec in enumerate(CHARTS):
                ChartPicture(pictures, snap, i, False, f"cohesion-plot plot-{spec.key}", spec.title)


@solara.component
def MechanismsView(pictures, snap, pick_network, details, show_org, close):
    main = snap.main
    net = solara.use_memo(lambda: pictures.network_png(main), [pictures, snap.stamp])
    paths = solara.use_memo(lambda: pictures.paths_png(main), [pictures, snap.stamp])
    with solara.Row(gap="12px", style={"align-items": "flex-start"}):
        with solara.Column(gap="2px", style={"flex": "1 1 0", "min-width": "0"}):
            Picture(net, "cohesion-network", "The organization network", pick_network)
            Details(details, show_org, close)
        with solara.Column(gap="4px", style={"flex": "1 1 0", "min-width": "0"}):
            Picture(paths, "cohesion-paths", "What became of the laid-off workers")
            ChartPicture(pictures, snap, -1, False, "cohesion-guide", "The Guide and the helpers")


@solara.component
def CompareView(pictures, snap):
    main, twin = snap.main, snap.twin
    if twin is None:
        solara.Info(
            'Tick "Compare with the baseline" under Scenario, choose a scenario and press Reset: the '
            "scenario and the baseline then step together with the same seed (common random numbers), "
            "and their difference is drawn here.",
            classes=["cohesion-compare-off"],
        )
        return
    solara.Text(
        f"{main.scenario} (solid) and the baseline (dashed), same seed {main.seed}; lower panels: "
        f"{main.scenario} less the baseline.",
        style={"font-size": "13px"},
    )
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
        for i, spec in enumerate(CHARTS):
            with solara.Column(style={"flex": "1 1 45%", "min-width": "420px"}):
                ChartPicture(
                    pictures,
                    snap,
                    i,
                    True,
                    f"cohesion-compare compare-{spec.key}",
                    f"{spec.title}: scenario and baseline",
                )


page = Page()
title = "Magog cohesion model"  # the browser tab's title (Solara reads it from the module)
