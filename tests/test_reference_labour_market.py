"""The compiled labour-market step agrees with the plain-NumPy reference
(``model/reference/labour_market.py``, ODD 7.2).

Two checks, each shown to fail when the reference's parameters are perturbed:

- the same seekers and the same uniform draws give the same search effort (relative
  error below 1e-12), the same hires and the same sectors (draws within 1e-9 of a
  threshold excepted: rounding may put them either side);
- over 100 weeks of a run with a closure (scale 0.1), the counts of each weekly transition (retired,
  separated, started retraining, left, entered, hired) agree with the reference's:
  from the state before each week's labour step, 30 replicates of the reference week give
  a mean and variance; summed over the weeks, the fast path's total is within 4.5
  standard deviations of the reference's expected total.
"""

import numpy as np
import pytest

from model import CohesionModel
from model.reference import labour_market as ref
from model.state import Status
from model.submodels.labour_market import matching

COLS = (
    "status",
    "at_plant",
    "sector",
    "age",
    "ever_displaced",
    "displaced_week",
    "displaced_tenure",
    "retrained",
    "training_left",
)
REPLICATES = 30
BOUND = 4.5  # standard deviations
TIE = 1e-9  # draws this close to a threshold may fall either side of it


@pytest.fixture(scope="module")
def model_after_layoffs():
    """A run through its first layoffs (a closure in the first weeks of 2006), a fifth of
    its job seekers retrained."""
    m = CohesionModel(scale=0.05, rng=11, start="2005-10", end="2006-12")
    for _ in range(30):
        m.step()
    assert m.shocks.jobs_lost > 0
    P = m.people
    P.retrained[np.flatnonzero(P.status[: P.n] == Status.UNEMPLOYED)[::5]] = True
    return m


def perturbed(p, **factors):
    """The parameters ``p`` with some multiplied by a factor."""
    q = dict(p)
    for name, f in factors.items():
        q[name] = p[name] * f
    return q


def matching_mismatches(m, p_ref):
    """Seekers whose effort, hire or sector differ between the fast path (parameters of the
    run) and the reference (parameters ``p_ref``) with the same draws."""
    lab, P = m.labour, m.people
    seekers = np.flatnonzero(P.status[: P.n] == Status.UNEMPLOYED)
    effort, last, aimed = matching.effort_of_kernel(seekers, lab.persons(), lab.search_terms(1.2), lab.n_sec)
    cols = {c: getattr(P, c) for c in COLS}
    e_ref = ref.search_effort(cols, seekers, p_ref, 1.2)
    bad = np.abs(effort - e_ref) > 1e-12 * np.abs(e_ref)
    # Vacancies from plenty to none, so that some sectors hire at every seeker's cap.
    vacancies = np.maximum(len(seekers) * np.linspace(2.0, -0.5, lab.n_sec), 0.0)
    p = lab.p
    rng = np.random.default_rng(0)
    u = rng.random(len(seekers))
    rate = matching.hire_rate(aimed, vacancies, p["matching_efficiency"], p["matching_elasticity"])
    hired = np.isin(
        np.arange(len(seekers)),
        matching.hired_kernel(u, effort, last, rate, p["cross_sector_search"], matching.MAX_HIRE_PROBABILITY),
    )
    chance, rate_ref = ref.hire_chances(e_ref, last, vacancies, p_ref)
    clear = np.abs(u - chance) > TIE
    bad |= clear & (hired != (u < chance))
    both = np.flatnonzero(hired & (u < chance))
    u2 = rng.random(len(both))
    sector, _, _ = matching.hire_sector_kernel(u2, both, last, rate, p["cross_sector_search"], vacancies)
    sector_ref = ref.hire_sectors(last[both], rate_ref, p_ref["cross_sector_search"], u2)
    bad[both] |= sector != sector_ref
    assert hired.sum() > 50 and len(np.unique(sector)) > 3  # the draws exercise the function
    return int(bad.sum())


