"""Figures a paper can use and honest feedback on the command line (issue 17, items 7-8):
file formats and resolution, display names, the diverging difference map, the sweep's
report, progress without a terminal, the compile notice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from experiments import display, figures, figures_maps, figures_series, kernels
from experiments.progress import LineProgress, Stages

from helpers import ROOT, invoke

TINY = ["--scale", "0.02", "--start", "2005-01", "--end", "2005-12"]


# -- formats and resolution ----------------------------------------------------------------
@pytest.fixture(scope="module")
def run_pdf_svg(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    res = invoke("run", *TINY, "--format", "pdf,svg", "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out, res


def test_run_writes_the_formats_asked_for(run_pdf_svg):
    out, _ = run_pdf_svg
    pdf, svg = out / "unemployment_jobs_lost.pdf", out / "unemployment_jobs_lost.svg"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in svg.read_bytes()[:2000]
    assert not (out / "unemployment_jobs_lost.png").exists()
    # the SVG keeps its text as text, with the scenario's display name and the accent restored
    text = svg.read_text(encoding="utf-8")
    assert "Baseline" in text and "Jobs lost in closures" in text


def test_run_progress_lines_without_a_terminal(run_pdf_svg):
    _, res = run_pdf_svg
    lines = [ln for ln in res.stderr.splitlines() if re.match(r"baseline: \d+/\d+ weeks \(\d+%\)", ln)]
    assert len(lines) >= 5, res.stderr
    assert lines[-1].startswith(f"baseline: {lines[-1].split('/')[1].split()[0]}/")  # ends at the last week
    assert "model persons (about" in res.stdout  # counts at scale 0.02 are not passed off as residents


def test_png_is_300_dpi(tmp_path):
    fig_path = tmp_path / "f.png"
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1])
    written = display.save(fig, fig_path, ("png",))
    assert written == [fig_path]
    with Image.open(fig_path) as im:
        dpi = im.info["dpi"]
        assert dpi[0] == pytest.approx(300, abs=0.5) and dpi[1] == pytest.approx(300, abs=0.5)
        assert im.size == (600, 300)


@pytest.mark.parametrize(
    "command",
    [["run"], ["compare", "--scenarios", "baseline,support_committee"], ["sweep", "configs/sweeps/example.toml"]],
)
@pytest.mark.parametrize("bad", ["jpg", "png,gif", ",", ""])
def test_bad_format_is_refused_and_nothing_written(tmp_path, command, bad):
    out = tmp_path / "out"
    res = invoke(*command, "--format", bad, "--out", str(out), cwd=ROOT)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --format"), res.stderr
    assert not out.exists()


def test_parse_formats():
    assert display.parse_formats(None) == ("png",)
    assert display.parse_formats("PDF, svg,pdf") == ("pdf", "svg")
    with pytest.raises(display.FormatError):
        display.parse_formats("tiff")


# -- names, palette, maps ------------------------------------------------------------------
def _bands(n_weeks=120, offset=0.0):
    rng = np.random.default_rng(0)
    mean = 0.2 + offset + 0.01 * rng.standard_normal(n_weeks)
    return mean, mean - 0.02, mean + 0.02


def test_series_figure_uses_display_names_and_shows_an_identical_baseline(tmp_path):
    dates = pd.date_range("2005-01-03", periods=120, freq="7D")
    same = _bands()
    bands = {"baseline": same, "support_committee": same, "integrated_2005": _bands(offset=0.05)}
    closures = [("Quebecor World printing plant", date(2005, 6, 1), date(2005, 6, 8), [date(2005, 6, 1)])]
    periods = {
        "baseline": [("regional_conference", date(2005, 1, 1), date(2007, 4, 1))],
        "support_committee": [
            ("regional_conference", date(2005, 1, 1), date(2007, 4, 1)),
            ("support_committee", date(2005, 6, 1), date(2007, 4, 1)),
        ],
        "integrated_2005": [
            ("regional_conference", date(2005, 1, 1), date(2007, 4, 1)),
            ("support_committee", date(2005, 6, 1), date(2007, 4, 1)),
        ],
    }
    captured = {}
    real_save = figures_series.save

    def keep(fig, path, formats=("png",)):
        captured["fig"] = fig
        captured["texts"] = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
        return real_save(fig, path, formats)

    figures_series.save = keep
    try:
        written = figures.series_with_bands(
            dates, bands, "share_high_distress", tmp_path / "s.png", closures, periods, 5, formats=("svg",)
        )
    finally:
        figures_series.save = real_save
    svg = written[0].read_text(encoding="utf-8")
    for name in (
        "Support committee",
        "Integrated response 2005",
        "Baseline",
        "Adults in high distress",
        "Québecor World",
    ):
        assert name in svg, name
    assert "support_committee" not in svg and "share_high_distress" not in svg
    texts = captured["texts"]
    assert "Support committee" in texts
    # the regional conference is background, not an intervention row under the baseline
    assert not any(t.startswith("Regional conference") for t in texts)
    assert any("regional conference (outside resources)" in t for t in texts)
    # the baseline is drawn over an identical scenario, in a style of its own
    ax = captured["fig"].axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    base, other = lines["Baseline"], lines["Support committee"]
    assert base.get_zorder() > other.get_zorder() and base.get_linestyle() != other.get_linestyle()
    assert base.get_color() != other.get_color()


def test_scenario_names_come_from_one_mapping():
    assert display.scenario_name("support_committee") == "Support committee"
    assert display.scenario_name("my_new_variant") == "My new variant"
    for p in (ROOT / "configs" / "scenarios").glob("*.toml"):
        assert p.stem in display.SCENARIO_NAMES, p.stem


@pytest.fixture(scope="module")
def territory():
    from model.config import CONFIG_DIR
    from model.territory import load_territory

    return load_territory(CONFIG_DIR / "territory")


def _map_values(territory, outlier: float):
    names = list(territory.municipalities["name"])
    rng = np.random.default_rng(1)
    rows = []
    for s, shift in (("baseline", 0.0), ("support_committee", -0.02)):
        for y in (2006, 2009):
            for _i, n in enumerate(names):
                v = 0.05 * rng.standard_normal() + shift
                if s == "support_committee" and n == "Ayer's Cliff":
                    v += outlier
                rows.append((s, y, n, v))
    values = pd.DataFrame(rows, columns=["scenario", "year", "municipality", "mean_distress"])
    residents = pd.DataFrame({"municipality": names, "residents": [500] * len(names)})
    residents.loc[residents["municipality"] == "Saint-Benoît-du-Lac", "residents"] = 3
    return values, residents


def test_difference_map_is_centred_on_zero_and_names_municipalities(tmp_path, territory):
    values, residents = _map_values(territory, outlier=2.0)
    captured = {}
    real_save = figures_maps.save

    def keep(fig, path, formats=("png",)):
        captured["fig"] = fig
        return real_save(fig, path, formats)

    figures_maps.save = keep
    try:
        written = figures.difference_maps(
            territory,
            values,
            "mean_distress",
            tmp_path / "d.png",
            "distress score",
            "baseline",
            formats=("svg",),
            residents=residents,
        )
    finally:
        figures_maps.save = real_save
    fig = captured["fig"]
    images = [im for ax in fig.axes for im in ax.get_images() if im.get_cmap().name == "PuOr_r"]
    assert images
    norm = images[0].norm
    assert norm.vcenter == 0 and norm.vmin == pytest.approx(-norm.vmax)
    # one outlying small municipality does not stretch the scale
    assert norm.vmax < 0.5
    svg = written[0].read_text(encoding="utf-8")
    assert "Magog" in svg and "Potton" in svg and "Support committee" in svg
    assert "Saint-Benoît-du-Lac" in svg  # named as left grey: too few model persons


# -- the sweep's report and progress ------------------------------------------------------
SWEEP = """[sweep]
description = "two points"
design = "factorial"
scenarios = ["baseline"]
replicates = 1
seed = 3
scale = 0.02
start = "2005-01"
end = "2005-09"

