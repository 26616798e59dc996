"""The sweep engine: designs, seeds, resuming, failures, worker counts, Dask, Ctrl-C and kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.design import replicate_seed
from experiments.sweep import VOLATILE_COLUMNS, execute, read_table, run_sweep

from helpers import ROOT, invoke
from sweep_plans import SHORT, small_plan


# -- design and seeds --------------------------------------------------------------------
def test_replicate_seeds_are_seedsequence_children_and_shared_across_points_and_scenarios():
    plan = small_plan(replicates=3)
    children = np.random.SeedSequence(7).spawn(3)
    assert plan.seeds() == [int(c.generate_state(1, np.uint32)[0]) for c in children]
    assert replicate_seed(7, 2) == plan.seeds()[2]
    specs = plan.specs()
    assert len(specs) == 2 * 3
    by_rep = {}
    for s in specs:
        by_rep.setdefault(s.replicate, set()).add(s.seed)
    assert all(len(v) == 1 for v in by_rep.values())  # common random numbers
    assert len({s.run_id for s in specs}) == len(specs)


def test_run_id_is_a_content_address():
    a = small_plan().specs()
    b = small_plan().specs()
    assert [s.run_id for s in a] == [s.run_id for s in b]
    c = small_plan(parameters={"labour.separation_rate": [0.003, 0.0051]}).specs()
    assert a[0].run_id == c[0].run_id and a[-1].run_id != c[-1].run_id
    d = small_plan(seed=8).specs()
    assert a[0].run_id != d[0].run_id


@pytest.mark.parametrize("design, n", [("factorial", 6), ("lhs", 5), ("morris", 3 * (2 + 1)), ("sobol", 4 * (2 + 2))])
def test_design_sizes(design, n):
    params = (
        {"labour.separation_rate": [0.003, 0.004, 0.005], "labour.matching_efficiency": [0.2, 0.25]}
        if design == "factorial"
        else {
            "labour.separation_rate": {"min": 0.003, "max": 0.005},
            "labour.matching_efficiency": {"min": 0.15, "max": 0.27},
        }
    )
    plan = small_plan(
        design=design,
        parameters=params,
        samples=5 if design == "lhs" else (3 if design == "morris" else 4),
        replicates=1,
    )
    pts = plan.points()
    assert len(pts) == n
    for p in pts:
        assert 0.003 <= p["labour.separation_rate"] <= 0.005


# -- a sweep on disk ---------------------------------------------------------------------
def comparable(out: Path):
    runs = pd.read_parquet(out / "runs.parquet").drop(columns=VOLATILE_COLUMNS + ["run_id", "version"])
    ts = read_table(out).merge(pd.read_parquet(out / "runs.parquet")[["run_id", "point", "replicate"]], on="run_id")
    ts = ts.drop(columns="run_id").sort_values(["point", "replicate", "week"]).reset_index(drop=True)
    return runs, ts


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "w1"
    res = run_sweep(small_plan(), out, workers=1, progress=False)
    return out, res


def test_sweep_directory_contract(one_worker):
    out, res = one_worker
    assert (res.planned, res.executed, res.done, res.failed) == (4, 4, 4, 0)
    runs = pd.read_parquet(out / "runs.parquet")
    for col in (
        "run_id",
        "scenario",
        "labour.separation_rate",
        "seed",
        "replicate",
        "status",
        "point",
        "unemployment_rate_mean",
        "jobs_lost_total",
    ):
        assert col in runs
    assert runs["run_id"].is_unique and (runs["status"] == "done").all()
    assert list(runs["point"]) == [0, 0, 1, 1]  # design order
    ts = read_table(out)
    weeks = ts.groupby("run_id").size()
    assert len(weeks) == 4 and weeks.nunique() == 1
    # the summary agrees with the stored series
    r = runs.iloc[0]
    mine = ts[ts["run_id"] == r["run_id"]]
    assert r["unemployment_rate_mean"] == pytest.approx(mine["unemployment_rate"].astype(float).mean(), rel=1e-5)
    # a run of the sweep is the run a user would make with the same settings
    from model import CohesionModel

    m = CohesionModel(**SHORT, overrides={"labour.separation_rate": r["labour.separation_rate"]}, rng=int(r["seed"]))
    m.run()
    assert m.config.hash() == r["config_hash"]
    assert int(m.stats.population) == int(mine["population"].iloc[-1])
    mf = json.loads((out / "manifest.json").read_text())
    assert mf["status"] == "done" and mf["counts"]["done"] == 4
    for key in ("plan", "plan_hash", "model_version", "replicate_seeds", "packages", "sessions", "scenarios"):
        assert key in mf
    assert mf["sessions"][0]["git"].keys() == {"commit", "dirty"}
    for kind in ("runs", "timeseries", "municipal"):  # one file of each per run, named by its id
        assert sorted(p.name.split(".")[0] for p in (out / kind).iterdir()) == sorted(runs["run_id"]), kind


def test_rerun_skips_finished_runs(one_worker, tmp_path):
    out, _ = one_worker
    before = (out / "runs.parquet").read_bytes()
    res = run_sweep(small_plan(), out, workers=1, progress=False)
    assert (res.skipped, res.executed, res.done) == (4, 0, 4)
    after = pd.read_parquet(out / "runs.parquet")
    assert after["run_id"].is_unique and len(after) == 4
    assert len(before) > 0


def test_more_replicates_reuse_the_runs_done(one_worker, tmp_path):
    out = tmp_path / "grow"
    run_sweep(small_plan(replicates=1), out, workers=1, progress=False)
    res = run_sweep(small_plan(replicates=2), out, workers=1, progress=False)
    assert (res.skipped, res.executed) == (2, 2)
    runs, ts = comparable(out)
    ref_runs, ref_ts = comparable(one_worker[0])
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(ts, ref_ts)


@pytest.mark.slow  # starts a local Dask cluster
def test_same_results_with_two_workers_and_dask(one_worker, tmp_path):
    ref_runs, ref_ts = comparable(one_worker[0])
    run_sweep(small_plan(), tmp_path / "w2", workers=2, progress=False)
    runs, ts = comparable(tmp_path / "w2")
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(ts, ref_ts)
    res = run_sweep(small_plan(), tmp_path / "dask", workers=2, scheduler="local", progress=False)
    assert res.done == 4
    mf = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert mf["sessions"][-1]["backend"] == "dask"
    runs, ts = comparable(tmp_path / "dask")
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(ts, ref_ts)


# -- failures ----------------------------------------------------------------------------
def failing_runner(spec):
    if spec.replicate == 1 and spec.point == 0:
        raise ValueError("deliberate failure of replicate 1")
    return execute(spec)


def flaky_runner(spec):
    marker = Path(os.environ["FLAKY_DIR"]) / spec.run_id
    if not marker.exists():
        marker.write_text("tried")
        raise RuntimeError("first attempt fails")
    return execute(spec)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    out = tmp_path / "fail"
    res = run_sweep(small_plan(), out, workers=1, progress=False, runner=failing_runner)
    assert (res.done, res.failed) == (3, 1)
    runs = pd.read_parquet(out / "runs.parquet")
    bad = runs[runs["status"] == "failed"]
    assert len(bad) == 1 and bad["replicate"].item() == 1 and bad["point"].item() == 0
    assert "ValueError: deliberate failure of replicate 1" in bad["error"].item()
    assert runs.loc[runs["status"] == "done", "error"].isna().all()
    assert set(read_table(out)["run_id"]) == set(runs.loc[runs["status"] == "done", "run_id"])
    assert json.loads((out / "manifest.json").read_text())["status"] == "done_with_failures"
    # a rerun tries the failed run again, and nothing is stored twice
    res = run_sweep(small_plan(), out, workers=1, progress=False)
    assert (res.skipped, res.executed, res.done, res.failed) == (3, 1, 4, 0)
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["run_id"].is_unique and (runs["status"] == "done").all()
    assert read_table(out).groupby("run_id").size().nunique() == 1


def test_retries(tmp_path, monkeypatch):
    monkeypatch.setenv("FLAKY_DIR", str(tmp_path))
    out = tmp_path / "retry"
    res = run_sweep(
        small_plan(parameters={"labour.separation_rate": [0.004]}),
        out,
        workers=1,
        progress=False,
        retries=1,
        runner=flaky_runner,
    )
    assert (res.done, res.failed) == (2, 0)
    assert (pd.read_parquet(out / "runs.parquet")["attempts"] == 2).all()


# -- the command line: kill, Ctrl-C, bad input ------------------------------------------------
SWEEP_TOML = """
[sweep]
design = "factorial"
scenarios = ["baseline"]
replicates = {replicates}
seed = 11
scale = 0.02
start = "2005-01"
end = "2005-12"

