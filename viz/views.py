"""The page's main area: the week and the run in words, and the three views.

*Territory* (the map with what a click on it shows, and the charts over time),
*Mechanisms* (the organization network, what became of the laid-off workers, the Guide
and the helpers) and *Scenario vs baseline* (the charts of both runs and their
difference), each drawn from the week's snapshot (:func:`MainArea`). The page that holds
them is ``viz/app.py``.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

import solara

from viz import inspection
from viz.charts import CHARTS
from viz.mapview import DEFAULT_LAYER, DEFAULT_LEVEL, LAYERS, LEVELS
from viz.session import RunView, Session
from viz.widgets import ClickImage, data_url

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


# -- components ---------------------------------------------------------------------------------


@solara.component
def Picture(png: bytes, css: str, alt: str, on_pick=None):
    ClickImage.element(src=data_url(png) if png else "", img_class=css, alt=alt, handler=on_pick)


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
