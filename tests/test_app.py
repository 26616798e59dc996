"""The browser page's Python side (model/app.py): controls built from the configuration,
the model built from them (and the message when a value is refused), the per-cell
layers, the organization markers, the pictures, and the page stepping without a browser."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image

from model import CohesionModel
from model import app
from model.config import Config, ParamDef, load_base, scenario_names
from model.state import Status

SMALL = "0.05"


@pytest.fixture(scope="module")
def stepped():
    """A page model at a small scale, stepped ten weeks."""
    m = app.PageModel(scale=SMALL, seed="4")
    for _ in range(10):
        m.step()
    return m


# -- controls ----------------------------------------------------------------------------

def test_controls_come_from_the_configuration():
    base = load_base()
    params = app.model_params(base)
    assert params["scenario_name"]["type"] == "Select"
    assert params["scenario_name"]["values"] == scenario_names()
    assert params["scenario_name"]["value"] == app.DEFAULT_SCENARIO == "baseline"
    assert float(params["scale"]["value"]) == app.PAGE_SCALE == base.values["run.scale"]
    scale_def = base.defs["run.scale"]
    assert f"{scale_def.min:g} to {scale_def.max:g}" in params["scale"]["label"]
    for name in app.MAIN_PARAMETERS:
        assert name in base.defs, f"{name} is no longer a parameter of base.toml"
        control = params[app.control_key(name)]
        d = base.defs[name]
        assert control["type"] == "InputText"
        assert float(control["value"]) == d.value  # the default itself, not a copy
        assert f"{d.min:g} to {d.max:g}" in control["label"]


def _config_with(extra: dict[str, ParamDef]) -> Config:
    base = load_base()
    defs = {**base.defs, **extra}
    return Config(defs, {k: d.value for k, d in defs.items()}, "baseline")


def test_switches_and_intervention_parameters_get_controls(monkeypatch):
    extra = {
        "interventions.helper_training": ParamDef("interventions.helper_training", False, "-", "test"),
        "interventions.training_share": ParamDef("interventions.training_share", 0.3, "share", "test", 0, 1),
        "interventions.start": ParamDef("interventions.start", "2005-03", "YYYY-MM", "test"),
        "services.mode": ParamDef("services.mode", "referral", "-", "test", choices=("referral", "direct")),
        "services.capacity": ParamDef("services.capacity", 40, "cases/week", "test", 0, 1000),
    }
    cfg = _config_with(extra)
    monkeypatch.setattr(app, "scenario_names", lambda: ["baseline", "support"])
    trees = {"baseline": {"overrides": {}}, "support": {"overrides": {"services": {"capacity": 80}}}}
    monkeypatch.setattr(app, "load_scenario_file", lambda name: trees[name])
    names = app.exposed_parameters(cfg)
    for name in extra:
        if name != "services.mode":
            assert name in names
    assert "services.mode" not in names  # neither a switch, nor an intervention, nor set by a scenario
    assert not any(n.startswith("run.") for n in names)
    params = app.model_params(cfg)
    assert params["interventions__helper_training"] == {"type": "Checkbox", "value": False,
                                                        "label": "interventions.helper_training"}
    assert params["interventions__training_share"]["value"] == "0.3"
    assert params["interventions__start"]["value"] == "2005-03"
    assert params["services__capacity"]["value"] == "40"
    assert params["scenario_name"]["values"] == ["baseline", "support"]


# -- the model built from the controls -----------------------------------------------------

def test_model_from_control_text():
    m = app.PageModel(scenario_name="baseline", scale=SMALL, seed="7", strain__out_migration_rate="0.01",
                      labour__separation_rate="0.004")
    assert m.problem is None
    assert m.config["run.scale"] == 0.05
    assert m.seed == 7
    assert m.config["strain.out_migration_rate"] == 0.01
    assert m.config["labour.separation_rate"] == load_base().values["labour.separation_rate"]
    assert m.running


def test_controls_at_their_default_leave_the_scenario_alone():
    base = load_base()
    controls = {app.control_key(n): repr(base.values[n]) for n in app.MAIN_PARAMETERS}
    args = app.page_arguments("baseline", SMALL, "0", controls)
    assert args["overrides"] == {"run.scale": 0.05}
    controls[app.control_key("labour.separation_rate")] = "0.006"
    args = app.page_arguments("baseline", SMALL, "0", controls)
    assert args["overrides"] == {"run.scale": 0.05, "labour.separation_rate": 0.006}


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": "abc"}, "scale: 'abc' is not a number"),
    ({"scale": "-1"}, "run.scale = -1.0 is below its minimum"),
    ({"scale": "inf"}, "not a finite number"),
    ({"seed": "1.5"}, "seed: '1.5' is not a whole number >= 0"),
    ({"seed": "-2"}, "is not a whole number >= 0"),
    ({"strain__out_migration_rate": "2"}, "strain.out_migration_rate = 2.0 is above its maximum 1"),
    ({"strain__out_migration_rate": "often"}, "strain.out_migration_rate: 'often' is not a number"),
    ({"scenario_name": "nowhere"}, "unknown scenario 'nowhere'"),
    ({"labour__no_such_rate": "1"}, "unknown parameter 'labour.no_such_rate'"),
])
def test_a_refused_value_leaves_a_message_not_an_exception(kwargs, message):
    m = app.PageModel(**{"scale": SMALL, **kwargs})
    assert m.problem is not None and message in m.problem
    assert "\n" not in m.problem
    assert m.running is False
    m.step()  # does nothing, raises nothing
    assert not hasattr(m, "datacollector")


def test_mesa_reset_passes_its_own_scenario_object():
    """SolaraViz's reset adds ``scenario=<mesa Scenario>``; the page's scenario is a control."""
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    m = app.PageModel(scale=SMALL)
    params = {k: v["value"] for k, v in app.model_params().items()}
    params["scale"] = SMALL
    params["seed"] = "11"
    kwargs = _build_model_init_kwargs(m, params, add_scenario_when_empty=True, require_model_accepts_scenario=True)
    assert not isinstance(kwargs["scenario"], str)
    again = type(m)(**kwargs)
    assert again.problem is None
    assert again.config.scenario == "baseline" and again.seed == 11


# -- layers --------------------------------------------------------------------------------

def test_unemployment_layer_counts_the_residents_of_each_cell(stepped):
    m = stepped
    rate, lf = app.unemployment_by_cell(m)
    P, H = m.people, m.households
    n = P.n
    status, present = P.status[:n], P.present[:n]
    assert lf.sum() == ((status == Status.EMPLOYED) | (status == Status.UNEMPLOYED))[present].sum()
    assert np.isnan(rate[lf == 0]).all() and np.isfinite(rate[lf > 0]).all()
    assert ((rate[lf > 0] >= 0) & (rate[lf > 0] <= 1)).all()
    unemployed = np.nansum(rate * lf)
    assert round(unemployed) == m.stats.unemployed
    # one cell recounted person by person
    x, y = np.unravel_index(np.argmax(lf), lf.shape)
    in_cell = [r for r in range(n) if present[r] and H.x[P.household[r]] == x and H.y[P.household[r]] == y]
    workers = [r for r in in_cell if status[r] in (Status.EMPLOYED, Status.UNEMPLOYED)]
    jobless = [r for r in workers if status[r] == Status.UNEMPLOYED]
    assert lf[x, y] == len(workers)
    assert rate[x, y] == pytest.approx(len(jobless) / len(workers))
    # the grid's property layer holds what the map shows
    values = app.layer_values(m, "unemployment_rate")
    np.testing.assert_array_equal(values, rate)
    np.testing.assert_array_equal(m.grid.unemployment_rate.data, rate)


def test_person_layers_average_each_cells_adults(stepped, monkeypatch):
    m = stepped
    for key in app.LAYERS:
        assert app.layer_modelled(m, key)
    # a person measure is averaged over each cell's adults
    n = m.people.n
    monkeypatch.setattr(m.people, "distress", (m.people.status == Status.UNEMPLOYED).astype(np.float32))
    values = app.layer_values(m, "distress")
    present = m.people.present[:n] & (m.people.age[:n] >= m.config["demography.working_age"])
    cell = m.households.x[m.people.household[:n]] * m.grid.height + m.households.y[m.people.household[:n]]
    residents = np.bincount(cell[present], minlength=m.grid.width * m.grid.height).reshape(values.shape)
    jobless = np.bincount(cell[present & (m.people.status[:n] == Status.UNEMPLOYED)],
                          minlength=m.grid.width * m.grid.height).reshape(values.shape)
    has = residents > 0
    np.testing.assert_allclose(values[has], jobless[has] / residents[has])
    assert np.isnan(values[~has]).all()


# -- organizations -------------------------------------------------------------------------

def test_markers_place_every_organization_near_its_municipality():
    m = CohesionModel(scale=0.1, rng=1, end="2003-06")
    mk = app.org_markers(m)
    orgs = m.orgs
    kinds = np.array([m.org_agents[r].kind for r in range(orgs.n)])
    grouped = np.isin(kinds, app.GROUPED_KINDS)
    assert sorted(mk.rows.tolist()) == np.flatnonzero(~grouped).tolist()
    for kind in app.GROUPED_KINDS:
        x, y, count = mk.groups[kind]
        assert count.sum() == (kinds == kind).sum() and (count > 0).all()
        centres = {tuple(c) for c in m.territory.centre_cell[np.unique(orgs.municipality[: orgs.n][kinds == kind])]}
        assert set(zip(x, y, strict=True)) == centres
    muni = orgs.municipality[mk.rows]
    centre = m.territory.centre_cell[muni]
    distance = np.hypot(mk.x - centre[:, 0], mk.y - centre[:, 1])
    per_muni = np.bincount(muni)
    assert (distance <= app.MARKER_SPACING * np.sqrt(per_muni[muni] + 0.5) + 1e-9).all()
    assert (distance > 0).all()  # the centre itself holds the grouped markers
    plants_seen = 0
    for town in np.unique(muni):
        sel = muni == town
        plants = distance[sel][mk.kind[sel] == "plant"]
        others = distance[sel][mk.kind[sel] != "plant"]
        plants_seen += len(plants)
        if len(plants) and len(others):
            assert plants.min() > others.max()  # the plants on the outside
    assert plants_seen == len(m.population.plant_of_closure)
    assert set(mk.domain) <= set(app.DOMAIN_COLOUR)


def test_plants_show_closed_after_their_closure_date():
    m = CohesionModel(scale=0.05, rng=2, start="2005-11", end="2008-12")
    closures = {m.timeline.closures[c].id: row for c, row in m.population.plant_of_closure.items()}
    olymel = closures["olymel"]
    closed_on = next(c.closed for c in m.timeline.closures if c.id == "olymel")
    m.step()
    assert app.plant_states(m)[olymel] == "closure announced"
    assert app.plant_states(m)[closures["cs_brooks"]] == "open"
    while m.date + timedelta(days=7) <= closed_on:  # weeks that end before the closure date
        assert app.plant_states(m)[olymel] == "closure announced"
        m.step()
    assert m.date <= closed_on < m.date + timedelta(days=7)  # the week of the closure
    assert app.plant_states(m)[olymel] == "closed"
    assert app.plant_states(m)[closures["cs_brooks"]] == "open"


# -- pictures ------------------------------------------------------------------------------

def _image(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_map_paints_each_cell_in_its_layer_colour(stepped):
    m = stepped
    picture = app.map_picture(m, "unemployment_rate")
    art = app._map_pictures[m]["unemployment_rate"]
    values = app.layer_values(m, "unemployment_rate")
    colours = art.cmap(art.norm(values), bytes=True)
    rows, cols = np.arange(art.rows.start, art.rows.stop), np.arange(art.cols.start, art.cols.stop)
    plants = art._plants(m, tuple(sorted(app.plant_states(m).items())))
    checked = 0
    # pixels with nothing drawn over them show their cell's colour exactly
    for i in range(0, len(rows), 5):
        for j in range(0, len(cols), 5):
            r, c = rows[i], cols[j]
            if art.drawing[r, c, 3] != 0 or plants[r, c, 3] != 0:
                continue
            x, y = art.cell_x[j], art.cell_y[i]
            if not art.land[x, y]:
                continue
            expected = (255, 255, 255) if np.isnan(values[x, y]) else tuple(colours[x, y, :3])
            assert tuple(picture[r, c, :3]) == expected, (x, y)
            checked += 1
    assert checked > 100
    image = _image(app.map_png(m, "unemployment_rate"))
    assert image.shape == picture.shape and (image[..., 3] == 255).all()


def test_every_map_and_plot_is_modelled_and_changes_with_the_weeks():
    m = app.PageModel(scale=SMALL, seed="2")
    m.step()
    assert all(app.modelled(m, plot) for plot in app.PLOTS)
    before_map = app.map_png(m, "distress")
    before = [app.plot_png(m, plot) for plot in app.PLOTS]
    for _ in range(3):
        m.step()
    assert app.map_png(m, "distress") != before_map
    after = [app.plot_png(m, plot) for plot in app.PLOTS]
    assert all(a != b for a, b in zip(before, after))


def test_plot_shows_the_collected_weeks(stepped):
    dates, values = app.series(stepped, "unemployment_rate")
    assert len(dates) == stepped.steps == 10
    assert dates[0] == np.datetime64(stepped.start_date) and (np.diff(dates) == np.timedelta64(7, "D")).all()
    assert np.isfinite(values).all()
    assert app._nice_top(6.3) == 10 and app._nice_top(11) == 20 and app._nice_top(0.4) == 0.5


def test_week_text_gives_the_calendar_dates():
    m = app.PageModel(scale=SMALL)
    assert app.week_text(m) == f"Week 0 of {m.n_weeks}: the run starts on {m.start_date.isoformat()}"
    m.step()
    m.step()
    start = m.start_date + timedelta(days=7)
    assert app.week_text(m) == (f"Week 2 of {m.n_weeks}: {start.isoformat()} to "
                                f"{(start + timedelta(days=6)).isoformat()}")
    assert re.match(r"Scenario baseline, scale 0.05, seed 0, [\d,]+ residents$", app.run_text(m))


# -- the page, rendered without a browser --------------------------------------------------

def test_page_renders_steps_and_shows_a_refused_value(monkeypatch):
    import ipyvuetify as v
    import ipywidgets
    import solara

    monkeypatch.setattr(app, "PAGE_SCALE", 0.05)
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)  # the sidebar needs a layout

    def week() -> str:
        found = rc.find(v.Html, class_="cohesion-week")
        found.assert_single()
        return found.widget.children[0]

    assert week().startswith("Week 0 of")
    images = [w._dom_classes for w in rc.find(ipywidgets.Image).widgets]
    assert sum("cohesion-plot" in c for c in images) == len(app.PLOTS)
    assert sum("cohesion-map" in c for c in images) == 1
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert week().startswith("Week 1 of")
    # another layer
    before = [w.value for w in rc.find(ipywidgets.Image).widgets if "cohesion-map" in w._dom_classes]
    rc.find(v.Select, label="Map layer").widget.v_model = "Cohesion"
    assert not rc.find(v.Html, class_="cohesion-layer-note").widgets  # every layer is modelled
    after = [w.value for w in rc.find(ipywidgets.Image).widgets if "cohesion-map" in w._dom_classes]
    assert after != before
    # a refused scale: the page shows the message instead of failing, and recovers
    scale = rc.find(v.TextField, label=app.model_params()["scale"]["label"])
    scale.widget.v_model = "-3"
    scale.widget.fire_event("keyup.enter", None)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    alert = rc.find(v.Alert)
    alert.assert_single()
    text = " ".join(str(c) for c in alert.widget.children)
    assert "run.scale = -3.0 is below its minimum" in text
    assert not rc.find(v.Html, class_="cohesion-week").widgets
    scale.widget.v_model = "0.03"
    scale.widget.fire_event("keyup.enter", None)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert week().startswith("Week 0 of")
    assert "scale 0.03" in rc.find(v.Html, class_="cohesion-run").widget.children[0]
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
    assert viz.solara_arguments("0.0.0.0", 9000) == ["run", "model.app", "--host", "0.0.0.0", "--port", "9000",
                                                     "--production", "--no-open"]
