"""Ask by name: registry names resolve directly, systematic names are read by the real OPSIN
(Java), and a name that cannot be read is a 422 (API) or exit code 2 (CLI) that says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app
from service.chem import names
from service.chem.standardize import identity, parse_smiles
from service.config import get_settings

# crotonylfentanyl, as the US final rule names it (without the 2E of the registry entry)
CROTONYL_NAME = "N-phenyl-N-[1-(2-phenylethyl)piperidin-4-yl]but-2-enamide"
CROTONYL_SMILES = "C/C=C/C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
CROTONYL_CONNECTIVITY = "VDYXGPCGBKLRDA"  # InChIKey block 1 of crotonylfentanyl (PubChem)
OXYCODONE_INCHIKEY = "BRUQQQPBMZOVGD-XFKAJCMBSA-N"  # PubChem CID 5284603
NONSENSE = "2-florbitzyl-3-quuxamide"
AS_OF = "2024-01-01"

needs_opsin = pytest.mark.skipif(
    names.java_path() is None or names.opsin_jar() is None,
    reason="OPSIN needs a Java runtime and py2opsin",
)


def _detail(r) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    (d,) = r.json()["detail"]
    return ".".join(str(x) for x in d["loc"]), d["msg"]


def _without_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with no java on it and no JAVA_HOME: the real lookup finds no runtime."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)


@needs_opsin
@pytest.mark.parametrize("input_type", [None, "name"])
def test_systematic_name_reads_as_crotonylfentanyl(real_client: TestClient, input_type: str | None) -> None:
    body = {"structure": CROTONYL_NAME, "jurisdictions": ["US"], "as_of": AS_OF}
    if input_type:
        body["input_type"] = input_type
    r = real_client.post("/check", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["input_type"] == "name"
    assert out["inchikey"].startswith(CROTONYL_CONNECTIVITY) and out["formula"] == "C23H28N2O"
    seen = out["interpreted_as"]
    assert (seen["name"], seen["by"]) == (CROTONYL_NAME, "opsin")
    assert identity(parse_smiles(seen["smiles"]), with_inchi=False).connectivity == CROTONYL_CONNECTIVITY
    assert out["registry_substance"]["key"] == "crotonylfentanyl"
    (us,) = out["verdicts"]
    assert (us["status"], us["substance"]["key"], us["substance"]["citation"]) == (
        "controlled",
        "crotonylfentanyl",
        "85 FR 62215",
    )
    # the picture of what the name was read as
    url = urlsplit(seen["depiction"])
    assert url.path == "/check/depiction.svg"
    assert parse_qs(url.query)["structure"] == [seen["smiles"]]
    svg = real_client.get(seen["depiction"])
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")


@needs_opsin
def test_registry_name_systematic_name_and_smiles_give_the_same_verdicts(real_client: TestClient) -> None:
    def statuses(structure: str) -> dict[str, tuple[str, str | None]]:
        r = real_client.post("/check", json={"structure": structure, "as_of": AS_OF})
        assert r.status_code == 200, r.text
        return {
            v["jurisdiction"]: (v["status"], (v["substance"] or {}).get("key")) for v in r.json()["verdicts"]
        }

    by_name = statuses("crotonylfentanyl")
    assert by_name == statuses(CROTONYL_NAME) == statuses(CROTONYL_SMILES)
    assert by_name["US"] == ("controlled", "crotonylfentanyl")


@pytest.mark.parametrize("input_type", [None, "name"])
def test_registry_name_resolves_without_opsin(
    real_client: TestClient, input_type: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_java(monkeypatch, tmp_path)  # a registry name never needs Java
    body = {"structure": "oxycodone", "jurisdictions": ["US"], "as_of": AS_OF}
    if input_type:
        body["input_type"] = input_type
    out = real_client.post("/check", json=body).json()
    assert (out["input_type"], out["inchikey"]) == ("name", OXYCODONE_INCHIKEY)
    assert out["registry_substance"]["key"] == "oxycodone"
    assert "interpreted_as" not in out  # only a name OPSIN read carries it
    assert out["verdicts"][0]["status"] == "controlled"


@needs_opsin
def test_unknown_name_is_a_422_naming_the_field(real_client: TestClient) -> None:
    r = real_client.post("/check", json={"structure": NONSENSE, "input_type": "name"})
    assert r.status_code == 422
    loc, msg = _detail(r)
    assert loc == "body.structure"
    assert msg.startswith(f"unknown name: not in the registry, and OPSIN cannot read '{NONSENSE}' as a systematic name")
    # unasked, it is no registry name, no structure and no name OPSIN knows
    r = real_client.post("/check", json={"structure": NONSENSE})
    assert r.status_code == 422
    assert _detail(r) == (
        "body.structure",
        "not a name, synonym or CAS number in the registry, and not a structure "
        f"(SMILES does not parse: syntax error while parsing: {NONSENSE} (near position 1))",
    )


def test_no_java_is_a_422_that_says_so(
    real_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_java(monkeypatch, tmp_path)
    name = "2-methyl-N-phenyl-N-[1-(2-phenylethyl)piperidin-4-yl]propanamide"  # isobutyrylfentanyl
    r = real_client.post("/check", json={"structure": name, "input_type": "name"})
    assert r.status_code == 422
    assert _detail(r) == (
        "body.structure",
        "systematic names cannot be read here: no Java runtime (OPSIN unavailable)",
    )
    loc, msg = _detail(real_client.post("/check", json={"structure": name}))
    assert loc == "body.structure" and msg.endswith("; systematic names cannot be read here: no Java runtime (OPSIN unavailable)")
    with pytest.raises(names.NameUnreadable) as caught:
        names.name_to_smiles(name)
    assert caught.value.reason == "no_java"


@needs_opsin
def test_batch_reads_names_and_isolates_an_unknown_one(real_client: TestClient) -> None:
    items = [{"id": "n", "structure": CROTONYL_NAME}, {"id": "x", "structure": NONSENSE, "input_type": "name"}]
    body = real_client.post("/check/batch", json={"items": items, "jurisdictions": ["US"], "as_of": AS_OF}).json()
    assert (body["count"], body["errors"]) == (2, 1)
    first, second = body["results"]
    assert first["result"]["interpreted_as"]["name"] == CROTONYL_NAME
    assert first["result"]["verdicts"][0]["status"] == "controlled"
    assert second["error"]["field"] == "items[1].structure"
    assert second["error"]["reason"].startswith("unknown name: not in the registry, and OPSIN cannot read")


@pytest.mark.parametrize(
    ("text", "systematic"),
    [
        (CROTONYL_NAME, True),
        ("propanoic acid", True),
        ("2,2′-bipyridine", True),
        ("crotonylfentanyl", False),  # a bare word: a name only when asked for as one
        ("CCO", False),
        ("C/C=C/C(=O)N", False),
        ("x" * (names.MAX_NAME + 1) + " 1", False),
        ("SELECT * FROM substance", False),
    ],
)
def test_what_is_tried_as_a_systematic_name_unasked(text: str, systematic: bool) -> None:
    assert names.looks_systematic(text) is systematic


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty name"), ("a\nb", "a name is one line of printable characters"), ("x" * 1001, "name is 1001 characters")],
)
def test_names_are_bounded_before_java_runs(text: str, reason: str) -> None:
    with pytest.raises(names.NameUnreadable) as caught:
        names.name_to_smiles(text)
    assert (caught.value.reason, str(caught.value).startswith(reason)) == ("unknown_name", True)


# --------------------------------------------------------------------------- the CLI

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No stored database: the read-only check reads schedules/ into a scratch copy."""
    db = tmp_path / "none.db"
    monkeypatch.setenv("ANALOGWATCH_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


@needs_opsin
def test_cli_checks_a_systematic_name(cli_env: Path) -> None:
    result = runner.invoke(app, ["check", CROTONYL_NAME, "--as-of", AS_OF, "-j", "US", "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["input_type"] == "name" and out["interpreted_as"]["by"] == "opsin"
    assert out["registry_substance"]["key"] == "crotonylfentanyl"
    assert out["verdicts"][0]["status"] == "controlled"
    human = runner.invoke(app, ["check", CROTONYL_NAME, "--as-of", AS_OF, "-j", "US"])
    assert human.exit_code == 0, human.stderr
    assert "read by OPSIN as: " in human.stdout and "crotonylfentanyl" in human.stdout


@needs_opsin
def test_cli_unknown_name_is_one_line_and_exit_2(cli_env: Path) -> None:
    result = runner.invoke(app, ["check", NONSENSE, "--input-type", "name"])
    assert result.exit_code == 2
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith("error: structure: unknown name: not in the registry, and OPSIN cannot read")
    bad = runner.invoke(app, ["check", "CCO", "--input-type", "iupac"])
    assert bad.exit_code == 2 and "--input-type: 'iupac' is not one of" in bad.stderr


def test_cli_without_java_says_so(tmp_path: Path) -> None:
    """A real process whose PATH holds no java (and no JAVA_HOME)."""
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env.update(PATH=str(tmp_path), ANALOGWATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}")
    done = subprocess.run(
        [sys.executable, "-m", "service", "check", "-t", "name", "4-methyl-N-phenylpentanamide"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: structure: systematic names cannot be read here: no Java runtime (OPSIN unavailable)"
    )


@pytest.mark.parametrize("input_type", [None, "name"])
def test_an_approved_drug_reads_by_its_common_name_without_java(
    real_client: TestClient, input_type: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Loperamide is no registry name and no systematic name: ChEMBL's approved-drug table
    reads it, with no JVM. (A peripheral mu agonist, controlled nowhere the registry looks.)"""
    _without_java(monkeypatch, tmp_path)
    body = {"structure": "Loperamide", "as_of": AS_OF}
    if input_type:
        body["input_type"] = input_type
    r = real_client.post("/check", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["input_type"] == "name"
    seen = out["interpreted_as"]
    assert (seen["name"], seen["by"]) == ("Loperamide", "chembl")
    want = identity(parse_smiles("CN(C)C(=O)C(CCN1CCC(O)(CC1)c1ccc(Cl)cc1)(c1ccccc1)c1ccccc1")).inchikey
    assert out["inchikey"] == want == "RDOIQAHITMMDAJ-UHFFFAOYSA-N"  # PubChem CID 3955
    assert {v["status"] for v in out["verdicts"]} <= {"lookalike", "not_flagged"}


def test_cli_names_the_other_entry_a_structure_without_stereo_may_be(cli_env: Path) -> None:
    result = runner.invoke(app, ["check", "CCC(=O)OC1(c2ccccc2)CCN(C)CC1C", "-j", "US"])
    assert result.exit_code == 0, result.stderr
    # the table wraps its cells to the terminal's width: look for the words, not the phrase
    words = set(result.stdout.replace("│", " ").split())
    assert {"Alphaprodine:", "stereo", "Betaprodine:", "(I)"} <= words


def test_cli_says_an_unencoded_generic_law_may_control_it(cli_env: Path) -> None:
    result = runner.invoke(app, ["check", "acetylfentanyl", "-j", "UK"])
    assert result.exit_code == 0, result.stderr
    words = set(result.stdout.replace("│", " ").split())
    assert {"lookalike", "encode", "review"} <= words


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("methadone HCl", "methadone"),
        ("Oxycodone hydrochloride", "oxycodone"),
        ("morphine sulphate pentahydrate", "morphine"),
        ("levorphanol tartrate dihydrate", "levorphanol"),
    ],
)
def test_a_salt_or_hydrate_named_after_a_registry_drug_is_that_drug(
    real_client: TestClient,
    query: str,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _without_java(monkeypatch, tmp_path)  # no systematic name: never needs OPSIN
    out = real_client.post("/check", json={"structure": query, "jurisdictions": ["US"]}).json()
    assert out["input_type"] == "name", out
    assert out["registry_substance"]["key"] == key
    assert out["verdicts"][0]["status"] == "controlled"


def test_a_salt_of_an_approved_drug_reads_as_the_drug(real_client: TestClient) -> None:
    out = real_client.post("/check", json={"structure": "loperamide HCl", "input_type": "name"})
    assert out.status_code == 200, out.text
    want = identity(parse_smiles("CN(C)C(=O)C(CCN1CCC(O)(CC1)c1ccc(Cl)cc1)(c1ccccc1)c1ccccc1"))
    assert out.json()["inchikey"] == want.inchikey


def test_salt_words_come_off_one_at_a_time_and_never_leave_nothing() -> None:
    from service.check.service import without_salt

    assert without_salt("methyl acetate hydrochloride") == ["methyl acetate", "methyl"]
    assert without_salt("fentanyl citrate") == ["fentanyl"]
    assert without_salt("fentanyl") == [] and without_salt("HCl") == []
    assert without_salt("  codeine   phosphate  hemihydrate ") == ["codeine phosphate", "codeine"]


def test_a_misspelt_registry_name_is_refused_with_the_names_it_may_mean(
    real_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_java(monkeypatch, tmp_path)
    r = real_client.post("/check", json={"structure": "tramadoll"})
    assert r.status_code == 422
    loc, msg = _detail(r)
    assert loc == "body.structure"
    assert msg.startswith("not a name, synonym or CAS number in the registry, and not a structure")
    assert msg.endswith("; did you mean 'Tramadol'?")
    # a misspelt brand name: the brand it may be
    r = real_client.post("/check", json={"structure": "Oxycontine"})
    assert _detail(r)[1].endswith("; did you mean 'OXYCONTIN'?")
    # nothing close: no suggestion
    r = real_client.post("/check", json={"structure": "qwertzuiop"})
    assert "did you mean" not in _detail(r)[1]


@pytest.mark.parametrize(
    ("query", "alkaloids"),
    [
        ("kratom", "'Mitragynine' or '7-Hydroxymitragynine'"),
        ("Mitragyna  speciosa", "'Mitragynine' or '7-Hydroxymitragynine'"),
        ("Opium", "'Morphine' or 'Codeine' or 'Thebaine'"),
    ],
)
def test_a_plant_material_is_no_structure_and_the_reply_names_its_alkaloids(
    real_client: TestClient, query: str, alkaloids: str
) -> None:
    """Kratom or opium is asked about by name but is no one structure: a 422 that says so and
    names the alkaloids in the registry to ask about instead, by their registry names."""
    for body in ({"structure": query}, {"structure": query, "input_type": "name"}):
        r = real_client.post("/check", json=body)
        assert r.status_code == 422
        loc, msg = _detail(r)
        assert loc == "body.structure"
        assert "not one structure: ask about " + alkaloids in msg, msg
    # each alkaloid named is one the check reads
    for name in alkaloids.replace("'", "").split(" or "):
        assert real_client.post("/check", json={"structure": name}).status_code == 200


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("U47700", "u-47700"),
        ("U-47,700", "u-47700"),
        ("acetyl-fentanyl", "acetylfentanyl"),
        ("Acetyl\u2013Fentanyl", "acetylfentanyl"),  # an en dash, as word processors write it
        ("iso tonitazene", "isotonitazene"),
    ],
)
def test_a_name_spelt_without_or_with_other_dashes_and_spaces_is_that_drug(
    real_client: TestClient, query: str, key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_java(monkeypatch, tmp_path)
    out = real_client.post("/check", json={"structure": query, "jurisdictions": ["US"]}).json()
    assert out["input_type"] == "name", out
    assert out["registry_substance"]["key"] == key


def test_a_loose_spelling_two_entries_share_names_neither(real_client: TestClient) -> None:
    from dataclasses import replace

    from service.check.index import IndexHolder, WatchIndex

    holder: IndexHolder = real_client.app.state.index_holder  # type: ignore[attr-defined]
    snap = holder.get().snapshot
    (u47700,) = [s for s in snap.substances if s.key == "u-47700"]
    other = replace(u47700, id=10**6, key="u-477-00", name="U 477 00", synonyms=(), cas="")
    index = WatchIndex.build(
        replace(snap, substances=[*snap.substances, other]), version="t", fingerprints=False
    )
    assert index.lookup_name("U-47700") is not None and index.lookup_name("U 477 00") is other
    assert index.lookup_name("U47700") is None  # two entries spell so: no guess
    assert holder.get().lookup_name("U47700") is not None


def test_a_brand_name_reads_as_the_drug_it_names(
    real_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_java(monkeypatch, tmp_path)  # a brand is no systematic name: never needs OPSIN
    out = real_client.get("/check", params={"structure": "OxyContin", "jurisdiction": "US"}).json()
    assert out["input_type"] == "name"
    assert out["registry_substance"]["key"] == "oxycodone"
    assert out["inchikey"] == OXYCODONE_INCHIKEY
    assert out["verdicts"][0]["status"] == "controlled"
    read = out["interpreted_as"]
    assert (read["by"], read["name"], read["generic"]) == ("brand", "OxyContin", "OXYCODONE HYDROCHLORIDE")
    # a brand of an approved drug that is no registry substance: naloxone (PubChem CID 5284596)
    narcan = real_client.post("/check", json={"structure": "narcan", "input_type": "name"}).json()
    assert narcan["registry_substance"] is None
    assert narcan["inchikey"] == "UZHSEJADLWPNLE-GRGSLBFTSA-N"
    assert narcan["interpreted_as"]["by"] == "brand"
    # a systematic name's reading carries no generic name
    assert "generic" not in real_client.post(
        "/check", json={"structure": "loperamide"}
    ).json()["interpreted_as"]


def test_every_brand_of_the_table_reads_as_a_drug(real_client: TestClient) -> None:
    """The table is built from the registry and ChEMBL's list; no row may name nothing."""
    from service.check.service import _brand
    from service.chem.drugnames import _brands

    index = real_client.app.state.index_holder.get()  # type: ignore[attr-defined]
    dead = [b for b in _brands() if _brand(index, b) is None]
    assert len(_brands()) > 5000 and dead == []
    to_registry = sum(1 for b in _brands() if (r := _brand(index, b)) and r[1] is not None)
    assert to_registry > 100


def test_cli_says_a_brand_name_was_read_as_its_drug(cli_env: Path) -> None:
    human = runner.invoke(app, ["check", "Ultram", "-j", "US"])
    assert human.exit_code == 0, human.stderr
    assert "brand name of TRAMADOL HYDROCHLORIDE (FDA GSRS), read as: " in human.stdout
    assert "registry substance: Tramadol" in human.stdout
