"""The browser page's Python side (viz/): controls built from the
configuration, the run stepped under a lock with snapshots for drawing, the display
tessellation of the territory, the map, charts and network, what a click shows, the
baseline beside a scenario, and the page rendered without a browser."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from scipy import ndimage

from model.config import config_root, load_base, scenario_names
from model.territory import OUTSIDE, WATER, load_territory
from viz import app
from viz import controls as ctl
from viz import inspection as insp
from viz.mapview import LAYERS, MapView, layer_values
from viz.pictures import Pictures
from viz.session import MASK_RESIDENTS, PATHS, PageModel, Session, Settings
from viz.tessellation import tessellate

SMALL = 0.05


@pytest.fixture(scope="module")
def session():
    """A session at a small scale, stepped ten weeks."""
    s = Session(Settings(scale=SMALL, seed=4))
    s.step(10)
    return s


@pytest.fixture(scope="module")
def territory():
    return load_territory(config_root() / "territory")


# -- controls ----------------------------------------------------------------------------


def test_controls_have_plain_labels_and_tooltips_from_base_toml():
    base = load_base()
    switches, main, advanced = ctl.controls()
    assert len(switches) == len(ctl.INTERVENTION_LABELS)
    for c in switches + main + advanced:
        d = base.defs[c.name]
        assert "." not in c.label.split(" (")[0] or c.name not in c.label, c.label  # no raw dotted names
        assert c.name in c.tooltip and f"Source: {d.source}" in c.tooltip
        if d.unit not in ("-", ""):
            assert f"unit: {d.unit}" in c.tooltip
        if d.min is not None and d.max is not None:
            assert f"range: {d.min:g} to {d.max:g}" in c.tooltip
    # The core tier comes first: the main parameters, then the rest of the core tier; the
    # advanced list starts with the interventions' core parameters, then the detail tier.
    assert [c.name for c in main][: len(ctl.MAIN_PARAMETERS)] == list(ctl.MAIN_PARAMETERS)
    assert all(base.defs[c.name].tier == "core" for c in main) and len(main) > 2 * len(ctl.MAIN_PARAMETERS)
    tiers = [base.defs[c.name].tier for c in advanced]
    assert "core" in tiers and tiers == sorted(tiers)  # "core" sorts before "detail"
    assert ctl.plain_label(base.defs["labour.separation_rate"]) == "Jobs that end each week (1/week)"
    assert ctl.plain_label(base.defs["interventions.guide.read_share"]) == "Guide: read share (share of copies)"


def test_the_switches_show_what_a_scenario_switches_on():
    values = ctl.scenario_values("integrated_2005")
    on = {n for n, v in values.items() if n.endswith(".enabled") and v}
    assert {
        "interventions.in_plant_services.enabled",
        "interventions.recovery_committee.enabled",
        "interventions.support_committee.enabled",
        "interventions.guide.enabled",
    } <= on
    assert ctl.changed_values(values, "integrated_2005") == {}
    edited = {**values, "labour.separation_rate": "0.005"}
    assert ctl.changed_values(edited, "integrated_2005") == {"labour.separation_rate": "0.005"}
    assert "Integrated response" in ctl.scenario_description("integrated_2005")
    assert all(ctl.scenario_description(n) for n in scenario_names())


def test_a_refused_value_leaves_a_message_not_an_exception():
    m = PageModel(scale="-1")
    assert m.problem and "run.scale = -1.0 is below its minimum 0.001" in m.problem and not m.running
    m = PageModel(scale=SMALL, seed="two")
    assert m.problem == "seed: 'two' is not a whole number >= 0"
    m = PageModel(scale=SMALL, overrides={"labour.separation_rate": "lots"})
    assert "labour.separation_rate: 'lots' is not a number" in m.problem
    s = Session(Settings(scale="-1"))
    assert s.latest.main.problem and not s.can_step
    assert s.step().main.week == 0


# -- the run -------------------------------------------------------------------------------


def test_the_run_stops_at_its_last_week():
    s = Session(Settings(scale=0.02, overrides={"run.end": "2003-03"}))
    n = s.main.n_weeks
    s.step(n + 5)
    view = s.latest.main
    assert view.week == n and view.finished and not s.can_step
    s.step()
    s.main.step()  # Mesa's step too: a finished run does not count another week
    assert s.main.steps == n and s.latest.main.week == n
    assert app.week_text(view).startswith(f"Week {n} of {n}:")
    assert "The run has finished" in app.finished_text(view)


@pytest.mark.slow  # draws against a stepping thread for at least 4 s
def test_snapshots_are_copies_and_drawing_never_waits_for_stepping():
    """Step in one thread as fast as possible while another draws every picture from the
    latest snapshot: no exception, and a snapshot does not change after it was taken."""
    s = Session(Settings(scale=0.02, compare=True))
    pictures = Pictures(s)
    first = s.latest
    links = first.main.links.copy()
    errors: list[BaseException] = []
    stop = threading.Event()

    def stepper():
        try:
            while not stop.is_set() and s.can_step:
                s.step()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    worker = threading.Thread(target=stepper)
    worker.start()
    drawn = 0
    deadline = time.monotonic() + 4
    try:
        while (drawn < 3 or time.monotonic() < deadline) and time.monotonic() < deadline + 60:
            snap = s.latest
            for key in LAYERS:
                for level in ("municipality", "cell"):
                    assert pictures.map_png(snap.main, key, level)[:4] == b"\x89PNG"
            for i in range(4):
                pictures.chart_png(i, snap.main, snap.twin)
                pictures.chart_png(i, snap.main, snap.twin, difference=True)
            pictures.paths_png(snap.main)
            pictures.network_png(snap.main)
            drawn += 1
    finally:
        stop.set()
        worker.join()
    assert not errors, errors
    assert drawn >= 2 and s.main.steps > 5
    assert first.main.week == 0 and len(first.main.series["week"]) == 0  # nothing collected before week 1
    assert (first.main.links == links).all() and first.main.links is not s.main.committees.links


def test_the_baseline_beside_a_scenario_has_the_same_seed():
    same = Session(Settings(scale=0.02, seed=3, compare=True))
    same.step(8)
    a, b = same.latest.main.series, same.latest.twin.series
    assert same.twin.seed == same.main.seed == 3
    assert np.array_equal(a["unemployment_rate"], b["unemployment_rate"])  # baseline vs baseline: identical
    other = Session(
        Settings("integrated_2005", scale=0.02, seed=3, compare=True, overrides={"labour.separation_rate": 0.006})
    )
    assert other.twin.config.scenario == "baseline"
    assert other.twin.config["labour.separation_rate"] == 0.006  # the user's change applies to both
    assert not other.twin.config["interventions.guide.enabled"]


def test_laid_off_paths_add_up(session):
    paths = session.latest.main.paths
    assert paths.shape == (session.main.steps + 1, len(PATHS))
    assert paths[-1].sum() == len(session.main.shocks.displaced)


# -- the territory as drawn ---------------------------------------------------------------


def test_the_tessellation_gives_every_land_pixel_to_a_municipality(territory):
    before = np.asarray(territory.cell_municipality).copy()
    tess = tessellate(territory)
    assert np.array_equal(np.asarray(territory.cell_municipality), before)  # the model's grid is untouched
    labels = tess.labels
    n = territory.n_municipalities
    inside = ndimage.binary_fill_holes(labels != OUTSIDE)
    assert not ((labels == OUTSIDE) & inside).any()  # no grey between municipalities
    assert (labels == WATER).sum() / tess.px_per_km**2 > 40  # both lakes, drawn from water.csv
    target = territory.municipalities["land_km2"].to_numpy(float)
    share = tess.areas_km2 / tess.areas_km2.sum()
    assert np.all(np.abs(np.log(share / (target / target.sum()))) < np.log(1.8))
    for m in range(n):
        assert ndimage.label(labels == m)[1] == 1, territory.municipalities["name"][m]
        c, r = tess.anchors[m].astype(int)
        assert labels[r, c] == m


def test_the_map_colours_municipalities_and_masks_sparse_cells(session):
    view = session.latest.main
    values, shown = layer_values(view, "unemployment_rate", "municipality")
    assert np.allclose(values[shown], view.muni["unemployed"][shown] / view.muni["labour_force"][shown])
    cells, cells_shown = layer_values(view, "distress", "cell")
    assert not cells_shown[view.cells["residents"] < MASK_RESIDENTS].any()
    m = session.main
    mv = MapView(m.territory, m.municipality_names, (m.territory.width, m.territory.height))
    tess = mv.tess
    magog = m.municipality_names.index("Magog")
    c, r = tess.anchors[magog]
    assert mv.pick(view, c, r - 12) == ("municipality", magog)
    plant_xy = mv.painter("unemployment_rate", "municipality").plant_positions(view.plants)
    assert mv.pick(view, *plant_xy[0]) == ("plant", view.plants[0][0])
    assert mv.pick(view, 1, 1) is None


def test_what_a_click_shows(session):
    m = session.main
    magog = m.municipality_names.index("Magog")
    d = insp.municipality(m, magog)
    labels = dict(d.rows)
    for key in (
        "Residents",
        "Unemployed",
        "Laid-off workers living here",
        "Adults in high distress",
        "…in a formal service",
        "Organizations",
    ):
        assert key in labels
    assert d.organizations
    plant = next(iter(m.population.plant_of_closure.values()))
    assert insp.organization(m, plant).kind == "plant"
    member = int(m.committees.members[np.argmax(m.committees.links.sum(axis=1))])
    d = insp.organization(m, member)
    assert d.partners and "Committees" in dict(d.rows)


# -- the page, rendered without a browser --------------------------------------------------


def test_page_renders_steps_switches_and_shows_a_refused_value(monkeypatch):
    import ipyvuetify as v
    import solara

    from viz.widgets import ClickImage

    monkeypatch.setattr(app, "PAGE_SCALE", SMALL)
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)

    def week() -> str:
        found = rc.find(v.Html, class_="cohesion-week")
        found.assert_single()
        return found.widget.children[0]

    assert week().startswith("Week 0 of")
    images = [w.img_class for w in rc.find(ClickImage).widgets]
    assert "cohesion-map" in images and sum("cohesion-plot" in c for c in images) == 4
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert week().startswith("Week 1 of")
    # a scenario ticks its switches and shows its description
    rc.find(v.Select, label="Scenario").widget.v_model = "integrated_2005"
    ticked = {w.label for w in rc.find(v.Checkbox).widgets if w.v_model}
    assert {
        "Economic recovery committee",
        "Community support committee",
        "Guide de l'aidant handed out",
        "Social worker in the plant before it closes",
    } <= ticked
    assert "Integrated response" in rc.find(v.Html, class_="cohesion-description").widget.children[0]
    assert rc.find(v.Alert, children=["Press Reset to start a run with these settings."]).widgets
    # a refused scale: the page shows the message instead of failing, and recovers
    scale = rc.find(v.TextField, label="Scale (1 = real size)")
    scale.widget.v_model = "-3"
    scale.widget.fire_event("keyup.enter", None)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    alert = rc.find(v.Alert, class_="cohesion-problem")
    alert.assert_single()
    assert "run.scale = -3.0 is below its minimum" in " ".join(str(c) for c in alert.widget.children)
    scale.widget.v_model = "0.03"
    scale.widget.fire_event("keyup.enter", None)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert week().startswith("Week 0 of")
    assert "Scenario integrated_2005, scale 0.03" in rc.find(v.Html, class_="cohesion-run").widget.children[0]
    rc.close()


# -- serving the page ----------------------------------------------------------------------


def _asset_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / ".ci" / "solara_assets.py"
    spec = importlib.util.spec_from_file_location("solara_assets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_installed_solara_names_every_front_end_package_the_page_needs():
    import sys
    from pathlib import Path

    assets = _asset_script()
    solara_dir = assets.find_solara(Path(sys.prefix))
    refs = assets.cdn_references(solara_dir)
    vue3 = assets.installed_major(Path(sys.prefix), "ipyvue") == "3"
    wanted = assets.select(refs, everything=False, vue3=vue3)
    names = {assets.package_name(spec) for spec in wanted}
    assert names == set(assets.PAGE_PACKAGES) | {assets.APP_BUNDLE[vue3]}
    bundle = next(spec for spec in wanted if assets.package_name(spec) == assets.APP_BUNDLE[vue3])
    files = assets.expected_files(bundle, wanted[bundle], "8")
    assert "dist/solara-vuetify-app8.min.js" in files and "dist/main8.css" in files
    assert all("{" not in f for f in files)


def test_viz_refuses_a_bad_port_or_address():
    import socket

    import click

    from experiments import viz

    for port in (0, 70000):
        with pytest.raises(click.BadParameter, match="is not a port number"):
            viz.check_address("127.0.0.1", port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(click.BadParameter, match="already in use"):
            viz.check_address("127.0.0.1", busy.getsockname()[1])
    with pytest.raises(click.BadParameter, match="cannot serve on"):
        viz.check_address("no-such-host.invalid", 8765)
    assert viz.main(["--port", "70000"]) == 2
    assert viz.solara_arguments("0.0.0.0", 9000) == [
        "run",
        "viz.app",
        "--host",
        "0.0.0.0",
        "--port",
        "9000",
        "--production",
        "--no-open",
    ]


def test_the_page_is_no_part_of_the_models_version_and_the_model_never_imports_it(monkeypatch):
    """Cached runs are named by the model's version (a hash of model/ and configs/):
    editing the page must not change it, so the page lives outside model/ and the
    model does not depend on it."""
    import ast
    from pathlib import Path

    import viz
    from experiments import design

    hashed = []
    monkeypatch.setattr(design, "_model_version", lambda files: hashed.extend(files) or "x")
    design.model_version()
    paths = {Path(path).resolve() for path, *_ in hashed}
    model_dir = Path(design.PROJECT_ROOT, "model").resolve()
    assert any(p.parent == model_dir for p in paths)
    page = sorted(Path(viz.__file__).resolve().parent.glob("*.py"))
    assert len(page) > 5 and not paths & set(page)
    for source in model_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n == "viz" or n.startswith("viz.") for n in names), source
