"""Personal ties' compiled draw and renewal against the plain-NumPy reference
(``model/reference/ties.py``), and a statistical check of where friends live.

Tolerance: slots hold rows, so with the same inputs and draws the fast path and the
reference must agree exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from model import CohesionModel
from model.reference import ties as ref


def model(seed: int) -> CohesionModel:
    m = CohesionModel(scale=0.05, rng=seed, start="2003-01", end="2004-12")
    for _ in range(3):
        m.step()
    return m


def reference_draw(m: CohesionModel, rng):
    P, H, T = m.people, m.households, m.ties
    people = {"household": P.household, "employer": P.employer, "marginalized": P.marginalized}
    homes = {
        "first_row": H.first_row,
        "arrived": H.arrived,
        "municipality": H.municipality,
        "x": H.x,
        "y": H.y,
        "height": T.height,
    }
    offsets, grouped = T.by_employer  # the employers at the last refresh
    pool_employer = np.full(P.n, -1, np.int64)
    pool_employer[grouped] = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return lambda ids: ref.draw(
        ids,
        people,
        homes,
        T.pool_all,
        pool_employer[T.pool_all],
        T.places,
        T.place_muni,
        T.slot_kind,
        T.p["local_friend_share"],
        m.config["cohesion.marginalized_tie_loss"],
        rng,
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_the_compiled_draw_is_the_reference_draw(seed):
    m = model(seed)
    P = m.people
    ids = np.sort(np.random.default_rng(seed).choice(P.n, 600, replace=False)).astype(np.int64)
    assert P.marginalized[ids].any() and (P.employer[ids] >= 0).any()
    fast_rng = m.streams["ties"]
    ref_rng = copy.deepcopy(fast_rng)
    got = m.ties._draw(ids, fast_rng)
    expected = reference_draw(m, ref_rng)(ids)
    assert np.array_equal(got, expected)
    assert (got >= 0).mean() > 0.5
    assert fast_rng.random() == ref_rng.random()


@pytest.mark.parametrize("seed", [3, 4])
def test_the_compiled_renewal_is_the_reference_renewal(seed):
    m = model(seed)
    P, T = m.people, m.ties
    rng = np.random.default_rng(seed)
    here = np.flatnonzero(P.present[: P.n])
    P.present[rng.choice(here, len(here) // 10, replace=False)] = False  # some ties now lead away
    T.cut_workplace_ties(here[P.employer[here] >= 0][:300], rng)  # and some are cut
    slots = T.slots.copy()
    fast_rng = m.streams["ties"]
    ref_rng = copy.deepcopy(fast_rng)
    T.renew(fast_rng)
    ref.renew(
        slots,
        T.pool_all,
        T.slot_kind,
        T.place_worker,
        P.present,
        T.p["tie_renewal_rate"],
        ref_rng,
        reference_draw(m, ref_rng),
    )
    assert np.array_equal(T.slots, slots)
    assert (T.slots == ref.LOST).any()  # cut ties without a fresh co-worker stay cut
    assert fast_rng.random() == ref_rng.random()


def test_kin_and_friends_live_in_the_municipality_at_the_local_share():
    """Statistical: a kin-or-friend slot is a resident of the person's municipality with
    probability local_share + (1 - local_share) x the municipality's share of residents,
    within 4 standard deviations over the slots."""
    m = model(5)
    P, H, T = m.people, m.households, m.ties
    ids = T.pool_all[~P.marginalized[T.pool_all]]
    slots = T._draw(ids, np.random.default_rng(0))[:, T.span["kin_friends"]].astype(np.int64)
    muni = H.municipality[P.household[ids]].astype(np.int64)
    pool_muni = H.municipality[P.household[T.pool_all]]
    share = np.bincount(pool_muni, minlength=muni.max() + 1) / len(T.pool_all)
    q = T.p["local_friend_share"] + (1 - T.p["local_friend_share"]) * share[muni]
    filled = slots >= 0
    same = H.municipality[P.household[np.maximum(slots, 0)]] == muni[:, None]
    expected = (q[:, None] * filled).sum()
    sd = np.sqrt((q * (1 - q))[:, None][filled.nonzero()[0]].sum())
    assert filled.sum() > 1000
    assert abs((same & filled).sum() - expected) < 4 * sd
