"""What the law says today about the opioids people ask about most, per jurisdiction.

Each structure is checked against its public InChIKey (PubChem) first, so the question is
the right one; the expected answers are those of the legal lists (1961 Convention, 21 CFR
1308, Misuse of Drugs Act 1971 Schedule 2, China's catalogues), with the EU inheriting the
UN schedules.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

CONTROLLED = {"controlled", "controlled_by_class"}
ALL = ("UN", "US", "UK", "CN", "EU")

# name, SMILES, PubChem InChIKey, {jurisdiction: expected status set}
CASES = [
    (
        "oxycodone",
        "COc1ccc2C[C@H]3N(C)CC[C@@]45[C@@H](Oc1c24)C(=O)CC[C@@]35O",
        "BRUQQQPBMZOVGD-XFKAJCMBSA-N",
        dict.fromkeys(ALL, {"controlled"}),
    ),
    (
        "codeine",
        "COc1ccc2C[C@H]3N(C)CC[C@@]45[C@@H](Oc1c24)[C@@H](O)C=C[C@@H]35",
        "OROGSEYTTFOCAN-DNJOTXNNSA-N",
        dict.fromkeys(ALL, {"controlled"}),
    ),
    (
        "carfentanil",
        "CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1",
        "YDSDEBIZUNNPOB-UHFFFAOYSA-N",
        # the UK controls it by the 1986 generic fentanyl definition
        {**dict.fromkeys(ALL, {"controlled"}), "UK": CONTROLLED},
    ),
    (
        "etonitazene",
        "CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1",
        "PXDBZSCGSQSKST-UHFFFAOYSA-N",
        dict.fromkeys(ALL, {"controlled"}),
    ),
    (
        "tramadol",
        "COc1cccc([C@@]2(O)CCCC[C@@H]2CN(C)C)c1",
        "TVYLLZQTGLZFBW-ZBFHGGJFSA-N",
        # US Schedule IV (2014), UK Class C (2014), China psychotropic category II;
        # not in the UN conventions, so not in EU law either
        {
            "US": {"controlled"},
            "UK": {"controlled"},
            "CN": {"controlled"},
            "UN": {"lookalike", "not_flagged"},
            "EU": {"lookalike", "not_flagged"},
        },
    ),
    (
        "dextromethorphan",
        "COc1ccc2c(c1)[C@]13CCCC[C@@H]1[C@H](C2)N(C)CC3",
        "MKXZASYAUGDDCJ-NJAFHUGGSA-N",
        # expressly excluded where levomethorphan and racemethorphan are controlled (UN, US, UK,
        # EU); China names it and has controlled it as a category II psychotropic since
        # 2024-07-01 (NMPA, MPS and NHC announcement 2024 No. 54)
        {**dict.fromkeys(ALL, {"lookalike", "not_flagged"}), "CN": {"controlled"}},
    ),
    (
        # the 1971 Convention's Schedule III (UN, and so the EU), 21 CFR 1308.13 (US), the
        # Misuse of Drugs Act Class C (UK), China's category I psychotropics
        "buprenorphine",
        "C1(CC1)CN1[C@H]2[C@@]34C[C@@H]([C@@]([C@H]5[C@@]3(C=3C(=C(C=CC3C2)O)O5)CC1)(CC4)OC)[C@@](C)(C(C)(C)C)O",
        "RMRJXGBAOAMLHD-IHFGGWKQSA-N",
        dict.fromkeys(ALL, {"controlled"}),
    ),
    (
        # kratom's potent alkaloid: China's NPS supplementary list since 2024-07-01 (annex no. 43);
        # the US lists three of its derivatives temporarily (MGM-15, MGM-16, mitragynine
        # pseudoindoxyl), not 7-hydroxymitragynine itself; no UN, UK or EU act
        "7-hydroxymitragynine",
        "CC[C@@H]1CN2CC[C@@]3(O)C(=Nc4cccc(OC)c43)[C@@H]2C[C@@H]1/C(=C\\OC)C(=O)OC",
        "RYENLSMHLCNXJT-CYXFISRXSA-N",
        {**dict.fromkeys(ALL, {"lookalike", "not_flagged"}), "CN": {"controlled"}},
    ),
    (
        # UN Schedule II; US Schedules II and IV; China's narcotic catalogue; in the UK a controlled
        # drug by 1 February 2002 (its preparations are in Schedule 5 to the Misuse of Drugs
        # Regulations 2001); drawn as the dextro isomer the law names (levopropoxyphene is not it)
        "dextropropoxyphene",
        "CCC(=O)O[C@](Cc1ccccc1)(c1ccccc1)[C@H](C)CN(C)C",
        "XLMALTXPSGQGBX-GCJKJVERSA-N",
        dict.fromkeys(ALL, {"controlled"}),
    ),
    (
        "levomethorphan",
        "COc1ccc2c(c1)[C@@]13CCCC[C@H]1[C@@H](C2)N(C)CC3",
        "MKXZASYAUGDDCJ-CGTJXYLNSA-N",
        {"UN": {"controlled"}, "US": {"controlled"}, "UK": {"controlled"}, "EU": {"controlled"}},
    ),
]


@pytest.mark.parametrize(("name", "smiles", "inchikey", "expected"), CASES, ids=[c[0] for c in CASES])
def test_what_the_law_says_today(
    real_client: TestClient, name: str, smiles: str, inchikey: str, expected: dict[str, set[str]]
) -> None:
    body = real_client.post(
        "/check", json={"structure": smiles, "jurisdictions": sorted(expected)}
    ).json()
    assert body["inchikey"] == inchikey
    got = {v["jurisdiction"]: v["status"] for v in body["verdicts"]}
    wrong = {j: got[j] for j, ok in expected.items() if got[j] not in ok}
    assert wrong == {}, f"{name}: {wrong}"


def test_dextromethorphan_is_not_matched_to_the_methorphans(real_client: TestClient) -> None:
    """Same skeleton, another stereoisomer: the law's exclusion holds, the entries stay neighbours."""
    body = real_client.post(
        "/check", json={"structure": CASES[5][1], "jurisdictions": ["US"]}
    ).json()
    verdict = body["verdicts"][0]
    assert verdict["substance"] is None
    nearest = verdict["neighbors"][0]
    assert nearest["inchikey"][:14] == "MKXZASYAUGDDCJ"
    assert nearest["similarity"] == 1.0


