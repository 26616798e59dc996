"""Named random streams: one seed per run, one child stream per submodel.

A stream's seed depends only on the run seed and the stream's name (a stable hash of the
name is the spawn key of a ``numpy.random.SeedSequence``), so adding a submodel or
switching an intervention on never shifts the draws of the others.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from .jit import kernel


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator of stream ``name`` for run seed ``seed``."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(key,)))


class Streams:
    """Lazily created named streams of one run."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            self._streams[name] = stream(self.seed, name)
        return self._streams[name]


def bernoulli(rng: np.random.Generator, ids: np.ndarray, p: float) -> np.ndarray:
    """The members of ``ids`` that an independent draw with probability ``p`` selects,
    sorted. For small ``p`` the draw takes one geometric number per member selected (the
    gaps between successive successes of independent Bernoulli draws are geometric)
    rather than one uniform number per member: the same distribution at a fraction of the
    cost. For larger ``p`` each member gets its uniform number."""
    n = len(ids)
    if n == 0 or p <= 0:
        return ids[:0]
    if p >= 1:
        return ids
    if p >= 0.2:  # numpy's geometric draws slow down as p grows; one uniform per member
        return _below(ids, rng.random(n), p)
    mean = n * p
    size = int(mean + 4.0 * math.sqrt(mean * (1.0 - p)) + 8)  # enough gaps almost always
    picked, last = _at_gaps(ids, rng.geometric(p, size), -1)
    while last < n - 1:  # not past the last member yet: draw further gaps
        more, last = _at_gaps(ids, rng.geometric(p, size), last)
        picked = np.sort(np.concatenate([picked, more]))
    return picked


@kernel
def _sorted(values):
    """``values`` in increasing order (a copy; sorted only if they are not already)."""
    for j in range(1, len(values)):
        if values[j] < values[j - 1]:
            return np.sort(values)
    return values.copy()


@kernel
def _below(ids, u, p):
    """The members of ``ids`` whose uniform number ``u`` is below ``p``, sorted."""
    out = np.empty(len(ids), ids.dtype)
    m = 0
    for j in range(len(ids)):
        out[m] = ids[j]
        m += u[j] < p
    return _sorted(out[:m])


@kernel
def _at_gaps(ids, gaps, last):
    """The members of ``ids`` at the positions reached by adding ``gaps`` one by one to
    ``last``, up to the end of ``ids`` (sorted), and the last position reached."""
    out = np.empty(len(gaps), ids.dtype)
    m = 0
    n = len(ids)
    for g in gaps:
        last += g
        if last >= n:
            break
        out[m] = ids[last]
        m += 1
    return _sorted(out[:m]), last


def bernoulli_each(rng: np.random.Generator, ids: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Like :func:`bernoulli` with a probability per member (``p`` aligned with ``ids``):
    a :func:`bernoulli` draw at the largest probability, thinned by ``p / max(p)``."""
    if len(ids) == 0:
        return ids[:0]
    top = float(p.max())
    if top <= 0:
        return ids[:0]
    pos = bernoulli(rng, np.arange(len(ids)), min(top, 1.0))
    keep = rng.random(len(pos)) * top < p[pos]
    return ids[pos[keep]]
