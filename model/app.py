"""The Magog cohesion model in the browser: Mesa's SolaraViz page for ``CohesionModel``.

The Memphrémagog RCM (Québec) after the plant closures of 2003-2018: a map of the
territory's 1 km cells, with its 17 municipalities outlined and named, a heat map of one
property chosen in a selector (distress, unemployment rate, support received, cohesion),
the organizations as markers by sector and the timeline's plants marked open, announced
or closed; plots of unemployment, the share in high distress, support and service reach,
and cohesion over time; the current week and its calendar dates. The sidebar holds
Mesa's step, play and reset buttons and the controls a new run is built from: scenario,
scale, seed, the intervention switches and intensities and a few main parameters, each
built from its definition in ``configs/base.toml``.

Open it with ``cohesion viz`` (see ``docs/viz.md``), or with
``solara run model/app.py --production`` from the repository root.

Per-cell figures are computed here, when the page redraws, from the model's arrays
(``CohesionModel.person_measure``); the weekly step never computes them. A layer or
series that a model does not provide is shown as "not yet modelled" rather than drawn.
"""

from __future__ import annotations

import inspect
import io
import math
import sys
import traceback
import weakref
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

if not __package__:  # run as a file (``solara run model/app.py``): import the package, not model/model.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib.patheffects as path_effects  # noqa: E402
import mesa  # noqa: E402
import numpy as np  # noqa: E402
import solara  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from PIL import Image  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from model.config import Config, ConfigError, ParamDef, load_base, load_scenario_file, resolve, scenario_names  # noqa: E402
from model.inputs import check_memory  # noqa: E402
from model.model import CohesionModel  # noqa: E402
from model.state import DOMAINS, ORG_KINDS, Status  # noqa: E402
from model.territory import OUTSIDE, WATER  # noqa: E402

# Scale of the model the page builds first: the model's own default, the real territory at
# 1:1, at which one step with its redraw takes about 0.15 s in the browser on a 2-core
# machine, well under half a second (benchmarks/bench_viz.py, docs/viz.md). Any scale the
# configuration allows can be typed in the Scale control.
PAGE_SCALE = load_base().values["run.scale"]
DEFAULT_SEED = 0
DEFAULT_SCENARIO = inspect.signature(CohesionModel.__init__).parameters["scenario"].default

# Controls: every true/false parameter, every parameter of these sections, every parameter
# a scenario file sets, and these main parameters.
INTERVENTION_SECTIONS = ("interventions",)
MAIN_PARAMETERS = ("strain.out_migration_rate", "regional_economy.job_replacement_share",
                   "labour.separation_rate", "labour.matching_efficiency")
LABEL_MAX = 60  # longer control labels leave out the unit


# -- building a model from the page's controls ------------------------------------------

