"""Household finances: strain follows the income drop, and only prolonged strain moves people."""

import numpy as np

from model import CohesionModel
from model.state import Status


def household_with_one_earner(m):
    P, H = m.people, m.households
    for h in range(H.n):
        rows = np.arange(H.first_row[h], H.first_row[h] + H.arrived[h])
        st = P.status[rows]
        if (
            len(rows) >= 2
            and (st == Status.EMPLOYED).sum() == 1
            and not P.at_plant[rows].any()
            and ((st == Status.CHILD) | (st == Status.INACTIVE)).sum() == len(rows) - 1
        ):
            return h, rows[st == Status.EMPLOYED][0], rows
    raise AssertionError("no such household")


def test_a_lost_job_strains_the_household_and_prolonged_strain_leads_to_a_move():
    m = CohesionModel(
        scale=0.02,
        rng=3,
        end="2003-06",
        overrides={"strain.out_migration_rate": 1.0, "strain.out_migration_after_weeks": 5},
    )
    P, H, fin = m.people, m.households, m.finances
    h, earner, rows = household_with_one_earner(m)
    P.wage[earner] = 20.0
    P.status[earner] = Status.UNEMPLOYED
    P.ei_benefit[earner] = 0.55 * 20.0 * 37.5
    none = np.zeros(0, np.int64)
    requests = []
    for week in range(1, 7):
        # Paid EI at 55% of earnings: income falls 45%, past the 30% threshold.
        requests.append(fin.step(np.array([earner]), np.array([earner]), none))
        assert H.income[h] == np.float64(0.55 * 20.0 * 37.5)
        assert H.ref_income[h] == np.float64(20.0 * 37.5)
        assert H.strain_weeks[h] == week
    assert [h in r for r in requests] == [False] * 4 + [True] * 2
    # Back at work: no longer watched, strain ends.
    P.status[earner] = Status.EMPLOYED
    assert len(fin.step(none, none, none)) == 0
    assert H.strain_weeks[h] == 0


def test_a_second_earner_or_severance_keeps_income_above_the_threshold():
    m = CohesionModel(scale=0.02, rng=3, end="2003-06")
    P, H, fin = m.people, m.households, m.finances
    h, earner, rows = household_with_one_earner(m)
    other = next(r for r in rows if r != earner)
    P.wage[earner] = 20.0
    P.status[earner] = Status.UNEMPLOYED
    none = np.zeros(0, np.int64)
    fin.step(np.array([earner]), none, np.array([earner]))  # severance pays the full wage
    assert H.strain_weeks[h] == 0
    P.status[other] = Status.EMPLOYED
    P.wage[other] = 20.0
    fin.step(np.array([earner]), none, none)  # half the income is gone, but only half
    assert H.income[h] == 20.0 * 37.5 and H.ref_income[h] == 40.0 * 37.5
    assert H.strain_weeks[h] == 1  # 50% drop > 30%
    P.wage[other] = 60.0
    fin.step(np.array([earner]), none, none)
    assert H.strain_weeks[h] == 0  # 25% drop < 30%
