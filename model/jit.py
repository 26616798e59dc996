"""Compiled kernels for the weekly step.

The submodels work on whole arrays. Where one update would take dozens of separate numpy
passes over the same rows (gathers, masks, temporaries), it is written instead as one
kernel that reads each row once, compiled to machine code by Numba. A kernel is a
function of arrays, numbers and named tuples of them (so that its arguments are read
by name, not by position): it draws no random numbers (the caller draws them
from the submodel's named stream and passes them in), so the draws of a seed do not
depend on whether the kernels are compiled.

Compiled code is cached next to the sources (``__pycache__``): the first run after a
change compiles it (a few seconds), later runs and worker processes load it.
``NUMBA_DISABLE_JIT=1`` runs the kernels as plain Python, for debugging; real values
may then differ from the compiled run's in their last bits.
"""

from __future__ import annotations

from numba import njit as _njit


def kernel(fn):
    """Compile ``fn`` (no Python objects, no parallel threads: one core) and cache it."""
    return _njit(cache=True, nogil=True, fastmath=False, boundscheck=False)(fn)