def _flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, item in tree.items():
        if isinstance(item, dict):
            out.update(_flatten(item, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = item
    return out


def exposed_parameters(base: Config) -> list[str]:
    """Dotted names of the parameters the page has a control for, in ``base.toml`` order."""
    set_by_scenarios: set[str] = set()
    for name in scenario_names():
        try:
            set_by_scenarios.update(_flatten(load_scenario_file(name).get("overrides", {})))
        except ConfigError:
            continue  # a broken scenario file is reported when it is chosen
    out = []
    for name, d in base.defs.items():
        if isinstance(d.value, list) or name.startswith("run."):
            continue
        if (isinstance(d.value, bool) or name.split(".")[0] in INTERVENTION_SECTIONS
                or name in set_by_scenarios or name in MAIN_PARAMETERS):
            out.append(name)
    return out


def control_key(name: str) -> str:
    """Keyword of a dotted parameter name, as ``CohesionModel`` takes it."""
    return name.replace(".", "__")


def control_for(d: ParamDef) -> dict:
    """A Mesa user-input description for one parameter, from its definition: a check box
    for true/false, a select for a choice, else a text field showing the default, with the
    unit and the allowed range in its label (the value is checked when the model is built)."""
    v = d.value
    if isinstance(v, bool):
        return {"type": "Checkbox", "value": v, "label": d.name}
    if isinstance(v, str) and d.choices:
        return {"type": "Select", "value": v, "values": list(d.choices), "label": d.name}
    bounds = ""
    if d.min is not None or d.max is not None:
        lo = "" if d.min is None else f"{d.min:g}"
        hi = "" if d.max is None else f"{d.max:g}"
        bounds = f"{lo} to {hi}" if lo and hi else (f">= {lo}" if lo else f"<= {hi}")
    details = ", ".join(x for x in (d.unit, bounds) if x and x != "-")
    label = f"{d.name} ({details})" if details else d.name
    if len(label) > LABEL_MAX:
        label = f"{d.name} ({bounds})" if bounds else d.name
    return {"type": "InputText", "value": v if isinstance(v, str) else repr(v), "label": label}


def model_params(base: Config | None = None) -> dict[str, dict]:
    """The sidebar's controls (Mesa's ``model_params``), built from the configuration."""
    base = base or load_base()
    scale = base.defs["run.scale"]
    params = {
        "scenario_name": {"type": "Select", "value": DEFAULT_SCENARIO, "values": scenario_names(),
                          "label": "Scenario"},
        "scale": {"type": "InputText", "value": repr(PAGE_SCALE),
                  "label": f"Scale (model persons per resident, {scale.min:g} to {scale.max:g}; 1 = real size)"},
        "seed": {"type": "InputText", "value": str(DEFAULT_SEED), "label": "Seed (whole number >= 0)"},
    }
    for name in exposed_parameters(base):
        params[control_key(name)] = control_for(base.defs[name])
    return params


def _number(text, what: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ConfigError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what}: {text!r} is not a finite number")
    return value


def _parse_control(d: ParamDef, value):
    """A control's value as the parameter's type (text fields give strings)."""
    if not isinstance(value, str) or isinstance(d.value, str):
        return value
    if isinstance(d.value, bool):
        text = value.strip().lower()
        if text not in ("true", "false"):
            raise ConfigError(f"{d.name}: {value!r} is not true or false")
        return text == "true"
    number = _number(value, d.name)
    if isinstance(d.value, int) and number.is_integer():
        return int(number)
    return number


def page_arguments(scenario_name, scale, seed, controls: dict) -> dict:
    """``CohesionModel`` keyword arguments from the controls' values, checked.

    A parameter whose control still shows its ``base.toml`` default is left to the
    scenario, so that choosing a scenario is enough to switch its interventions on.
    Raises ConfigError with a one-line message for any bad value, or when the model's
    estimated memory exceeds the memory available (``model.inputs.check_memory``)."""
    base = load_base()
    scale_value = _number(scale, "scale")
    seed_value = _number(seed, "seed")
    if not seed_value.is_integer() or seed_value < 0:
        raise ConfigError(f"seed: {seed!r} is not a whole number >= 0")
    overrides = {"run.scale": scale_value}
    for key, value in controls.items():
        name = key.replace("__", ".")
        if name not in base.defs:
            raise ConfigError(f"page controls: unknown parameter {name!r}")
        d = base.defs[name]
        parsed = _parse_control(d, value)
        if parsed != d.value:
            overrides[name] = parsed
    cfg = resolve(str(scenario_name), None, overrides, origin="page controls")
    check_memory(cfg)  # the same guard as ``cohesion run``: a scale the machine cannot hold is refused
    return {"scenario": str(scenario_name), "rng": int(seed_value), "overrides": overrides}


class PageModel(CohesionModel):
    """``CohesionModel`` built from the page's controls.

    Args:
        scenario_name: a scenario of ``configs/scenarios/``.
        scale: model persons per resident (a number or its text).
        seed: the run's seed (a whole number >= 0, or its text).
        scenario: Mesa's own scenario object, which SolaraViz passes on reset; unused.
        **controls: parameter values keyed ``section__name`` (numbers, true/false, or
            their text as typed in a field).

    A value the configuration refuses does not raise: the model is then left unbuilt,
    with ``problem`` holding the one-line message, ``running`` false and ``step`` doing
    nothing, so that the page shows the message and stays usable for a corrected reset.
    """

    def __init__(self, scenario_name: str = DEFAULT_SCENARIO, scale=PAGE_SCALE, seed=DEFAULT_SEED,
                 scenario=None, **controls):
        self.problem: str | None = None
        try:
            super().__init__(**page_arguments(scenario_name, scale, seed, controls))
        except ConfigError as exc:
            self.problem = str(exc)
            if "steps" not in self.__dict__:  # refused before mesa.Model was set up
                mesa.Model.__init__(self, rng=0)
            self.running = False

    def step(self) -> None:
        """One week; a week that fails stops the run with ``problem`` describing the
        failure (the page shows it; Reset starts a new run) instead of raising."""
        if self.problem is not None:
            return
        week = self.steps  # Mesa counts the step before running it
        day = self.start_date + timedelta(days=7 * (week - 1))
        try:
            super().step()
        except Exception as exc:  # a failing submodel must not take the page down
            traceback.print_exc(file=sys.stderr)
            self.problem = f"week {week} (from {day.isoformat()}) failed: {type(exc).__name__}: {exc}"
            self.step_failed = True
            self.running = False


# -- what the map shows ------------------------------------------------------------------

@dataclass(frozen=True)
class CellLayer:
    """A per-cell figure the map can show."""

    key: str  # name of the grid's property layer
    label: str
    legend: str
    vmin: float
    vmax: float
    cmap: str
    person_field: str | None = None  # mean over present residents; None: computed below
    extend: str = "neither"  # "max" when values can pass vmax (the colour bar shows an arrow)


LAYERS = {
    "distress": CellLayer("distress", "Distress", "mean distress of adult residents (SD)", -0.5, 1.0, "PuRd",
                          "distress", extend="both"),
    "unemployment_rate": CellLayer("unemployment_rate", "Unemployment rate",
                                   "unemployed / labour force", 0.0, 0.3, "YlOrRd", extend="max"),
    "support_received": CellLayer("support_received", "Support received",
                                  "share of adults in high distress receiving informal support", 0.0, 1.0,
                                  "YlGnBu", "support_received"),
    "cohesion": CellLayer("cohesion", "Cohesion", "mean belonging of adult residents", 0.0, 1.0, "BuGn", "belonging"),
}
DEFAULT_LAYER = "unemployment_rate"
NOT_MODELLED = "not yet modelled"


def _resident_cells(model: CohesionModel) -> tuple[np.ndarray, np.ndarray]:
    """Flat cell index of each person row's household, and whether the person is present."""
    P, H = model.people, model.households
    n = P.n
    hh = P.household[:n]
    cell = H.x[hh].astype(np.int64) * model.grid.height + H.y[hh]
    return cell, P.present[:n]


def unemployment_by_cell(model: CohesionModel) -> tuple[np.ndarray, np.ndarray]:
    """Unemployment rate and labour force of each cell's residents, ``[x, y]`` arrays.

    The rate is NaN where no resident is in the labour force."""
    cell, present = _resident_cells(model)
    status = model.people.status[: model.people.n]
    size = model.grid.width * model.grid.height
    labour = present & ((status == Status.EMPLOYED) | (status == Status.UNEMPLOYED))
    lf = np.bincount(cell[labour], minlength=size)
    un = np.bincount(cell[present & (status == Status.UNEMPLOYED)], minlength=size)
    rate = np.full(size, np.nan)
    np.divide(un, lf, out=rate, where=lf > 0)
    shape = (model.grid.width, model.grid.height)
    return rate.reshape(shape), lf.reshape(shape)


def _person_mean_by_cell(model: CohesionModel, field: str) -> np.ndarray:
    """Mean of a person measure (``CohesionModel.person_measure``) over each cell's
    adults for whom it is defined."""
    cell, present = _resident_cells(model)
    values, defined = model.person_measure(field)
    present = present & defined
    size = model.grid.width * model.grid.height
    count = np.bincount(cell[present], minlength=size)
    total = np.bincount(cell[present], weights=values[present], minlength=size)
    mean = np.full(size, np.nan)
    np.divide(total, count, out=mean, where=count > 0)
    return mean.reshape(model.grid.width, model.grid.height)


def layer_modelled(model: CohesionModel, key: str) -> bool:
    """Whether the model computes what the layer shows."""
    spec = LAYERS[key]
    return spec.person_field is None or spec.person_field in model.PERSON_MEASURES


def layer_values(model: CohesionModel, key: str) -> np.ndarray | None:
    """Current per-cell values of a layer (``[x, y]``), or None if not yet modelled.

    The values are also written into the grid's property layer of that name, created on
    first use, so Mesa's own tools see them."""
    spec = LAYERS[key]
    if not layer_modelled(model, key):
        return None
    if spec.person_field is None:
        values = unemployment_by_cell(model)[0]
    else:
        values = _person_mean_by_cell(model, spec.person_field)
    layer = getattr(model.grid, key, None)
    if layer is None:
        layer = model.grid.create_property_layer(key, default_value=0.0, dtype=float)
    layer.data[:] = values
    return values


GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
MARKER_SPACING = 0.85  # spiral constant, in cells: neighbouring markers are about 1.5 cells apart
# Organizations drawn one by one, in spiral order from the centre outwards: the plants
# last, on the outside, where their state is easiest to see.
KIND_ORDER = ("public_service", "government", "community", "union", "plant")
GROUPED_KINDS = ("employer", "informal_place")  # one marker per municipality, sized by number
KIND_MARKER = {"plant": "s", "public_service": "^", "government": "D", "community": "o", "union": "v"}
GROUP_STYLE = {"employer": {"marker": "o", "edgecolors": "#1f5fa8", "label": "other employers"},
               "informal_place": {"marker": "s", "edgecolors": "#6b6b6b", "label": "informal places"}}
DOMAIN_COLOUR = {"economic": "#1f5fa8", "social": "#7b3294", "education": "#1b9e3e",
                 "community": "#d6207a", "government": "#111111"}
PLANT_STATES = ("open", "closure announced", "closed")


@dataclass
class OrgMarkers:
    """Where and how the map draws the organizations.

    The model places every organization on its municipality's centre cell. The map
    draws the services, public bodies, community groups, unions and plants one by one on
    a spiral around that cell, and each municipality's other employers and informal
    places (shops, hair salons) as one marker each at the centre, sized by their number."""

    rows: np.ndarray  # org rows of the individual markers
    x: np.ndarray
    y: np.ndarray
    kind: np.ndarray  # kind names
    domain: np.ndarray  # domain names
    groups: dict  # kind -> (x, y, count) arrays, one entry per municipality that has some


_marker_cache: "weakref.WeakKeyDictionary[CohesionModel, OrgMarkers]" = weakref.WeakKeyDictionary()


def org_markers(model: CohesionModel) -> OrgMarkers:
    """Marker positions of the model's organizations (computed once per model)."""
    if model in _marker_cache:
        return _marker_cache[model]
    orgs = model.orgs
    n = orgs.n
    kinds = np.array(ORG_KINDS, dtype=object)[orgs.kind[:n]]
    domains = np.array(DOMAINS, dtype=object)[orgs.domain[:n]]
    muni = orgs.municipality[:n]
    centre = model.territory.centre_cell.astype(float)
    individual = np.flatnonzero(~np.isin(kinds, GROUPED_KINDS))
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    rows, xs, ys = [np.zeros(0, np.int64)], [np.zeros(0)], [np.zeros(0)]
    for m in np.unique(muni[individual]):
        members = individual[muni[individual] == m]
        members = members[np.argsort([rank.get(kinds[r], len(rank)) for r in members], kind="stable")]
        k = np.arange(1, len(members) + 1)  # k = 0, the centre, holds the grouped markers
        radius = MARKER_SPACING * np.sqrt(k + 0.5)
        rows.append(members)
        xs.append(centre[m, 0] + radius * np.cos(k * GOLDEN_ANGLE))
        ys.append(centre[m, 1] + radius * np.sin(k * GOLDEN_ANGLE))
    rows_a = np.concatenate(rows)
    groups = {}
    for kind in GROUPED_KINDS:
        count = np.bincount(muni[kinds == kind], minlength=model.territory.n_municipalities)
        has = np.flatnonzero(count)
        groups[kind] = (centre[has, 0], centre[has, 1], count[has])
    markers = OrgMarkers(rows_a, np.concatenate(xs), np.concatenate(ys), kinds[rows_a], domains[rows_a], groups)
    _marker_cache[model] = markers
    return markers


def plant_states(model: CohesionModel) -> dict[int, str]:
    """State of each of the timeline's plants (org row -> one of PLANT_STATES)."""
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


@dataclass(frozen=True)
class Geometry:
    """The territory's fixed drawing: background colours, borders, the middle of each municipality."""

    background: np.ndarray  # RGBA image, [y, x]
    tint: np.ndarray  # RGBA image of the municipalities in distinct light colours, [y, x]
    borders: np.ndarray  # (k, 2, 2) segments between municipalities
    coast: np.ndarray  # (k, 2, 2) segments between land and water
    label_xy: np.ndarray  # (n_municipalities, 2) mean (x, y) of each municipality's cells
    land_xy: np.ndarray  # [x, y] true on a municipality's cell


_geometry_cache: "weakref.WeakKeyDictionary[object, Geometry]" = weakref.WeakKeyDictionary()

OUTSIDE_RGBA = (0.90, 0.90, 0.88, 1.0)
WATER_RGBA = (0.70, 0.83, 0.93, 1.0)
LAND_RGBA = (1.0, 1.0, 1.0, 1.0)


def _edges(labels: np.ndarray, keep) -> np.ndarray:
    """Segments between edge-adjacent cells whose labels differ and satisfy ``keep``."""
    segs = []
    a, b = labels[:-1, :], labels[1:, :]  # x neighbours: vertical segment at x + 0.5
    xs, ys = np.nonzero((a != b) & keep(a, b))
    segs.append(np.stack([np.stack([xs + 0.5, ys - 0.5], 1), np.stack([xs + 0.5, ys + 0.5], 1)], 1))
    a, b = labels[:, :-1], labels[:, 1:]  # y neighbours: horizontal segment at y + 0.5
    xs, ys = np.nonzero((a != b) & keep(a, b))
    segs.append(np.stack([np.stack([xs - 0.5, ys + 0.5], 1), np.stack([xs + 0.5, ys + 0.5], 1)], 1))
    return np.concatenate(segs).astype(float)


def geometry(model: CohesionModel) -> Geometry:
    territory = model.territory
    if territory in _geometry_cache:
        return _geometry_cache[territory]
    labels = np.asarray(territory.cell_municipality)
    n = territory.n_municipalities
    bg = np.empty(labels.shape + (4,))
    bg[:] = LAND_RGBA
    bg[labels == OUTSIDE] = OUTSIDE_RGBA
    bg[labels == WATER] = WATER_RGBA
    palette = colormaps["tab20"](np.arange(n) % 20)
    palette[:, :3] = 0.65 + 0.35 * palette[:, :3]  # light, so that borders and markers stand out
    tint = bg.copy()
    land = labels >= 0
    tint[land] = palette[labels[land]]
    label_xy = np.array([np.argwhere(labels == m).mean(axis=0) for m in range(n)])
    geo = Geometry(bg.transpose(1, 0, 2), tint.transpose(1, 0, 2),
                   _edges(labels, lambda a, b: (a >= 0) & (b >= 0)),
                   _edges(labels, lambda a, b: ((a >= 0) & (b == WATER)) | ((a == WATER) & (b >= 0))),
                   label_xy, land)
    _geometry_cache[territory] = geo
    return geo


# -- drawing ----------------------------------------------------------------------------
#
# Redrawing a whole matplotlib figure every week costs a few hundred milliseconds, almost
# all of it in text and layout that do not change. So each figure is drawn in full once
# (again only when its fixed parts change: the layer, a plant's state, an axis limit),
# and each week only what moves is painted on that picture: the map's cells (copied into
# the axes' pixels) and the plots' lines (matplotlib blitting).

MAP_SIZE = (7.0, 4.3)  # inches
MAP_AXES = (0.0, 0.0, 0.64, 0.93)  # left, bottom, width, height, as shares of the figure
PLOT_SIZE = (5.6, 3.1)
DPI = 96
PNG_COMPRESSION = 1  # zlib level: fast to write, the images stay small


def encode_png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba)).save(buf, format="png", compress_level=PNG_COMPRESSION)
    return buf.getvalue()


