"""The lag rule on hand-built registries with known answers (days counted by hand)."""

from __future__ import annotations

from datetime import date

import pytest
from lagkit import MORPHINE, act, appearance, frs_class, snapshot, substance

from service.lag.service import class_coverage, lag_row, lag_rows

AS_OF = date(2020, 1, 1)


def row(sub, j="US", basis="global", classes=(), as_of=AS_OF, members=frozenset(), law=None):  # type: ignore[no-untyped-def]
    return lag_row(
        sub,
        jurisdiction=j,
        basis=basis,
        as_of=as_of,
        classes=classes,
        members=members,
        class_law_date=law,
    )


# ------------------------------------------------------------------ precision


def test_day_precision_individual() -> None:
    s = substance(
        "a", appearances=(appearance("2016-01-10"),), acts={"US": (act("permanent", "2016-07-01"),)}
    )
    r = row(s)
    assert (r.outcome, r.end_date, r.end_kind) == ("individual", date(2016, 7, 1), "permanent")
    assert (r.lag_days, r.lag_days_min, r.lag_days_max) == (173, 173, 173)
    assert (r.start_date, r.start_precision) == ("2016-01-10", "day")
    assert r.class_key is None and r.event and r.duration_days == 173 and not r.straddles_control


def test_month_precision_gives_an_interval() -> None:
    # April 2016: 1..30 April, midpoint 15 April; control 2017-03-01
    s = substance(
        "a",
        appearances=(appearance("2016-04", "SE"),),
        acts={"CN": (act("permanent", "2017-03-01", j="CN"),)},
    )
    r = row(s, "CN")
    assert (r.start_earliest, r.start_latest) == (date(2016, 4, 1), date(2016, 4, 30))
    assert (r.lag_days_min, r.lag_days, r.lag_days_max) == (305, 320, 334)
    assert r.outcome == "individual"


def test_year_precision_is_not_first_january() -> None:
    # 2016: 1 January..31 December, midpoint 1 July; control 2018-09-01
    s = substance(
        "a", appearances=(appearance("2016"),), acts={"US": (act("permanent", "2018-09-01"),)}
    )
    r = row(s)
    assert (r.start_date, r.start_precision) == ("2016", "year")
    assert (r.lag_days_min, r.lag_days, r.lag_days_max) == (609, 792, 974)


def test_reports_of_different_precision_narrow_the_start() -> None:
    # a 2013 report beside a 2013-05-30 one: 1 January..30 May 2013
    s = substance(
        "a",
        appearances=(appearance("2013"), appearance("2013-05-30")),
        acts={"US": (act("permanent", "2017-06-07"),)},
    )
    r = row(s)
    assert (r.start_date, r.start_precision) == ("2013", "year")
    assert (r.start_earliest, r.start_latest) == (date(2013, 1, 1), date(2013, 5, 30))
    # 2013-01-01 -> 2017-06-07 is 1618 days; 2013-05-30 -> 2017-06-07 is 1469; midpoint 2013-03-16
    assert (r.lag_days_min, r.lag_days, r.lag_days_max) == (1469, 1544, 1618)


# ------------------------------------------------------------------ censored


def test_censored_at_the_as_of_date() -> None:
    s = substance("a", appearances=(appearance("2019"),))
    r = row(s, as_of=date(2020, 1, 1))
    assert (r.outcome, r.end_date, r.event) == ("censored", date(2020, 1, 1), False)
    # 2019-01-01 -> 2020-01-01 = 365; 2019-12-31 -> 1; midpoint 2019-07-02 -> 183
    assert (r.lag_days_min, r.lag_days, r.lag_days_max) == (1, 183, 365)
    assert r.end_citation == "" and r.end_kind == "" and r.duration_days == 183


def test_acts_after_the_as_of_date_do_not_count() -> None:
    s = substance(
        "a", appearances=(appearance("2019-03-01"),), acts={"US": (act("permanent", "2021-01-01"),)}
    )
    assert row(s, as_of=date(2020, 3, 1)).outcome == "censored"
    assert row(s, as_of=date(2021, 1, 1)).outcome == "individual"


def test_no_row_before_it_appeared_or_without_appearance() -> None:
    assert (
        row(substance("a", appearances=(appearance("2021-05-01"),)), as_of=date(2020, 1, 1)) is None
    )
    assert row(substance("b")) is None


# ------------------------------------------------------------------ class and pre-emptive

FRS_ACTS = (
    act("temporary", "2018-02-06", "2020-02-06", citation="83 FR 5188"),
    act("extension", "2020-02-06", "2021-05-06", citation="P.L. 116-114"),
)


