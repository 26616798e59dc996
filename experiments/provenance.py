"""Provenance recorded in every output directory's manifest."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

SCHEMA_VERSION = "1.1"  # 1.1: cohorts.parquet and marginalized.parquet added
PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "magog-cohesion",
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "pydantic",
    "click",
    "tqdm",
    "SALib",
    "dask",
    "distributed",
)


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(root: Path = PROJECT_ROOT) -> dict[str, object]:
    """The commit of the code that ran and whether the work tree had changes."""

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def command_line() -> list[str]:
    return [Path(sys.argv[0]).name, *sys.argv[1:]]


def write_manifest(directory: Path, manifest: dict) -> Path:
    """Write ``directory/manifest.json`` atomically (a temporary file renamed into place)."""
    from .storage import write_json

    path = Path(directory) / "manifest.json"
    write_json(path, manifest)
    return path