NAME_OFFSETS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
OTHER_TOWN_WEIGHT = 0.5  # a name over another municipality's cells counts half as bad as over another name
NAME_STYLE = {"fontsize": 8, "ha": "center", "va": "center", "color": "#222222", "zorder": 5}


def _map_axes(model: CohesionModel):
    """A transparent figure and the map's axes, laid out identically for every picture."""
    fig = Figure(figsize=MAP_SIZE, dpi=DPI)
    fig.patch.set_alpha(0.0)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes(MAP_AXES)
    ax.patch.set_alpha(0.0)
    extent = (-0.5, model.grid.width - 0.5, -0.5, model.grid.height - 0.5)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.apply_aspect()
    return fig, canvas, ax, extent


_name_positions: "weakref.WeakKeyDictionary[CohesionModel, np.ndarray]" = weakref.WeakKeyDictionary()


def _overlap(a: tuple, b: tuple) -> float:
    """Area shared by two boxes given as (centre x, centre y, width, height)."""
    dx = (a[2] + b[2]) / 2 - abs(a[0] - b[0])
    dy = (a[3] + b[3]) / 2 - abs(a[1] - b[1])
    return max(dx, 0.0) * max(dy, 0.0)


def name_positions(model: CohesionModel, ax, canvas: FigureCanvasAgg) -> np.ndarray:
    """Where the municipality names go (data coordinates), computed once per model.

    Names are placed smallest municipality first. Each takes, among positions over its
    own municipality (the middle of its cells, then above, below, beside and diagonally
    at growing distances, as long as the name's box still covers one of its cells), the
    first that overlaps neither a name already placed nor a cluster of organization
    markers, or else the one that overlaps them least, counting also, at half weight, the
    other municipalities' cells it covers."""
    if model in _name_positions:
        return _name_positions[model]
    territory = model.territory
    geo = geometry(model)
    renderer = canvas.get_renderer()
    names = model.municipality_names
    labels = np.asarray(territory.cell_municipality)
    cells = np.bincount(labels[geo.land_xy], minlength=len(names))
    frame = ax.get_window_extent()
    # boxes to keep clear: the organization marker clusters around each centre cell
    mk = org_markers(model)
    per_cell = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]
    placed: list[tuple[float, float, float, float]] = []
    for m in range(len(names)):
        members = int((model.orgs.municipality[mk.rows] == m).sum()) + 1
        side = 2 * per_cell * (MARKER_SPACING * math.sqrt(members + 0.5) + 0.5)
        cx, cy = ax.transData.transform(territory.centre_cell[m].astype(float))
        placed.append((cx, cy, side, side))
    land_cells = np.argwhere(labels >= 0)
    all_cells = ax.transData.transform(land_cells.astype(float))
    cell_owner = labels[land_cells[:, 0], land_cells[:, 1]]
    out = np.zeros((len(names), 2))
    for m in np.argsort(cells, kind="stable"):  # small municipalities have the fewest places to go
        text = ax.text(0, 0, names[m], **NAME_STYLE)
        box = text.get_window_extent(renderer)
        text.remove()
        w, h = box.width + 3, box.height + 1
        own = ax.transData.transform(np.argwhere(labels == m).astype(float))
        cx, cy = ax.transData.transform(geo.label_xy[m])
        candidates = [(cx, cy)] + [(cx + dx * d * (w / 2 + 3), cy + dy * d * h)
                                   for d in (1.0, 1.7, 2.5, 3.5) for dx, dy in NAME_OFFSETS]
        usable = [c for c in candidates
                  if frame.x0 + w / 2 <= c[0] <= frame.x1 - w / 2 and frame.y0 + h / 2 <= c[1] <= frame.y1 - h / 2
                  and ((np.abs(own[:, 0] - c[0]) <= w / 2) & (np.abs(own[:, 1] - c[1]) <= h / 2)).any()]
        usable = usable or candidates[:1]
        others = all_cells[(cell_owner != m)]
        clash = [sum(_overlap((c[0], c[1], w, h), other) for other in placed)
                 + OTHER_TOWN_WEIGHT * per_cell ** 2 * int(((np.abs(others[:, 0] - c[0]) <= w / 2)
                                                            & (np.abs(others[:, 1] - c[1]) <= h / 2)).sum())
                 for c in usable]
        choice = usable[next((i for i, a in enumerate(clash) if a == 0), int(np.argmin(clash)))]
        placed.append((choice[0], choice[1], w, h))
        out[m] = ax.transData.inverted().transform(choice)
    _name_positions[model] = out
    return out


