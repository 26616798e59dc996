"""Whether the model's compiled kernels (model/jit.py) are cached, and compiling them once.

Numba compiles a kernel the first time it is called and caches the machine code in the
``__pycache__`` beside its source; a run that finds nothing cached spends about a minute
compiling before its first week. The command line says so before it starts
(:func:`notice`), and ``make install`` compiles them once with ``python -m
experiments.kernels`` (a short run at a tiny scale that calls every kernel of a run)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

COMPILING = "compiling the model's kernels (once, about a minute; later runs load them from the cache)"
# A few kernels are never found in the cache even after a run (Numba does not cache every
# kernel it compiles: 4 of 86 in this version); compiling them takes a few seconds. The
# notice is given when more than this many are missing: a fresh install, an upgrade of
# Numba or an edited model source file.
QUIET_MISSING = 8


def _dispatchers() -> list:
    """Every kernel of the model package (the Numba dispatchers that cache their code)."""
    from numba.core.registry import CPUDispatcher

    import model

    found = []
    for info in pkgutil.walk_packages(model.__path__, "model."):
        try:
            mod = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - a module with optional dependencies: its kernels are not counted
            continue
        for value in vars(mod).values():
            if isinstance(value, CPUDispatcher) and getattr(value, "__module__", "") == info.name:
                found.append(value)
    return found


def uncached() -> list[str] | None:
    """The kernels whose compiled code is not in the cache (or is stale: its source
    changed), by ``module.function``; None when this cannot be told (a Numba whose cache
    layout is unknown: then nothing is claimed)."""
    try:
        missing = []
        for d in _dispatchers():
            cache = d._cache  # numba.core.caching.FunctionCache
            if not cache._cache_file._load_index():  # empty when absent or when the source changed
                missing.append(f"{d.__module__}.{d.__name__}")
        return missing
    except Exception:  # noqa: BLE001 - private Numba API: never fail a run over a message
        return None


def notice(echo=None) -> bool:
    """Say that the kernels will be compiled when some are not cached; True if said."""
    missing = uncached()
    if not missing or len(missing) <= QUIET_MISSING:
        return False
    (echo or (lambda text: print(text, file=sys.stderr, flush=True)))(COMPILING)
    return True


def compile_all(scale: float = 0.01) -> float:
    """Compile (or load) the kernels by a short run: 2005-2006 of the scenario with every
    intervention, at ``scale``. Returns the seconds it took."""
    from model import CohesionModel

    t0 = time.perf_counter()
    model = CohesionModel(scale=scale, start="2005-01", end="2006-06", scenario="no_withdrawal", rng=0)
    model.run()
    return time.perf_counter() - t0


def main() -> int:
    missing = uncached()
    if missing is not None and len(missing) <= QUIET_MISSING:
        print("the model's kernels are compiled and cached")
        return 0
    print(COMPILING, flush=True)
    seconds = compile_all()
    left = uncached()
    print(
        f"compiled in {seconds:.0f} s"
        + (f"; {len(left)} kernels not cached (compiled when a run needs them, a few seconds)" if left else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
