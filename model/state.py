"""Per-person, per-household and per-organization state held in NumPy arrays.

Each table is declared once as a tuple of :class:`Field` (name, dtype, default, unit,
meaning); a :class:`Table` allocates one array per field, indexed by row id. Rows are
never compacted: people who die or move away keep their row with ``present`` false, so a
row id is a stable person id for the whole run. Mesa agents hold only their row id and
read and write that row (see ``model/agents.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEEKS_PER_YEAR = 365.25 / 7


@dataclass(frozen=True)
class Field:
    name: str
    dtype: type
    default: object
    unit: str
    meaning: str


class Status:
    """Labour-force status codes (``people.status``)."""

    CHILD = 0
    EMPLOYED = 1
    UNEMPLOYED = 2
    TRAINING = 3
    RETIRED = 4
    INACTIVE = 5  # working age, outside the labour force
    GONE = 6  # no longer in the RCM (died or moved away); see exit_reason and status_at_exit
    NAMES = ("child", "employed", "unemployed", "training", "retired", "inactive", "gone")


class Exit:
    """Why a person's row stopped being present (``people.exit_reason``)."""

    NONE = 0
    DIED = 1
    MOVED_ALONE = 2
    MOVED_WITH_HOUSEHOLD = 3
    NAMES = ("none", "died", "moved_alone", "moved_with_household")


PERSON_FIELDS = (
    Field("present", np.bool_, False, "-", "living in the RCM now"),
    Field("entry_week", np.int32, -1, "week", "week the person entered (-1: at set-up)"),
    Field("entry_kind", np.int8, 0, "code", "0 set-up, 1 born, 2 moved in"),
    Field("exit_week", np.int32, -1, "week", "week the person left (-1: still present)"),
    Field("exit_reason", np.int8, Exit.NONE, "code", "see Exit"),
    Field("household", np.int32, -1, "row", "household row id"),
    Field("age", np.float32, 0.0, "years", "age"),
    Field("female", np.bool_, False, "-", "sex is female"),
    Field("status", np.int8, Status.CHILD, "code", "labour-force status, see Status (GONE once the person left)"),
    Field("status_at_exit", np.int8, -1, "code", "labour-force status when the person left (-1: still present)"),
    Field("sector", np.int8, -1, "index", "sector of the current or last job (-1: never worked)"),
    Field("employer", np.int32, -1, "row", "organization row of the current job (-1: none)"),
    Field("at_plant", np.bool_, False, "-", "works at one of the timeline's plants"),
    Field("job_start", np.float32, 0.0, "week", "week the current or last job started (negative: before the run)"),
    Field("job_end", np.float32, np.nan, "week", "week the last job ended (NaN while holding it)"),
    Field("wage", np.float32, 0.0, "CAD/hour", "hourly wage of the current or last job"),
    Field("pension", np.float32, 0.0, "CAD/week", "retirement income"),
    Field("ever_displaced", np.bool_, False, "-", "laid off in a closure or mass layoff of the timeline"),
    Field("displaced_week", np.int32, -1, "week", "week of the layoff (-1: never)"),
    Field("displaced_by", np.int16, -1, "index", "closure that laid the person off"),
    Field("displaced_wage", np.float32, 0.0, "CAD/hour", "wage at the layoff"),
    Field("displaced_tenure", np.float32, 0.0, "years", "tenure at the layoff"),
    Field("reemployed_week", np.int32, -1, "week", "first week in a job after the layoff"),
    Field("spell_start", np.int32, 0, "week", "week the current spell without a job started"),
    Field("training_left", np.int16, 0, "weeks", "weeks of retraining still to do"),
    Field("retrained", np.bool_, False, "-", "has completed retraining"),
    Field("ei_wait", np.int16, 0, "weeks", "waiting and severance weeks before benefits start"),
    Field("ei_left", np.int16, 0, "weeks", "weeks of EI benefits still payable in the current claim"),
    Field("ei_entitlement", np.int16, 0, "weeks", "weeks of benefits granted by the current claim"),
    Field("ei_paid", np.int16, 0, "weeks", "weeks of benefits paid in the current claim"),
    Field("ei_benefit", np.float32, 0.0, "CAD/week", "weekly benefit of the current claim"),
    Field("ei_exhausted", np.bool_, False, "-", "the current claim ran out while still without a job"),
    Field("severance_left", np.int16, 0, "weeks", "weeks of severance pay still being paid"),
    Field("distress_trait", np.float32, 0.0, "SD", "stable part of distress (individual differences)"),
    Field(
        "distress_state",
        np.float32,
        0.0,
        "SD",
        "part of distress due to current circumstances and relief (negative while support or a service outweighs the stressors)",
    ),
    Field("distress", np.float32, 0.0, "SD", "psychological distress, trait + state (adults)"),
    Field("support_week", np.int32, -10_000, "week", "last week informal support was received"),
    Field("support_effect", np.float32, 0.0, "SD", "distress relief of the last informal support received"),
    Field("helped_week", np.int32, -10_000, "week", "last week this person supported someone"),
    Field("helps", np.int32, 0, "acts", "times this person supported someone"),
    Field("trained_week", np.int32, -1, "week", "week trained with the Guide, or of the last refresher (-1: never)"),
    Field("guide_week", np.int32, -1, "week", "week a copy of the Guide de l'aidant reached this person (-1: never)"),
    Field("guide_read", np.bool_, False, "-", "has read the Guide de l'aidant"),
    Field(
        "met_distressed",
        np.bool_,
        False,
        "-",
        "a helper equipped by training or the Guide who has been told of someone's distress",
    ),
    Field("knows_services", np.bool_, False, "-", "knows which local service to turn to"),
    Field("service", np.int32, -1, "row", "organization currently serving this person (-1: none)"),
    Field("service_left", np.int16, 0, "weeks", "weeks left in the current service episode"),
    Field("waiting", np.int32, -1, "row", "organization whose waiting list the person is on (-1: none)"),
    Field("wait_since", np.int32, 0, "week", "week the person joined the waiting list"),
    Field(
        "wait_priority",
        np.bool_,
        False,
        "-",
        "first in line on the waiting list (the in-plant social worker's clients)",
    ),
    Field("belonging", np.float32, 0.0, "0-1", "sense of belonging to the local community"),
    Field("participates", np.bool_, False, "-", "takes part in community activities (engagement mode)"),
    Field("marginalized", np.bool_, False, "-", "low income and weak social integration (docs/ODD.md)"),
)