def _rgba(canvas: FigureCanvasAgg) -> np.ndarray:
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _over(top: np.ndarray, under: np.ndarray) -> np.ndarray:
    """``top`` (RGBA, straight alpha) composited over an opaque ``under``."""
    alpha = top[..., 3:4].astype(np.float32) / 255.0
    out = under.copy()
    out[..., :3] = np.rint(top[..., :3] * alpha + under[..., :3] * (1.0 - alpha))
    return out


class MapPicture:
    """The map of one layer: its fixed parts drawn once, its cells painted each week.

    Three pictures are laid over each other: the cells' colours, the drawing (outside
    and water, borders, names, organizations other than plants, legend, colour bar), and
    the plants, redrawn only when one is announced or closes."""

    def __init__(self, model: CohesionModel, key: str):
        spec = LAYERS[key]
        geo = geometry(model)
        self.modelled = layer_modelled(model, key)
        fig, canvas, ax, extent = _map_axes(model)
        if self.modelled:
            clear = geo.background.copy()
            clear[..., 3] = np.where(geo.land_xy.T, 0.0, 1.0)  # the layer's colours show through the land
            ax.imshow(clear, origin="lower", extent=extent, interpolation="nearest")
            cax = fig.add_axes((0.665, 0.04, 0.02, 0.36))
            bar = fig.colorbar(ScalarMappable(Normalize(spec.vmin, spec.vmax), spec.cmap), cax=cax,
                               extend=spec.extend)
            bar.ax.tick_params(labelsize=7)
            bar.set_label(spec.legend, fontsize=7)
            title = spec.label
        else:
            ax.imshow(geo.tint, origin="lower", extent=extent, interpolation="nearest")
            ax.text(0.02, 0.98, f"{spec.label}: {NOT_MODELLED}", transform=ax.transAxes, ha="left",
                    va="top", fontsize=11, zorder=7,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.5", "alpha": 0.9})
            title = f"{spec.label} ({NOT_MODELLED})"
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.add_collection(LineCollection(geo.coast, colors="#4a7fb0", linewidths=0.6))
        ax.add_collection(LineCollection(geo.borders, colors="#444444", linewidths=0.8))
        outline = [path_effects.withStroke(linewidth=2.2, foreground="white")]
        for name, xy in zip(model.municipality_names, name_positions(model, ax, canvas), strict=True):
            ax.text(xy[0], xy[1], name, path_effects=outline, **NAME_STYLE)
        _draw_orgs(ax, model)
        ax.set_title(title, fontsize=10, loc="left")
        fig.legend(handles=_legend_handles(), loc="upper left", bbox_to_anchor=(0.65, 0.99), fontsize=8.5,
                   frameon=False, handletextpad=0.3, labelspacing=0.35)
        self.drawing = _rgba(canvas)
        self.cmap = colormaps[spec.cmap]
        self.norm = Normalize(spec.vmin, spec.vmax)
        # the cell under each pixel of the axes
        h_px, w_px = self.drawing.shape[:2]
        box = ax.get_window_extent()
        self.cols = slice(max(int(math.floor(box.x0)), 0), min(int(math.ceil(box.x1)), w_px))
        self.rows = slice(max(int(math.floor(h_px - box.y1)), 0), min(int(math.ceil(h_px - box.y0)), h_px))
        inv = ax.transData.inverted()
        px = np.arange(self.cols.start, self.cols.stop) + 0.5
        py = h_px - (np.arange(self.rows.start, self.rows.stop) + 0.5)
        cx = np.floor(inv.transform(np.c_[px, np.zeros_like(px)])[:, 0] + 0.5).astype(int)
        cy = np.floor(inv.transform(np.c_[np.zeros_like(py), py])[:, 1] + 0.5).astype(int)
        self.cell_x = np.clip(cx, 0, model.grid.width - 1)
        self.cell_y = np.clip(cy, 0, model.grid.height - 1)
        self.land = geo.land_xy
        self.plants: dict[tuple, np.ndarray] = {}

    def _plants(self, model: CohesionModel, states: tuple) -> np.ndarray:
        if states not in self.plants:
            self.plants.clear()
            _, canvas, ax, _ = _map_axes(model)
            _draw_plants(ax, model, dict(states))
            self.plants[states] = _rgba(canvas)
        return self.plants[states]

    def picture(self, model: CohesionModel, values: np.ndarray | None) -> np.ndarray:
        """The map as an opaque RGBA array for ``values`` (per cell, ``[x, y]``)."""
        page = np.full(self.drawing.shape, 255, np.uint8)
        if self.modelled and values is not None:
            colours = self.cmap(self.norm(values), bytes=True)
            colours[~self.land | np.isnan(values)] = 255  # cells without residents in the labour force stay white
            page[self.rows, self.cols] = colours[self.cell_x][:, self.cell_y].transpose(1, 0, 2)
        page = _over(self.drawing, page)
        return _over(self._plants(model, tuple(sorted(plant_states(model).items()))), page)


def _draw_orgs(ax, model: CohesionModel) -> None:
    """Organizations other than the plants (they do not change during a run)."""
    mk = org_markers(model)
    for kind, (x, y, count) in mk.groups.items():
        if not len(count):
            continue
        style = GROUP_STYLE[kind]
        size = 12 + 150 * np.sqrt(count / max(1, count.max()))
        ax.scatter(x, y, s=size, marker=style["marker"], facecolors="none", edgecolors=style["edgecolors"],
                   linewidths=1.0, zorder=3)
    for kind in KIND_ORDER:
        if kind == "plant":
            continue
        for domain, colour in DOMAIN_COLOUR.items():
            sel = (mk.kind == kind) & (mk.domain == domain)
            if sel.any():
                ax.scatter(mk.x[sel], mk.y[sel], marker=KIND_MARKER[kind], s=16, c=colour, edgecolors="white",
                           linewidths=0.4, zorder=4)


def _draw_plants(ax, model: CohesionModel, states: dict[int, str]) -> None:
    mk = org_markers(model)
    plant_state = np.array([states.get(int(r), "") for r in mk.rows], dtype=object)
    for state, style in zip(PLANT_STATES, PLANT_STYLE, strict=True):
        sel = (mk.kind == "plant") & (plant_state == state)
        if sel.any():
            ax.scatter(mk.x[sel], mk.y[sel], zorder=6, **style)


PLANT_STYLE = (
    {"marker": "s", "s": 34, "c": DOMAIN_COLOUR["economic"], "edgecolors": "black", "linewidths": 0.8},
    {"marker": "s", "s": 34, "c": "#f59f00", "edgecolors": "black", "linewidths": 0.8},
    {"marker": "X", "s": 44, "c": "#9a9a9a", "edgecolors": "black", "linewidths": 0.6},
)


def _legend_handles() -> list:
    def h(label, **kw):
        return Line2D([], [], linestyle="none", label=label, **kw)

    handles = [h(f"plant, {state}", marker=st["marker"], markerfacecolor=st["c"], markeredgecolor="black",
                 markersize=6) for state, st in zip(PLANT_STATES, PLANT_STYLE, strict=True)]
    names = {"public_service": "public service", "government": "government body", "community": "community group",
             "union": "union"}
    handles += [h(label, marker=KIND_MARKER[k], color="0.35", markersize=5) for k, label in names.items()]
    handles += [h(f"{style['label']} (size: number)", marker=style["marker"], markerfacecolor="none",
                  markeredgecolor=style["edgecolors"], markersize=7) for style in GROUP_STYLE.values()]
    handles += [h(f"sector: {d}", marker="o", color=c, markersize=5) for d, c in DOMAIN_COLOUR.items()]
    return handles


_map_pictures: "weakref.WeakKeyDictionary[CohesionModel, dict]" = weakref.WeakKeyDictionary()


def map_picture(model: CohesionModel, key: str) -> np.ndarray:
    """The map of layer ``key`` for the model's current week, as an RGBA array."""
    values = layer_values(model, key)
    pictures = _map_pictures.setdefault(model, {})
    if key not in pictures:
        pictures[key] = MapPicture(model, key)
    return pictures[key].picture(model, values)


def map_png(model: CohesionModel, key: str) -> bytes:
    """The map of layer ``key`` for the model's current week, as PNG bytes."""
    return encode_png(map_picture(model, key))


@dataclass(frozen=True)
class SeriesPlot:
    """A plot of model-level series (DataCollector columns) over the run's dates."""

    title: str
    columns: tuple[tuple[str, str], ...]  # (column, label)
    percent: bool = True
    closures: bool = False


PLOTS = (
    SeriesPlot("Unemployment rate", (("unemployment_rate", "unemployment rate"),), closures=True),
    SeriesPlot("Residents in high distress", (("share_high_distress", "share in high distress"),)),
    SeriesPlot("Support and service reach", (("support_received_share", "support received"),
                                             ("formal_service_reach", "formal service reach"))),
    SeriesPlot("Cohesion", (("cohesion_index", "cohesion index"),), percent=False),
)


def series(model: CohesionModel, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Dates (start of each simulated week) and values of a collected column."""
    data = model.datacollector.model_vars
    weeks = np.asarray(data.get("week", []), dtype=np.int64)
    dates = np.datetime64(model.start_date, "D") + 7 * weeks
    return dates, np.asarray(data.get(column, []), dtype=float)


def column_modelled(model: CohesionModel, column: str) -> bool:
    """False for a column of a submodel not built yet: NaN now and in every collected week."""
    now = getattr(model.stats, column, math.nan)
    if not (isinstance(now, float) and math.isnan(now)):
        return True
    return bool(np.isfinite(series(model, column)[1]).any())


def modelled(model: CohesionModel, plot: SeriesPlot) -> bool:
    return any(column_modelled(model, c) for c, _ in plot.columns)


def _nice_top(value: float) -> float:
    """An axis top above ``value`` that changes rarely as the value grows: 1, 2 or 5 x 10^k."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    k = math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * 10.0 ** k >= value:
            return m * 10.0 ** k
    return 10.0 ** (k + 1)  # pragma: no cover


class PlotPicture:
    """One plot: axes, labels and closure marks drawn once; the lines painted each week."""

    def __init__(self, model: CohesionModel, plot: SeriesPlot, top: float, with_data: bool):
        fig = Figure(figsize=PLOT_SIZE, dpi=DPI)
        fig.patch.set_facecolor("white")
        self.canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.1, 0.16, 0.87, 0.72))
        ax.set_xlim(np.datetime64(model.start_date, "D"), np.datetime64(model.end_date, "D"))
        ax.set_title(plot.title, fontsize=10, loc="left")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        self.lines = []
        self.now = None
        if not with_data:
            ax.text(0.5, 0.5, NOT_MODELLED, transform=ax.transAxes, ha="center", va="center", fontsize=12,
                    color="0.4")
            ax.set_yticks([])
        else:
            for column, label in plot.columns:
                if not column_modelled(model, column):
                    label = f"{label} ({NOT_MODELLED})"
                (line,) = ax.plot([], [], lw=1.4, label=label, animated=True)
                (last,) = ax.plot([], [], "o", ms=4, color=line.get_color(), animated=True, snap=False)
                self.lines.append((column, line, last))
            if plot.closures:
                for c in model.timeline.closures:
                    if c.in_default and model.start_date <= c.closed <= model.end_date:
                        ax.axvline(np.datetime64(c.closed, "D"), color="0.5", lw=0.7, ls=":", zorder=0)
                ax.plot([], [], color="0.5", lw=0.7, ls=":", label="plant closure")
            # the current week, drawn at its exact (sub-pixel) place so that each week moves it
            self.now = ax.axvline(np.datetime64(model.start_date, "D"), color="0.25", lw=0.8, alpha=0.7,
                                  animated=True, snap=False)
            ax.set_ylabel("%" if plot.percent else "index", fontsize=8)
            ax.set_ylim(0, top)
            ax.legend(fontsize=7, loc="upper right", frameon=False)
        self.ax = ax
        self.factor = 100.0 if plot.percent else 1.0
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def png(self, model: CohesionModel) -> bytes:
        self.canvas.restore_region(self.background)
        if self.now is not None and model.steps:
            day = np.datetime64(model.date, "D")
            self.now.set_xdata([day, day])
            self.ax.draw_artist(self.now)
        for column, line, last in self.lines:
            dates, values = series(model, column)
            line.set_data(dates, self.factor * values)
            last.set_data(dates[-1:], self.factor * values[-1:])  # the current week, visible from the first
            self.ax.draw_artist(line)
            self.ax.draw_artist(last)
        return encode_png(np.asarray(self.canvas.buffer_rgba()))


