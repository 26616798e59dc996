"""Named random streams: one seed per run, one child stream per submodel.

A stream's seed depends only on the run seed and the stream's name (a stable hash of the
name is the spawn key of a ``numpy.random.SeedSequence``), so adding a submodel or
switching an intervention on never shifts the draws of the others.
"""

from __future__ import annotations

import zlib

import numpy as np


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


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """Seeds of ``n`` replicates drawn from ``root_seed`` with SeedSequence.spawn."""
    return [int(s.generate_state(1, np.uint32)[0]) for s in np.random.SeedSequence(root_seed).spawn(n)]


def bernoulli(rng: np.random.Generator, ids: np.ndarray, p: float) -> np.ndarray:
    """The members of ``ids`` that an independent draw with probability ``p`` selects,
    sorted. Draws a binomial count and a uniform subset of that size, which has exactly
    the distribution of one Bernoulli draw per member at a fraction of the cost when
    ``p`` is small."""
    if len(ids) == 0 or p <= 0:
        return ids[:0]
    if p >= 1:
        return ids
    k = rng.binomial(len(ids), p)
    if k == 0:
        return ids[:0]
    return np.sort(rng.choice(ids, size=k, replace=False))


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
