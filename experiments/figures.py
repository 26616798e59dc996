"""Figures of sweeps and comparisons: series with 95% bands, forest plots, maps,
calibration, sensitivity indices. Names, units, palette and file formats come from
:mod:`experiments.display`; every function takes ``formats`` and writes one file per
format beside ``path`` (PNG at 300 dpi).

One module per family of figures: :mod:`experiments.figures_series` (weekly series),
:mod:`experiments.figures_forest` (forest plots), :mod:`experiments.figures_maps` (maps by
municipality) and :mod:`experiments.figures_studies` (calibration, sensitivity,
robustness), on the common style of :mod:`experiments.figures_base`. Their public names are
importable from here."""

from __future__ import annotations

from .figures_forest import MARKERS, forest
from .figures_maps import MIN_MAP_PERSONS, difference_maps, display_municipality, municipal_maps
from .figures_series import (
    SMOOTH_WEEKS,
    START_UP_WEEKS,
    closure_letters,
    colour_of,
    draw_closures,
    series_with_bands,
)
from .figures_studies import calibration, robustness_grid, sensitivity_bars

__all__ = [
    "MARKERS",
    "MIN_MAP_PERSONS",
    "SMOOTH_WEEKS",
    "START_UP_WEEKS",
    "calibration",
    "closure_letters",
    "colour_of",
    "difference_maps",
    "display_municipality",
    "draw_closures",
    "forest",
    "municipal_maps",
    "robustness_grid",
    "sensitivity_bars",
    "series_with_bands",
]