_plot_pictures: "weakref.WeakKeyDictionary[CohesionModel, dict]" = weakref.WeakKeyDictionary()


def plot_png(model: CohesionModel, plot: SeriesPlot) -> bytes:
    """The plot for the model's weeks so far, as PNG bytes."""
    with_data = modelled(model, plot)
    peak = 0.0
    if with_data:
        factor = 100.0 if plot.percent else 1.0
        for column, _ in plot.columns:
            values = series(model, column)[1]
            if np.isfinite(values).any():
                peak = max(peak, factor * float(np.nanmax(values)))
    top = _nice_top(1.1 * peak)
    pictures = _plot_pictures.setdefault(model, {})
    ident = (plot.title, top, with_data)
    if ident not in pictures:
        for old in [k for k in pictures if k[0] == plot.title]:
            del pictures[old]
        pictures[ident] = PlotPicture(model, plot, top, with_data)
    return pictures[ident].png(model)


# -- components -------------------------------------------------------------------------

selected_layer = solara.reactive(DEFAULT_LAYER)


def week_text(model: CohesionModel) -> str:
    """The current week and its calendar dates, e.g. ``Week 3 of 835: 2003-01-15 to 2003-01-21``."""
    if model.steps == 0:
        return f"Week 0 of {model.n_weeks}: the run starts on {model.start_date.isoformat()}"
    last = model.date + timedelta(days=6)
    return f"Week {model.steps} of {model.n_weeks}: {model.date.isoformat()} to {last.isoformat()}"