HOUSEHOLD_FIELDS = (
    Field("present", np.bool_, False, "-", "living in the RCM now"),
    Field("municipality", np.int16, -1, "index", "municipality of residence"),
    Field("x", np.int16, -1, "cell", "grid column"),
    Field("y", np.int16, -1, "cell", "grid row"),
    Field("exit_week", np.int32, -1, "week", "week the household left or dissolved"),
    Field("size", np.int16, 0, "persons", "members present"),
    Field("first_row", np.int32, -1, "row", "person row of the first member who arrived with the household"),
    Field(
        "arrived",
        np.int16,
        0,
        "persons",
        "members who arrived with the household (rows first_row, first_row + 1, ...); children born later have rows of their own elsewhere",
    ),
    Field(
        "ref_income",
        np.float64,
        0.0,
        "CAD/week",
        "income with every jobless member at their last wage (households with a jobless member)",
    ),
    Field("income", np.float64, 0.0, "CAD/week", "income this week (households with a jobless member)"),
    Field("strain_weeks", np.int32, 0, "weeks", "consecutive weeks under financial strain"),
)

ORG_FIELDS = (
    Field("kind", np.int8, 0, "code", "see ORG_KINDS"),
    Field("domain", np.int8, 0, "code", "see DOMAINS"),
    Field("sector", np.int8, -1, "index", "industry sector for employers (-1: none)"),
    Field("municipality", np.int16, -1, "index", "municipality"),
    Field("x", np.int16, -1, "cell", "grid column"),
    Field("y", np.int16, -1, "cell", "grid row"),
    Field("closure", np.int16, -1, "index", "closure of the timeline this organization is (-1: none)"),
    Field("open", np.bool_, True, "-", "operating"),
    Field("announced", np.bool_, False, "-", "its closure has been announced"),
    Field("service", np.int8, -1, "code", "formal service offered, see SERVICES (-1: none)"),
    Field("committees", np.int8, 0, "bits", "committee memberships, bit i for COMMITTEES[i]"),
)

ORG_KINDS = ("employer", "plant", "public_service", "community", "government", "union", "informal_place")
DOMAINS = ("economic", "social", "education", "community", "government")
SERVICES = ("psychosocial", "employment", "community")
COMMITTEES = ("recovery", "support")


def arrived_members(households: Table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Person rows of the members who arrived with each household of ``rows`` (their rows
    are consecutive from ``first_row``), and for each member the index into ``rows`` of
    its household. Children born later have rows elsewhere and are not included."""
    sizes = households.arrived[rows].astype(np.int64)
    starts = households.first_row[rows].astype(np.int64)
    offsets = np.cumsum(sizes) - sizes
    members = np.repeat(starts - offsets, sizes) + np.arange(sizes.sum())
    return members, np.repeat(np.arange(len(rows)), sizes)


def tenure_years(people: Table, ids, week: int) -> np.ndarray:
    """Years in the current job, or in the last one for people without a job."""
    end = people.job_end[ids]
    return (np.where(np.isnan(end), week, end) - people.job_start[ids]) / WEEKS_PER_YEAR


class Table:
    """Arrays for the fields of one table, with a growable capacity."""

    def __init__(self, fields: tuple[Field, ...], capacity: int = 0):
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field names in {names}")
        self.fields = fields
        self.n = 0
        self._capacity = 0
        self._allocate(max(capacity, 16))

    def _allocate(self, capacity: int) -> None:
        for f in self.fields:
            new = np.full(capacity, f.default, dtype=f.dtype)
            if self._capacity:
                new[: self.n] = getattr(self, f.name)[: self.n]
            setattr(self, f.name, new)
        self._capacity = capacity

    def add(self, count: int, **values) -> np.ndarray:
        """Append ``count`` rows, set the given fields, return the new row ids."""
        if self.n + count > self._capacity:
            self._allocate(max(2 * self._capacity, self.n + count))
        ids = np.arange(self.n, self.n + count)
        for name, value in values.items():
            getattr(self, name)[ids] = value
        self.n += count
        return ids

    def column(self, name: str) -> np.ndarray:
        """The used part of a field's array (a view)."""
        return getattr(self, name)[: self.n]

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in self.fields)
