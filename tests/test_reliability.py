"""Issue 18, "Reliability, second round": each numbered defect of the issue is a case here
that failed before the fix.

Bad input (defects 3-7, 10, 13): a table of cases, each run through the command line in
this process (``experiments.cli.main``) against a copy of ``configs/``; each must end
with exit status 2, one line on stderr naming the problem, no traceback and nothing
written. The faults (defects 1, 2, 8, 9, 11, 12) have tests of their own below.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import sweep as sweep_module
from experiments.cli import main
from experiments.design import MAX_RUNS
from experiments.sweep import SweepLock, SweepStore, prepare_directory, run_sweep
from model.config import ConfigError

from sweep_plans import small_plan

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SMALL = ["--scale", "0.02", "--start", "2005-01", "--end", "2005-06", "--no-figure", "--quiet"]

B, S, T = "base.toml", "scenarios/baseline.toml", "timeline/closures.toml"
M, O = "territory/municipalities.csv", "organizations.csv"
MAGOG = "45072,Magog,23880,25358,false,false,,144.19,45.267,-72.150,"
CSSS = "CSSS de Memphrémagog (Magog),public_service,social,45072,1,,"
SALON = "Hair salon,informal_place,community,*,,1500,"
SCALE = 'scale = { value = 1.0, unit = "model persons per resident", min = 0.001, max = 4.0,'
BENEFIT = "max_weekly_benefit = { value = [413.0,"
WAGES = "[labour]\nhourly_wage = [nan, 19.0, 12.0, 10.5, 19.0, 22.0, 21.0, 15.0, 14.0]\n"
SWEEP = '[sweep]\ndesign = "none"\nstart = "2005-01"\nend = "2005-06"\nscale = 0.02\n'


@dataclass
class Case:
    """A bad input. ``file``/``old``/``new``: one edit of the copied configs; ``config``:
    a --config file; ``sweep``: a sweep file (the command is then ``sweep``); ``args``:
    the command line (``{sweep}`` and ``{config}`` stand for those files)."""

    id: str
    expect: tuple[str, ...]
    file: str | None = None
    old: str = ""
    new: str = ""
    config: str | None = None
    sweep: str | None = None
    args: list[str] = field(default_factory=lambda: ["run", *SMALL])


CASES = [
    # 3. NaN and infinity, in lists too, wherever they come from
    Case("3-nan-in-a-list-of-wages", ("bad.toml", "labour.hourly_wage", "finite"), config=WAGES),
    Case(
        "3-nan-in-shares",
        ("bad.toml", "population.household_size_shares", "finite"),
        config="[population]\nhousehold_size_shares = [nan, 0.3, 0.3, 0.2, 0.1, 0.1]\n",
    ),
    Case(
        "3-inf-in-a-scenario",
        ("baseline.toml", "labour.separation_rate", "finite"),
        S,
        "[overrides]",
        "[overrides]\nlabour.separation_rate = inf",
    ),
    Case(
        "3-nan-in-a-base-list",
        ("base.toml", "ei.max_weekly_benefit", "finite"),
        B,
        BENEFIT,
        "max_weekly_benefit = { value = [nan,",
    ),
    Case(
        "3-inf-in-base-without-bounds",
        ("base.toml", "run.scale", "finite"),
        B,
        SCALE,
        'scale = { value = inf, unit = "model persons per resident",',
    ),
    Case(
        "3-nan-in-a-sweep-range",
        ("s.toml", "labour.separation_rate"),
        sweep='[sweep]\ndesign = "lhs"\nsamples = 2\n[parameters]\n"labour.separation_rate" = { min = nan, max = 0.1 }\n',
        args=["sweep", "{sweep}"],
    ),
    # 4. integers beyond their storage
    Case(
        "4-severance-overflows-int16",
        ("closures.toml", "severance_weeks", "from 0 to 1,000"),
        T,
        "severance_weeks = 16\n",
        "severance_weeks = 65536\n",
    ),
    Case(
        "4-whole-number-parameter-beyond-its-storage",
        ("bad.toml", "services.max_wait_weeks", "above its maximum"),
        config="[services]\nmax_wait_weeks = 65536\n",
    ),
    # 5. former tracebacks
    Case(
        "5-start-in-year-1",
        ("run.start = 0001-01", "outside the period", "2003-01 to 2018-12"),
        args=["run", "--scale", "0.02", "--start", "0001-01", "--end", "0001-03", "--quiet"],
    ),
    Case(
        "5-end-in-9999",
        ("run.end = 9999-12", "outside the period"),
        args=["run", "--scale", "0.02", "--end", "9999-12", "--quiet"],
    ),
    Case("5-land-area-1e300", ("municipalities.csv", "line 2", "land_km2"), M, MAGOG, MAGOG.replace("144.19", "1e300")),
    Case(
        "5-scheduler-not-an-address",
        ("--scheduler", "'notaurl'"),
        sweep=SWEEP,
        args=["sweep", "{sweep}", "--scheduler", "notaurl"],
    ),
    Case(
        "5-scenarios-a-number",
        ("s.toml", "sweep.scenarios"),
        sweep="[sweep]\nscenarios = 5\n",
        args=["sweep", "{sweep}"],
    ),
    Case(
        "5-factorial-of-1e8-points",
        ("s.toml", "100,000,000 points", f"more than the {MAX_RUNS:,}"),
        sweep='[sweep]\ndesign = "factorial"\n[parameters]\n'
        + "".join(
            f'"{p}" = [{", ".join(str(round(0.001 * (i + 1), 4)) for i in range(100))}]\n'
            for p in (
                "labour.separation_rate",
                "labour.matching_efficiency",
                "labour.cross_sector_search",
                "labour.long_tenure_search",
            )
        ),
        args=["sweep", "{sweep}"],
    ),
    # 6. no limits
    Case(
        "6-organization-count-1e8",
        ("organizations.csv", "line 2", "count", "from 0 to 1,000"),
        O,
        CSSS,
        CSSS.replace(",1,,", ",100000000,,"),
    ),
    Case(
        "6-per-residents-tiny",
        ("organizations.csv", "per_residents", ">= 10"),
        O,
        SALON,
        SALON.replace(",,1500,", ",,0.000001,"),
    ),
    Case(
        "6-land-area-1e6",
        ("municipalities.csv", "land_km2", "from 0 to 5,000"),
        M,
        MAGOG,
        MAGOG.replace("144.19", "1000000"),
    ),
    Case(
        "6-lhs-of-a-million-samples",
        ("s.toml", "1,000,000 runs"),
        sweep='[sweep]\ndesign = "lhs"\nsamples = 1000000\n[parameters]\n"labour.separation_rate" = { min = 0.003, max = 0.005 }\n',
        args=["sweep", "{sweep}"],
    ),
    Case(
        "6-run-in-1800",
        ("run.start = 1800-01", "outside the period"),
        args=["run", "--scale", "0.02", "--start", "1800-01", "--end", "1800-06", "--quiet"],
    ),
    Case(
        "6-run-in-2100",
        ("run.end = 2100-12", "outside the period"),
        args=["run", "--scale", "0.02", "--start", "2018-01", "--end", "2100-12", "--quiet"],
    ),
    # 7. output names leaving results/
    Case(
        "7-absolute-sweep-name",
        ("s.toml", "name must be a plain name", "'/tmp/x'"),
        sweep=SWEEP.replace("[sweep]\n", '[sweep]\nname = "/tmp/x"\n'),
        args=["sweep", "{sweep}"],
    ),
    Case(
        "7-relative-sweep-name",
        ("s.toml", "name must be a plain name"),
        sweep=SWEEP.replace("[sweep]\n", '[sweep]\nname = "../../../../x"\n'),
        args=["sweep", "{sweep}"],
    ),
    # 10. silent last-one-wins, and values accepted though meaningless
    Case(
        "10-twice-in-config",
        ("bad.toml", "labour.separation_rate is given twice"),
        config='"labour.separation_rate" = 0.004\n[labour]\nseparation_rate = 0.005\n',
    ),
    Case(
        "10-twice-in-scenario",
        ("baseline.toml", "labour.separation_rate is given twice"),
        S,
        "[overrides]",
        '[overrides]\n"labour.separation_rate" = 0.004\nlabour.separation_rate = 0.005',
    ),
    Case(
        "10-twice-in-sweep-overrides",
        ("s.toml", "ei.extension_2009_weeks is given twice"),
        sweep=SWEEP + '[overrides]\n"ei.extension_2009_weeks" = 1\n[overrides.ei]\nextension_2009_weeks = 2\n',
        args=["sweep", "{sweep}"],
    ),
    Case(
        "10-twice-in-sweep-parameters",
        ("s.toml", "labour.separation_rate is given twice"),
        sweep='[sweep]\ndesign = "factorial"\n[parameters]\n"labour.separation_rate" = [0.003]\n'
        "[parameters.labour]\nseparation_rate = [0.005]\n",
        args=["sweep", "{sweep}"],
    ),
    Case("10-empty-scenario-file", ("baseline.toml", "scenario: missing"), S, None, ""),
    Case(
        "10-blank-scenario-description",
        ("baseline.toml", "scenario.description"),
        S,
        None,
        '[scenario]\ndescription = " "\n[overrides]\n',
    ),
    Case("10-empty-sweep-file", ("s.toml", "empty"), sweep="", args=["sweep", "{sweep}"]),
    Case(
        "10-duplicate-organization", ("organizations.csv", "repeats line"), O, CSSS, CSSS + "psychosocial,,x\n" + CSSS
    ),
    Case(
        "10-second-order-yes",
        ("s.toml", "sweep.second_order"),
        sweep=SWEEP.replace("[sweep]\n", '[sweep]\nsecond_order = "yes"\n'),
        args=["sweep", "{sweep}"],
    ),
    Case(
        "10-description-42",
        ("s.toml", "sweep.description"),
        sweep=SWEEP.replace("[sweep]\n", "[sweep]\ndescription = 42\n"),
        args=["sweep", "{sweep}"],
    ),
    Case(
        "10-threshold-nan",
        ("--threshold", "nan"),
        args=["sensitivity", str(CONFIGS / "sweeps" / "sensitivity.toml"), "--threshold", "nan"],
    ),
    Case(
        "10-map-years-out-of-the-run",
        ("--map-years", "1800"),
        args=[
            "compare",
            "--scenarios",
            "baseline,helper_training",
            "--scale",
            "0.02",
            "--replicates",
            "3",
            "--map-years",
            "1800,99999",
        ],
    ),
    # 13. smaller problems
    Case(
        "13-bad-config-of-a-sweep-named-as-such",
        ("bad.toml", "labour.separation_rate"),
        config="[labour]\nseparation_rate = 7\n",
        sweep=SWEEP,
        args=["sweep", "{sweep}", "--config", "{config}"],
    ),
]


def edit(configs: Path, case: Case) -> None:
    path = configs / case.file
    text = path.read_text(encoding="utf-8")
    if case.old is None:
        text = case.new
    else:
        assert case.old in text, f"{case.id}: {case.old!r} is no longer in {case.file}"
        text = text.replace(case.old, case.new, 1)
    path.write_text(text, encoding="utf-8")


def refused(args: list[str], capsys, *, workdir: Path, code: int = 2) -> str:
    """Run the command line; it must exit with ``code`` and one line, and write nothing."""
    before = sorted(p.name for p in workdir.iterdir())
    rc = main(args)
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert rc == code, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert sorted(p.name for p in workdir.iterdir()) == before, "something was written"
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_in_one_line(case, configs, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    if case.file:
        edit(configs, case)
    if case.config is not None:
        (work / "bad.toml").write_text(case.config, encoding="utf-8")
    if case.sweep is not None:
        (work / "s.toml").write_text(case.sweep, encoding="utf-8")
    args = [a.replace("{sweep}", str(work / "s.toml")).replace("{config}", str(work / "bad.toml")) for a in case.args]
    if case.config is not None and "{config}" not in " ".join(case.args):
        args += ["--config", str(work / "bad.toml")]
    monkeypatch.chdir(work)
    line = refused([*args, "--out", str(work / "out")], capsys, workdir=work)
    for text in case.expect:
        assert text in line, f"{text!r} not in {line!r}"


def test_every_numbered_bad_input_class_is_covered():
    assert {c.id.split("-")[0] for c in CASES} >= {"3", "4", "5", "6", "7", "10", "13"}


# -- 13. smaller problems ----------------------------------------------------------------------
def test_a_dangling_symlink_as_out_is_refused_before_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to(tmp_path / "nowhere" / "x")
    t0 = time.perf_counter()
    line = refused(["run", *SMALL, "--out", str(tmp_path / "link")], capsys, workdir=tmp_path)
    assert "symbolic link" in line and time.perf_counter() - t0 < 20
    line = refused(
        ["sweep", str(CONFIGS / "sweeps" / "example.toml"), "--out", str(tmp_path / "link")], capsys, workdir=tmp_path
    )
    assert "symbolic link" in line


def test_out_under_proc_is_a_clean_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = refused(["run", *SMALL, "--out", "/proc/self/cohesion-out"], capsys, workdir=tmp_path)
    assert "--out /proc/self/cohesion-out" in line and "Errno" not in line


def test_a_byte_order_mark_is_accepted_in_csv_and_toml(configs):
    from model.config import resolve
    from model.inputs import check_run_inputs

    for name in (M, O, T, S, B):
        path = configs / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    check_run_inputs(resolve(overrides={"run.scale": 0.02}))


def test_a_full_disk_leaves_no_temporary_manifest(tmp_path, monkeypatch):
    from experiments import storage

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError):
        storage.write_json(tmp_path / "manifest.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_error_is_one_line_with_status_1_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    import model.config

    def broken(*a, **k):
        raise RuntimeError("something\nwent wrong")

    monkeypatch.setattr(model.config, "load_base", broken)
    monkeypatch.setattr("experiments.commands.scenarios.resolve", broken)
    monkeypatch.chdir(tmp_path)
    line = refused(["run", *SMALL, "--out", str(tmp_path / "out")], capsys, workdir=tmp_path, code=1)
    assert line.startswith("error: unexpected RuntimeError: something went wrong") and "--debug" in line
    assert main(["run", *SMALL, "--out", str(tmp_path / "out"), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


# -- 1 and 9. one writer per sweep; a sweep killed as it starts resumes ---------------------------
def quick_runner(spec):
    """A run's record and weekly table without the model."""
    ts = pd.DataFrame(
        {"run_id": spec.run_id, "week": np.arange(3, dtype=np.int32), "x": np.full(3, spec.seed % 97, dtype=np.float32)}
    )
    record = {
        "run_id": spec.run_id,
        "point": spec.point,
        "scenario": spec.scenario,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **dict(spec.params),
        "status": "done",
        "error": None,
        "version": spec.version,
        "wall_seconds": 0.0,
        "host": "test",
        "finished_utc": "2026-01-01T00:00:00",
    }
    return {"record": record, "timeseries": ts, "municipal": None}


