"""Pages rendered on the server: content from the real registry, escaping, headers, bad input."""

from __future__ import annotations

import csv
import io
import re

import pytest
from dbkit import service_database_url, service_settings
from fastapi.testclient import TestClient
from webkit import HOSTILE

FURANYL = "O=C(c1ccco1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
U47700 = "CN(C)C1CCCCC1N(C)C(=O)c1ccc(Cl)c(Cl)c1"
HEXANOYL = "CCCCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"  # not listed; the US class covers it
PAGES = [
    "/",
    "/?q=U-47700",
    "/s/1",
    "/check-page",
    f"/check-page?structures={FURANYL}",
    "/lag-page",
    "/reports-page",
    "/backtest-page",
]


def _no_trace(text: str) -> None:
    assert "Traceback" not in text
    assert 'File "' not in text


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_security_headers(web_client: TestClient, path: str) -> None:
    r = web_client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # no script at all: default-src 'none' forbids it
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script" not in r.text
    assert '<html lang="en">' in r.text and "<title>" in r.text


def test_static_css_is_served(web_client: TestClient) -> None:
    r = web_client.get("/static/style.css")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")
    assert web_client.get("/static/favicon.svg").status_code == 200


def test_api_paths_unchanged(web_client: TestClient) -> None:
    assert web_client.get("/substances/1").headers["content-type"] == "application/json"
    assert web_client.get("/substances", params={"q": "U-47700"}).json()["count"] == 1
    paths = web_client.get("/openapi.json").json()["paths"]
    assert "/check" in paths and "/lag" in paths
    assert not any(p.startswith(("/check-page", "/lag-page", "/s/")) for p in paths)


def test_search_by_name_and_by_smiles(web_client: TestClient) -> None:
    by_name = web_client.get("/", params={"q": "U-47700"}).text
    by_smiles = web_client.get("/", params={"q": U47700}).text
    for text in (by_name, by_smiles):
        assert re.search(r'<a href="/s/\d+">U-47700</a>', text)
    assert "Read as a structure" in by_smiles
    assert "Most similar registry substances" in by_smiles


def test_search_by_synonym_and_inchikey(web_client: TestClient) -> None:
    for q, name in (("pinky", "U-47700"), ("FZJVHWISUGFFQV-UHFFFAOYSA-N", "furanyl fentanyl")):
        text = web_client.get("/", params={"q": q}).text
        assert "1 substance" in text, q
        assert re.search(rf'<a href="/s/\d+">{name}</a>', text), q


def test_search_nothing_found_is_a_message(web_client: TestClient) -> None:
    r = web_client.get("/", params={"q": "no such thing at all"})
    assert r.status_code == 200
    assert "not a structure" in r.text


def test_substance_page(web_client: TestClient) -> None:
    sid = web_client.get("/substances", params={"q": "furanyl fentanyl"}).json()["data"][0]["id"]
    text = web_client.get(f"/s/{sid}").text
    assert "<h1>furanyl fentanyl</h1>" in text
    assert "FZJVHWISUGFFQV-UHFFFAOYSA-N" in text
    assert "C24H26N2O2" in text
    # the US timeline: the 2016 temporary order, then the permanent rule, linked
    assert "2016-11-29" in text and "81 FR 85873" in text and "83 FR 61320" in text
    assert "Nearest controlled neighbours" in text
    assert re.search(r'<a href="https?://[^"]+"[^>]*>83 FR 61320</a>', text)


def test_unknown_substance_is_404_page(web_client: TestClient) -> None:
    for path in ("/s/999999", "/s/abc", "/s/1e9"):
        r = web_client.get(path)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "no substance with id" in r.text.lower()


def test_check_page_verdicts(web_client: TestClient) -> None:
    r = web_client.get(
        "/check-page",
        params={"structures": f"{HEXANOYL} hexanoyl\n{FURANYL}", "as_of": "2025-01-01"},
    )
    assert r.status_code == 200
    text = r.text
    assert "2 structures" in text
    us = re.findall(r'<th scope="row">US</th>\s*<td><span class="badge (\w+)"', text)
    assert us == ["controlled_by_class", "controlled"]
    assert "fentanyl-related substances" in text.lower()
    assert "data:image/svg+xml;base64," in text  # highlighted pictures
    assert "Download these results as CSV" in text