def test_class_control_when_it_came_first() -> None:
    cls = frs_class("US", FRS_ACTS)
    s = substance(
        "a", appearances=(appearance("2016-06-15"),), acts={"US": (act("permanent", "2019-01-01"),)}
    )
    r = row(s, classes=[cls])
    assert (r.outcome, r.class_key, r.end_date, r.end_citation) == (
        "class",
        "test-frs",
        date(2018, 2, 6),
        "83 FR 5188",
    )
    assert r.lag_days == 601


def test_individual_control_when_it_came_first() -> None:
    cls = frs_class("US", FRS_ACTS)
    s = substance(
        "a", appearances=(appearance("2016-06-15"),), acts={"US": (act("permanent", "2017-01-01"),)}
    )
    r = row(s, classes=[cls])
    assert (r.outcome, r.class_key, r.lag_days) == ("individual", None, 200)


def test_same_day_individual_wins() -> None:
    cls = frs_class("US", FRS_ACTS)
    s = substance(
        "a", appearances=(appearance("2016-06-15"),), acts={"US": (act("permanent", "2018-02-06"),)}
    )
    assert row(s, classes=[cls]).outcome == "individual"


def test_class_of_another_jurisdiction_is_ignored() -> None:
    cls = frs_class("US", FRS_ACTS)
    s = substance("a", appearances=(appearance("2016-06-15"),))
    assert row(s, "CN", classes=[cls]).outcome == "censored"


def test_pre_emptive_by_class() -> None:
    cls = frs_class("US", FRS_ACTS)
    s = substance("a", appearances=(appearance("2019-05"),))
    r = row(s, classes=[cls])
    assert (r.outcome, r.class_key, r.end_date) == ("pre_emptive", "test-frs", date(2018, 2, 6))
    # 2018-02-06 minus 2019-05-31 / 2019-05-16 / 2019-05-01
    assert (r.lag_days_min, r.lag_days, r.lag_days_max) == (-479, -464, -449)
    assert r.duration_days == 0 and r.event


def test_pre_emptive_on_the_day_it_appeared() -> None:
    cls = frs_class("US", FRS_ACTS)
    r = row(substance("a", appearances=(appearance("2018-02-06"),)), classes=[cls])
    assert (r.outcome, r.lag_days, r.lag_days_min, r.lag_days_max) == ("pre_emptive", 0, 0, 0)


def test_pre_emptive_individual() -> None:
    s = substance(
        "a", appearances=(appearance("2017-01-10"),), acts={"US": (act("permanent", "2016-05-12"),)}
    )
    r = row(s)
    assert (r.outcome, r.class_key, r.lag_days) == ("pre_emptive", None, -243)


def test_control_inside_the_appearance_interval_is_not_pre_emptive() -> None:
    # February 2018 report, class in force from 6 February: which came first is unknown
    cls = frs_class("US", FRS_ACTS)
    r = row(substance("a", appearances=(appearance("2018-02"),)), classes=[cls])
    assert (r.outcome, r.straddles_control) == ("class", True)
    assert (r.lag_days_min, r.lag_days, r.lag_days_max) == (-22, 0, 5)


def test_class_membership_comes_from_the_structure() -> None:
    cls = frs_class("US", FRS_ACTS)
    fent = substance("acryl", appearances=(appearance("2019-05"),), id=1)
    morph = substance(
        "morphine", appearances=(appearance("2019-05"),), smiles=MORPHINE, family="morphinan", id=2
    )
    snap = snapshot([fent, morph], [cls])
    assert {k: [c.key for c in v] for k, v in class_coverage(snap).items()} == {1: ["test-frs"]}
    out = {
        (r.key, r.jurisdiction): r.outcome
        for r in lag_rows(snap, as_of=AS_OF, jurisdictions=["US"]).rows
    }
    assert out == {("acryl", "US"): "pre_emptive", ("morphine", "US"): "censored"}


# ------------------------------------------------------------------ removal and lapse


def test_removed_before_it_appeared_is_censored() -> None:
    acts = {"US": (act("permanent", "2010-01-01"), act("removal", "2012-01-01"))}
    assert row(substance("a", appearances=(appearance("2013"),), acts=acts)).outcome == "censored"


def test_removal_after_first_control_does_not_change_the_lag() -> None:
    acts = {"US": (act("permanent", "2010-01-01"), act("removal", "2012-01-01"))}
    r = row(substance("a", appearances=(appearance("2009-06"),), acts=acts))
    assert (r.outcome, r.end_date, r.lag_days_max) == ("individual", date(2010, 1, 1), 214)