def test_a_second_writer_on_the_same_sweep_is_refused(tmp_path, monkeypatch, capsys):
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text(SWEEP)
    out = tmp_path / "out"
    out.mkdir()
    holder = SweepLock(out)  # another process's lock, as far as flock is concerned
    try:
        monkeypatch.chdir(tmp_path)
        rc = main(["sweep", str(sweep_file), "--out", str(out), "--workers", "1", "--quiet"])
        err = capsys.readouterr().err
        assert rc == 2 and "another cohesion command" in err and len(err.strip().splitlines()) == 1, err
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    finally:
        holder.release()
    with pytest.raises(ConfigError, match="another cohesion command"):
        with_lock = SweepLock(out)
        try:
            SweepLock(out)
        finally:
            with_lock.release()


@pytest.mark.slow  # two sweep processes
def test_two_concurrent_sweeps_store_every_run_once(tmp_path):
    """Two processes on the same --out at once: one runs, the other is refused."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from experiments.sweep import run_sweep
        from model.config import ConfigError
        from sweep_plans import small_plan
        from test_reliability import quick_runner

        def slow(spec):
            time.sleep(1.0)
            return quick_runner(spec)

        try:
            res = run_sweep(small_plan(replicates=4), sys.argv[1], workers=1, progress=False, runner=slow)
            print("ran", res.executed)
        except ConfigError as exc:
            print("refused", exc)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / "out")],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    outs = sorted(p.communicate(timeout=240)[0].strip() for p in procs)
    assert [o.split()[0] for o in outs] == ["ran", "refused"], outs
    assert outs[0] == "ran 8" and "another cohesion command" in outs[1]
    ts = pd.read_parquet(tmp_path / "out" / "timeseries")
    assert ts["run_id"].nunique() == 8 and not ts.duplicated(["run_id", "week"]).any()


def test_a_run_written_twice_is_stored_once(tmp_path):
    spec = small_plan().specs()[0]
    SweepStore(tmp_path).write_run(quick_runner(spec))
    store = SweepStore(tmp_path)
    store.status.clear()  # as if a stale view, or a second writer: the run is written again
    store.write_run(quick_runner(spec))
    store = SweepStore(tmp_path)
    assert len(store.records()) == 1 and store.done_ids() == {spec.run_id}
    assert len(pd.read_parquet(tmp_path / "timeseries")) == 3


def test_the_tables_of_a_run_without_its_record_are_deleted_on_the_next_start(tmp_path):
    """A crash between a run's tables and its record: the run is not stored, and is run again."""
    done, torn = small_plan().specs()[:2]
    store = SweepStore(tmp_path)
    store.write_run(quick_runner(done))
    quick_runner(torn)["timeseries"].to_parquet(tmp_path / "timeseries" / f"{torn.run_id}.parquet")
    store = SweepStore(tmp_path)
    assert store.done_ids() == {done.run_id}
    assert [p.stem for p in (tmp_path / "timeseries").iterdir()] == [done.run_id]


