"""Legal status over time: temporary orders lapse, extensions continue, removals end."""

from __future__ import annotations

from datetime import date

from service.registry.snapshot import Act, act_in_force, first_control


def act(kind: str, start: str, end: str | None = None) -> Act:
    return Act(
        "US", kind, "I", date.fromisoformat(start), date.fromisoformat(end) if end else None, kind, "s"
    )


TEMP = act("temporary", "2016-05-12", "2018-05-12")
EXT = act("extension", "2018-05-12", "2019-05-12")
PERM = act("permanent", "2019-01-10")


def test_temporary_order_in_force_until_it_lapses() -> None:
    assert act_in_force([TEMP], date(2016, 5, 11)) is None
    assert act_in_force([TEMP], date(2016, 5, 12)) == TEMP
    assert act_in_force([TEMP], date(2018, 5, 11)) == TEMP
    assert act_in_force([TEMP], date(2018, 5, 12)) is None


def test_extension_then_permanent() -> None:
    acts = [TEMP, EXT, PERM]
    assert act_in_force(acts, date(2018, 6, 1)) == EXT
    assert act_in_force(acts, date(2019, 2, 1)) == PERM
    assert act_in_force(acts, date(2025, 1, 1)) == PERM
    assert first_control(acts) == TEMP


def test_removal_ends_control() -> None:
    acts = [act("permanent", "1984-08-24"), act("removal", "1987-01-23")]
    assert act_in_force(acts, date(1986, 1, 1)) == acts[0]
    assert act_in_force(acts, date(1987, 1, 23)) is None
    assert first_control(acts) == acts[0]
    relisted = [*acts, act("permanent", "1990-01-01")]
    assert act_in_force(relisted, date(1991, 1, 1)) == relisted[2]
