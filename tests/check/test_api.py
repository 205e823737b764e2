"""The check API: shapes, names, batches, NDJSON, search, depictions, and every bound."""

from __future__ import annotations

import json

import pytest
from dbkit import SEARCH_BACKEND, SERVICE_DB
from fastapi.testclient import TestClient

from service.check.schemas import MAX_BATCH
from service.chem.inputs import MAX_HEAVY_ATOMS, MAX_SMILES

FURANYL = "O=C(c1ccco1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
MORPHINE_MOLFILE = """morphine
     RDKit          2D

  0  0  0  0  0  0  0  0  0  0999 V3000
M  V30 BEGIN CTAB
M  V30 COUNTS 3 2 0 0 0
M  V30 BEGIN ATOM
M  V30 1 C 0 0 0 0
M  V30 2 C 1.5 0 0 0
M  V30 3 O 3 0 0 0
M  V30 END ATOM
M  V30 BEGIN BOND
M  V30 1 1 1 2
M  V30 2 1 2 3
M  V30 END BOND
M  V30 END CTAB
M  END
"""


def _detail(r) -> str:  # type: ignore[no-untyped-def]
    body = r.json()["detail"]
    assert isinstance(body, list) and len(body) == 1
    return f"{'.'.join(str(x) for x in body[0]['loc'])}: {body[0]['msg']}"


def test_the_run_serves_from_the_search_backend_it_names(real_client: TestClient) -> None:
    """CI's third pass (ANALOGWATCH_TEST_SERVICE_DB=cartridge) really searches in PostgreSQL."""
    index = real_client.app.state.index_holder.get()  # type: ignore[attr-defined]
    assert (index.search is not None) == (SEARCH_BACKEND == "cartridge")
    assert SEARCH_BACKEND == ("cartridge" if SERVICE_DB == "cartridge" else "memory")


def test_check_one_structure(real_client: TestClient) -> None:
    r = real_client.post("/check", json={"structure": FURANYL, "jurisdictions": ["US", "CN"], "as_of": "2017-03-01"})
    assert r.status_code == 200
    body = r.json()
    assert body["inchikey"] == "FZJVHWISUGFFQV-UHFFFAOYSA-N"  # furanylfentanyl (a public InChIKey table)
    assert body["registry_substance"]["key"] == "furanylfentanyl"
    us, cn = body["verdicts"]
    assert (us["jurisdiction"], us["status"], us["substance"]["citation"]) == ("US", "controlled", "81 FR 85873")
    assert (cn["jurisdiction"], cn["status"]) == ("CN", "controlled")
    assert cn["substance"]["effective_date"] == "2017-03-01"


@pytest.mark.parametrize(
    ("query", "input_type"),
    [("furanyl fentanyl", "name"), ("Furanylfentanyl", "name"), ("FZJVHWISUGFFQV-UHFFFAOYSA-N", "inchikey")],
)
def test_check_by_name_synonym_and_inchikey(real_client: TestClient, query: str, input_type: str) -> None:
    body = real_client.post("/check", json={"structure": query, "jurisdictions": ["US"]}).json()
    assert body["input_type"] == input_type
    assert body["inchikey"] == "FZJVHWISUGFFQV-UHFFFAOYSA-N"