def test_check_page_says_when_the_status_on_the_day_is_not_known(web_client: TestClient) -> None:
    oxycodone = "COc1ccc2C[C@H]3N(C)CC[C@@]45[C@@H](Oc1c24)C(=O)CC[C@@]35O"
    early = web_client.get("/check-page", params={"structures": oxycodone, "as_of": "2000-01-01"})
    assert early.status_code == 200
    assert "status on this day not known" in early.text
    assert "does not say since when" in early.text
    today = web_client.get("/check-page", params={"structures": oxycodone})
    assert "status on this day not known" not in today.text


def test_check_page_csv(web_client: TestClient) -> None:
    r = web_client.get(
        "/check-page",
        params={
            "structures": f"{FURANYL} sample-1\nC1CC(",
            "as_of": "2025-01-01",
            "jurisdiction": ["US", "CN"],
            "format": "csv",
        },
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["jurisdiction"], x["status"]) for x in rows[:2]] == [
        ("US", "controlled"),
        ("CN", "controlled"),
    ]
    assert rows[0]["id"] == "sample-1" and rows[0]["citation"] == "83 FR 61320"
    assert rows[2]["query"] == "C1CC(" and "does not parse" in rows[2]["error"]


def test_check_page_malformed_smiles_is_a_message(web_client: TestClient) -> None:
    r = web_client.get("/check-page", params={"structures": "C1CC("})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in r.text and "SMILES does not parse" in r.text
    _no_trace(r.text)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"structures": "C" * 12_001}, "the limit is 12000"),
        ({"structures": "C" * 2_001}, "the limit is 2000"),  # the API's SMILES bound
        ({"structures": "CCO", "as_of": "2024-13-40"}, "is not a date"),
        ({"structures": "CCO", "jurisdiction": "XX"}, "unknown jurisdiction"),
    ],
)
def test_check_page_bounds(web_client: TestClient, params: dict[str, str], message: str) -> None:
    r = web_client.get("/check-page", params=params)
    assert r.status_code == 422
    assert message in r.text
    _no_trace(r.text)


def test_check_upload(web_client: TestClient) -> None:
    smi = f"{FURANYL} upload-1\n{HEXANOYL} upload-2\n"
    r = web_client.post(
        "/check-page",
        files={"file": ("batch.smi", smi, "text/plain")},
        data={"as_of": "2025-01-01", "jurisdiction": "US"},
    )
    assert r.status_code == 200
    assert "Results for batch.smi: 2 structures" in r.text
    assert "upload-2" in r.text
    csv_r = web_client.post(
        "/check-page",
        files={"file": ("batch.smi", smi, "text/plain")},
        data={"jurisdiction": "US", "format": "csv"},
    )
    assert [x["status"] for x in csv.DictReader(io.StringIO(csv_r.text))] == [
        "controlled",
        "controlled_by_class",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.csv", "name,weight\na,1\n", "no smiles, structure or inchi column"),
        ("x.exe", "MZ", "unknown file type"),
        ("x.smi", "C1CC( broken\n", "no structure could be read"),
        ("x.smi", "# only a comment\n", "no structure given"),
    ],
)
def test_check_upload_bad_file(
    web_client: TestClient, name: str, content: str, message: str
) -> None:
    r = web_client.post("/check-page", files={"file": (name, content, "text/plain")})
    assert r.status_code == 422
    assert message in r.text
    _no_trace(r.text)


def test_check_upload_without_file(web_client: TestClient) -> None:
    r = web_client.post("/check-page", data={"as_of": "2025-01-01"})
    assert r.status_code == 422
    assert "choose a .smi, .csv or .sdf file" in r.text


