"""`analogwatch import` and `analogwatch report lookalikes` on a fixture registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbkit import service_database_url, service_environment
from ingestkit import GOOD_CSV, HEADER
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, registry_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    service_environment(monkeypatch, service_database_url(tmp_path, "cli.db"))
    monkeypatch.setenv("ANALOGWATCH_SCHEDULES_DIR", str(registry_dir))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_import_twice_then_report_twice(env: Path) -> None:
    good = env / "reports.csv"
    good.write_text(GOOD_CSV)
    first = runner.invoke(app, ["import", str(good), "--json"])
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {
        "rows": 4,
        "inserted": 4,
        "unchanged": 0,
        "new_substances": 3,
    }
    again = runner.invoke(app, ["import", str(good), "--json"])
    assert json.loads(again.stdout)["inserted"] == 0

    r1 = runner.invoke(app, ["report", "lookalikes", "--json", "--as-of", "2026-01-01"])
    assert r1.exit_code == 0, r1.stderr
    one = json.loads(r1.stdout)
    assert one["status"] == "succeeded" and one["trigger"] == "cli"
    assert [r["name"] for r in one["jurisdictions"]["US"]["rows"]] == ["Acetylfentanyl", "U-49900"]
    assert all(r["new_since_previous"] for r in one["jurisdictions"]["US"]["rows"])
    r2 = runner.invoke(app, ["report", "lookalikes", "--json", "--as-of", "2026-01-01", "-j", "us"])
    two = json.loads(r2.stdout)
    assert two["previous_id"] == one["id"]
    assert list(two["jurisdictions"]) == ["US"]
    assert not any(r["new_since_previous"] for r in two["jurisdictions"]["US"]["rows"])
    table = runner.invoke(app, ["report", "lookalikes", "--as-of", "2026-01-01"])
    assert table.exit_code == 0
    assert "Acetylfentanyl" in table.stdout and "United States (US): 2 rows" in table.stdout


def test_bad_import_lists_every_problem_and_changes_nothing(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text(
        f"{HEADER}\nC1CC(,x,2016,EU,eu_ews,,https://example.org,\nCCO,Ethanol,2016-02-30,EU,gossip,,,\n"
    )
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("2: structure: SMILES does not parse")
    assert lines[1:4] == [
        "3: date: bad date: '2016-02-30': day 30 does not exist in that month",
        "3: reporter_type: unknown reporter type 'gossip' (one of eu_ews, unodc_ewa, national_forensic, "
        "seizure, literature, other)",
        "3: source: missing source",
    ]
    assert lines[-1] == "error: 4 problem(s) in bad.csv; nothing imported"
    stats = json.loads(runner.invoke(app, ["registry", "stats", "--json"]).stdout)
    assert stats["tables"]["appearances"] == 2  # the fixture registry's own


def test_unknown_column_and_missing_file(env: Path) -> None:
    f = env / "typo.csv"
    f.write_text("structure,date,place,reporter-type,source\nCCO,2016,EU,eu_ews,x\n")
    result = runner.invoke(app, ["import", str(f)])
    assert result.exit_code == 1
    assert "1: reporter_type: required column is missing" in result.stderr
    assert "1: reporter-type: unknown column" in result.stderr
    missing = runner.invoke(app, ["import", str(env / "nope.csv")])
    assert missing.exit_code == 2
