"""A sweep's short report: its main outcomes over the design, in report.md and a figure.

The figure has one row per main outcome and one column per varied parameter: every run
as a dot at its parameter value, the mean of each design point's replicates as a larger
marker, one colour per scenario. A sweep with no varied parameter (design ``none``) is
drawn by scenario instead. The report states the design, the mean of each outcome by
scenario and its Spearman rank correlation with each parameter over the runs (a
description of the design, not a sensitivity analysis: see ``cohesion sensitivity``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import display  # noqa: E402
from .display import save, scenario_name, styles_of  # noqa: E402
from .outcomes import SUMMARY_BY_NAME  # noqa: E402

FIGURE = "outcomes_by_parameter.png"
# The outcomes the report and figure show, those with values in the runs, in this order.
MAIN_OUTCOMES = (
    "unemployment_rate_mean",
    "share_high_distress_mean",
    "unmet_need_share_mean",
    "cohesion_index_mean",
    "workers_12m_employed",
    "workers_12m_unmet_need",
    "strain_out_migrants_total",
)
MAX_PARAMETERS = 6


def _label(o: str, scale: float) -> str:
    s = SUMMARY_BY_NAME.get(o)
    if s is None:
        return o
    unit = {"share": "%", "persons": display.count_unit(scale)}.get(s.unit, s.unit)
    return f"{s.label[:1].upper()}{s.label[1:]} ({unit})"


def _factor(o: str) -> float:
    s = SUMMARY_BY_NAME.get(o)
    return 100.0 if s is not None and s.unit == "share" else 1.0


def main_outcomes(runs: pd.DataFrame) -> list[str]:
    return [o for o in MAIN_OUTCOMES if o in runs and pd.to_numeric(runs[o], errors="coerce").notna().any()]


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan")
    rx, ry = pd.Series(x[ok]).rank().to_numpy(), pd.Series(y[ok]).rank().to_numpy()
    return float(np.corrcoef(rx, ry)[0, 1])


def outcomes_figure(
    runs: pd.DataFrame,
    parameters: list[str],
    outcomes: list[str],
    path: Path,
    scale: float,
    title: str,
    formats=("png",),
) -> list[Path]:
    scen = list(dict.fromkeys(runs["scenario"]))
    base = "baseline" if "baseline" in scen else scen[0]
    st = styles_of(scen, base)
    cols = parameters or ["scenario"]
    fig, axes = plt.subplots(
        len(outcomes),
        len(cols),
        figsize=(min(2.4 * len(cols) + 1.6, 11), 1.7 * len(outcomes) + 1),
        squeeze=False,
        layout="constrained",
        sharex="col",
        sharey="row",
    )
    for i, o in enumerate(outcomes):
        y_all = pd.to_numeric(runs[o], errors="coerce") * _factor(o)
        for j, p in enumerate(cols):
            ax = axes[i, j]
            order = sorted(range(len(scen)), key=lambda k: scen[k] == base)  # the baseline drawn last, on top
            if p != "scenario":
                xs = pd.to_numeric(runs[p], errors="coerce")
                span = float(xs.max() - xs.min()) or 1.0
            for k in order:
                s = scen[k]
                sub = runs[runs["scenario"] == s]
                hollow = s == base and len(scen) > 1
                y = y_all[sub.index]
                if p == "scenario":
                    x = np.full(len(sub), k, float) + np.linspace(-0.15, 0.15, max(1, len(sub)))
                    ax.plot(x, y, "o", ms=2.5, color=st[s]["color"], alpha=0.5)
                    ax.plot([k], [y.mean()], "D", ms=6, color=st[s]["color"], mec="k", mew=0.6)
                    continue
                # scenarios side by side at each value, so that equal values do not hide each other
                x = pd.to_numeric(sub[p], errors="coerce") + (k - (len(scen) - 1) / 2) * 0.025 * span
                ax.plot(x, y, "o", ms=2.2, color=st[s]["color"], alpha=0.45, lw=0)
                means = pd.DataFrame({"x": x, "y": y, "point": sub["point"]}).groupby("point").mean().sort_values("x")
                ax.plot(
                    means["x"],
                    means["y"],
                    "s" if hollow else "D",
                    ms=4.5 if hollow else 4,
                    color=st[s]["color"],
                    mfc="none" if hollow else st[s]["color"],
                    mec="k",
                    mew=0.8 if hollow else 0.5,
                    label=scenario_name(s) if i == 0 and j == 0 else None,
                    zorder=4 if hollow else 3,
                )
            if p == "scenario":
                ax.set_xticks(range(len(scen)), [scenario_name(s) for s in scen], rotation=30, ha="right")
            if i == len(outcomes) - 1:
                ax.set_xlabel(p if p != "scenario" else "")
            if j == 0:
                ax.set_ylabel(_wrap(_label(o, scale), 30), fontsize=7)
            ax.grid(alpha=0.25, lw=0.5)
    if parameters and len(scen) > 1:
        handles, labels = axes[0, 0].get_legend_handles_labels()
        order = [labels.index(scenario_name(s)) for s in scen if scenario_name(s) in labels]
        fig.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            loc="outside lower center",
            ncol=min(4, len(scen)),
            frameon=False,
        )
    fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
    note = (
        "Dots: runs; large markers: mean of each design point's replicates (scenarios side by side at each value)."
        if parameters
        else "Dots: runs; diamonds: mean of each scenario's runs."
    )
    axes[0, 0].set_title(note, loc="left", fontsize=7, color="0.3")
    return save(fig, path, formats)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _fmt(v: float, o: str) -> str:
    if not np.isfinite(v):
        return "n/a"
    v = v * _factor(o)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def write_sweep_report(out: Path, plan, runs: pd.DataFrame, formats=("png",)) -> Path:
    """Write ``report.md`` and ``figures/outcomes_by_parameter.*`` in the sweep directory."""
    out = Path(out)
    done = runs[runs["status"] == "done"].copy()
    figdir = out / "figures"
    figdir.mkdir(exist_ok=True)
    for fmt in display.FORMATS:
        (figdir / FIGURE).with_suffix("." + fmt).unlink(missing_ok=True)
    params = [p for p in plan.parameters if p in done]
    varied = [p for p in params if pd.to_numeric(done[p], errors="coerce").nunique() > 1]
    shown = varied[:MAX_PARAMETERS]
    outcomes = main_outcomes(done)
    scen = list(dict.fromkeys(done["scenario"])) if len(done) else list(plan.scenarios)
    scale = float(plan.scale)
    lines = [f"# Sweep: {plan.name}", ""]
    if plan.description:
        lines += [f"*{plan.description}*", ""]
    lines += [
        f"Design `{plan.design}` over {len(varied)} varied parameter(s) "
        + (", ".join(f"`{p}`" for p in varied) if varied else "")
        + "; scenarios "
        + ", ".join(f"{scenario_name(s)} (`{s}`)" for s in scen)
        + f"; {plan.replicates} replicate(s) per point; scale {scale:g} (model persons per resident)"
        + (f", {plan.start} to {plan.end}" if plan.start or plan.end else "")
        + f". {len(done)} of {len(runs)} runs done.",
        "",
    ]
    if not len(done) or not outcomes:
        lines += ["No run has the main outcomes; nothing to show.", ""]
    else:
        lines += [
            "## Main outcomes by scenario",
            "",
            "Mean over the runs [lowest, highest run].",
            "",
            "| outcome | " + " | ".join(scenario_name(s) for s in scen) + " |",
            "| --- |" + " --- |" * len(scen),
        ]
        for o in outcomes:
            cells = []
            for s in scen:
                y = pd.to_numeric(done.loc[done["scenario"] == s, o], errors="coerce").to_numpy(float)
                y = y[np.isfinite(y)]
                cells.append(f"{_fmt(y.mean(), o)} [{_fmt(y.min(), o)}, {_fmt(y.max(), o)}]" if len(y) else "n/a")
            lines.append(f"| {_label(o, scale)} | " + " | ".join(cells) + " |")
        if varied:
            lines += [
                "",
                "## Rank correlation with the parameters",
                "",
                "Spearman's rank correlation of each outcome with each varied parameter over the runs (all "
                "scenarios): a description of this design, not a sensitivity index (`cohesion sensitivity`).",
                "",
                "| outcome | " + " | ".join(f"`{p}`" for p in varied) + " |",
                "| --- |" + " --- |" * len(varied),
            ]
            for o in outcomes:
                y = pd.to_numeric(done[o], errors="coerce").to_numpy(float)
                cells = []
                for p in varied:
                    r = _spearman(pd.to_numeric(done[p], errors="coerce").to_numpy(float), y)
                    cells.append("n/a" if not np.isfinite(r) else f"{r:+.2f}")
                lines.append(f"| {_label(o, scale)} | " + " | ".join(cells) + " |")
        title = "Main outcomes over the design" if shown else "Main outcomes by scenario"
        written = outcomes_figure(done.reset_index(drop=True), shown, outcomes, figdir / FIGURE, scale, title, formats)
        ref = display.preferred(FIGURE, formats)
        lines += ["", "## Figure", "", f"![Main outcomes over the design](figures/{ref})", ""]
        if len(varied) > len(shown):
            lines += [f"The figure shows the first {len(shown)} of the {len(varied)} varied parameters.", ""]
        lines += ["Files: " + ", ".join(f"`figures/{p.name}`" for p in written) + ".", ""]
    lines += [
        "Data: `runs.parquet` (one row per run: parameters, seed, status, summary outcomes), `timeseries/`, "
        "`design.parquet`, `manifest.json`; columns in docs/experiments.md and docs/outputs.md.",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