def test_lag_page_filters(web_client: TestClient) -> None:
    r = web_client.get(
        "/lag-page",
        params={
            "jurisdiction": "US",
            "family": "fentanyl",
            "class_law": "before",
            "group_by": "year",
        },
    )
    assert r.status_code == 200
    text = r.text
    assert (
        'src="/lag-page/plot.svg?jurisdiction=US&amp;family=fentanyl&amp;basis=global&amp;class_law=before&amp;group_by=year'
        in text
    )
    assert '<option value="before" selected>' in text
    rows = re.findall(r"<tr><td>.*?</td><td>(\w+)</td>", text)
    assert rows and set(rows) == {"US"}
    plot = web_client.get(
        "/lag-page/plot.svg", params={"jurisdiction": "US", "class_law": "before"}
    )
    assert plot.headers["content-type"] == "image/svg+xml"
    assert "appeared before class laws" in plot.text
    data = web_client.get(
        "/lag-page/rows.csv", params={"jurisdiction": "US", "class_law": "after"}
    ).text
    laws = {row["class_law"] for row in csv.DictReader(io.StringIO(data))}
    assert laws == {"after"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"as_of": "2999-01-01"}, "as_of cannot be in the future"),
        ({"jurisdiction": "ZZ"}, "unknown jurisdiction"),
        ({"basis": "lunar"}, "basis must be one of global, local"),
        ({"family": "<b>x</b>"}, "unknown family &#39;&lt;b&gt;x&lt;/b&gt;&#39;"),
    ],
)
def test_lag_page_bad_filters(web_client: TestClient, params: dict[str, str], message: str) -> None:
    r = web_client.get("/lag-page", params=params)
    assert r.status_code == 422
    assert message in r.text
    _no_trace(r.text)
    assert web_client.get("/lag-page/plot.svg", params=params).status_code == 422


# --------------------------------------------------------------------------- escaping