def test_check_by_inchi_and_molfile(real_client: TestClient) -> None:
    inchi = "InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3"
    a = real_client.post("/check", json={"structure": inchi}).json()
    b = real_client.post("/check", json={"structure": MORPHINE_MOLFILE}).json()
    assert a["input_type"] == "inchi" and b["input_type"] == "molfile"
    assert a["inchikey"] == b["inchikey"] == "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"  # ethanol
    assert {v["status"] for v in a["verdicts"]} == {"not_flagged"}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"structure": ""}, "body.structure: String should have at least 1 character"),
        ({"structure": "   "}, "body.structure: empty structure"),
        ({"structure": "C" * (MAX_SMILES + 1)}, f"body.structure: SMILES is {MAX_SMILES + 1} characters"),
        ({"structure": "C1CC(N"}, "body.structure: SMILES does not parse: extra open parentheses"),
        ({"structure": "CN(C)(C)(C)C"}, "body.structure: SMILES does not parse: Explicit valence for atom # 1 N"),
        ({"structure": "C" * (MAX_HEAVY_ATOMS + 1)}, f"body.structure: parent structure has {MAX_HEAVY_ATOMS + 1} heavy atoms"),
        ({"structure": "[Na+].[Cl-]"}, "body.structure: no organic fragment"),
        ({"structure": "InChI=1S/garbage"}, "body.structure: InChI does not parse"),
        ({"structure": "CCO\x00"}, "body.structure: input contains a NUL character"),
        ({"structure": "not a drug at all"}, "body.structure: not a name, synonym or CAS number in the registry"),
        ({"structure": "CCO", "jurisdictions": ["XX"]}, "body.jurisdictions: unknown jurisdiction 'XX'"),
        ({"structure": "CCO", "top_k": 51}, "body.top_k: Input should be less than or equal to 50"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bounds_are_422_with_the_field_and_reason(real_client: TestClient, payload: dict, expected: str) -> None:
    r = real_client.post("/check", json=payload)
    assert r.status_code == 422
    assert _detail(r).startswith(expected), _detail(r)


def test_get_check_answers_as_post_does(real_client: TestClient) -> None:
    """GET /check takes the same question in the URL and gives the same answer, byte for byte."""
    post = real_client.post(
        "/check",
        json={"structure": FURANYL, "jurisdictions": ["US", "CN"], "as_of": "2017-03-01", "top_k": 2},
    )
    get = real_client.get(
        "/check",
        params={"structure": FURANYL, "jurisdiction": ["US", "CN"], "as_of": "2017-03-01", "top_k": 2},
    )
    assert get.status_code == post.status_code == 200
    assert get.content == post.content
    assert [v["jurisdiction"] for v in get.json()["verdicts"]] == ["US", "CN"]
    # a registry name, the default jurisdictions and today
    body = real_client.get("/check", params={"structure": "oxycodone"}).json()
    assert body["registry_substance"]["key"] == "oxycodone"
    assert {v["jurisdiction"]: v["status"] for v in body["verdicts"]}["UN"] == "controlled"
    assert len(body["verdicts"]) == 5
    # a jurisdiction asked twice, in any case, is one verdict (GET and POST alike)
    twice = {"structure": "oxycodone", "jurisdiction": ["un", "US", "UN"]}
    got = real_client.get("/check", params=twice).json()
    posted = real_client.post("/check", json={"structure": "oxycodone", "jurisdictions": ["un", "US", "UN"]})
    assert [v["jurisdiction"] for v in got["verdicts"]] == ["UN", "US"]
    assert posted.json() == got


def test_get_check_as_csv_has_one_row_per_jurisdiction(real_client: TestClient) -> None:
    import csv
    import io

    params = {"structure": "oxycodone", "jurisdiction": ["UN", "US"], "as_of": "2020-01-01"}
    r = real_client.get("/check", params={**params, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["jurisdiction"], x["status"], x["matched"]) for x in rows] == [
        ("UN", "controlled", "Oxycodone"),
        ("US", "controlled", "Oxycodone"),
    ]
    assert {x["query"] for x in rows} == {"oxycodone"} and rows[1]["schedule"] == "II"
    assert rows[0]["inchikey"] == "BRUQQQPBMZOVGD-XFKAJCMBSA-N" and rows[0]["as_of"] == "2020-01-01"
    # the same columns as the check page's CSV, and the same by the Accept header
    page = real_client.get("/check-page", params={"structures": "oxycodone", "format": "csv"})
    assert r.text.splitlines()[0] == page.text.splitlines()[0]
    accepted = real_client.get("/check", params=params, headers={"Accept": "text/csv"})
    assert accepted.text == r.text
    # a refusal stays JSON, naming the parameter
    bad = real_client.get("/check", params={"structure": "C1CC(N", "format": "csv"})
    assert bad.status_code == 422 and _detail(bad).startswith("query.structure: SMILES does not parse")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "query.structure: Field required"),
        ({"structure": ""}, "query.structure: String should have at least 1 character"),
        ({"structure": "C1CC(N"}, "query.structure: SMILES does not parse: extra open parentheses"),
        ({"structure": "not a drug at all"}, "query.structure: not a name, synonym or CAS number"),
        ({"structure": "CCO", "jurisdiction": "XX"}, "query.jurisdiction: unknown jurisdiction 'XX'"),
        ({"structure": "CCO", "as_of": "2020-13-01"}, "query.as_of: Input should be a valid date"),
        ({"structure": "CCO", "top_k": 51}, "query.top_k: Input should be less than or equal to 50"),
        ({"structure": "CCO", "input_type": "iupac"}, "query.input_type: Input should be"),
        (
            {"structure": "CCO", "jurisdictions": "UN"},
            "query.jurisdictions: unknown parameter 'jurisdictions'; did you mean 'jurisdiction'?",
        ),
        ({"structure": "CCO", "zzz": "1"}, "query.zzz: unknown parameter 'zzz'"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_get_check_refuses_bad_parameters_by_name(
    real_client: TestClient, params: dict, expected: str
) -> None:
    r = real_client.get("/check", params=params)
    assert r.status_code == 422
    assert _detail(r).startswith(expected), _detail(r)


def test_batch_keeps_order_and_isolates_errors(real_client: TestClient) -> None:
    items = [{"id": "a", "structure": FURANYL}, {"id": "b", "structure": "C1CC("}, {"id": "c", "structure": "fentanyl"}]
    r = real_client.post("/check/batch", json={"items": items, "jurisdictions": ["US"]})
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], body["errors"]) == (3, 1)
    assert [x["id"] for x in body["results"]] == ["a", "b", "c"]
    assert body["results"][1]["error"]["field"] == "items[1].structure"
    assert body["results"][2]["result"]["verdicts"][0]["status"] == "controlled"


