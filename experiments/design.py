"""Sweep designs: which runs a sweep makes.

A sweep file (TOML, examples in ``configs/sweeps/``) names a design over parameters of
``configs/base.toml`` by dotted name, the scenarios, the number of replicates and a root
seed::

    [sweep]
    design = "factorial"        # factorial | lhs | morris | sobol | none
    scenarios = ["baseline"]    # or "all" (every file in configs/scenarios/)
    replicates = 3
    seed = 20260101
    scale = 0.1
    start = "2003-01"
    end = "2018-12"
    samples = 16                # lhs: points; morris: trajectories; sobol: base sample N
    levels = 4                  # morris grid levels
    second_order = false        # sobol: also second-order indices

    [parameters]                # factorial: a list of values; other designs: a range
    "labour.separation_rate" = [0.003, 0.004, 0.005]
    "labour.matching_efficiency" = { min = 0.15, max = 0.27 }
    "services.capacity" = { min = [60.0, 125.0, 75.0], max = [240.0, 500.0, 300.0] }

    [overrides]                 # fixed for every run, as in a --config file
    "ei.replacement_rate" = 0.5

A parameter whose value is a list (``services.capacity``) is sampled between two lists:
a point lies on the segment from ``min`` to ``max`` (one coordinate from 0 to 1, the same
for every element), so shares that add up to 1 at both ends add up to 1 everywhere.

A sweep has at most :data:`MAX_RUNS` runs (points x scenarios x replicates), counted
before any point is drawn. Its ``name`` (default: the file name) names its default output
directory under ``results/sweeps/`` and must be a plain name, not a path.

Every design point is run for every scenario and replicate. Replicate ``i`` has the same
seed in every scenario and at every point (common random numbers): the ``i``-th child of
``numpy.random.SeedSequence(seed)``. A run's id is a hash of everything that determines
its results: scenario, parameters, seed, scale, period and the model version (a hash of
the code in ``model/`` and the files of the configuration directory in force, sweep files
apart). A plan's hash (which names its default output directory and is checked when a
sweep directory is reused) also covers the model version and the resolved configuration
of each scenario, so that runs of a changed model are never mixed with earlier ones.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from model.config import (
    ConfigError,
    Strict,
    config_root,
    flatten,
    load_base,
    read_toml,
    resolve,
    scenario_names,
    schema_error,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ("factorial", "lhs", "morris", "sobol", "none")
MAX_RUNS = 100_000
"""Most runs one sweep may plan (points x scenarios x replicates): about a day on a
10-core machine at scale 0.1. Split a larger design into several sweeps."""
RUN_SETTINGS = ("run.scale", "run.start", "run.end")
"""Parameters a sweep sets in ``[sweep]`` (scale, start, end), never in ``[parameters]``."""
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class SweepSection(Strict):
    """``[sweep]`` of a sweep file: every key optional, each of one type."""

    name: StrictStr | None = None
    description: StrictStr | None = None
    design: StrictStr | None = None
    scenarios: StrictStr | list[StrictStr] | None = None
    replicates: StrictInt | None = None
    seed: StrictInt | None = None
    scale: StrictInt | StrictFloat | None = None
    start: StrictStr | None = None
    end: StrictStr | None = None
    samples: StrictInt | None = None
    levels: StrictInt | None = None
    second_order: StrictBool | None = None


class SweepFile(Strict):
    """A sweep file: ``[sweep]``, ``[parameters]``, ``[overrides]``."""

    sweep: SweepSection = SweepSection()
    parameters: dict[str, Any] = {}
    overrides: dict[str, Any] = {}


SWEEP_KEYS = set(SweepSection.model_fields)


def model_version() -> str:
    """Package version and a hash of the model's code and of the configuration directory
    in force (``COHESION_CONFIG_DIR`` or ``configs/``; sweep designs apart, which do not
    change what a run does). Recomputed when a file changes."""
    files = []
    for root, label in ((PROJECT_ROOT / "model", "model"), (Path(config_root()).resolve(), "configs")):
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if (
                p.suffix in {".py", ".toml", ".csv", ".json"}
                and "__pycache__" not in p.parts
                and rel.parts[0] != "sweeps"
                and p.is_file()
            ):
                st = p.stat()
                files.append((str(p), f"{label}/{rel}", st.st_mtime_ns, st.st_size))
    return _model_version(tuple(files))


@lru_cache(maxsize=8)
def _model_version(files: tuple[tuple[str, str, int, int], ...]) -> str:
    from importlib import metadata

    h = hashlib.sha256()
    for path, name, _, _ in files:
        h.update(name.encode())
        h.update(Path(path).read_bytes())
    try:
        version = metadata.version("magog-cohesion")
    except metadata.PackageNotFoundError:  # pragma: no cover
        version = "0"
    return f"{version}+{h.hexdigest()[:12]}"


def replicate_seed(root: int, replicate: int) -> int:
    """Seed of replicate ``replicate``: the ``replicate``-th child of ``SeedSequence(root)``
    (the same as ``SeedSequence(root).spawn(n)[replicate]`` for any ``n > replicate``)."""
    child = np.random.SeedSequence(root, spawn_key=(replicate,))
    return int(child.generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: everything that determines its results."""

    scenario: str
    params: tuple[tuple[str, Any], ...]
    seed: int
    replicate: int
    point: int
    scale: float
    start: str
    end: str
    fixed: tuple[tuple[str, Any], ...] = ()
    version: str = ""

    @property
    def overrides(self) -> dict[str, Any]:
        ov = dict(self.fixed)
        ov.update(self.params)
        ov.update({"run.scale": self.scale, "run.start": self.start, "run.end": self.end})
        return ov

    @property
    def run_id(self) -> str:
        blob = json.dumps(
            {
                "scenario": self.scenario,
                "overrides": sorted(self.overrides.items()),
                "seed": self.seed,
                "version": self.version,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass
class SweepPlan:
    """A parsed sweep file, with command-line overrides applied."""

    name: str = "sweep"
    design: str = "none"
    scenarios: list[str] = field(default_factory=lambda: ["baseline"])
    replicates: int = 1
    seed: int = 0
    scale: float = 0.1
    start: str | None = None
    end: str | None = None
    samples: int = 8
    levels: int = 4
    second_order: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = "command line"

    def to_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "name",
                "design",
                "scenarios",
                "replicates",
                "seed",
                "scale",
                "start",
                "end",
                "samples",
                "levels",
                "second_order",
                "parameters",
                "fixed",
                "description",
                "source",
            )
        }

    def hash(self) -> str:
        """The plan's identity: its design, and the model version and resolved
        configuration of each scenario it runs (more replicates extend the same sweep)."""
        d = self.to_dict()
        for key in ("source", "replicates"):
            d.pop(key)
        d["model_version"] = model_version()
        d["configs"] = self.config_hashes()
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def run_overrides(self) -> dict[str, Any]:
        """The overrides every run shares: ``[overrides]`` and the run's scale and period."""
        overrides = dict(self.fixed)
        for k, v in (("run.scale", self.scale), ("run.start", self.start), ("run.end", self.end)):
            if v is not None:
                overrides[k] = v
        return overrides

    def config_hashes(self) -> dict[str, str]:
        """The hash of the resolved configuration of each scenario (design point apart)."""
        return {s: resolve(s, None, self.run_overrides(), origin=self.source).hash() for s in self.scenarios}

    def points_count(self) -> int:
        """Design points, counted without drawing them."""
        k = len(self.parameters)
        if self.design == "factorial":
            return math.prod(len(v) if isinstance(v, list) else 1 for v in self.parameters.values())
        if self.design == "lhs":
            return self.samples
        if self.design == "morris":
            return self.samples * (k + 1)
        if self.design == "sobol":
            return self.samples * (2 * k + 2 if self.second_order else k + 2)
        return 1

    def check_size(self, replicates: int | None = None) -> int:
        """The number of runs, or a ConfigError when it exceeds :data:`MAX_RUNS`."""
        reps = replicates or self.replicates
        n = self.points_count() * len(self.scenarios) * reps
        if n > MAX_RUNS:
            raise ConfigError(
                f"{self.source}: the {self.design} design makes {self.points_count():,} points x "
                f"{len(self.scenarios)} scenario(s) x {reps:,} replicates = {n:,} runs, more than the "
                f"{MAX_RUNS:,} a sweep may have; use fewer values, samples or replicates, or split it"
            )
        return n

    # -- checks ------------------------------------------------------------------------
    def validate(self) -> None:
        where = self.source
        if not isinstance(self.name, str) or not NAME_PATTERN.fullmatch(self.name):
            raise ConfigError(
                f"{where}: name must be a plain name of letters, digits, '.', '_' and '-' (it names "
                f"the output directory under results/sweeps/; --out chooses another place), "
                f"got {self.name!r}"
            )
        if not isinstance(self.description, str):
            raise ConfigError(f"{where}: description must be text, got {self.description!r}")
        if self.design not in DESIGNS:
            raise ConfigError(f"{where}: design must be one of {', '.join(DESIGNS)}; got {self.design!r}")
        if not self.scenarios:
            raise ConfigError(f"{where}: no scenarios")
        known = scenario_names()
        for s in self.scenarios:
            if s not in known:
                raise ConfigError(f"{where}: unknown scenario {s!r}; available: {', '.join(known)}")
        if len(set(self.scenarios)) != len(self.scenarios):
            raise ConfigError(f"{where}: a scenario is listed twice")
        for name, value, low in (
            ("replicates", self.replicates, 1),
            ("samples", self.samples, 1),
            ("levels", self.levels, 2),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{where}: {name} must be a whole number >= {low}, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"{where}: seed must be a whole number >= 0, got {self.seed!r}")
        base = load_base()
        for name, spec in self.parameters.items():
            if name not in base.defs:
                import difflib

                close = difflib.get_close_matches(name, list(base.defs), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{where}: unknown parameter {name!r}{hint}")
            d = base.defs[name]
            if name in RUN_SETTINGS:
                raise ConfigError(f"{where}: {name} is set in [sweep] (scale, start, end), not swept")
            if self.design == "factorial":
                if not isinstance(spec, list) or not spec:
                    raise ConfigError(f"{where}: {name}: a factorial design needs a list of values")
                for v in spec:
                    d.check(v, f"{where}: [parameters]")
                if len({json.dumps(v) for v in spec}) != len(spec):
                    raise ConfigError(f"{where}: {name}: a value is listed twice")
            elif self.design in ("lhs", "morris", "sobol"):
                if not isinstance(spec, dict) or set(spec) != {"min", "max"}:
                    raise ConfigError(
                        f"{where}: {name}: a {self.design} design needs a range {{ min = ..., max = ... }}"
                    )
                if isinstance(d.value, (bool, str)):
                    raise ConfigError(f"{where}: {name} is not a number and cannot be sampled")
                lo, hi = spec["min"], spec["max"]
                if isinstance(d.value, list) != isinstance(lo, list) or isinstance(lo, list) != isinstance(hi, list):
                    raise ConfigError(
                        f"{where}: {name}: a list parameter is sampled between two lists "
                        f"{{ min = [...], max = [...] }}, a number between two numbers"
                    )
                d.check(lo, f"{where}: [parameters] min of")
                d.check(hi, f"{where}: [parameters] max of")
                if isinstance(lo, list):
                    if lo == hi:
                        raise ConfigError(f"{where}: {name}: min and max are the same list")
                    for end in (lo, hi):
                        resolve(overrides={name: end}, origin=f"{where}: [parameters] range of")
                elif not lo < hi:
                    raise ConfigError(f"{where}: {name}: min ({lo}) must be below max ({hi})")
            else:
                raise ConfigError(f"{where}: design 'none' takes no [parameters]")
        if self.design in ("lhs", "morris", "sobol") and not self.parameters:
            raise ConfigError(f"{where}: a {self.design} design needs at least one parameter in [parameters]")
        if self.design == "morris" and len(self.parameters) < 2 or self.design == "sobol" and len(self.parameters) < 2:
            raise ConfigError(f"{where}: a {self.design} design needs at least two parameters")
        if not isinstance(self.second_order, bool):
            raise ConfigError(f"{where}: second_order must be true or false, got {self.second_order!r}")
        self.check_size()
        overrides = self.run_overrides()
        for s in self.scenarios:
            resolve(s, None, overrides, origin=where)

    # -- the design --------------------------------------------------------------------
    def problem(self) -> dict:
        """The SALib problem of a sampling design."""
        names = list(self.parameters)
        return {
            "num_vars": len(names),
            "names": names,
            "bounds": [
                [0.0, 1.0]
                if self.is_segment(n)
                else [float(self.parameters[n]["min"]), float(self.parameters[n]["max"])]
                for n in names
            ],
        }

    def is_segment(self, name: str) -> bool:
        """Whether ``name`` is a list parameter sampled between two lists (its design
        coordinate is the position from ``min``, 0, to ``max``, 1)."""
        spec = self.parameters[name]
        return self.design != "factorial" and isinstance(spec, dict) and isinstance(spec.get("min"), list)

    def sample(self) -> np.ndarray:
        """Design matrix: one row per point, one column per parameter (in file order)."""
        names = list(self.parameters)
        if self.design == "none":
            return np.zeros((1, 0))
        if self.design == "factorial":
            return np.array(list(itertools.product(*(self.parameters[n] for n in names))), dtype=object)
        problem = self.problem()
        if self.design == "lhs":
            from scipy.stats import qmc

            u = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(self.seed)).random(self.samples)
            lo = np.array([b[0] for b in problem["bounds"]])
            hi = np.array([b[1] for b in problem["bounds"]])
            x = lo + u * (hi - lo)
        elif self.design == "morris":
            from SALib.sample import morris

            x = morris.sample(problem, self.samples, num_levels=self.levels, seed=self.seed)
        else:
            from SALib.sample import sobol

            x = sobol.sample(problem, self.samples, calc_second_order=self.second_order, seed=self.seed)
        return x

    def points(self) -> list[dict[str, Any]]:
        """Parameter values of each design point, typed as ``base.toml`` types them."""
        base = load_base()
        names = list(self.parameters)
        out = []
        for row in self.sample():
            point = {}
            for n, v in zip(names, row):
                default = base.defs[n].value
                if self.is_segment(n):
                    t = float(v)
                    v = [a + t * (b - a) for a, b in zip(self.parameters[n]["min"], self.parameters[n]["max"])]
                elif isinstance(default, int) and not isinstance(default, bool) and self.design != "factorial":
                    v = int(round(float(v)))
                elif isinstance(v, (np.floating, np.integer)):
                    v = v.item()
                point[n] = v
            out.append(point)
        return out

    def seeds(self, replicates: int | None = None) -> list[int]:
        return [replicate_seed(self.seed, i) for i in range(replicates or self.replicates)]

    def specs(self, replicates: int | None = None) -> list[RunSpec]:
        """Every run, in design order: point, then scenario, then replicate."""
        self.check_size(replicates)
        base = load_base()
        scale = float(self.scale if self.scale is not None else base["run.scale"])
        start = self.start or base["run.start"]
        end = self.end or base["run.end"]
        fixed = tuple(sorted(self.fixed.items()))
        version = model_version()
        seeds = self.seeds(replicates)
        out = []
        for p, point in enumerate(self.points()):
            params = tuple(sorted(point.items()))
            for scenario in self.scenarios:
                for r, seed in enumerate(seeds):
                    out.append(RunSpec(scenario, params, seed, r, p, scale, start, end, fixed, version))
        return out


