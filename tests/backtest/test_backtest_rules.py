"""The backtest on small hand-built registries with answers worked out by hand."""

from __future__ import annotations

import tomllib
from datetime import date
from itertools import count

import pytest

from service.backtest import service as bt
from service.chem.classes import compile_class
from service.chem.fingerprints import fingerprint, tanimoto_many
from service.chem.standardize import standardize_smiles
from service.dates import PartialDate
from service.lag.cli import analysis_snapshot
from service.lag.service import DAYS_PER_MONTH
from service.paths import schedules_dir
from service.registry.snapshot import Act, AppearanceFact, ClassFact, Snapshot, SubstanceFact

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
ACETYLFENTANYL = "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
BUTYRFENTANYL = "CCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
FLUORO_ACETYLFENTANYL = "CC(=O)N(c1ccc(F)cc1)C1CCN(CCc2ccccc2)CC1"
MT45 = "C1CCC(CC1)N1CCN(CC1)C(Cc1ccccc1)c1ccccc1"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
VALERYLFENTANYL = "CCCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
AS_OF = date(2026, 1, 1)
_ids = count(1)


def act(effective: str, j: str = "US", kind: str = "permanent") -> Act:
    return Act(j, kind, "I", date.fromisoformat(effective), None, f"{j} {effective}", "test")


def seen(text: str, place: str = "US") -> AppearanceFact:
    p = PartialDate.parse(text)
    return AppearanceFact(p.earliest, str(p.precision), place, "other", "tester", "test")


def sub(key: str, smiles: str, acts: list[Act], apps: list[str] = ()) -> SubstanceFact:  # type: ignore[assignment]
    _mol, ident = standardize_smiles(smiles)
    by_j: dict[str, list[Act]] = {}
    for a in acts:
        by_j.setdefault(a.jurisdiction, []).append(a)
    return SubstanceFact(
        id=next(_ids),
        key=key,
        name=key,
        smiles=ident.smiles,
        inchikey=ident.inchikey,
        connectivity=ident.connectivity,
        formula=ident.formula,
        family="fentanyl",
        nps=True,
        origin="registry",
        acts={j: tuple(sorted(v, key=lambda a: a.effective_date)) for j, v in by_j.items()},
        appearances=tuple(sorted((seen(t) for t in apps), key=lambda a: a.earliest)),
    )


def frs(effective: str) -> ClassFact:
    path = schedules_dir() / "classes" / "us-frs.toml"
    rules = tomllib.loads(path.read_text(encoding="utf-8"))["rules"]
    return ClassFact(
        id=1,
        key="test-frs",
        jurisdiction="US",
        name="fentanyl-related substances",
        schedule="I",
        source="test",
        acts=(act(effective),),
        compiled=compile_class("test-frs", rules),
        examples=[],
    )


def registry(subs: list[SubstanceFact], classes: list[ClassFact] | None = None) -> Snapshot:
    codes = {"US": "United States", "CN": "China"}
    return Snapshot("test", codes, {c: frozenset() for c in codes}, subs, classes or [])


def drugs(*smiles: str) -> list[bt.BackgroundDrug]:
    out = []
    for i, smi in enumerate(smiles):
        mol, ident = standardize_smiles(smi)
        out.append(bt.BackgroundDrug(f"CHEMBL{i}", f"drug{i}", mol, ident))
    return out


def sim(a: str, b: str) -> float:
    fa = fingerprint(standardize_smiles(a)[0])
    return tanimoto_many(fa, [fingerprint(standardize_smiles(b)[0])])[0]


def trial(run: bt.Run, key: str, j: str = "US") -> bt.Trial:
    return next(t for t in run.trials if t.row.key == key and t.row.jurisdiction == j)


