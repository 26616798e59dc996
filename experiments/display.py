"""What the figures call things: scenarios, interventions, employers, weekly series and
their units, the palette, and the file formats figures are written in. One place, so
that every figure (and the report's figure captions) names things the same way."""

from __future__ import annotations

from pathlib import Path

from .outcomes import SERIES_UNITS

# -- scenarios -----------------------------------------------------------------------------
# The display name of each scenario of configs/scenarios/ (the part of its description
# before the colon, shortened where that is long). A scenario not listed is shown with
# its file name's words ("my_variant" -> "My variant").
SCENARIO_NAMES = {
    "baseline": "Baseline",
    "csss_policy_2011": "CSSS policy 2011",
    "helper_training": "Helper training",
    "in_plant_services": "In-plant services",
    "integrated_2005": "Integrated response 2005",
    "no_withdrawal": "No withdrawal",
    "recovery_committee": "Recovery committee",
    "support_committee": "Support committee",
    "support_committee_no_guide": "Support committee without its Guide",
    "withdrawal_2015": "Withdrawal 2015",
}


def _words(name: str) -> str:
    """An identifier in words: ``my_variant`` -> ``My variant``."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def scenario_name(scenario: str) -> str:
    """A scenario's display name: ``support_committee`` -> ``Support committee``."""
    return SCENARIO_NAMES.get(scenario) or _words(scenario)


# -- interventions -------------------------------------------------------------------------
INTERVENTION_NAMES = {
    "in_plant_services": "In-plant services",
    "recovery_committee": "Recovery committee",
    "support_committee": "Support committee",
    "guide": "Guide de l'aidant",
    "helper_training": "Helper training",
    "csss_structural": "CSSS structural",
    "csss_cross_sectoral": "CSSS cross-sectoral",
    "csss_reinforcement": "CSSS reinforcement",
    "regional_conference": "Regional conference",
}
# Outside resources in force in the baseline too: the background of every scenario, not
# one of its interventions.
BACKGROUND = {"regional_conference"}


def intervention_name(name: str) -> str:
    return INTERVENTION_NAMES.get(name) or _words(name)


# -- employers -----------------------------------------------------------------------------
# Spellings restored for display (configs/timeline/closures.toml keeps ASCII ids and names).
_EMPLOYER_SPELLING = {"Quebecor": "Québecor"}


def employer_name(employer: str, short: bool = False) -> str:
    """An employer's name for a figure; ``short`` drops the parenthesis and a trailing
    "printing plant", "last mill" and the like after a comma."""
    name = employer
    for plain, proper in _EMPLOYER_SPELLING.items():
        name = name.replace(plain, proper)
    if short:
        name = name.split(" (")[0].split(",")[0]
        name = name.replace(" World printing plant", " World")
    return name


# -- weekly series -------------------------------------------------------------------------
# Plain-language names of the weekly columns a comparison draws (docs/outputs.md).
SERIES_LABELS = {
    "mean_distress": "Mean psychological distress of adults",
    "share_high_distress": "Adults in high distress",
    "support_received_share": "Adults in high distress receiving informal support",
    "formal_service_reach": "Adults in high distress served by a formal service",
    "unmet_need_share": "Adults in high distress with neither support nor service",
    "cohesion_index": "Cohesion index",
    "belonging_mean": "Mean sense of belonging",
    "participation_rate": "Adults taking part in community activities",
    "org_partnership_density": "Partnerships between organizations",
    "unemployment_rate": "Unemployment rate",
    "population": "Population",
    "tie_integrity": "Ties intact",
}
# How each unit of outcomes.SERIES_UNITS reads on an axis (shares are drawn as percentages).
UNIT_TEXT = {
    "share": "%",
    "distress score": "SD units; 0 = employed adults without a stressor",
    "index 0-1": "index from 0 to 1",
    "score 0-1": "score from 0 to 1",
}
SERIES_UNIT_TEXT = {"org_partnership_density": "% of possible pairs linked"}