def test_hostile_name_is_text_everywhere(hostile_client: TestClient) -> None:
    sid = hostile_client.get("/substances", params={"q": "script"}).json()["data"][0]["id"]
    escaped = "&lt;script&gt;alert(&#34;aw&#34;)&lt;/script&gt; &amp; &#34;Co&#34;"
    pages = {
        "search": hostile_client.get("/", params={"q": "script"}).text,
        "substance": hostile_client.get(f"/s/{sid}").text,
        "neighbour": hostile_client.get(f"/s/{sid + 1}").text,
        "check": hostile_client.get("/check-page", params={"structures": HOSTILE}).text,
    }
    for name, text in pages.items():
        assert "<script" not in text, name
        assert "<img src=x" not in text, name
    assert (
        escaped in pages["search"] and escaped in pages["substance"] and escaped in pages["check"]
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["substance"]


def test_reflected_input_is_escaped(web_client: TestClient) -> None:
    attack = '"><script>alert(1)</script>'
    for path, params in (
        ("/", {"q": attack}),
        ("/check-page", {"structures": attack}),
        ("/lag-page", {"family": attack}),
        ("/check-page", {"structures": "CCO", "as_of": attack}),
    ):
        text = web_client.get(path, params=params).text
        assert "<script>alert(1)" not in text, path
        assert '"><script' not in text, path


def test_check_page_shares_the_batch_rate_limit(tmp_path, registry_dir) -> None:
    from service.app import create_app

    settings = service_settings(
        service_database_url(tmp_path, "r.db"),
        schedules_dir=registry_dir,
        rate_limit_batch="2/minute",
    )
    with TestClient(create_app(settings)) as client:  # each app counts on its own
        assert client.get("/check-page").status_code == 200  # the empty form costs nothing
        for _ in range(2):
            assert client.get("/check-page", params={"structures": FURANYL}).status_code == 200
        r = client.get("/check-page", params={"structures": FURANYL})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert "rate limit 2/minute exceeded" in r.text
        assert r.headers["content-type"].startswith("text/html")


def test_check_upload_sdf(web_client: TestClient) -> None:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(FURANYL)
    mol.SetProp("_Name", "seized-7")
    block = Chem.MolToMolBlock(mol) + "$$$$\n"
    r = web_client.post(
        "/check-page",
        files={"file": ("seizure.sdf", block, "chemical/x-mdl-sdfile")},
        data={"jurisdiction": "US", "as_of": "2025-01-01"},
    )
    assert r.status_code == 200
    assert "seized-7" in r.text
    assert re.findall(r'<th scope="row">US</th>\s*<td><span class="badge (\w+)"', r.text) == [
        "controlled"
    ]


def test_reports_pages(tmp_path, registry_dir) -> None:
    from service.app import create_app
    from service.reports import service as reports

    settings = service_settings(
        service_database_url(tmp_path, "rep.db"), schedules_dir=registry_dir
    )
    with TestClient(create_app(settings)) as client:
        empty = client.get("/reports-page")
        assert empty.status_code == 200 and "No report has been run yet" in empty.text
        report = reports.run_lookalikes(
            client.app.state.engine,
            settings,
            trigger="test",
            index=client.app.state.index_holder.get,
        )
        listing = client.get("/reports-page").text
        assert f'<a href="/reports-page/{report.id}">Report {report.id}</a>' in listing
        page = client.get(f"/reports-page/{report.id}")
        assert page.status_code == 200
        assert page.headers["x-frame-options"] == "DENY"
        assert f"Report {report.id}: lookalikes as of" in page.text
        for missing in ("/reports-page/99999", "/reports-page/abc"):
            r = client.get(missing)
            assert r.status_code == 404 and "no report with id" in r.text


def test_pages_work_on_an_index_without_fingerprints(web_client: TestClient) -> None:
    """The cartridge backend builds its index without fingerprints (the database ranks the
    checks); the substance and search pages still rank in memory, with the same answers."""
    from datetime import date

    from service.check.index import WatchIndex
    from service.web import pages

    full = web_client.app.state.index_holder.get()  # type: ignore[attr-defined]
    bare = WatchIndex.build(
        full.snapshot,
        version=full.version,
        kind=full.fp_kind,
        radius=full.radius,
        bits=full.bits,
        fingerprints=False,
    )
    assert bare.fps == []
    on = date(2026, 1, 1)
    for s in full.snapshot.substances:
        a = pages.substance_view(full, s, on, 0.55)["neighbours"]
        b = pages.substance_view(bare, bare.by_id[s.id], on, 0.55)["neighbours"]
        assert [(n["substance"].id, n["similarity"]) for n in a] == [
            (n["substance"].id, n["similarity"]) for n in b
        ], s.key
    found = pages.search(
        bare, q="CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1C", family=None, jurisdiction=None, on=on
    )
    assert found.similar, "the search page finds similar structures"
    assert [x.id for x, _ in found.similar] == [
        x.id
        for x, _ in pages.search(
            full, q="CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1C", family=None, jurisdiction=None, on=on
        ).similar
    ]


def test_check_page_says_why_a_lookalike_is_flagged(web_client: TestClient) -> None:
    """2-methyl AP-237 in 2022: in the UK it resembles AP-237, listed in China since 2014."""
    r = web_client.get(
        "/check-page",
        params={"structures": "CCCC(=O)N1C(C)CN(CC=Cc2ccccc2)CC1", "as_of": "2022-01-01"},
    )
    assert r.status_code == 200
    uk = r.text.split('<th scope="row">UK</th>', 1)[1].split("</tr>", 1)[0]
    assert '<ul class="why">' in uk
    assert re.search(r"similar elsewhere: AP-237 \(0\.\d\d\) — CN since 2014-01-01", uk)


def test_lag_page_counts_censored_rows_under_an_unencoded_law(web_client: TestClient) -> None:
    text = web_client.get("/lag-page", params={"group_by": "jurisdiction"}).text
    assert "of which under an unencoded law" in text
    cells = dict(
        re.findall(r'<tr><th scope="row">(\w+)</th>(?:<td>\d+</td>){4}<td>(\d+)</td>', text)
    )
    assert int(cells["UK"]) > 0 and int(cells["US"]) == 0, cells
    data = web_client.get("/lag-page/rows.csv", params={"jurisdiction": "UK"}).text
    named = [row for row in csv.DictReader(io.StringIO(data)) if row["unencoded_law"]]
    assert len(named) == int(cells["UK"])
    assert {row["outcome"] for row in named} == {"censored"}


def test_substance_page_cautions_where_an_unencoded_generic_law_may_control_it(
    web_client: TestClient,
) -> None:
    sid = web_client.get("/substances", params={"q": "furanyl fentanyl"}).json()["data"][0]["id"]
    text = web_client.get(f"/s/{sid}").text
    # furanyl fentanyl has no UK act: its UK cell says the fentanyl generic may control it
    assert text.count('class="sub caveat"') == 1
    assert "a generic law the registry does not encode" in text
    # pethidine is a UK Class A drug by its own entry: nothing to caution about
    sid = web_client.get("/substances", params={"q": "pethidine"}).json()["data"][0]["id"]
    assert 'class="sub caveat"' not in web_client.get(f"/s/{sid}").text


def test_check_page_csv_names_an_unencoded_generic_law_by_key(web_client: TestClient) -> None:
    r = web_client.get(
        "/check-page",
        params={"structures": "acetylfentanyl", "jurisdiction": ["UK", "US"], "format": "csv"},
    )
    rows = {x["jurisdiction"]: x for x in csv.DictReader(io.StringIO(r.text))}
    assert rows["UK"]["status"] == "lookalike" and rows["UK"]["caveats"] == "uk-fentanyl-generic"
    assert rows["US"]["status"] == "controlled" and rows["US"]["caveats"] == ""


def test_check_page_says_where_the_law_excludes_the_query(web_client: TestClient) -> None:
    page = web_client.get(
        "/check-page", params={"structures": "dextromethorphan", "jurisdiction": ["UN", "CN"]}
    ).text
    # one line in the UN's cell, none in China's, which controls it
    assert page.count('class="sub exclusion"') == 1
    assert "expressly excluded here: the law names Dextromethorphan as outside 1961 Schedule I" in page
    r = web_client.get(
        "/check-page",
        params={"structures": "dextromethorphan", "jurisdiction": ["UN", "CN"], "format": "csv"},
    )
    rows = {x["jurisdiction"]: x for x in csv.DictReader(io.StringIO(r.text))}
    assert rows["UN"]["excluded_by"].startswith("Single Convention on Narcotic Drugs, 1961")
    assert rows["CN"]["status"] == "controlled" and rows["CN"]["excluded_by"] == ""


def test_substance_page_says_where_the_law_excludes_it(web_client: TestClient) -> None:
    sid = web_client.get("/substances", params={"q": "dextromethorphan"}).json()["data"][0]["id"]
    text = web_client.get(f"/s/{sid}").text
    # the UN's Schedule I footnote, in the UN's cell and in the EU's, which applies it
    assert text.count('class="sub exclusion"') == 2
    assert "expressly excluded from 1961 Schedule I" in text
    sid = web_client.get("/substances", params={"q": "levomethorphan"}).json()["data"][0]["id"]
    assert 'class="sub exclusion"' not in web_client.get(f"/s/{sid}").text


def test_check_page_highlights_the_controlled_substance_a_query_contains(
    web_client: TestClient,
) -> None:
    # MT-45 with a chlorine added: it holds MT-45 (controlled everywhere) whole
    query = "Clc1ccc(cc1)C(Cc1ccccc1)N1CCN(CC1)C1CCCCC1"
    page = web_client.get("/check-page", params={"structures": query, "jurisdiction": ["UK"]}).text
    assert "highlighted: MT-45, contained whole (" in page
    assert "contains controlled" in page  # the reason, as the page writes reasons
    svg = web_client.get("/check/depiction.svg", params={"structure": query, "jurisdiction": "UK"})
    assert svg.status_code == 200 and svg.text.startswith("<?xml")


def test_check_page_highlights_the_listed_scaffold_a_query_carries(web_client: TestClient) -> None:
    # brorphine in May 2019, before any listing: bezitramide's piperidinyl-benzimidazolone
    query = "CC(c1ccc(Br)cc1)N1CCC(n2c(=O)[nH]c3ccccc32)CC1"
    params = {"structures": query, "jurisdiction": ["UK"], "as_of": "2019-05-01"}
    page = web_client.get("/check-page", params=params).text
    assert "highlighted: Bezitramide, its scaffold (" in page
    assert "shares scaffold: Bezitramide (0.24), shares its scaffold: 16 of the query" in page
    assert "<code>O=c1[nH]c2ccccc2n1C1CCNCC1</code>" in page
    # the depiction highlights those 16 atoms, not the part shared with the nearest neighbour
    from service.check import service
    from service.chem import depict

    mol = service.parse_smiles(query)
    atoms = service.scaffold_atoms(mol, "O=c1[nH]c2ccccc2n1C1CCNCC1")
    assert len(atoms) == 16
    svg = web_client.get(
        "/check/depiction.svg",
        params={"structure": query, "jurisdiction": "UK", "as_of": "2019-05-01"},
    )
    assert svg.status_code == 200
    assert svg.text == depict.svg(mol, atoms)
    assert svg.text != depict.svg(mol)