def run_text(model: CohesionModel) -> str:
    """Scenario, scale, seed, residents, and the parameters that differ from the defaults."""
    cfg = model.config
    base = load_base()
    changed = [f"{k} = {v}" for k, v in cfg.values.items() if k != "run.scale" and v != base.values.get(k)]
    residents = model.stats.population if model.steps else model.n_present
    text = f"Scenario {cfg.scenario}, scale {cfg['run.scale']:g}, seed {model.seed}, {residents:,} residents"
    return text + (f"; differs from the defaults: {', '.join(changed)}" if changed else "")


def _choose_layer(label: str) -> None:
    selected_layer.set(next(k for k, spec in LAYERS.items() if spec.label == label))


def _problem(model) -> str | None:
    return getattr(model, "problem", None)


@solara.component
def TerritoryMap(model):
    """The map card: the current week, the run, the layer selector and the map."""
    update_counter.get()
    key = selected_layer.value
    problem = _problem(model)
    png = solara.use_memo(lambda: None if problem else map_png(model, key), [model, model.steps, key])
    if problem:
        if getattr(model, "step_failed", False):
            solara.Error(f"The run stopped: {problem}. Press Reset to start a new run.", classes=["cohesion-problem"])
        else:
            solara.Error(f"The model was not built: {problem}. Correct the value and press Reset.",
                         classes=["cohesion-problem"])
        return
    with solara.Column(gap="0px", style={"padding": "0px 6px", "width": "100%"}):
        with solara.Row(gap="12px", style={"align-items": "center"}):
            with solara.Column(gap="0px", style={"flex": "1 1 auto"}):
                solara.Text(week_text(model), classes=["cohesion-week"], style={"font-weight": "bold"})
                solara.Text(run_text(model), classes=["cohesion-run"], style={"font-size": "12px"})
            with solara.Column(gap="0px", style={"flex": "0 0 190px"}):
                solara.Select(label="Map layer", values=[spec.label for spec in LAYERS.values()],
                              value=LAYERS[key].label, on_value=_choose_layer, dense=True,
                              classes=["cohesion-layer"])
                if not layer_modelled(model, key):
                    solara.Text(f"{LAYERS[key].label}: {NOT_MODELLED}", classes=["cohesion-layer-note"],
                                style={"font-size": "12px", "color": "#b00020"})
        solara.Image(png, width="100%", classes=["cohesion-map"])