@pytest.mark.parametrize("leftovers", [[], [".lock"], [".lock", ".manifest.json.1234.tmp"]])
def test_a_sweep_killed_as_its_directory_was_created_resumes(tmp_path, leftovers):
    out = tmp_path / "out"
    out.mkdir()
    for name in leftovers:
        (out / name).write_text("")
    plan = small_plan()
    prepare_directory(out, plan, "sweep")  # not refused
    res = run_sweep(plan, out, workers=1, progress=False, runner=quick_runner)
    assert (res.done, res.failed) == (4, 0)
    assert not (out / ".manifest.json.1234.tmp").exists()


def test_the_manifest_is_the_first_file_written(tmp_path, monkeypatch):
    out = tmp_path / "out"
    seen = []
    real = sweep_module.SweepStore

    def store(root, *a, **k):
        seen.append(sorted(p.name for p in Path(root).iterdir()))
        return real(root, *a, **k)

    monkeypatch.setattr(sweep_module, "SweepStore", store)
    run_sweep(small_plan(), out, workers=1, progress=False, runner=quick_runner)
    assert seen == [[".lock", "manifest.json"]]


# -- 2. a changed model is never mixed with earlier runs -----------------------------------------
def test_a_changed_model_or_configuration_is_kept_apart_or_refused(tmp_path, configs, monkeypatch):
    out = tmp_path / "out"
    plan = small_plan()
    run_sweep(plan, out, workers=1, progress=False, runner=quick_runner)
    old_hash, old_ids = plan.hash(), {s.run_id for s in plan.specs()}
    base = configs / "base.toml"
    base.write_text(
        base.read_text().replace("separation_rate = { value = 0.0040", "separation_rate = { value = 0.0041")
    )
    changed = small_plan()
    assert changed.hash() != old_hash  # so the default --out differs
    assert not old_ids & {s.run_id for s in changed.specs()}
    with pytest.raises(ConfigError, match="another version of the model or its configuration"):
        run_sweep(changed, out, workers=1, progress=False, runner=quick_runner)
    assert pd.read_parquet(out / "timeseries")["run_id"].nunique() == 4