[parameters]
"labour.separation_rate" = [0.003, 0.004, 0.005]
"""


def _stored_ids(out: Path) -> set[str]:
    return {p.stem for p in (out / "runs").glob("*.json")} if (out / "runs").exists() else set()


def _start_and_wait(args, out: Path, at_least: int):
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", *args],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 300
    while len(_stored_ids(out)) < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.05)
    return proc


@pytest.mark.slow
def test_killed_sweep_resumes_without_duplicates_or_losses(tmp_path):
    (tmp_path / "s.toml").write_text(SWEEP_TOML.format(replicates=4))  # 12 runs
    out = tmp_path / "out"
    args = ["sweep", str(tmp_path / "s.toml"), "--workers", "2", "--out", str(out), "--quiet"]
    proc = _start_and_wait(args, out, at_least=3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = _stored_ids(out)
    assert 3 <= len(stored) < 12
    res = invoke(*args)
    assert res.returncode == 0, res.stderr
    mf = json.loads((out / "manifest.json").read_text())
    assert mf["sessions"][-1]["skipped"] == len(stored)  # nothing written before the kill is lost
    assert mf["sessions"][-1]["executed"] == 12 - len(stored)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 and runs["run_id"].is_unique and (runs["status"] == "done").all()
    ts = read_table(out)
    assert set(ts["run_id"]) == set(runs["run_id"])
    assert ts.groupby("run_id").size().nunique() == 1  # no run stored twice
    assert not ts.duplicated(["run_id", "week"]).any()


@pytest.mark.slow
def test_ctrl_c_stops_after_the_runs_in_flight(tmp_path):
    (tmp_path / "s.toml").write_text(SWEEP_TOML.format(replicates=6))  # 18 runs
    out = tmp_path / "out"
    args = ["sweep", str(tmp_path / "s.toml"), "--workers", "2", "--out", str(out)]
    proc = _start_and_wait(args, out, at_least=2)
    proc.send_signal(signal.SIGINT)  # to the parent only, as a terminal would to the foreground job
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "stopping after the runs in flight" in err and "run the same command again" in err
    mf = json.loads((out / "manifest.json").read_text())
    assert mf["status"] == "interrupted"
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["status"] == "done").all() and 2 <= len(runs) < 18
    assert set(runs["run_id"]) == _stored_ids(out)
    assert mf["counts"]["remaining"] == 18 - len(runs)


@pytest.mark.parametrize(
    "body, message",
    [
        ('[sweep]\ndesign = "grid"\n', "design must be one of"),
        ('[parameters]\n"labour.mystery" = [1, 2]\n', "unknown parameter 'labour.mystery'"),
        ('[parameters]\n"labour.separation_rate" = [2.0]\n', "above its maximum"),
        ('[sweep]\ndesign = "sobol"\n[parameters]\n"labour.separation_rate" = [0.1, 0.2]\n', "needs a range"),
        ('[sweep]\nscenarios = ["utopia"]\n', "unknown scenario 'utopia'"),
        ("[sweep]\nreplicates = 0\n", "replicates must be a whole number >= 1"),
        ("[sweep]\nspeed = 3\n", "unknown keys in [sweep]"),
        ('[parameters]\n"labour.separation_rate" = [0.004, 0.004]\n', "listed twice"),
        ("[sweep\n", "malformed TOML"),
    ],
)
def test_bad_sweep_file_exits_2_and_writes_nothing(tmp_path, body, message):
    (tmp_path / "bad.toml").write_text(body)
    res = invoke("sweep", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_out_directory_of_another_sweep_is_refused(one_worker, tmp_path):
    (tmp_path / "s.toml").write_text(SWEEP_TOML.format(replicates=1))
    res = invoke("sweep", str(tmp_path / "s.toml"), "--out", str(one_worker[0]), "--workers", "1")
    assert res.returncode == 2 and "holds a different sweep" in res.stderr


@pytest.mark.parametrize("command", ["sweep", "compare", "sensitivity", "robustness", "calibrate", "run", "viz"])
def test_help_of_every_command(command):
    res = invoke(command, "--help")
    assert res.returncode == 0, res.stderr
    assert f"Usage: cohesion {command}" in res.stdout
    if command in ("sweep", "compare", "sensitivity", "robustness", "calibrate"):
        for option in ("--workers", "--scheduler", "--retries", "--out", "--seed"):
            assert option in res.stdout, option
