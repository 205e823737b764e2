"""A client generated from /openapi.json by openapi-python-client works without hand-written code.

The client is generated in the test (as a user would), imported, and used against the live
service: every call parses into its declared model, with short function names.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest


def _generator() -> str:
    exe = Path(sys.executable).with_name("openapi-python-client")
    found = str(exe) if exe.is_file() else shutil.which("openapi-python-client")
    if not found:
        pytest.fail("openapi-python-client is not installed (it is in the `test` extra)")
    return found


@pytest.fixture(scope="module")
def client_pkg(live_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("client")
    spec = root / "openapi.json"
    with urllib.request.urlopen(f"{live_url}/openapi.json", timeout=30) as r:  # noqa: S310 (loopback)
        spec.write_bytes(r.read())
    out = subprocess.run(
        [
            _generator(),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(root / "analogwatch_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("analogwatch_client")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] == "analogwatch_client"]:
            del sys.modules[name]


def test_operation_ids_are_short_and_stable(live_url: str) -> None:
    with urllib.request.urlopen(f"{live_url}/openapi.json", timeout=30) as r:  # noqa: S310
        spec = json.load(r)
    ids = {o["operationId"] for ops in spec["paths"].values() for o in ops.values()}
    assert {
        "check",
        "check_batch",
        "list_substances",
        "get_substance",
        "lag_summary",
        "list_reports",
        "get_report",
        "latest_report",
        "health",
    } <= ids
    assert not [i for i in ids if i.endswith(("_get", "_post", "_delete"))]


def test_the_generated_client_checks_lists_and_reads(client_pkg: Any, live_url: str) -> None:
    models = importlib.import_module("analogwatch_client.models")
    client = client_pkg.Client(base_url=live_url, raise_on_unexpected_status=True, timeout=60)

    check = importlib.import_module("analogwatch_client.api.check.check")
    result = check.sync(client=client, body=models.CheckRequest(structure="oxycodone"))
    assert isinstance(result, models.CheckResult)
    statuses = {v.jurisdiction: v.status.value for v in result.verdicts}
    assert statuses["UN"] == "controlled" and statuses["US"] == "controlled"

    listing = importlib.import_module("analogwatch_client.api.check.list_substances").sync(
        client=client, q="fentanyl", limit=5
    )
    assert isinstance(listing, models.SubstanceList)
    assert listing.count >= 5 and len(listing.data) == 5
    first = listing.data[0]
    assert isinstance(first, models.SubstanceSummary) and first.name == "Fentanyl"
    assert not first.additional_properties  # every key is declared

    detail = importlib.import_module("analogwatch_client.api.check.get_substance").sync(
        first.id, client=client
    )
    assert isinstance(detail, models.SubstanceDetail)
    assert detail.key == "fentanyl" and "US" in detail.actions.additional_properties

    summary = importlib.import_module("analogwatch_client.api.lag.lag_summary").sync(client=client)
    assert summary is not None and not isinstance(summary, models.HTTPValidationError)
    assert summary.overall.n > 0

    reports = importlib.import_module("analogwatch_client.api.reports.list_reports").sync(
        client=client
    )
    assert isinstance(reports, models.ReportsPublic)
    assert reports.count >= 1 and reports.data[0].status == "succeeded"
