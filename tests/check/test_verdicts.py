"""Verdicts on the real registry: listed substances, salts, names, dates, classes, lookalikes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.check.index import WatchIndex
from service.check import service
from service.check.service import CheckOptions
from service.cli import app
from service.config import Settings, get_settings
from service.registry.snapshot import act_in_force

# para-chlorobutyryl fentanyl analog with the chlorine on the anilide ring: not in the
# registry, covered by US clauses D (aromatic monocycle replacing the aniline ring) and E
NEW_ANALOG = "CCCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
SALTS = [".Cl", ".OC(=O)CC(O)(C(=O)O)CC(=O)O", ".OC(=O)/C=C/C(=O)O"]


def check(index: WatchIndex, query: str, options: CheckOptions) -> dict:
    """The check's answer in its JSON form (the API's contract), which these cases assert."""
    return service.check(index, query, options).model_dump(mode="json")


def _status(index: WatchIndex, query: str, code: str, day: date) -> dict:
    result = check(index, query, CheckOptions(as_of=day, jurisdictions=(code,)))
    return result["verdicts"][0]


def _listed_cases(index: WatchIndex) -> list[tuple[str, str, str, date]]:
    """(name, smiles, jurisdiction, a day its own act was in force) for every listed substance."""
    cases = []
    for s in index.snapshot.substances:
        for code, acts in s.acts.items():
            for a in acts:
                if a.kind != "removal" and act_in_force(acts, a.effective_date) is not None:
                    cases.append((s.name, s.smiles, code, a.effective_date))
                    break
    return cases


def test_every_listed_substance_is_controlled_by_smiles_salt_and_name(real_index: WatchIndex) -> None:
    cases = _listed_cases(real_index)
    assert len(cases) > 150
    failures = []
    for i, (name, smiles, code, day) in enumerate(cases):
        salt = smiles + SALTS[i % len(SALTS)]
        for query in (smiles, salt, name):
            v = _status(real_index, query, code, day)
            if v["status"] != "controlled" or v["substance"]["jurisdiction"] != code:
                failures.append((name, code, day, query[:30], v["status"]))
    assert failures == []


def test_salt_and_charged_forms_match_by_inchikey(real_index: WatchIndex) -> None:
    base = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
    for query in (base + ".Cl", "CCC(=O)N(c1ccccc1)C1CC[NH+](CCc2ccccc2)CC1"):
        r = check(real_index, query, CheckOptions(as_of=date(2020, 1, 1), jurisdictions=("US",)))
        assert r["inchikey"] == "PJMPHNIQZUBGLI-UHFFFAOYSA-N"
        assert r["verdicts"][0]["status"] == "controlled"
        assert r["verdicts"][0]["substance"]["match"] == "inchikey"


def test_stereoisomer_matches_by_connectivity(real_index: WatchIndex) -> None:
    # U-47700 is listed without stereo; the (1R,2R) isomer is the same substance in law
    r = check(
        real_index,
        "CN(C)[C@@H]1CCCC[C@H]1N(C)C(=O)c1ccc(Cl)c(Cl)c1",
        CheckOptions(as_of=date(2020, 1, 1), jurisdictions=("US",)),
    )
    v = r["verdicts"][0]
    assert v["status"] == "controlled"
    assert v["substance"]["name"] == "U-47700"
    assert v["substance"]["match"] == "connectivity"


# alpha- and betaprodine: the two racemic diastereomers of one skeleton, listed apart (US
# Schedules II and I); each is stored as one enantiomer, and either enantiomer is that entry
PRODINES = {
    "alphaprodine": (
        ("CCC(=O)O[C@@]1(c2ccccc2)CCN(C)C[C@H]1C", "CCC(=O)O[C@]1(c2ccccc2)CCN(C)C[C@@H]1C"),
        "II",
    ),
    "betaprodine": (
        ("CCC(=O)O[C@]1(c2ccccc2)CCN(C)C[C@H]1C", "CCC(=O)O[C@@]1(c2ccccc2)CCN(C)C[C@@H]1C"),
        "I",
    ),
}


@pytest.mark.parametrize("key", sorted(PRODINES))
def test_either_enantiomer_of_a_listed_racemic_diastereomer_is_that_entry(
    real_index: WatchIndex, key: str
) -> None:
    enantiomers, schedule = PRODINES[key]
    for smiles in enantiomers:
        v = _status(real_index, smiles, "US", date(2026, 1, 1))
        assert v["status"] == "controlled"
        assert (v["substance"]["key"], v["substance"]["schedule"]) == (key, schedule)


def test_a_prodine_without_stereo_names_both_entries_where_their_schedules_differ(
    real_index: WatchIndex,
) -> None:
    flat = "CCC(=O)OC1(c2ccccc2)CCN(C)CC1C"
    day = date(2026, 11, 1)
    us = _status(real_index, flat, "US", day)
    assert us["status"] == "controlled"
    found = {(us["substance"]["key"], us["substance"]["schedule"])} | {
        (a["key"], a["schedule"]) for a in us["alternatives"]
    }
    assert found == {("alphaprodine", "II"), ("betaprodine", "I")}
    # Class A either way in the UK: nothing to tell apart
    assert "alternatives" not in _status(real_index, flat, "UK", day)
    # with its stereocentres given, the structure is one entry
    one = _status(real_index, PRODINES["betaprodine"][0][1], "US", day)
    assert "alternatives" not in one


def test_laam_is_its_own_entry_in_the_us_and_an_alphacetylmethadol_isomer_elsewhere(
    real_index: WatchIndex,
) -> None:
    laam = "CC[C@H](OC(C)=O)C(C[C@H](C)N(C)C)(c1ccccc1)c1ccccc1"
    mirror = "CC[C@@H](OC(C)=O)C(C[C@@H](C)N(C)C)(c1ccccc1)c1ccccc1"
    day = date(2026, 11, 1)
    us = _status(real_index, laam, "US", day)
    assert us["status"] == "controlled"
    assert (us["substance"]["key"], us["substance"]["schedule"], us["substance"]["match"]) == (
        "levacetylmethadol",
        "II",
        "inchikey",
    )
    # Schedule I's alphacetylmethadol excepts LAAM, not its enantiomer
    dextro = _status(real_index, mirror, "US", day)
    assert (dextro["substance"]["key"], dextro["substance"]["schedule"]) == ("alphacetylmethadol", "I")
    # the UK lists no LAAM of its own: it is a stereoisomer of alphacetylmethadol (Class A)
    uk = _status(real_index, laam, "UK", day)
    assert uk["status"] == "controlled"
    assert (uk["substance"]["key"], uk["substance"]["match"]) == ("alphacetylmethadol", "connectivity")
    # before the only US act on record (a consolidated list of 2026), the US status of LAAM is
    # not known: the Schedule I entry that excepts it does not stand in for its own listing
    before = _status(real_index, laam, "US", date(2000, 1, 1))
    assert before["status"] != "controlled"
    assert before["listed_later"]["key"] == "levacetylmethadol"
    assert _status(real_index, laam, "UK", date(2000, 1, 1))["substance"]["key"] == "alphacetylmethadol"


def test_mirror_inchikey_inverts_every_centre() -> None:
    from service.chem.standardize import mirror_inchikey, standardize_smiles

    levo, _ = standardize_smiles("COc1ccc2c(c1)[C@@]13CCCC[C@H]1[C@@H](C2)N(C)CC3")
    assert mirror_inchikey(levo) == "MKXZASYAUGDDCJ-NJAFHUGGSA-N"  # dextromethorphan
    flat, _ = standardize_smiles("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")
    assert mirror_inchikey(flat) is None


def test_u47700_in_china_before_and_after_1_july_2017(real_index: WatchIndex) -> None:
    before = _status(real_index, "U-47700", "CN", date(2017, 6, 30))
    after = _status(real_index, "U-47700", "CN", date(2017, 7, 1))
    assert before["status"] in ("lookalike", "not_flagged")
    assert "controlled_elsewhere" in before["reasons"]  # the US listed it in November 2016
    assert after["status"] == "controlled"
    assert after["substance"]["effective_date"] == "2017-07-01"


def test_new_fentanyl_analog_is_class_controlled_in_us_only_from_6_february_2018(
    real_index: WatchIndex,
) -> None:
    assert NEW_ANALOG not in {s.smiles for s in real_index.snapshot.substances}
    before = _status(real_index, NEW_ANALOG, "US", date(2018, 2, 5))
    on = _status(real_index, NEW_ANALOG, "US", date(2018, 2, 6))
    assert before["status"] == "lookalike"
    assert "similarity" in before["reasons"]
    assert on["status"] == "controlled_by_class"
    cm = on["class_match"]
    assert cm["key"] == "us-frs"
    assert {c["key"] for c in cm["clauses"]} == {"D", "E"}
    assert cm["citation"] == "83 FR 5188"
    assert cm["needs_legal_review"] is True


def test_new_fentanyl_analog_in_china_from_1_may_2019(real_index: WatchIndex) -> None:
    assert _status(real_index, NEW_ANALOG, "CN", date(2019, 4, 30))["status"] == "lookalike"
    on = _status(real_index, NEW_ANALOG, "CN", date(2019, 5, 1))
    assert on["status"] == "controlled_by_class"
    assert on["class_match"]["key"] == "cn-frs"


@pytest.mark.parametrize("key", ["us-frs", "cn-frs"])
def test_class_examples_from_the_registry(real_index: WatchIndex, key: str) -> None:
    cls = next(c for c in real_index.snapshot.classes if c.key == key)
    day = min(a.effective_date for a in cls.acts) + timedelta(days=1)
    assert len(cls.examples) >= 10
    for ex in cls.examples:
        v = _status(real_index, ex["smiles"], cls.jurisdiction, day)
        if ex["member"]:
            # a member is controlled by the class unless listed on its own (which wins)
            assert v["status"] in ("controlled", "controlled_by_class"), ex["name"]
            if v["status"] == "controlled_by_class":
                assert v["class_match"]["key"] == key
        else:
            assert v["status"] != "controlled_by_class", ex["name"]


def test_unrelated_drug_is_not_flagged(real_index: WatchIndex) -> None:
    r = check(real_index, ASPIRIN, CheckOptions(as_of=date(2024, 1, 1)))
    assert {v["status"] for v in r["verdicts"]} == {"not_flagged"}
    assert all(v["neighbors"][0]["similarity"] < 0.4 for v in r["verdicts"] if v["neighbors"])


def test_neighbors_are_controlled_there_and_sorted(real_index: WatchIndex) -> None:
    v = _status(real_index, NEW_ANALOG, "US", date(2024, 1, 1))
    sims = [n["similarity"] for n in v["neighbors"]]
    assert len(sims) == 5
    assert sims == sorted(sims, reverse=True)
    by_id = real_index.by_id
    assert all(by_id[n["id"]].act_in_force("US", date(2024, 1, 1)) for n in v["neighbors"])


def test_eu_includes_un_schedules(real_index: WatchIndex) -> None:
    un = [s for s in real_index.snapshot.substances if s.act_in_force("UN", date(2024, 1, 1))]
    assert un
    for s in un:
        v = _status(real_index, s.smiles, "EU", date(2024, 1, 1))
        assert v["status"] == "controlled"
        assert v["substance"]["citation"].startswith(("UN: ", "")), v



def test_concurrent_first_requests_build_the_index_once(real_client: TestClient) -> None:
    """Eight threads asking a fresh holder at once get one index, built once."""
    import threading

    from service.check.index import IndexHolder

    engine = real_client.app.state.index_holder.engine  # type: ignore[attr-defined]
    holder = IndexHolder(engine, kind="morgan", radius=2, bits=2048)
    builds: list[int] = []
    rebuild = holder.rebuild

    def counted() -> WatchIndex:
        builds.append(1)
        return rebuild()

    holder.rebuild = counted  # type: ignore[method-assign]
    start = threading.Barrier(8)
    got: list[WatchIndex] = []

    def ask() -> None:
        start.wait()
        got.append(holder.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert len({id(x) for x in got}) == 1


def test_a_fentanyl_analogue_without_a_uk_act_carries_the_unencoded_uk_generic(
    real_index: WatchIndex,
) -> None:
    day = date(2026, 11, 1)
    # acetylfentanyl: no UK act of its own, and the UK's fentanyl generic is not encoded
    uk = _status(real_index, "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "UK", day)
    assert uk["status"] == "lookalike"  # the caveat never changes the status
    (caveat,) = uk["caveats"]
    assert caveat["key"] == "uk-fentanyl-generic"
    assert caveat["jurisdiction"] == "UK"
    assert caveat["known_in_force_by"] == "2020-01-03"
    assert caveat["source"].startswith("https://www.gov.uk/")
    assert caveat["schedule"] == ""  # not read: left empty rather than guessed
    # the same structure in the US is controlled, and a caveat is for the law's own country
    us = _status(real_index, "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "US", day)
    assert us["status"] == "controlled" and "caveats" not in us
    # a UK-listed fentanyl is controlled there: nothing to caution about
    assert "caveats" not in _status(real_index, "fentanyl", "UK", day)
    # other opioid scaffolds and lookalike medicines are not the law's concern
    for query in ("pethidine", "U-47700", "CN(C)C(=O)C(CCN1CCC(O)(c2ccc(Cl)cc2)CC1)(c1ccccc1)c1ccccc1"):
        assert "caveats" not in _status(real_index, query, "UK", day), query


def test_a_caveat_is_in_the_json_only_where_it_applies(real_index: WatchIndex) -> None:
    out = check(real_index, ASPIRIN, CheckOptions(as_of=date(2026, 11, 1)))
    assert all("caveats" not in v for v in out["verdicts"])


# ketamine: a controlled drug in the UK (Class B) and the US (Schedule III), but no opioid
KETAMINE = "CNC1(c2ccccc2Cl)CCCCC1=O"


def test_not_flagged_says_what_the_registry_does_not_cover(
    real_client: TestClient, real_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-opioid is not flagged; every answer that says so also says the registry's scope."""
    schema = real_client.get("/openapi.json").json()["components"]["schemas"]["Verdict"]
    status = schema["properties"]["status"]["description"]
    assert "says nothing about drugs outside that scope" in status and "ketamine" in status
    r = real_client.post("/check", json={"structure": KETAMINE, "jurisdictions": ["UK"]})
    assert r.json()["verdicts"][0]["status"] == "not_flagged"

    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", real_settings.database_url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["check", KETAMINE, "-j", "UK"])
        listed = CliRunner().invoke(app, ["check", "fentanyl", "-j", "UK"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.stderr
    assert "not_flagged" in out.stdout and "Note: The registry holds opioids" in out.stdout
    assert listed.exit_code == 0 and "The registry holds opioids" not in listed.stdout

    page = real_client.get("/check-page", params={"structures": KETAMINE}).text
    assert page.count('class="sub scope"') == 1 and "dissociatives such as ketamine" in page
    page = real_client.get("/check-page", params={"structures": "fentanyl", "jurisdiction": "US"})
    assert 'class="sub scope"' not in page.text
