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

This module lays out the page and its sidebar; the Run card and the thread that plays a
run are in ``viz/playback.py``, the main area and its three views in ``viz/views.py``.

Open it with ``cohesion viz`` (see ``docs/viz.md``), or with
``solara run viz/app.py --production`` from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a file (``solara run viz/app.py``): the repository's packages
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import solara  # noqa: E402

from model.config import scenario_names  # noqa: E402
from viz.controls import (  # noqa: E402
    Control,
    changed_values,
    controls,
    display,
    scenario_description,
    scenario_values,
)
from viz.mapview import LAYERS  # noqa: E402
from viz.pictures import Pictures  # noqa: E402
from viz.playback import RunCard, stop_playing  # noqa: E402
from viz.session import BASELINE, PageModel, Session, Settings, page_arguments  # noqa: E402
from viz.views import MainArea, finished_text, run_text, week_text  # noqa: E402

__all__ = [
    "LAYERS",
    "Page",
    "PageModel",
    "Session",
    "Settings",
    "finished_text",
    "page",
    "page_arguments",
    "run_text",
    "week_text",
]

PAGE_SCALE = 1.0  # the model's default: the real territory at 1:1
DEFAULT_SEED = 0
DEFAULT_SCENARIO = BASELINE


# -- the page ---------------------------------------------------------------------------------


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
        stop_playing(runner_ref)

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


page = Page()
title = "Magog cohesion model"  # the browser tab's title (Solara reads it from the module)
