"""The step benchmark's breakdown by kind of week names the weeks the model itself treats
differently (the timings are the benchmark's, never asserted here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from model import CohesionModel
from model.submodels import demography

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_step.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_step", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_week_kinds_are_the_weeks_the_model_renews_ties_records_the_panel_and_runs_demography(monkeypatch):
    m = CohesionModel(scale=0.01, rng=0, start="2003-01", end="2005-03")
    seen = {"january": [], "year end": [], "demographic": []}
    renew, panel, age_kernel = m.ties.renew, m._record_panel, demography._age_kernel

    def on_renew(*a):
        seen["january"].append(m.week)
        return renew(*a)

    def on_panel(*a):
        seen["year end"].append(m.week)
        return panel(*a)

    def on_age(*a):
        seen["demographic"].append(m.week)
        return age_kernel(*a)

    monkeypatch.setattr(m.ties, "renew", on_renew)
    monkeypatch.setattr(m, "_record_panel", on_panel)
    monkeypatch.setattr(demography, "_age_kernel", on_age)
    while m.running:
        m.step()
    kinds = _bench().week_kinds(m)
    assert len(kinds) == m.n_weeks == m.week + 1
    weeks = np.arange(m.n_weeks)
    assert list(weeks[kinds == "january"]) == seen["january"] and len(seen["january"]) == 2
    assert list(weeks[kinds == "year end"]) == seen["year end"] and len(seen["year end"]) == 3
    # A demographic week that is also a January or a year's last week is counted there.
    labelled = set(weeks[kinds != "ordinary"])
    assert set(weeks[kinds == "demographic"]) == set(seen["demographic"]) - set(seen["january"]) - set(seen["year end"])
    assert set(seen["demographic"]) <= labelled