def test_batch_ndjson_streams_one_line_per_item(real_client: TestClient) -> None:
    items = [{"structure": "CCO"}] * 5 + [{"structure": "x(("}]
    r = real_client.post(
        "/check/batch", json={"items": items, "jurisdictions": ["UN"]}, headers={"Accept": "application/x-ndjson"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert [x["index"] for x in lines] == list(range(6))
    assert lines[5]["error"] is not None and lines[0]["result"]["verdicts"][0]["status"] == "not_flagged"


def test_batch_over_the_limit_is_rejected(real_client: TestClient) -> None:
    r = real_client.post("/check/batch", json={"items": [{"structure": "C"}] * (MAX_BATCH + 1)})
    assert r.status_code == 422
    assert _detail(r).startswith("body.items: List should have at most 10000 items")


def test_substance_search_and_detail(real_client: TestClient) -> None:
    r = real_client.get("/substances", params={"q": "U-47700"})
    assert r.status_code == 200
    first = r.json()["data"][0]
    assert first["name"] == "U-47700" and first["inchikey"] == "JGPNMZWFVRQNGU-UHFFFAOYSA-N"
    d = real_client.get(f"/substances/{first['id']}").json()
    assert d["status"]["CN"]["effective_date"] == "2017-07-01"
    assert any(a["citation"] == "83 FR 17486" for a in d["actions"]["US"])
    fam = real_client.get("/substances", params={"family": "nitazene", "limit": 2}).json()
    assert fam["count"] >= 15 and len(fam["data"]) == 2
    listed = real_client.get(
        "/substances", params={"jurisdiction": "CN", "controlled_on": "2017-07-01", "limit": 500}
    ).json()
    assert listed["count"] == len(listed["data"])
    assert "U-47700" in {s["name"] for s in listed["data"]}
    assert real_client.get("/substances/999999").status_code == 404


def test_substance_search_finds_loose_spellings_and_brand_names(real_client: TestClient) -> None:
    def names(q: str) -> list[str]:
        return [s["name"] for s in real_client.get("/substances", params={"q": q}).json()["data"]]

    assert names("U47700")[0] == "U-47700"
    assert names("acetyl-fentanyl")[0] == "acetyl fentanyl"
    assert names("OxyContin") == ["Oxycodone"]  # a brand of the FDA list, not a registry name
    # punctuation alone is no loose name (empty once spaces, dashes and commas are gone): it
    # finds what holds it literally, not every substance
    every = real_client.get("/substances").json()["count"]
    assert 0 < real_client.get("/substances", params={"q": ","}).json()["count"] < every
    assert names("zzzz") == []


def test_depictions_are_svg(real_client: TestClient) -> None:
    r = real_client.get("/substances/1/depiction.svg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.text.lstrip().startswith("<?xml") and "</svg>" in r.text
    q = real_client.get("/check/depiction.svg", params={"structure": "CCCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1"})
    assert q.status_code == 200
    assert "<path class='bond-" in q.text
    assert "fill:#FF7F7F" in q.text or "#FF7F7F" in q.text  # highlighted core
    assert real_client.get("/check/depiction.svg", params={"structure": "C1CC("}).status_code == 422


def test_registry_export_json_and_csv(real_client: TestClient) -> None:
    rows = real_client.get("/registry/export").json()
    keys = ["name", "inchikey", "smiles", "family", "jurisdiction", "schedule", "kind", "effective_date", "end_date", "citation", "source"]
    assert all(list(r) == keys for r in rows)
    assert {r["kind"] for r in rows} >= {"temporary", "permanent", "class"}
    u = [r for r in rows if r["name"] == "U-47700" and r["jurisdiction"] == "CN"]
    assert [(r["kind"], r["effective_date"]) for r in u] == [("permanent", "2017-07-01")]
    cls = [r for r in rows if r["kind"] == "class" and r["name"] == "fentanyl carbamate" and r["jurisdiction"] == "US"]
    assert cls and cls[0]["effective_date"] == "2018-02-06" and "83 FR 5188" in cls[0]["citation"]
    no_action = [r for r in rows if r["kind"] == ""]
    assert all(r["jurisdiction"] == "" and r["citation"] == "" for r in no_action)
    csv_text = real_client.get("/registry/export", headers={"Accept": "text/csv"}).text
    assert csv_text.splitlines()[0] == ",".join(keys)
    assert len(csv_text.strip().splitlines()) >= len(rows) + 1  # quoted newlines never occur
    assert real_client.get("/registry/export", params={"format": "csv"}).headers["content-type"].startswith("text/csv")


def test_responses_match_the_documented_schema(real_client: TestClient) -> None:
    """The check builds plain data and skips response validation for speed: prove the shape."""
    from service.check.schemas import BatchResponse, BatchResult, CheckResult

    queries = ["fentanyl", "U-47700", "CCCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1", "CCO", "isotonitazene"]
    for q in queries:
        body = real_client.post("/check", json={"structure": q, "as_of": "2019-06-01"}).json()
        assert CheckResult.model_validate(body).model_dump(mode="json", exclude_none=False) == body
    batch = real_client.post("/check/batch", json={"items": [{"structure": q} for q in [*queries, "C1CC("]]}).json()
    BatchResponse.model_validate(batch)
    lines = real_client.post(
        "/check/batch", json={"items": [{"structure": "CCO"}]}, headers={"Accept": "application/x-ndjson"}
    ).text.splitlines()
    BatchResult.model_validate_json(lines[0])


@pytest.mark.parametrize("path", ["/substances", "/reports"])
def test_an_offset_past_64_bits_is_a_422_not_a_database_error(real_client: TestClient, path: str) -> None:
    r = real_client.get(path, params={"offset": 2**63, "limit": 1})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "offset"]
    assert real_client.get(path, params={"offset": 2**63 - 1, "limit": 1}).status_code == 200