def test_methorphan_without_stereo_is_the_racemate(real_client: TestClient) -> None:
    """A structure drawn without stereo cannot be told from racemethorphan: it is controlled."""
    body = real_client.post(
        "/check", json={"structure": "COc1ccc2CC3C4CCCCC4(CCN3C)c2c1", "jurisdictions": ["UN"]}
    ).json()
    verdict = body["verdicts"][0]
    assert verdict["status"] == "controlled"
    assert verdict["substance"]["key"] == "racemethorphan"


def test_before_a_consolidated_lists_date_the_status_is_said_to_be_unknown(
    real_client: TestClient,
) -> None:
    """The registry knows oxycodone is in the UN's Schedule I only from a consolidated text
    (kind `listed_by`, the version valid from 28 June 1987): asked about a day before it, the
    check says it does not know; asked about a day after it, the check says controlled."""
    oxycodone = CASES[0][1]
    early = real_client.post(
        "/check", json={"structure": oxycodone, "as_of": "1985-01-01", "jurisdictions": ["UN", "US"]}
    ).json()
    by = {v["jurisdiction"]: v for v in early["verdicts"]}
    later = by["UN"]["listed_later"]
    assert by["UN"]["status"] not in CONTROLLED
    assert later["kind"] == "listed_by" and later["key"] == "oxycodone"
    assert later["in_force_from"] > "1985-01-01"
    # the US act says since when (the Controlled Substances Act, 1971): nothing unknown there
    assert by["US"]["status"] == "controlled" and "listed_later" not in by["US"]
    after = real_client.post(
        "/check", json={"structure": oxycodone, "as_of": "1990-01-01", "jurisdictions": ["UN"]}
    ).json()
    assert after["verdicts"][0]["status"] == "controlled"
    assert "listed_later" not in after["verdicts"][0]
    today = real_client.post("/check", json={"structure": oxycodone, "jurisdictions": ["UN"]}).json()
    assert today["verdicts"][0]["status"] == "controlled"
    assert "listed_later" not in today["verdicts"][0]


