#!/usr/bin/env python3
"""Fill Solara's front-end cache of a virtual environment from the npm registry.

Solara's page loads its front-end (the Vue/Vuetify application bundle, RequireJS, Font
Awesome, the draggable grid layout, Vega for Altair charts) from a CDN at run time
through its own proxy, which keeps a copy of every file under
``<venv>/share/solara/cdn/<package>@<version>/``. On a machine without access to that CDN
the page stays blank. This script finds the package versions the installed Solara asks
for (by reading Solara's templates and widgets), fetches each package with ``npm pack``
(the npm registry only) and unpacks it into that cache, so that the page is served
entirely from the local machine.

    python .ci/solara_assets.py                 # the environment of this interpreter
    python .ci/solara_assets.py --venv .venv    # another environment
    python .ci/solara_assets.py --check         # only report missing files (exit 1 if any)

Run it with any Python; Solara is located inside the environment without importing it.
Packages already in the cache are left as they are (``--force`` replaces them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# Packages the page needs; versions come from the installed Solara. The application
# bundle is the Vue 2 one (solara-vuetify-app) with ipyvue < 3 and the Vue 3 one
# (solara-vuetify3-app) with ipyvue 3. Other packages that Solara can load (KaTeX and
# Mermaid for Markdown, CodeMirror, ECharts) are fetched only with --all, since the
# model's page does not use them.
APP_BUNDLE = {False: "@widgetti/solara-vuetify-app", True: "@widgetti/solara-vuetify3-app"}
PAGE_PACKAGES = (
    "@widgetti/vue-grid-layout",
    "requirejs",
    "font-awesome",
    "vega",
    "vega-lite",
    "vega-embed",
)

# A reference to the CDN in Solara's sources: "{{cdn}}/pkg@1.2.3/path", "getCdn()}/pkg@5/path"
# or the Font Awesome path setting "/font-awesome@4.5.0/css/...".
_REF = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|getCdn\(\)\}|fontawesome_path: str = \")"
    r"/(?P<spec>(?:@[\w.-]+/)?[\w.-]+@[0-9][\w.+-]*)(?P<path>/[^\"'`\s]*)"
)
_SCAN_SUFFIXES = {".py", ".vue", ".j2", ".html", ".js"}


class AssetError(RuntimeError):
    """A problem that stops the cache from being filled, described in one line."""


def find_solara(venv: Path) -> Path:
    """The directory of the ``solara`` package installed in ``venv``."""
    found = sorted(venv.glob("lib/python3*/site-packages/solara/__init__.py"))
    found += sorted(venv.glob("Lib/site-packages/solara/__init__.py"))
    if not found:
        raise AssetError(f"{venv}: no solara package installed in this environment")
    return found[-1].parent


def installed_major(venv: Path, dist: str) -> str | None:
    """Major version of the distribution ``dist`` installed in ``venv`` (None if absent)."""
    for meta in sorted(venv.glob(f"lib/python3*/site-packages/{dist}-*.dist-info/METADATA")):
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip().split(".")[0]
    return None


def cdn_references(solara_dir: Path) -> dict[str, set[str]]:
    """Every ``package@version`` Solara loads from the CDN, with the file paths it names."""
    refs: dict[str, set[str]] = {}
    for path in solara_dir.rglob("*"):
        if path.suffix not in _SCAN_SUFFIXES or not path.is_file():
            continue
        # Solara's own documentation website is not part of a served app.
        if "website" in path.relative_to(solara_dir).parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in _REF.finditer(text):
            refs.setdefault(m.group("spec"), set()).add(m.group("path"))
    return refs


def package_name(spec: str) -> str:
    """``@scope/name@1.2.3`` -> ``@scope/name``."""
    return spec[: spec.rindex("@")]


def select(refs: dict[str, set[str]], everything: bool, vue3: bool) -> dict[str, set[str]]:
    """The references to fetch: the page's packages, or with ``everything`` all of them."""
    if everything:
        return refs
    names = set(PAGE_PACKAGES) | {APP_BUNDLE[vue3]}
    chosen = {s: p for s, p in refs.items() if package_name(s) in names}
    missing = sorted(names - {package_name(s) for s in chosen})
    if missing:
        raise AssetError(
            "the installed solara no longer names a version of "
            + ", ".join(missing)
            + "; update PAGE_PACKAGES in .ci/solara_assets.py"
        )
    return chosen