[parameters]
"labour.matching_efficiency" = [0.16, 0.26]
"""


def test_sweep_writes_report_and_figure_and_progress_lines(tmp_path):
    spec = tmp_path / "two.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "sw"
    res = invoke("sweep", str(spec), "--out", str(out), "--workers", "1", "--format", "png,pdf")
    assert res.returncode == 0, res.stderr
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "figures/outcomes_by_parameter.png" in report and "labour.matching_efficiency" in report
    assert "Unemployment rate" in report
    assert (out / "figures" / "outcomes_by_parameter.png").is_file()
    assert (out / "figures" / "outcomes_by_parameter.pdf").is_file()
    assert re.search(r"^sweep: 2/2 runs \(100%\)", res.stderr, re.M), res.stderr
    assert "report.md" in res.stdout


def test_line_progress_prints_at_each_tenth(capsys):
    bar = LineProgress(20, "compare", "run", stream=sys.stderr)
    for _ in range(20):
        bar.update(1)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("compare: 2/20 runs (10%)") and err[-1].startswith("compare: 20/20 runs (100%)")
    assert len(err) == 10
    st = Stages("analysis", 2, stream=sys.stderr)
    st("effects")
    st("figures")
    st.done()
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == ["analysis [1/2] effects", "analysis [2/2] figures"] and err[2].startswith("analysis: done in")


# -- compiling the kernels -----------------------------------------------------------------
def test_uncompiled_kernels_are_detected(tmp_path):
    """With an empty cache directory every kernel is reported missing (nothing compiled)."""
    code = "from experiments.kernels import uncached; m = uncached(); print(len(m))"
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path)},
    )
    assert res.returncode == 0, res.stderr
    assert int(res.stdout.split()[-1]) > kernels.QUIET_MISSING


def test_compile_notice_only_when_needed(monkeypatch):
    said = []
    monkeypatch.setattr(kernels, "uncached", lambda: [f"model.k{i}" for i in range(40)])
    assert kernels.notice(said.append) and said == [kernels.COMPILING]
    said.clear()
    monkeypatch.setattr(kernels, "uncached", lambda: ["model.k0"])
    assert not kernels.notice(said.append) and not said
    monkeypatch.setattr(kernels, "uncached", lambda: None)
    assert not kernels.notice(said.append) and not said
