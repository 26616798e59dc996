"""The command line as a user meets it: help, bad input, and the run directory it writes."""

import json
import re

import pyarrow.parquet as pq
import pytest

from helpers import ROOT, cohesion, invoke

SMALL = ["--scale", "0.03", "--start", "2005-01", "--end", "2006-12"]


def test_the_installed_module_runs_in_a_bare_environment():
    res = cohesion("run", "--help", bare=True)
    assert res.returncode == 0, res.stderr
    assert "Usage: cohesion run" in res.stdout and not res.stderr


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], []])
def test_help_explains(args):
    res = invoke(*args)
    assert res.returncode == 0
    assert "Usage: cohesion" in res.stdout
    if args[:1] == ["run"]:
        for option in ("--config", "--scenario", "--scale", "--seed", "--start", "--end", "--out"):
            assert option in res.stdout


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "overrides.toml").write_text("[labour]\nseparation_rate = 0.005\n")
    (tmp_path / "unknown.toml").write_text("[labour]\nmystery_rate = 0.005\n")
    (tmp_path / "broken.toml").write_text("[labour\n")
    (tmp_path / "typed.toml").write_text('[labour]\nseparation_rate = "high"\n')
    return tmp_path


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--bogus"], "No such option"),
        (["run", "--scale", "-1"], "run.scale = -1.0 is below its minimum"),
        (["run", "--scale", "0"], "run.scale = 0.0 is below its minimum"),
        (["run", "--scale", "many"], "'many' is not a valid float"),
        (["run", "--start", "2010-01", "--end", "2005-01"], "run.end (2005-01) must come after run.start (2010-01)"),
        (["run", "--start", "2010-1x"], "not a date of the form YYYY-MM"),
        (["run", "--seed", "-4"], "Invalid value for '--seed': -4 is not in the range x>=0"),
        (["run", "--scenario", "utopia"], "unknown scenario 'utopia'"),
        (["run", "--config", "unknown.toml"], "unknown.toml: unknown parameter 'labour.mystery_rate'"),
        (["run", "--config", "broken.toml"], "broken.toml: malformed TOML"),
        (["run", "--config", "typed.toml"], "labour.separation_rate must be a number"),
        (["run", "--config", "absent.toml"], "File 'absent.toml' does not exist"),
        (["walk"], "No such command 'walk'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(workdir, args, message):
    before = sorted(p.name for p in workdir.iterdir())
    out = ["--out", str(workdir / "out")] if args[0] == "run" else []
    res = invoke(*args, *out, cwd=workdir)
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in workdir.iterdir()) == before


def test_existing_output_directory_is_not_overwritten(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = invoke("run", *SMALL, "--out", str(out))
    assert res.returncode == 2 and "already exists" in res.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def documented_columns(section: str) -> list[str]:
    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    names = []
    for cell in re.findall(r"^\| ([^|]*`[^|]*) \|", body, flags=re.M):
        names += re.findall(r"`([a-z_0-9]+)`", cell)
    return names


def test_run_writes_the_data_contract(tmp_path):
    out = tmp_path / "run"
    res = invoke("run", *SMALL, "--seed", "11", "--out", str(out))
    assert res.returncode == 0, res.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "cohorts.parquet",
        "layoffs.parquet",
        "manifest.json",
        "marginalized.parquet",
        "persons.parquet",
        "timeseries.parquet",
        "unemployment_jobs_lost.png",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["seed"] == 11 and manifest["scenario"] == "baseline"
    assert manifest["config"]["run.scale"] == 0.03 and len(manifest["config_hash"]) == 16
    assert set(documented_columns("manifest.json")) == set(manifest)
    for name, section in (
        ("timeseries", "timeseries.parquet"),
        ("layoffs", "layoffs.parquet"),
        ("persons", "persons.parquet"),
        ("cohorts", "cohorts.parquet"),
        ("marginalized", "marginalized.parquet"),
    ):
        table = pq.read_table(out / f"{name}.parquet")
        assert table.schema.names == documented_columns(section), name
    ts = pq.read_table(out / "timeseries.parquet").to_pandas()
    assert len(ts) == manifest["weeks"] == 105
    assert str(ts["date"].iloc[0].date()) == "2005-01-01"
    social = [
        "mean_distress",
        "share_high_distress",
        "support_received_share",
        "formal_service_reach",
        "unmet_need_share",
        "cohesion_index",
        "belonging_mean",
        "participation_rate",
        "org_partnership_density",
    ]
    assert ts[social].notna().all().all()  # every contract column is filled
    assert ts[["support_received_share", "formal_service_reach", "unmet_need_share"]].stack().between(0, 1).all()
    assert (ts["labour_force"] == ts["employed"] + ts["unemployed"]).all()
    lay = pq.read_table(out / "layoffs.parquet").to_pandas()
    assert ts["jobs_lost_cumulative"].iloc[-1] == lay["workers"].sum() > 0
    persons = pq.read_table(out / "persons.parquet").to_pandas()
    assert sorted(persons["year"].unique()) == [2005, 2006]
    assert not persons.duplicated(["person_id", "year"]).any()
    adults = persons["age"] >= 15
    assert persons.loc[adults, "distress"].notna().all() and persons.loc[~adults, "distress"].isna().all()
    assert persons["belonging"].between(0, 1).all() and persons["support_ties"].ge(0).all()
    cohorts = pq.read_table(out / "cohorts.parquet").to_pandas()
    waves = cohorts[cohorts["employer"] != "all"]
    assert len(waves) == 9 * len(lay) and set(waves["group"]) == {"workers", "household", "confidants"}
    workers = waves[(waves["group"] == "workers") & (waves["horizon_months"] == 6)]
    assert list(workers["members"]) == list(lay["workers"])
    pooled = cohorts[(cohorts["employer"] == "all") & (cohorts["horizon_months"] == 12)]
    assert pooled["observed"].all() and pooled["unmet_need"].between(0, 1).all()
    assert manifest["schema_version"] == "1.1" and "cohorts.parquet" in manifest["files"]
    png = (out / "unemployment_jobs_lost.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_default_directory_is_under_results(tmp_path):
    res = invoke("run", *SMALL, "--no-figure", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    runs = list((tmp_path / "results").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"baseline-\d{8}-\d{6}", runs[0].name)
    assert not list(tmp_path.glob("results/.*partial"))