def expected_files(spec: str, paths: set[str], major: str) -> list[str]:
    """Files of a package that the page requests (templated names filled in)."""
    out = []
    for p in sorted(paths):
        p = p.replace("{{ipywidget_major_version}}", major)
        if "{" in p or "$" in p:
            continue
        out.append(p.lstrip("/"))
    return out


def npm_pack(spec: str, workdir: Path) -> Path:
    """Download ``spec`` from the npm registry as a tarball in ``workdir``."""
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError("npm not found: install Node.js and npm (Debian: apt-get install npm)")
    try:
        proc = subprocess.run(
            [npm, "pack", spec, "--json", "--pack-destination", str(workdir)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=workdir,
        )
    except subprocess.TimeoutExpired:
        raise AssetError(f"npm pack {spec}: no answer from the registry within 300 s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise AssetError(f"npm pack {spec} failed: {last}")
    try:
        filename = json.loads(proc.stdout)[0]["filename"]
    except (ValueError, LookupError):
        tgz = sorted(workdir.glob("*.tgz"))
        if len(tgz) != 1:
            raise AssetError(f"npm pack {spec}: cannot tell which file it wrote") from None
        return tgz[0]
    # npm names scoped tarballs "scope-name-1.2.3.tgz"
    return workdir / filename.replace("@", "").replace("/", "-")


def unpack(tarball: Path, dest: Path) -> None:
    """Unpack an npm tarball's ``package/`` directory as ``dest``, replacing it atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            tar.extractall(staging, filter="data")
        roots = [p for p in staging.iterdir() if p.is_dir()]
        if len(roots) != 1:
            raise AssetError(f"{tarball.name}: expected one top directory, found {len(roots)}")
        old = None
        if dest.exists():
            old = dest.with_name(dest.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
        roots[0].rename(dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def add_minified_names(dest: Path, files: list[str], log) -> None:
    """Provide ``x.min.js`` as a copy of ``x.js`` where a package ships only the latter.

    The CDN Solara uses serves a minified ``.min.js`` for any ``.js`` of a package, and
    Solara asks for some (``requirejs@2.3.6/require.min.js``) that the npm package lacks;
    the unminified file behaves the same."""
    for f in files:
        target = dest / f
        if target.is_file() or not f.endswith(".min.js"):
            continue
        source = dest / (f[: -len(".min.js")] + ".js")
        if source.is_file():
            shutil.copyfile(source, target)
            log(f"{dest.name}/{f}: copied from {source.name}")


def fill(venv: Path, everything: bool = False, force: bool = False, check_only: bool = False, log=print) -> list[str]:
    """Fill (or with ``check_only`` inspect) the cache; return the files still missing."""
    venv = venv.resolve()
    solara_dir = find_solara(venv)
    cache = venv / "share" / "solara" / "cdn"
    major = installed_major(venv, "ipywidgets") or "8"
    vue3 = installed_major(venv, "ipyvue") == "3"
    wanted = select(cdn_references(solara_dir), everything, vue3)
    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="solara-assets-") as tmp:
        for spec, paths in sorted(wanted.items()):
            dest = cache / spec
            files = expected_files(spec, paths, major)
            present = dest.is_dir() and all((dest / f).is_file() for f in files)
            if not check_only and (force or not present):
                work = Path(tmp) / re.sub(r"[^\w.-]", "_", spec)
                work.mkdir()
                unpack(npm_pack(spec, work), dest)
                log(f"{spec}: unpacked into {dest}")
            if not check_only:
                add_minified_names(dest, files, log)
            elif present:
                log(f"{spec}: present")
            lacking = [f"{spec}/{f}" for f in files if not (dest / f).is_file()]
            if lacking:
                log(f"{spec}: missing {', '.join(lacking)}")
            missing += lacking
    return missing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--venv",
        type=Path,
        default=Path(sys.prefix),
        help="virtual environment to fill (default: this interpreter's, %(default)s)",
    )
    ap.add_argument(
        "--all",
        dest="everything",
        action="store_true",
        help="also fetch the packages the model's page does not use (KaTeX, Mermaid, ...)",
    )
    ap.add_argument("--force", action="store_true", help="fetch again packages already cached")
    ap.add_argument("--check", action="store_true", help="fetch nothing; exit 1 if a file is missing")
    ap.add_argument("--quiet", action="store_true", help="print only problems")
    args = ap.parse_args(argv)
    log = (lambda msg: None) if args.quiet else print
    try:
        missing = fill(args.venv, args.everything, args.force, args.check, log)
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if missing:
        print(f"error: {len(missing)} front-end file(s) missing from {args.venv / 'share/solara/cdn'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