def test_controlled_again_after_a_removal() -> None:
    acts = {
        "US": (
            act("permanent", "2010-01-01"),
            act("removal", "2012-01-01"),
            act("permanent", "2014-03-01"),
        )
    }
    r = row(substance("a", appearances=(appearance("2013-03-01"),), acts=acts))
    assert (r.outcome, r.end_date, r.lag_days) == ("individual", date(2014, 3, 1), 365)


def test_temporary_order_that_lapsed() -> None:
    acts = {"US": (act("temporary", "2016-05-12", "2018-05-12"),)}
    before = row(substance("a", appearances=(appearance("2015-12-01"),), acts=acts))
    assert (before.outcome, before.end_kind, before.lag_days) == ("individual", "temporary", 163)
    during = row(substance("a", appearances=(appearance("2017-01-10"),), acts=acts))
    assert during.outcome == "pre_emptive"
    after = row(substance("a", appearances=(appearance("2019-01-10"),), acts=acts))
    assert after.outcome == "censored"


def test_lapse_then_permanent_control() -> None:
    acts = {"US": (act("temporary", "2016-05-12", "2017-05-12"), act("permanent", "2018-01-01"))}
    r = row(substance("a", appearances=(appearance("2017-06-01"),), acts=acts))
    assert (r.outcome, r.end_kind, r.end_date, r.lag_days) == (
        "individual",
        "permanent",
        date(2018, 1, 1),
        214,
    )


# ------------------------------------------------------------------ basis

REPORTS = (appearance("2015-06", "EU"), appearance("2016", "US"), appearance("2016-03", "SE"))


@pytest.mark.parametrize(
    ("j", "basis", "start"),
    [
        ("US", "global", (date(2015, 6, 1), date(2015, 6, 30))),
        ("US", "local", (date(2016, 1, 1), date(2016, 12, 31))),
        ("EU", "local", (date(2015, 6, 1), date(2015, 6, 30))),
        ("UN", "local", (date(2015, 6, 1), date(2015, 6, 30))),
    ],
)
def test_basis_picks_the_start(j: str, basis: str, start: tuple[date, date]) -> None:
    snap = snapshot([substance("a", appearances=REPORTS)])
    r = row(snap.substances[0], j, basis, members=snap.members[j])
    assert (r.basis, (r.start_earliest, r.start_latest)) == (basis, start)


def test_eu_member_report_is_local_to_the_eu() -> None:
    snap = snapshot(
        [substance("a", appearances=(appearance("2016-03", "SE"), appearance("2015", "US")))]
    )
    r = row(snap.substances[0], "EU", "local", members=snap.members["EU"])
    assert (r.start_date, r.start_place) == ("2016-03", "SE")


def test_no_local_report_no_local_row() -> None:
    snap = snapshot([substance("a", appearances=REPORTS)])
    assert row(snap.substances[0], "CN", "local") is None
    table = lag_rows(snap, as_of=AS_OF, basis="local")
    assert sorted(r.jurisdiction for r in table.rows) == ["EU", "UN", "US"]
    assert table.without_local_appearance == 1


# ------------------------------------------------------------------ the table


def test_table_counts_nps_without_appearance() -> None:
    subs = [
        substance("reported", appearances=(appearance("2016"),), id=1),
        substance("unreported-nps", id=2),
        substance("classic", nps=False, smiles=MORPHINE, family="morphinan", id=3),
    ]
    table = lag_rows(snapshot(subs), as_of=AS_OF)
    assert table.without_appearance == ["unreported-nps"]
    assert {r.key for r in table.rows} == {"reported"}
    assert len(table.rows) == 4  # one per jurisdiction


def test_filters() -> None:
    subs = [
        substance(
            "f",
            appearances=(appearance("2016"),),
            acts={"US": (act("permanent", "2017-01-01"),)},
            id=1,
        ),
        substance(
            "m", appearances=(appearance("2016"),), smiles=MORPHINE, family="morphinan", id=2
        ),
    ]
    snap = snapshot(subs)
    assert [r.key for r in lag_rows(snap, as_of=AS_OF, family="morphinan").rows] == ["m"] * 4
    assert [
        (r.key, r.jurisdiction) for r in lag_rows(snap, as_of=AS_OF, jurisdictions=["us"]).rows
    ] == [
        ("f", "US"),
        ("m", "US"),
    ]
    assert [r.key for r in lag_rows(snap, as_of=AS_OF, outcome="individual").rows] == ["f"]