def test_a_later_substance_never_sees_itself_or_what_appeared_after_it() -> None:
    # the fluoro analog is closer to acetylfentanyl than fentanyl is, and was listed before
    # acetylfentanyl's first appearance, but first reported only after it: not in the registry at t
    assert sim(ACETYLFENTANYL, FLUORO_ACETYLFENTANYL) > sim(ACETYLFENTANYL, FENTANYL)
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2016-06-15")], ["2015-06"])
    later = sub("fluoro", FLUORO_ACETYLFENTANYL, [act("2014-01-01")], ["2017"])
    snap = registry([fent, acetyl, later])
    t = date(2015, 6, 1)
    frozen = bt.freeze(snap, t)
    assert [s.key for s in frozen.substances] == ["fentanyl"]
    run = bt.run(snap, as_of=AS_OF, background=[], jurisdictions=["US"])
    assert [tr.row.key for tr in run.trials] == [
        "acetylfentanyl"
    ]  # fluoro: listed before it appeared
    tr = trial(run, "acetylfentanyl")
    assert tr.t == t
    assert tr.verdict.nearest is not None and tr.verdict.nearest["name"] == "fentanyl"
    assert tr.verdict.similarity == pytest.approx(sim(ACETYLFENTANYL, FENTANYL), abs=1e-4)
    assert tr.nearest_anywhere is not None and tr.nearest_anywhere["name"] == "fentanyl"


def test_month_precision_never_sees_that_months_listings() -> None:
    # fentanyl listed on 20 June 2015; acetylfentanyl reported "2015-06": checked on 1 June
    fent = sub("fentanyl", FENTANYL, [act("2015-06-20")])
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2016-06-15")], ["2015-06"])
    run = bt.run(registry([fent, acetyl]), as_of=AS_OF, background=[], jurisdictions=["US"])
    tr = trial(run, "acetylfentanyl")
    assert tr.t == date(2015, 6, 1)
    assert tr.verdict.nearest is None
    assert not tr.verdict.warned(0.30)
    s = bt.summarize(run, threshold=0.40)
    assert s["jurisdictions"][0]["misses"][0]["why"].startswith("nothing was controlled in US at t")


def test_a_class_law_in_force_after_t_does_not_fire_at_t() -> None:
    cls = frs("2018-02-06")
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2018-06-01")], ["2017-06"])
    snap = registry([fent, acetyl], [cls])
    t = date(2017, 6, 1)
    assert bt.freeze(snap, t).classes == []
    assert [c.key for c in bt.freeze(snap, date(2018, 2, 6)).classes] == ["test-frs"]
    run = bt.run(snap, as_of=AS_OF, background=[], jurisdictions=["US"])
    tr = trial(run, "acetylfentanyl")
    assert (tr.row.outcome, tr.row.end_date) == ("class", date(2018, 2, 6))  # after t
    assert tr.verdict.status_at(0.40) == "lookalike"  # by similarity to fentanyl
    # and by fentanyl's scaffold (acetylfentanyl is smaller: it does not contain fentanyl)
    assert tr.verdict.fixed == ("shares_scaffold",)
    assert "controlled_by_class" not in tr.verdict.signals(0.0)
    # the same check one day after the class law: covered by the class
    index = bt.frozen_index(bt.freeze(snap, date(2018, 2, 7)), bt.FingerprintCache(), "morgan2")
    from service.check.service import CheckOptions, check_parsed

    r = check_parsed(
        index,
        bt._substance_parsed(acetyl),
        CheckOptions(as_of=date(2018, 2, 7), jurisdictions=("US",)),
        query="x",
    )
    assert r.verdicts[0].status == "controlled_by_class"