def series_label(column: str) -> str:
    return SERIES_LABELS.get(column, column.replace("_", " ").capitalize())


def series_axis_label(column: str) -> str:
    """``Adults in high distress (%)``."""
    unit = SERIES_UNIT_TEXT.get(column) or UNIT_TEXT.get(SERIES_UNITS.get(column, ""), SERIES_UNITS.get(column, ""))
    return f"{series_label(column)} ({unit})" if unit else series_label(column)


def count_unit(scale: float) -> str:
    """The unit of a count of model persons at ``scale`` (model persons per resident)."""
    if scale == 1:
        return "persons"
    return f"model persons; 1 per {1 / scale:.3g} residents at scale {scale:g}"


# -- palette -------------------------------------------------------------------------------
# Okabe & Ito (2008), "Color universal design": distinguishable with every common colour-
# vision deficiency. The baseline is black; the others take the remaining colours in order.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")
# Two of Paul Tol's colour-blind-safe "muted" colours, after the seven Okabe-Ito ones, so that
# the ten scenarios of `make run` (nine besides the baseline) never share a colour.
TOL_MUTED = ("#882255", "#999933")
PALETTE = OKABE_ITO + TOL_MUTED
BASELINE_COLOUR = "#000000"
LINESTYLES = ("solid", (0, (5, 1.5)), (0, (1, 1)), (0, (5, 1.5, 1, 1.5)), (0, (8, 2)), (0, (3, 1, 1, 1, 1, 1)))
BASELINE_STYLE = (0, (3, 2))  # dashed and drawn on top: a scenario identical to it still shows


def styles_of(scenarios: list[str], baseline: str = "baseline") -> dict[str, dict]:
    """Colour, line style and drawing order of each scenario's line."""
    out, i = {}, 0
    for s in scenarios:
        if s == baseline:
            out[s] = {"color": BASELINE_COLOUR, "ls": BASELINE_STYLE, "lw": 1.2, "zorder": 5}
        else:
            out[s] = {
                "color": PALETTE[i % len(PALETTE)],
                "ls": LINESTYLES[(i // len(PALETTE) + i) % len(LINESTYLES)],
                "lw": 1.4,
                "zorder": 3,
            }
            i += 1
    return out


# -- file formats --------------------------------------------------------------------------
FORMATS = ("png", "pdf", "svg")
PNG_DPI = 300


class FormatError(ValueError):
    pass


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``"pdf,svg"`` -> ``("pdf", "svg")``; default ``("png",)``. Unknown formats raise."""
    if text is None:
        return ("png",)
    chosen = [x.strip().lower().lstrip(".") for x in text.split(",") if x.strip()]
    if not chosen:
        raise FormatError(f"--format: expected one or more of {', '.join(FORMATS)} separated by commas, got {text!r}")
    bad = [x for x in chosen if x not in FORMATS]
    if bad:
        raise FormatError(f"--format: unknown format {bad[0]!r}; choose from {', '.join(FORMATS)} (comma-separated)")
    return tuple(dict.fromkeys(chosen))


def save(fig, path: Path, formats=("png",)) -> list[Path]:
    """Write ``fig`` as ``path`` with each format's suffix (PNG at 300 dpi) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    written = []
    try:
        for fmt in formats:
            target = path.with_suffix("." + fmt)
            kwargs = {"dpi": PNG_DPI} if fmt == "png" else {}
            if fmt == "svg":
                kwargs["metadata"] = {"Date": None}  # reproducible files
            elif fmt == "pdf":
                kwargs["metadata"] = {"CreationDate": None}
            fig.savefig(target, format=fmt, **kwargs)
            written.append(target)
    finally:
        plt.close(fig)
    return written


def preferred(name: str, formats) -> str:
    """The file a report's markdown shows for figure ``name`` (a PNG's file name): the PNG
    if written, else the SVG, else the PDF."""
    for fmt in ("png", "svg", "pdf"):
        if fmt in formats:
            return str(Path(name).with_suffix("." + fmt))
    return name