def test_same_draws_give_the_reference_hires(model_after_layoffs):
    m = model_after_layoffs
    p = dict(m.labour.p)
    assert matching_mismatches(m, p) == 0
    # A reference 5% off in one parameter is caught.
    for name in ("matching_efficiency", "cross_sector_search", "long_tenure_search", "training_search_boost"):
        assert matching_mismatches(m, perturbed(p, **{name: 1.05})) > 0, name


def transitions(before, after):
    """The counts of the week's transitions the fast path made, from the statuses."""
    U, T, INACTIVE = Status.UNEMPLOYED, Status.TRAINING, Status.INACTIVE
    return {
        "retired": int(((before != Status.RETIRED) & (after == Status.RETIRED)).sum()),
        "started_training": int(((before == U) & (after == T)).sum()),
        "left": int(((before == U) & (after == INACTIVE)).sum()),
        "entered": int(((before == INACTIVE) & (after != INACTIVE)).sum()),
    }


def weekly_totals(perturbations):
    """Run 100 weeks (retraining more frequent and shorter than by default, so that it is
    seen); per transition, the fast path's total and, for the run's parameters and each of
    their ``perturbations`` (factors by name), the reference's expected total and its
    variance."""
    m = CohesionModel(
        scale=0.1,
        rng=5,
        start="2005-10",
        end="2007-08",
        overrides={"labour.displaced_training_rate": 0.05, "labour.training_weeks": 8.0},
    )
    lab, P = m.labour, m.people
    references = [perturbed(dict(lab.p), **factors) for factors in [{}, *perturbations]]
    step = lab.step
    rng = np.random.default_rng(1)
    fast = {}
    expected = [{} for _ in references]

    def checked_step():
        n = P.n
        snapshot = {c: getattr(P, c)[:n].copy() for c in COLS}
        week, life_course, boost = m.week, m.demography.period_ends(m.week), lab._transition_boost()
        step()
        counts = transitions(snapshot["status"], P.status[:n])
        counts.update(separated=lab.separations, hired=lab.hires)
        for k, v in counts.items():
            fast[k] = fast.get(k, 0) + v
        for p, totals in zip(references, expected):
            runs = [
                ref.week(
                    {c: v.copy() for c, v in snapshot.items()},
                    lab.jobs,
                    p,
                    rng,
                    week=week,
                    life_course=life_course,
                    period=lab.period,
                    boost=boost,
                )
                for _ in range(REPLICATES)
            ]
            for k in counts:
                x = np.array([r[k] for r in runs], float)
                mean, var = totals.get(k, (0.0, 0.0))
                totals[k] = (mean + x.mean(), var + x.var(ddof=1) * (1 + 1 / REPLICATES))

    lab.step = checked_step
    m.run()
    assert m.shocks.jobs_lost > 0
    return fast, expected


def z_scores(fast, expected):
    return {k: (fast[k] - mean) / np.sqrt(var) for k, (mean, var) in expected.items() if var > 0}


@pytest.fixture(scope="module")
def totals():
    doubled = (
        "separation_rate",
        "matching_efficiency",
        "displaced_training_rate",
        "enter_labour_force_rate",
        "retirement_rate_65",
        "retirement_rate_60",
        "displaced_retirement_rate",
    )
    # Rates doubled (tripled for leaving the labour force, the rarest transition).
    return weekly_totals([{**{name: 2.0 for name in doubled}, "leave_labour_force_rate": 3.0}])


def test_weekly_transitions_agree_with_the_reference(totals):
    fast, (same, _) = totals
    z = z_scores(fast, same)
    assert set(z) == {"retired", "separated", "started_training", "left", "entered", "hired"}, z
    assert all(fast[k] > 10 for k in z), fast
    assert max(abs(v) for v in z.values()) < BOUND, z


def test_a_perturbed_reference_is_told_apart(totals):
    fast, (_, off) = totals
    z = z_scores(fast, off)
    for k in ("separated", "hired", "started_training", "left", "entered", "retired"):
        assert abs(z[k]) > BOUND, (k, z)