def test_class_law_period() -> None:
    cls = frs_class("US", FRS_ACTS)
    subs = [
        substance("early", appearances=(appearance("2016"),), id=1),
        substance("late", appearances=(appearance("2019"),), id=2),
    ]
    rows = lag_rows(snapshot(subs, [cls]), as_of=AS_OF).rows
    assert {
        (r.key, r.jurisdiction): r.class_law for r in rows if r.jurisdiction in ("US", "CN")
    } == {
        ("early", "US"): "before",
        ("late", "US"): "after",
        ("early", "CN"): "none",
        ("late", "CN"): "none",
    }


def test_contract_keys() -> None:
    r = row(
        substance(
            "a",
            appearances=(appearance("2016-01-10"),),
            acts={"US": (act("permanent", "2016-07-01"),)},
        )
    )
    d = r.as_dict()
    for key in (
        "name",
        "inchikey",
        "jurisdiction",
        "basis",
        "start_date",
        "end_date",
        "lag_days",
        "lag_days_min",
        "lag_days_max",
        "outcome",
    ):
        assert key in d
    assert d["end_date"] == "2016-07-01" and d["start_date"] == "2016-01-10"


# ------------------------------------------------------------------ consolidated lists (listed_by)


def test_a_consolidated_list_is_an_upper_bound_not_the_day_of_control() -> None:
    """Reported 2010-06-15, shown controlled by a list in force 2014-01-01: controlled some time
    in between (or before it appeared), never counted as controlled on 2014-01-01."""
    s = substance(
        "a", appearances=(appearance("2010-06-15"),), acts={"CN": (act("listed_by", "2014-01-01", j="CN"),)}
    )
    r = row(s, j="CN")
    assert r.outcome == "interval_censored"
    assert (r.end_date, r.end_kind) == (date(2014, 1, 1), "listed_by")
    assert (r.lag_days, r.duration_days) == (1296, 1296)  # at most 1,296 days
    assert r.lag_days_min <= 0 and r.lag_days_max == 1296
    assert not r.event and r.censoring == "interval" and not r.control_day_known


def test_a_dated_act_before_the_list_is_the_day_of_control() -> None:
    s = substance(
        "a",
        appearances=(appearance("2010-06-15"),),
        acts={"CN": (act("permanent", "2012-03-01", j="CN"), act("listed_by", "2014-01-01", j="CN"))},
    )
    r = row(s, j="CN")
    assert (r.outcome, r.end_date, r.censoring) == ("individual", date(2012, 3, 1), "none")
    assert r.event and r.control_day_known


def test_a_list_in_force_before_the_report_is_still_pre_emptive() -> None:
    s = substance(
        "a", appearances=(appearance("2015-06-15"),), acts={"CN": (act("listed_by", "2014-01-01", j="CN"),)}
    )
    r = row(s, j="CN")
    assert (r.outcome, r.event, r.duration_days, r.end_kind) == ("pre_emptive", True, 0, "listed_by")
    assert not r.control_day_known  # the law was there first, but since when is not known


def test_statistics_count_interval_censored_rows_and_never_as_observed_lags() -> None:
    from service.lag.service import group_stats, km_points

    subs = [
        substance(
            f"s{i}",
            id=i,
            appearances=(appearance("2015-01-01"),),
            acts={"CN": (act(kind, day, j="CN"),)},
        )
        for i, (kind, day) in enumerate(
            [
                ("permanent", "2015-04-11"),  # 100 days
                ("permanent", "2015-07-20"),  # 200 days
                ("listed_by", "2015-02-20"),  # at most 50 days
                ("listed_by", "2016-05-14"),  # at most 499 days
            ],
            start=1,
        )
    ]
    rows = [row(s, j="CN", as_of=date(2017, 1, 1)) for s in subs]
    stats = group_stats(rows)
    assert (stats["n"], stats["n_controlled"], stats["n_censored"]) == (4, 2, 2)
    assert (stats["n_interval_censored"], stats["n_control_day_unknown"]) == (2, 2)
    assert stats["observed_median_days"] == 150  # of 100 and 200 only
    # Turnbull: the 50-day interval [0, 50] holds mass before 100 days, so by 200 days
    # three quarters are controlled and the last lies in [0, 499]
    assert stats["km_median_days"] is not None and stats["km_median_days"] <= 200
    assert stats["km_median_ci_days"] == [None, None]
    points = km_points(rows)
    assert points[0]["ci_lower"] is None and points[-1]["survival"] <= 0.5
