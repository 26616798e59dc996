"""The closure timeline: the case study's counts, and bad timeline files refused."""

from datetime import date

import numpy as np
import pytest

from model.config import ConfigError
from model.timeline import TIMELINE_FILE, Timeline


@pytest.fixture(scope="module")
def timeline():
    return Timeline.load()


def jobs(timeline, start, end, ids=None):
    return sum(
        w.workers
        for w in timeline.waves_between(start, end, 1.0)
        if ids is None or timeline.closures[w.closure].id in ids
    )


def test_case_study_totals(timeline):
    assert jobs(timeline, date(2003, 1, 1), date(2005, 12, 31)) == 1746
    by_id = {c.id: c for c in timeline.closures}
    olymel = by_id["olymel"]
    assert olymel.jobs > 500
    assert olymel.announced == date(2005, 5, 2)
    assert olymel.closed.year == 2005 and olymel.closed.month == 12
    assert all(w.date > olymel.announced for w in olymel.waves)
    assert len(olymel.waves) > 1  # laid off over the months after the announcement
    for cid, n in (("cs_brooks", 500), ("gdx", 400), ("quebecor", 400)):
        assert jobs(timeline, date(2007, 1, 1), date(2009, 12, 31), {cid}) == n
    assert {c.id for c in timeline.closures} >= {
        "barmish",
        "olymel",
        "saargummi",
        "cs_brooks",
        "difco",
        "gdx",
        "quebecor",
        "hexpol",
        "dana",
        "dominion_textile",
    }


def test_disagreeing_sources_are_both_kept(timeline):
    quebecor = next(c for c in timeline.closures if c.id == "quebecor")
    assert quebecor.jobs == 400
    assert [sum(w["workers"] for w in alt["waves"]) for alt in quebecor.alternatives] == [500]
    assert "case study" in quebecor.default_from
    for c in timeline.closures:
        assert c.source and c.default_from


def test_employers_without_a_job_count_are_not_replayed(timeline):
    replayed = {timeline.closures[i].id for i in timeline.replayed}
    assert not replayed & {"saargummi", "dana", "dominion_textile"}


def test_scaling_rounds_each_wave_half_to_even(timeline):
    waves = timeline.waves_between(date(2003, 1, 1), date(2018, 12, 31), 0.1)
    full = timeline.waves_between(date(2003, 1, 1), date(2018, 12, 31), 1.0)
    assert [w.workers for w in waves] == [int(np.rint(f.workers * 0.1)) for f in full]
    assert sum(w.workers for w in waves) == 334  # 2.5 rounds to 2 twice, 5.6 to 6


@pytest.mark.parametrize(
    "change, message",
    [
        (('closed = "2005-12-16"', 'closed = "2005-04-16"'), "comes before announced"),
        (
            ('{ date = "2005-07-04", workers = 120 }', '{ date = "2004-07-04", workers = 120 }'),
            "falls outside announced..closed",
        ),
        (
            ('{ date = "2005-07-04", workers = 120 }', '{ date = "2005-07-04", workers = -120 }'),
            "whole number from 0 to 1,000,000",
        ),
        (('industry = "printing"', 'industry = "printing"\nowner = "x"'), "unknown key(s) ['owner']"),
        (('id = "hexpol"', 'id = "gdx"'), "duplicate id"),
        (('announced = "2009-03-12"', 'announced = "2009-03-32"'), "is not a date"),
    ],
)
def test_bad_timeline_is_refused(tmp_path, change, message):
    text = TIMELINE_FILE.read_text(encoding="utf-8")
    assert change[0] in text
    bad = tmp_path / "closures.toml"
    bad.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        Timeline.load(bad)
    assert message in str(err.value)