@solara.component
def SeriesView(model, plot: SeriesPlot):
    """One plot of PLOTS; redrawn when a week is added (when the plot has data)."""
    update_counter.get()
    problem = _problem(model)
    with_data = not problem and modelled(model, plot)
    png = solara.use_memo(lambda: None if problem else plot_png(model, plot),
                          [model, model.steps if with_data else -1, with_data])
    if problem:
        solara.Text("No model: see the message beside the map.")
        return
    solara.Image(png, width="100%", classes=["cohesion-plot", f"plot-{plot.columns[0][0]}"])


@solara.component
def UnemploymentPlot(model):
    SeriesView(model, PLOTS[0])


@solara.component
def DistressPlot(model):
    SeriesView(model, PLOTS[1])


@solara.component
def SupportPlot(model):
    SeriesView(model, PLOTS[2])


@solara.component
def CohesionPlot(model):
    SeriesView(model, PLOTS[3])


COMPONENTS = [(TerritoryMap, 0), (UnemploymentPlot, 0), (DistressPlot, 0), (SupportPlot, 0), (CohesionPlot, 0)]


def make_model() -> PageModel:
    """The model the page shows first, built from the controls' initial values."""
    return PageModel(**{k: v["value"] for k, v in model_params().items()})


@solara.component
def Page():
    """Mesa's SolaraViz with one model per browser session."""
    model = solara.use_memo(make_model, [])
    params = solara.use_memo(model_params, [])
    return SolaraViz(model, components=COMPONENTS, model_params=params, name="Magog cohesion model")


page = Page()
title = "Magog cohesion model"  # the browser tab's title (Solara reads it from the module)