def test_recall_lead_time_and_false_alarms_match_a_hand_count() -> None:
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    # warned: month-precision June 2015 -> midpoint 15 June; controlled 15 June 2016: 366 days
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2016-06-15")], ["2015-06"])
    # warned: day precision; 1 Jan 2016 to 1 Jul 2016: 182 days
    butyr = sub("butyrfentanyl", BUTYRFENTANYL, [act("2016-07-01")], ["2016-01-01"])
    # missed: another family, nothing like it controlled
    mt45 = sub("mt-45", MT45, [act("2018-01-12")], ["2013-10"])
    snap = registry([fent, acetyl, butyr, mt45])
    threshold = 0.40
    assert sim(ACETYLFENTANYL, FENTANYL) >= threshold and sim(BUTYRFENTANYL, FENTANYL) >= threshold
    assert max(sim(MT45, x) for x in (FENTANYL,)) < threshold
    # background: aspirin is never flagged, valerylfentanyl (not in this registry) always is
    assert sim(VALERYLFENTANYL, FENTANYL) >= threshold
    bg = drugs(ASPIRIN, VALERYLFENTANYL)
    run = bt.run(snap, as_of=AS_OF, background=bg, jurisdictions=["US"])
    s = bt.summarize(run, threshold=threshold)
    us = s["jurisdictions"][0]
    assert us["jurisdiction"] == "US"
    assert us["n_later_controlled"] == 3
    assert us["n_warned"] == 2
    assert us["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert us["median_lead_months"] == round((366 + 182) / 2 / DAYS_PER_MONTH, 1)  # 9.0
    assert sorted(w["lead_months"] for w in us["warned"]) == [
        round(182 / DAYS_PER_MONTH, 1),
        round(366 / DAYS_PER_MONTH, 1),
    ]
    assert us["false_alarm_rate"] == 0.5
    assert us["false_alarm_rate_now"] == 0.5
    assert us["signals"]["similarity"]["n_fired"] == 2
    assert [m["name"] for m in us["misses"]] == ["mt-45"]
    miss = us["misses"][0]
    assert miss["nearest"]["name"] == "fentanyl"
    assert miss["nearest"]["similarity"] == pytest.approx(sim(MT45, FENTANYL), abs=1e-4)
    # containment has no threshold: butyrfentanyl is fentanyl with a CH2 added, and so is the
    # background's valerylfentanyl with two; acetylfentanyl is smaller than fentanyl but
    # carries its scaffold (phenethyl-piperidinyl-aniline); mt-45 carries none of it
    assert us["signals"]["contains_controlled"]["n_fired"] == 1
    assert us["signals"]["shares_scaffold"]["n_fired"] == 1
    # at a threshold above every similarity only containment and the scaffold warn
    high = bt.summarize(run, threshold=0.99)["jurisdictions"][0]
    assert (high["n_warned"], high["recall"], high["false_alarm_rate"]) == (2, 0.6667, 0.5)
    assert sorted(w["name"] for w in high["warned"]) == ["acetylfentanyl", "butyrfentanyl"]
    # without them, nothing is warned and nothing is a false alarm
    others = frozenset(bt.SIGNALS) - {"contains_controlled", "shares_scaffold"}
    assert not any(tr.verdict.warned(0.99, 0.99, others) for tr in run.trials)


def test_control_elsewhere_before_t_is_a_signal() -> None:
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    # China listed it on 1 Jan 2015, before its first report (June 2015); the US in 2016
    acetyl = sub(
        "acetylfentanyl",
        ACETYLFENTANYL,
        [act("2015-01-01", j="CN"), act("2016-06-15")],
        ["2015-06"],
    )
    run = bt.run(registry([fent, acetyl]), as_of=AS_OF, background=[], jurisdictions=["US", "CN"])
    assert [tr.row.jurisdiction for tr in run.trials] == ["US"]  # in CN it was pre-emptive
    tr = trial(run, "acetylfentanyl")
    assert "controlled_elsewhere" in tr.verdict.fixed
    assert tr.verdict.warned(0.99)
    assert (
        tr.verdict.nearest is not None and tr.verdict.nearest["name"] == "fentanyl"
    )  # never itself


def test_resemblance_to_a_control_elsewhere_before_t_is_a_signal() -> None:
    # fentanyl listed in China only (2010); acetylfentanyl first reported June 2015 and
    # listed in the US in 2016: in the US at t it resembles what China controls
    fent = sub("fentanyl", FENTANYL, [act("2010-01-01", j="CN")])
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2016-06-15")], ["2015-06"])
    s = sim(ACETYLFENTANYL, FENTANYL)
    bg = drugs(ASPIRIN, VALERYLFENTANYL)
    run = bt.run(registry([fent, acetyl]), as_of=AS_OF, background=bg, jurisdictions=["US"])
    tr = trial(run, "acetylfentanyl")
    assert tr.verdict.nearest is None  # nothing controlled in the US at t
    assert tr.verdict.elsewhere == pytest.approx(s, abs=1e-4)
    other = tr.verdict.nearest_elsewhere
    assert other is not None and other["name"] == "fentanyl"
    assert other["where"] == [
        {"jurisdiction": "CN", "in_force_from": "2010-01-01", "citation": "CN 2010-01-01"}
    ]
    e = tr.verdict.elsewhere  # rounded to 4 decimals, as the check reports it
    # fentanyl's scaffold is carried whatever the threshold
    assert tr.verdict.signals(0.99, elsewhere_threshold=e) == [
        "similar_elsewhere",
        "shares_scaffold",
    ]
    assert tr.verdict.signals(0.99, elsewhere_threshold=e + 0.01) == ["shares_scaffold"]
    # the original signals alone miss it
    assert not tr.verdict.warned(0.99, e, bt.ORIGINAL_SIGNALS)
    us = bt.summarize(run, threshold=0.99, elsewhere_threshold=0.40)["jurisdictions"][0]
    assert (us["n_warned"], us["original_signals"]["n_warned"]) == (1, 0)
    assert us["signals"]["similar_elsewhere"]["n_fired"] == 1
    # valerylfentanyl resembles fentanyl too: a false alarm of this signal alone
    assert sim(VALERYLFENTANYL, FENTANYL) >= 0.40 > sim(ASPIRIN, FENTANYL)
    assert us["signals"]["similar_elsewhere"]["false_alarm_rate"] == 0.5
    assert us["signals"]["similarity"]["false_alarm_rate"] == 0.0


def test_resemblance_elsewhere_sees_no_later_act() -> None:
    # China lists fentanyl only after acetylfentanyl's first report: no signal at t
    fent = sub("fentanyl", FENTANYL, [act("2015-07-01", j="CN")])
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2016-06-15")], ["2015-06"])
    run = bt.run(registry([fent, acetyl]), as_of=AS_OF, background=[], jurisdictions=["US"])
    tr = trial(run, "acetylfentanyl")
    assert tr.verdict.nearest_elsewhere is None
    assert not tr.verdict.warned(0.0, 0.0)


def test_a_class_law_in_force_elsewhere_is_a_signal() -> None:
    # the US fentanyl-related-substances class (2018) covers valerylfentanyl, first
    # reported in 2019 and listed in China later: in China at t, a member of a US class law
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    valeryl = sub("valerylfentanyl", VALERYLFENTANYL, [act("2020-01-01", j="CN")], ["2019"])
    snap = registry([fent, valeryl], [frs("2018-02-06")])
    run = bt.run(snap, as_of=AS_OF, background=[], jurisdictions=["CN"])
    tr = trial(run, "valerylfentanyl", "CN")
    # (and it is fentanyl with two carbons added: it contains fentanyl whole)
    assert tr.verdict.fixed == ("class_elsewhere", "contains_controlled")
    assert tr.verdict.warned(0.99, 0.99)
    assert not tr.verdict.warned(0.99, 0.99, bt.ORIGINAL_SIGNALS)


def test_counterfactual_class_law_from_an_earlier_day() -> None:
    cls = frs("2018-02-06")
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    acetyl = sub("acetylfentanyl", ACETYLFENTANYL, [act("2016-06-15")], ["2015-06"])
    mt45 = sub("mt-45", MT45, [act("2017-01-12")], ["2013-10"])
    out = bt.counterfactual(
        registry([fent, acetyl, mt45], [cls]), as_of=AS_OF, since=[date(2016, 1, 1)]
    )
    (us,) = out
    assert (us["jurisdiction"], us["class_law_date"], us["since"]) == (
        "US",
        "2018-02-06",
        "2016-01-01",
    )
    assert us["n_listings"] == 2  # fentanyl (1971) is before D
    assert us["n_covered"] == 1
    (covered,) = [x for x in us["substances"] if x["covered"]]
    assert covered["name"] == "acetylfentanyl"
    days = (date(2016, 6, 15) - date(2016, 1, 1)).days  # 166: less than the lag of 366 days
    assert covered["months_earlier"] == round(days / DAYS_PER_MONTH, 1)
    assert covered["lag_months_saved"] == round(days / DAYS_PER_MONTH, 1)
    assert covered["lag_months"] == round(366 / DAYS_PER_MONTH, 1)


def test_background_leaves_out_registry_substances_and_class_members() -> None:
    snap = registry([sub("fentanyl", FENTANYL, [act("1971-05-01")])], [frs("2018-02-06")])
    kept = bt.background_set(snap, drugs(ASPIRIN, FENTANYL, VALERYLFENTANYL))
    assert [d.name for d in kept] == ["drug0"]  # fentanyl: registry; valeryl: a class member


def test_unknown_fingerprint_is_refused() -> None:
    from service.errors import UnprocessableInput

    with pytest.raises(UnprocessableInput):
        bt.run(registry([]), as_of=AS_OF, fingerprint="ecfp", background=[])
    assert bt._fp_setting("morgan3") == ("morgan", 3)
    assert bt.fingerprint_name("atom-pair", 2) == "atom-pair"


def test_the_flagged_background_names_each_drug_its_signals_and_what_it_resembles() -> None:
    fent = sub("fentanyl", FENTANYL, [act("1971-05-01")])
    snap = registry([fent])
    bg = drugs(ASPIRIN, VALERYLFENTANYL)
    run = bt.run(snap, as_of=AS_OF, background=bg, jurisdictions=["US", "CN"])
    threshold = 0.40
    flagged = bt.flagged_background(run, threshold=threshold, elsewhere_threshold=0.99)
    # valerylfentanyl resembles fentanyl, controlled in the US only: similarity there; and it
    # holds fentanyl whole, wherever asked (contains_controlled); aspirin resembles nothing
    assert [d["name"] for d in flagged] == ["Drug1"]
    assert flagged[0]["chembl_id"] == "CHEMBL1"
    assert flagged[0]["jurisdictions"] == {
        "CN": ["contains_controlled"],
        "US": ["similarity", "contains_controlled"],
    }
    assert flagged[0]["nearest"] == [f"fentanyl ({sim(VALERYLFENTANYL, FENTANYL):.2f}, US)"]
    # the list is the today false-alarm rate's numerator
    assert run.background[(AS_OF, "US")].rate(threshold, 0.99) == 0.5
    # in China the same resemblance is to a substance controlled elsewhere
    elsewhere = bt.flagged_background(run, threshold=0.99, elsewhere_threshold=threshold)
    assert elsewhere[0]["jurisdictions"] == {
        "CN": ["similar_elsewhere", "contains_controlled"],
        "US": ["contains_controlled"],
    }
    (alone,) = bt.flagged_background(run, threshold=0.99, elsewhere_threshold=0.99)
    assert alone["jurisdictions"] == {"CN": ["contains_controlled"], "US": ["contains_controlled"]}
    assert (
        bt.flagged_only_by(run, "contains_controlled", threshold=0.99, elsewhere_threshold=0.99)
        == 1
    )
    assert bt.flagged_only_by(run, "contains_controlled", threshold=threshold) == 0


def test_opioid_like_drugs_are_counted_where_they_are_not_controlled() -> None:
    # the shipped registry: naloxone resembles oxymorphone (N-allyl for N-methyl), haloperidol
    # resembles nothing listed closely enough, loperamide carries norpipanone's scaffold
    # (diphenylpropyl-piperidine), nalbuphine is controlled in China only
    snap = analysis_snapshot(schedules_dir())
    got = bt.opioid_like(
        snap,
        as_of=AS_OF,
        threshold=0.55,
        elsewhere_threshold=0.50,
        names=("NALOXONE", "HALOPERIDOL", "LOPERAMIDE", "NALBUPHINE"),
    )
    rows = {r["name"]: r["cells"] for r in got["rows"]}
    assert set(rows) == {"Naloxone", "Haloperidol", "Loperamide", "Nalbuphine"}
    assert rows["Haloperidol"] == {c: "not_flagged" for c in got["codes"]}
    assert rows["Loperamide"] == {c: "lookalike (shares_scaffold)" for c in got["codes"]}
    assert all(rows["Naloxone"][c].startswith("lookalike (similarity") for c in got["codes"])
    assert rows["Nalbuphine"]["CN"] == "controlled"
    # every pair but nalbuphine in China counts; all but haloperidol's are flagged
    assert got["pairs"] == 4 * len(got["codes"]) - 1
    assert got["flagged"] == sum(
        1 for cells in rows.values() for v in cells.values() if v.startswith("lookalike")
    )
    assert got["rate"] == pytest.approx(got["flagged"] / got["pairs"])
    assert got["resembling"] <= got["flagged"]

    # the US excludes naloxone and nalbuphine from its opiates by name (21 CFR 1308.12(b)(1)):
    # those two pairs are marked, both flagged; loperamide is excluded nowhere
    assert rows["Naloxone"]["US"].endswith(" †") and rows["Nalbuphine"]["US"].endswith(" †")
    assert not any(v.endswith("†") for v in rows["Loperamide"].values())
    assert not any(v.endswith("†") for v in rows["Haloperidol"].values())
    assert not rows["Naloxone"]["UN"].endswith("†")
    assert (got["excluded"], got["excluded_flagged"]) == (2, 2)