# -- 8. pool workers die with their parent --------------------------------------------------------
def test_pool_workers_die_when_their_parent_is_killed(tmp_path):
    script = textwrap.dedent("""
        import multiprocessing, sys, time
        from experiments.sweep import process_pool
        pool = process_pool(2)
        futures = [pool.submit(time.sleep, 120) for _ in range(2)]
        while len(multiprocessing.active_children()) < 2:
            time.sleep(0.1)
        time.sleep(1.0)  # the initializers have run
        print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
        time.sleep(300)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and _alive(p) for p in pids):
            time.sleep(0.2)
        assert not [p for p in pids if _alive(p)], "pool workers outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


# -- 11. the memory guard cannot be raised, and the page has it too ----------------------------------
def test_the_memory_limit_can_only_lower_what_the_machine_has(monkeypatch):
    from model.memory import _mem_available, available_memory

    free = _mem_available()
    monkeypatch.setenv("COHESION_MEMORY_LIMIT", "1e30")
    assert available_memory() == (free, "MemAvailable in /proc/meminfo")
    monkeypatch.setenv("COHESION_MEMORY_LIMIT", "100M")
    assert available_memory() == (100 * 2**20, "COHESION_MEMORY_LIMIT")


def test_the_page_refuses_a_model_too_large_for_the_memory(monkeypatch):
    from viz.app import PageModel

    monkeypatch.setenv("COHESION_MEMORY_LIMIT", "450M")
    page = PageModel(scale="4")
    assert page.problem and "of memory" in page.problem and "COHESION_MEMORY_LIMIT" in page.problem
    assert not page.running


def test_the_memory_estimate_counts_the_grid_and_the_organizations(configs):
    from model.config import resolve
    from model.inputs import GRID_CELL_BYTES, check_municipalities, estimate_memory, grid_cells, read_organizations

    cfg = resolve(overrides={"run.scale": 0.02})
    munis = check_municipalities(configs / M)
    orgs = read_organizations(configs / O)
    small = estimate_memory(cfg, municipalities=munis, organizations=orgs)
    path = configs / M
    path.write_text(path.read_text().replace(MAGOG, MAGOG.replace("144.19", "5000")))
    big_munis = check_municipalities(path)
    big = estimate_memory(cfg, municipalities=big_munis, organizations=orgs)
    cells = grid_cells(cfg, big_munis) - grid_cells(cfg, munis)
    assert cells > 10_000 and big - small >= cells * GRID_CELL_BYTES
    many = [dict(o, count="1000") if o["count"] else o for o in orgs]
    assert estimate_memory(cfg, municipalities=munis, organizations=many) > small + 1000 * 2000


# -- 12. the page's WebSocket is for the page's own origin -------------------------------------------
def _handshake(guard, origin: str | None, host: str = "127.0.0.1:8765") -> str:
    import asyncio

    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
    sent = []

    async def app(scope, receive, send):
        sent.append("reached the page")

    async def send(message):
        sent.append(message["type"])

    async def receive():
        return {"type": "websocket.connect"}

    asyncio.run(guard(app)({"type": "websocket", "headers": headers}, receive, send))
    return sent[0]


@pytest.mark.parametrize(
    "origin, host, allowed, loopback, outcome",
    [
        ("http://evil.example", "127.0.0.1:8765", (), True, "websocket.close"),
        ("http://127.0.0.1:8765", "127.0.0.1:8765", (), True, "reached the page"),
        ("http://localhost:8765", "localhost:8765", (), True, "reached the page"),
        ("http://127.0.0.1:9999", "127.0.0.1:8765", (), True, "websocket.close"),  # another local port
        ("http://evil.example:8765", "evil.example:8765", (), True, "websocket.close"),  # DNS rebinding
        ("null", "127.0.0.1:8765", (), True, "websocket.close"),
        ("http://lab.example:8765", "lab.example:8765", (), False, "reached the page"),  # served on 0.0.0.0
        ("https://proxy.example", "127.0.0.1:8765", ("https://proxy.example",), True, "reached the page"),
        (None, "127.0.0.1:8765", (), True, "reached the page"),  # not a browser
    ],
)
def test_the_websocket_accepts_only_the_page_s_own_origin(origin, host, allowed, loopback, outcome):
    from experiments.viz import OriginGuard

    assert _handshake(lambda app: OriginGuard(app, allowed, loopback), origin, host) == outcome


def test_allow_origin_must_be_an_origin(capsys):
    from experiments.viz import main as viz_main

    assert viz_main(["--allow-origin", "not an origin", "--port", "1"]) == 2
    assert main(["viz", "--allow-origin", "ftp://x", "--port", "8765"]) == 2


@pytest.mark.slow
def test_the_served_page_refuses_a_socket_from_another_site(served_page):
    """Through the real server: another site's Origin gets HTTP 403, the page's own gets 101."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    port = served_page["port"]
    url = f"ws://127.0.0.1:{port}/jupyter/api/kernels/x/channels?session_id=y"
    with pytest.raises(InvalidStatus) as err:
        connect(url, origin="http://evil.example", open_timeout=10).close()
    assert err.value.response.status_code == 403
    with connect(url, origin=f"http://127.0.0.1:{port}", open_timeout=10) as ws:
        assert ws.protocol.state.name == "OPEN"
