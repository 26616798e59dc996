"""The calibration targets of configs/calibration/targets.toml over 10 seeds at scale 1 (slow).

Each run is measured with the production measures of ``experiments/outcomes.py`` (those
``cohesion calibrate`` records), and each target is judged by ``experiments.calibrate``'s
rule: a hit when the published value lies within the model's 95% interval widened by the
source's uncertainty. The held-aside (validation) targets are not tested here: they are
reported by ``cohesion calibrate`` and in docs/TRACE.md section 8.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from experiments.calibrate import evaluate
from model.config import load_targets

SEEDS = range(10)
END = "2012-12"
TARGETS = load_targets()
CALIBRATION = {n: t for n, t in TARGETS.items() if t.role == "calibrate" and t.scenario in ("", "baseline")}
# Calibration targets the model is known not to meet, each explained in docs/TRACE.md section 8.
# Strict: if the model starts meeting one, the test fails so that the documentation is updated.
KNOWN_MISSES = {
    "belonging_strong_2005": "belonging is a score set around its mean; its spread puts about 80% of adults above "
    "the scale's middle, against 54% with a strong sense of belonging",
}


def one_run(seed: int) -> dict:
    """One baseline run at scale 1 to the end of 2012, measured as a sweep measures it."""
    from experiments.outcomes import Probes, calibration_measures, distress_moderators, panel_measures
    from experiments.storage import layoffs_table, timeseries_table
    from model import CohesionModel

    m = CohesionModel(scale=1.0, rng=seed, end=END)
    probes = Probes()
    while m.running:
        m.step()
        probes(m)
    ts = timeseries_table(m)
    out = {f"cal_{k}": v for k, v in calibration_measures(ts, layoffs_table(m), probes, scale=1.0).items()}
    out.update({f"cal_{k}": v for k, v in panel_measures(m).items()})
    out.update(distress_moderators(m))
    out["u"] = ts.groupby(ts["date"].dt.year)["unemployment_rate"].mean()
    return out


@pytest.fixture(scope="module")
def runs():
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(one_run, SEEDS))


@pytest.fixture(scope="module")
def table(runs):
    records = pd.DataFrame(
        [{"status": "done", "scenario": "baseline", **{k: v for k, v in r.items() if k != "u"}} for r in runs]
    )
    return evaluate(records, CALIBRATION).set_index("name")


def _known_miss(name):
    if name in KNOWN_MISSES:
        return pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_MISSES[name], strict=True))
    return name


@pytest.mark.slow
@pytest.mark.parametrize("name", [_known_miss(n) for n in CALIBRATION])
def test_calibration_target_hit_over_10_seeds(table, name):
    r = table.loc[name]
    print(
        f"{name}: model {r.model_mean:.4g} [{r.model_lo:.4g}, {r.model_hi:.4g}], "
        f"target {r.target} +/- {r.tolerance_abs:.3g}"
    )
    assert r.evaluated, (name, r.note)
    assert r.hit, (name, r.model_mean, r.model_lo, r.model_hi, r.target, r.tolerance_abs)


@pytest.mark.slow
def test_job_loss_hurts_men_and_blue_collar_workers_more(runs):
    """Paul & Moser 2009 [paul-moser-2009]: the effect is larger for men and blue-collar workers."""
    for more, less in (("distress_d_men", "distress_d_women"), ("distress_d_blue_collar", "distress_d_other_workers")):
        a, b = np.mean([r[more] for r in runs]), np.mean([r[less] for r in runs])
        print(f"{more} {a:.3f} > {less} {b:.3f}")
        assert a > b


@pytest.mark.slow
def test_unemployment_peaks_after_each_wave_of_closures(runs):
    u = pd.concat([r["u"] for r in runs], axis=1).mean(axis=1)
    assert u[2006] > u[2003] + 0.015
    assert max(u[2008], u[2009]) > u[2007]
    assert u[2011] < max(u[2008], u[2009])
    assert u[2012] < max(u[2008], u[2009])