def _is_range(item: dict) -> bool:
    """A sweep range ``{ min, max }``: a value of [parameters], not a table of names."""
    return bool(item) and set(item) <= {"min", "max"}


def load_plan(path: Path | str | None, **cli: Any) -> SweepPlan:
    """A sweep file (or an empty plan) with the command line's non-None values on top."""
    plan = SweepPlan()
    if path is not None:
        path = Path(path)
        tree = read_toml(path)
        plan.source = str(path)
        plan.name = path.stem
        unknown = set(tree) - {"sweep", "parameters", "overrides"}
        if unknown:
            raise ConfigError(
                f"{path}: unknown sections {sorted(unknown)}; expected [sweep], [parameters], [overrides]"
            )
        if not tree:
            raise ConfigError(
                f"{path}: the file is empty; a sweep file has [sweep], [parameters] and/or "
                f"[overrides] (example: configs/sweeps/example.toml)"
            )
        sweep = tree.get("sweep", {})
        bad = set(sweep) - SWEEP_KEYS if isinstance(sweep, dict) else set()
        if bad:
            raise ConfigError(f"{path}: unknown keys in [sweep]: {sorted(bad)}; allowed: {', '.join(SWEEP_KEYS)}")
        try:
            SweepFile.model_validate(tree)
        except ValidationError as exc:
            raise schema_error(exc, str(path), SweepFile, {"sweep": SweepSection}) from None
        for key, value in sweep.items():
            setattr(plan, key, value)
        plan.parameters = flatten(tree.get("parameters", {}), str(path), leaf=_is_range)
        plan.fixed = flatten(tree.get("overrides", {}), str(path))
        if "design" not in sweep:
            plan.design = "factorial" if plan.parameters else "none"
    for key, value in cli.items():
        if value is not None:
            setattr(plan, key, value)
    if plan.scenarios == "all" or plan.scenarios == ["all"]:
        plan.scenarios = scenario_names()
    if isinstance(plan.scenarios, str):
        plan.scenarios = [s.strip() for s in plan.scenarios.split(",") if s.strip()]
    if isinstance(plan.scale, int) and not isinstance(plan.scale, bool):
        plan.scale = float(plan.scale)
    plan.validate()
    return plan