def test_a_substance_controlled_later_by_a_dated_act_is_not_unknown(real_client: TestClient) -> None:
    """Before a dated act the substance was not controlled: no `listed_later`."""
    r = real_client.post(
        "/check",
        json={"structure": "CC(C)C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "as_of": "2010-01-01", "jurisdictions": ["US"]},
    ).json()
    v = r["verdicts"][0]
    assert v["status"] not in CONTROLLED and "listed_later" not in v


def test_pentazocine_is_controlled_where_its_lists_name_it(real_client: TestClient) -> None:
    """1971 Convention Schedule III (UN, and so the EU), 21 CFR 1308.14 Schedule IV (US),
    China's category II psychotropics. (The UK's Class B entry has no act in the registry yet.)"""
    body = real_client.post(
        "/check", json={"structure": "pentazocine", "jurisdictions": ["CN", "EU", "UN", "US"]}
    ).json()
    assert body["registry_substance"]["key"] == "pentazocine"
    got = {v["jurisdiction"]: (v["status"], v["substance"]["schedule"]) for v in body["verdicts"]}
    assert got == {
        "CN": ("controlled", "精神药品品种目录 category II"),
        "EU": ("controlled", "1971 Schedule III"),
        "UN": ("controlled", "1971 Schedule III"),
        "US": ("controlled", "IV"),
    }


def test_remifentanil_is_class_a_in_the_uk_from_july_2003(real_client: TestClient) -> None:
    """SI 2003/1243, in force 1 July 2003 (Home Office circular 039/2003): controlled from
    that day, not before; 21 CFR 1308.12 Schedule II and China's narcotic catalogue today."""
    today = real_client.post(
        "/check", json={"structure": "remifentanil", "jurisdictions": ["CN", "UK", "US"]}
    ).json()
    assert today["registry_substance"]["key"] == "remifentanil"
    got = {v["jurisdiction"]: v["status"] for v in today["verdicts"]}
    assert got == {"CN": "controlled", "UK": "controlled", "US": "controlled"}
    uk = next(v for v in today["verdicts"] if v["jurisdiction"] == "UK")
    assert (uk["substance"]["schedule"], uk["substance"]["effective_date"]) == ("Class A", "2003-07-01")
    before = real_client.post(
        "/check",
        json={"structure": "remifentanil", "jurisdictions": ["UK"], "as_of": "2003-06-30"},
    ).json()
    assert before["verdicts"][0]["status"] not in CONTROLLED


def test_u_47700_is_in_the_1961_convention_and_so_in_eu_law(real_client: TestClient) -> None:
    """Schedule I of the 1961 Convention (83 FR 17486 discharges that obligation); the EU
    inherits the UN schedules; US Schedule I, UK Class A, China's supplementary list."""
    body = real_client.post("/check", json={"structure": "U-47700"}).json()
    assert body["registry_substance"]["key"] == "u-47700"
    got = {v["jurisdiction"]: v["status"] for v in body["verdicts"]}
    assert got == dict.fromkeys(ALL, "controlled")
    un = next(v for v in body["verdicts"] if v["jurisdiction"] == "UN")
    assert un["substance"]["schedule"] == "1961 Schedule I"


def _verdicts(client: TestClient, structure: str, **extra: object) -> dict[str, dict]:
    body = client.post("/check", json={"structure": structure, **extra}).json()
    return {v["jurisdiction"]: v for v in body["verdicts"]}


def test_dextromethorphan_carries_the_conventions_exclusion(real_client: TestClient) -> None:
    """Not matched to levomethorphan, and the answer says why: the 1961 Convention names it as
    excluded, in the UN and in the EU, which applies the UN schedules."""
    by = _verdicts(real_client, CASES[5][1])
    for code in ("UN", "EU"):
        assert by[code]["status"] == "lookalike"  # an exclusion never changes the status
        (x,) = by[code]["exclusions"]
        assert x["name"] == "Dextromethorphan" and x["written_in"] == "UN"
        assert "Schedule I" in x["excluded_from"] and x["in_force_by"] == "2012-05-24"
    assert by["EU"]["exclusions"][0]["citation"].startswith("UN: ")
    # China controls it: nothing excluded there; the US and UK texts saying so were not read
    assert by["CN"]["status"] == "controlled"
    assert all("exclusions" not in by[c] for c in ("CN", "US", "UK"))


def test_the_mirror_image_of_an_exclusion_is_not_excluded(real_client: TestClient) -> None:
    """Levomethorphan shares dextromethorphan's skeleton and is controlled: no exclusion."""
    by = _verdicts(real_client, CASES[9][1])
    assert all(v["status"] == "controlled" for c, v in by.items() if c != "CN")
    assert all("exclusions" not in v for v in by.values())


def test_naloxone_is_excluded_from_the_us_opiates_by_name(real_client: TestClient) -> None:
    by = _verdicts(real_client, "naloxone")
    (x,) = by["US"]["exclusions"]
    assert x["name"] == "Naloxone" and x["excluded_from"].startswith("Schedule II, 21 CFR 1308.12(b)(1)")
    assert x["source"].startswith("https://www.ecfr.gov/")
    assert by["US"]["status"] != "controlled"
    assert all("exclusions" not in by[c] for c in ("UN", "EU", "UK", "CN"))


def test_an_exclusion_is_known_from_the_day_its_text_shows_it(real_client: TestClient) -> None:
    """Samidorphan left the US schedules by a rule effective 19 April 2021."""
    before = _verdicts(real_client, "samidorphan", as_of="2021-04-18", jurisdictions=["US"])
    after = _verdicts(real_client, "samidorphan", as_of="2021-04-19", jurisdictions=["US"])
    assert "exclusions" not in before["US"]
    assert after["US"]["exclusions"][0]["citation"].startswith("86 FR 20284")


def test_a_name_only_a_legal_text_gives_is_read(real_client: TestClient) -> None:
    """'Dextrorphan' is no registry name and no approved drug: the exclusion names it."""
    body = real_client.post("/check", json={"structure": "Dextrorphan", "jurisdictions": ["UN"]}).json()
    assert body["interpreted_as"]["by"] == "law"
    assert body["inchikey"] == "JAQUASYNZVUNQP-PVAVHDDUSA-N"
    assert body["verdicts"][0]["exclusions"][0]["name"] == "Dextrorphan"


def _exclusion_rows() -> list[dict[str, str]]:
    import csv

    from service.paths import schedules_dir

    rows = []
    for path in sorted((schedules_dir() / "exclusions").glob("*.csv")):
        rows += list(csv.DictReader(path.open(encoding="utf-8")))
    return rows


@pytest.mark.parametrize(
    "row", _exclusion_rows(), ids=lambda r: f"{r['jurisdiction']}-{r['name']}"
)
def test_no_excluded_structure_is_controlled_where_it_is_excluded(
    real_client: TestClient, row: dict[str, str]
) -> None:
    """No contradiction: what a law names as excluded, the registry does not find controlled
    there (by its own act or a class), and the verdict carries the exclusion."""
    (v,) = _verdicts(real_client, row["smiles"], jurisdictions=[row["jurisdiction"]]).values()
    assert v["status"] not in CONTROLLED, v.get("substance") or v.get("class_match")
    assert row["citation"] in {x["citation"] for x in v["exclusions"]}
