"""The check page by name: a systematic name read by the real OPSIN shows what it was read as;
an unknown name, or no Java, is an error message on the page."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.chem import names

CROTONYL_NAME = "N-phenyl-N-[1-(2-phenylethyl)piperidin-4-yl]but-2-enamide"
NONSENSE = "2-florbitzyl-3-quuxamide"

needs_opsin = pytest.mark.skipif(
    names.java_path() is None or names.opsin_jar() is None,
    reason="OPSIN needs a Java runtime and py2opsin",
)


def _us_statuses(text: str) -> list[str]:
    return re.findall(r'<th scope="row">US</th>\s*<td><span class="badge (\w+)"', text)


@needs_opsin
def test_check_page_reads_a_systematic_name(web_client: TestClient) -> None:
    r = web_client.get(
        "/check-page",
        params={
            "structures": f"{CROTONYL_NAME} notice-1\noxycodone\npropanoic acid",
            "as_of": "2024-01-01",
            "jurisdiction": ["US"],
        },
    )
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    assert "3 structures" in text and "unreadable" not in text
    assert "notice-1" in text and "= <a href=" in text and ">crotonylfentanyl</a>" in text
    assert "Name read by OPSIN as <code" in text
    assert "C1(=CC=CC=C1)N(C(C=CC)=O)C1CCN(CC1)CCC1=CC=CC=C1" in text  # OPSIN's SMILES
    assert "CCC(=O)O" in text  # propanoic acid: the whole line was one name
    assert _us_statuses(r.text) == ["controlled", "controlled", "not_flagged"]


@needs_opsin
def test_check_page_unknown_name_is_a_message(web_client: TestClient) -> None:
    r = web_client.get("/check-page", params={"structures": NONSENSE})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    text = html.unescape(r.text)
    assert 'role="alert"' in text and "not a name, synonym or CAS number in the registry" in text
    assert "Traceback" not in text


def test_check_page_without_java_says_so(
    web_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    r = web_client.get("/check-page", params={"structures": "3-methyl-N-phenylhexanamide"})
    assert r.status_code == 422
    assert "no Java runtime (OPSIN unavailable)" in html.unescape(r.text)


def test_check_page_cautions_about_an_unencoded_generic_law(web_client: TestClient) -> None:
    r = web_client.get(
        "/check-page",
        params={"structures": "acetylfentanyl\naspirin", "jurisdiction": ["UK"]},
    )
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    # one caution, for acetylfentanyl (aspirin has no fentanyl core), linking its source
    assert text.count('class="sub caveat"') == 1
    assert "may be controlled here under a generic law the registry does not encode" in text
    assert 'href="https://www.gov.uk/government/publications/misuse-of-fentanyl' in text


def test_check_page_says_a_brand_name_was_read_as_its_drug(web_client: TestClient) -> None:
    r = web_client.get("/check-page", params={"structures": "OxyContin", "jurisdiction": ["US"]})
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    assert "Brand name of OXYCODONE HYDROCHLORIDE (FDA substance registry), read as <code" in text
    assert ">Oxycodone</a>" in text and _us_statuses(r.text) == ["controlled"]
