"""The signals added by issue 18 on the real registry: resemblance to a substance controlled in
another jurisdiction (`similar_elsewhere`), a class law of another jurisdiction
(`class_elsewhere`), and the `why` every warning carries."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from service.check import service
from service.check.index import WatchIndex
from service.check.service import CheckOptions

# para-chlorovaleryl fentanyl: in no list, a member of the US (2018) and Chinese (2019)
# fentanyl-related-substances class laws, and 0.86 from valeryl fentanyl (CN 2017, US 2018)
CHLOROVALERYL = "CCCCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1"
MT45 = "C1CCC(CC1)N1CCN(CC1)C(Cc1ccccc1)c1ccccc1"


def verdicts(index: WatchIndex, query: str, **kw: Any) -> dict[str, Any]:
    result = service.check(index, query, CheckOptions(**kw))
    return {v.jurisdiction: v for v in result.verdicts}


def where(e: Any) -> list[tuple[str, str]]:
    return [(p.jurisdiction, p.in_force_from.isoformat()) for p in e.where]


def test_a_class_law_and_a_listing_elsewhere_warn_in_the_eu(real_index: WatchIndex) -> None:
    v = verdicts(real_index, CHLOROVALERYL, as_of=date(2020, 1, 1))
    assert (v["US"].status, v["CN"].status) == ("controlled_by_class", "controlled_by_class")
    eu = v["EU"]
    assert eu.status == "lookalike"
    assert eu.reasons == [
        "similarity",
        "similar_elsewhere",
        "class_elsewhere",
        "contains_controlled",
    ]
    similar, elsewhere, cn_class, us_class, inside = eu.why
    assert (similar.signal, similar.name, similar.similarity) == (
        "similarity",
        "butyryl fentanyl",
        0.75,
    )
    assert where(similar) == [("EU", "2017-03-16")]
    assert (elsewhere.signal, elsewhere.name, elsewhere.similarity) == (
        "similar_elsewhere",
        "valeryl fentanyl",
        0.86,
    )
    assert where(elsewhere) == [("CN", "2017-03-01"), ("US", "2018-02-01")]
    assert [(e.signal, e.key, e.detail, where(e)) for e in (cn_class, us_class)] == [
        ("class_elsewhere", "cn-frs", "member", [("CN", "2019-05-01")]),
        ("class_elsewhere", "us-frs", "member", [("US", "2018-02-06")]),
    ]
    # valeryl fentanyl with a chlorine added: the largest substance it contains whole
    assert (inside.signal, inside.name) == ("contains_controlled", "valeryl fentanyl")
    assert inside.detail == "contained whole in the query: 27 of the query's 28 heavy atoms"
    # it carries the fentanyls' scaffold too, but the whole substance is the stronger reason
    assert "shares_scaffold" not in eu.reasons


def test_class_elsewhere_needs_the_law_in_force(real_index: WatchIndex) -> None:
    # 1 January 2018: before the US (2018-02-06) and Chinese (2019-05-01) class laws
    v = verdicts(real_index, CHLOROVALERYL, as_of=date(2018, 1, 1), jurisdictions=("EU",))
    assert "class_elsewhere" not in v["EU"].reasons
    assert all(e.signal != "class_elsewhere" for e in v["EU"].why)


def test_the_elsewhere_threshold_is_its_own(real_index: WatchIndex) -> None:
    day = date(2020, 1, 1)
    low = verdicts(real_index, CHLOROVALERYL, as_of=day, elsewhere_threshold=0.86)
    high = verdicts(real_index, CHLOROVALERYL, as_of=day, elsewhere_threshold=0.87)
    assert "similar_elsewhere" in low["EU"].reasons
    assert "similar_elsewhere" not in high["EU"].reasons
    assert "similarity" in high["EU"].reasons  # the threshold in J is untouched
    assert service.DEFAULT_ELSEWHERE_THRESHOLD == 0.50  # chosen on the curve, docs/backtest.md


def test_mt45_resembles_nothing_listed_but_contains_lefetamine(real_index: WatchIndex) -> None:
    # a new scaffold by fingerprint: 0.32 from its nearest listed neighbour, below both
    # thresholds; but lefetamine (UN 1971 Schedule IV) is inside it whole
    v = verdicts(real_index, MT45, as_of=date(2013, 10, 1), jurisdictions=("CN",))
    assert v["CN"].status == "lookalike"
    assert v["CN"].reasons == ["contains_controlled"]
    (why,) = v["CN"].why
    assert (why.signal, why.key) == ("contains_controlled", "lefetamine")


def test_every_reason_has_its_why_and_quiet_verdicts_have_none(real_client: TestClient) -> None:
    for structure in (CHLOROVALERYL, "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "CCO", "fentanyl"):
        r = real_client.post("/check", json={"structure": structure, "as_of": "2020-01-01"})
        assert r.status_code == 200
        for v in r.json()["verdicts"]:
            if v["reasons"]:
                assert v["status"] == "lookalike"
                assert {e["signal"] for e in v["why"]} == set(v["reasons"])
                assert all(e["where"] for e in v["why"])
            else:
                assert "why" not in v  # the pinned JSON of unflagged and controlled verdicts


def test_a_listed_substance_with_atoms_added_is_flagged_by_containment(
    real_index: WatchIndex,
) -> None:
    """MT-45 (first reported 2013) contains lefetamine whole, controlled in the UN's 1971
    Schedule IV: on 1 January 2014 nothing else flagged it; containment does, and says what."""
    v = verdicts(real_index, MT45, as_of=date(2014, 1, 1), jurisdictions=("US",))["US"]
    assert v.status == "lookalike" and v.reasons == ["contains_controlled"]
    (why,) = v.why
    assert (why.signal, why.key) == ("contains_controlled", "lefetamine")
    assert why.detail == "contained whole in the query: 17 of the query's 26 heavy atoms"
    assert {p.jurisdiction for p in why.where} >= {"UN"}
    assert why.similarity is not None and 0.25 <= why.similarity < 0.55  # similarity misses it


def test_containment_needs_a_proper_superstructure_and_a_shared_pharmacophore(
    real_index: WatchIndex,
) -> None:
    day = date(2026, 11, 1)
    # apomorphine's ring system embeds lefetamine's chain, at similarity 0.09: not flagged
    apo = "CN1CCc2cccc3c2[C@H]1Cc1ccc(O)c(O)c1-3"
    assert all(
        "contains_controlled" not in v.reasons
        for v in verdicts(real_index, apo, as_of=day).values()
    )
    # dextromethorphan is levomethorphan's mirror image, not levomethorphan with atoms added
    dxm = "COc1ccc2c(c1)[C@]13CCCC[C@@H]1[C@H](C2)N(C)CC3"
    assert all(
        "contains_controlled" not in v.reasons
        for v in verdicts(real_index, dxm, as_of=day).values()
    )
    # para-fluoro valeryl fentanyl holds para-fluorobutyryl fentanyl whole (a CH2 added), the
    # largest of the listed fentanyls inside it (valeryl fentanyl and fentanyl are too)
    v = verdicts(
        real_index, "CCCCC(=O)N(c1ccc(F)cc1)C1CCN(CCc2ccccc2)CC1", as_of=day, jurisdictions=("UK",)
    )
    inside = next(e for e in v["UK"].why if e.signal == "contains_controlled")
    assert inside.key == "para-fluorobutyrfentanyl", inside.key


BRORPHINE = "CC(c1ccc(Br)cc1)N1CCC(n2c(=O)[nH]c3ccccc32)CC1"


def test_a_new_series_on_a_listed_scaffold_is_flagged(real_index: WatchIndex) -> None:
    """Brorphine (first reported April 2019) resembles nothing listed by fingerprint (0.24 from
    bezitramide) and contains no listed substance whole, but it carries bezitramide's
    piperidinyl-benzimidazolone, with another chain on the piperidine."""
    v = verdicts(real_index, BRORPHINE, as_of=date(2019, 5, 1), jurisdictions=("UK",))["UK"]
    assert v.status == "lookalike" and v.reasons == ["shares_scaffold"]
    (why,) = v.why
    assert (why.signal, why.key, why.scaffold) == (
        "shares_scaffold",
        "bezitramide",
        "O=c1[nH]c2ccccc2n1C1CCNCC1",
    )
    assert why.detail == "shares its scaffold: 16 of the query's 25 heavy atoms"
    assert why.similarity is not None and 0.20 <= why.similarity < 0.25
    assert {p.jurisdiction for p in why.where} == {"CN", "EU", "UK", "UN", "US"}


def test_a_scaffold_must_be_most_of_the_query(real_index: WatchIndex) -> None:
    day = date(2026, 11, 1)
    # domperidone carries the same piperidinyl-benzimidazolone, but 16 of its 29 heavy atoms
    domperidone = "O=c1[nH]c2ccccc2n1CCCN1CCC(n2c(=O)[nH]c3cc(Cl)ccc32)CC1"
    # haloperidol's phenylpiperidine and butyrophenone are no listed scaffold; aspirin has one
    # ring system; pethidine's single ring system is none
    for query in (
        domperidone,
        "OC1(c2ccc(Cl)cc2)CCN(CCCC(=O)c2ccc(F)cc2)CC1",
        "CC(=O)Oc1ccccc1C(=O)O",
    ):
        assert all(
            "shares_scaffold" not in v.reasons
            for v in verdicts(real_index, query, as_of=day).values()
        ), query


def test_scaffold_signal_parameters_are_its_own(real_index: WatchIndex) -> None:
    """The largest scaffold wins; a scaffold below the size floor or share does not count."""
    index = real_index
    mol = service.parse_smiles(BRORPHINE)
    search = index.similarity.query(index, mol, BRORPHINE)
    own = frozenset(i for i, s in enumerate(index.snapshot.substances) if s.key == "brorphine")
    day = date(2019, 5, 1)
    found = service.shared_scaffold(index, search, mol, day, own)
    assert found is not None and found[0].key == "bezitramide" and found[2].size == 16
    assert service.shared_scaffold(index, search, mol, day, own, min_atoms=17) is None
    assert service.shared_scaffold(index, search, mol, day, own, min_share=0.7) is None
    assert service.shared_scaffold(index, search, mol, day, own, min_similarity=0.25) is None
    # bezitramide was listed long before: on a day before any listing, nothing is shared
    assert service.shared_scaffold(index, search, mol, date(1950, 1, 1), own) is None
