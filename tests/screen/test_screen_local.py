"""Local screening: one row per record, bad records kept, every core equals one, resume."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbkit import service_database_url, service_environment
from typer.testing import CliRunner

from service.check.index import WatchIndex
from service.check.service import CheckOptions
from service.config import get_settings
from service.errors import AnalogwatchError
from service.screen.run import ScreenJob, parts_dir, run_screen

DAY = date(2026, 1, 1)


def _job(library: Path, out: Path, **kw: object) -> ScreenJob:
    return ScreenJob(source=library, out=out, options=CheckOptions(as_of=DAY), chunk_size=25, **kw)  # type: ignore[arg-type]


def test_one_row_per_record_with_verdicts_and_reasons(
    screen_index: WatchIndex, library: Path, library_records: list, tmp_path: Path
) -> None:
    out = tmp_path / "one.parquet"
    summary = run_screen(screen_index, _job(library, out, workers=1))
    table = pq.read_table(out)
    assert table.num_rows == len(library_records) == summary.rows
    assert table.column("row").to_pylist() == list(range(len(library_records)))
    assert table.column("id").to_pylist() == [i for _, i in library_records]
    rows = {r["id"]: r for r in table.to_pylist()}
    fentanyl = rows["fentanyl"]
    assert fentanyl["inchikey"] == "PJMPHNIQZUBGLI-UHFFFAOYSA-N"
    assert (fentanyl["US_status"], fentanyl["US_match"]) == ("controlled", "Fentanyl")
    assert fentanyl["US_similarity"] == 1.0
    analog = rows["p-chloro-butyrfentanyl"]
    assert analog["US_status"] == "controlled_by_class"
    assert analog["US_match"].startswith("us-frs clauses ")
    assert analog["CN_status"] == "controlled_by_class"
    assert rows["U-47700"]["US_status"] == "controlled"
    # the UK's fentanyl generic is known but not encoded: the row says so, as the check does
    assert analog["UK_status"] in ("lookalike", "not_flagged")
    assert analog["UK_caveats"] == "uk-fentanyl-generic"
    assert fentanyl["UK_status"] == "controlled" and fentanyl["UK_caveats"] is None
    assert analog["US_caveats"] is None  # a caveat is for the law's own jurisdiction
    codes = sorted(summary.flagged)
    # added later, so last: caveats, then exclusions
    assert table.column_names[-2 * len(codes) :] == [f"{c}_caveats" for c in codes] + [
        f"{c}_excluded_by" for c in codes
    ]
    # the 1961 Convention names dextromethorphan as excluded (so the EU, which applies it);
    # China controls it
    dxm = rows["dextromethorphan"]
    assert dxm["UN_excluded_by"].startswith("Single Convention on Narcotic Drugs, 1961")
    assert dxm["EU_excluded_by"].startswith("UN: Single Convention")
    assert dxm["CN_status"] == "controlled" and dxm["CN_excluded_by"] is None
    assert fentanyl["UN_excluded_by"] is None
    assert summary.excluded["UN"] == summary.excluded["EU"] == 1 and summary.excluded["CN"] == 0
    assert summary.caveats["US"] == 0 < summary.caveats["UK"]
    assert summary.caveats["UK"] == sum(r["UK_caveats"] is not None for r in rows.values())
    assert rows["bad-syntax"]["error"].startswith("SMILES does not parse")
    assert rows["bad-ring"]["error"].startswith("SMILES does not parse")
    assert "no carbon" in rows["bad-inorganic"]["error"]
    assert rows["bad-syntax"]["US_status"] is None and rows["bad-syntax"]["smiles"] is None
    assert summary.errors == 3
    assert not parts_dir(out).exists()  # merged and cleaned up


def test_every_core_gives_the_same_output(
    screen_index: WatchIndex, library: Path, tmp_path: Path
) -> None:
    run_screen(screen_index, _job(library, tmp_path / "a.parquet", workers=1))
    summary = run_screen(screen_index, _job(library, tmp_path / "b.parquet", workers=2))
    assert summary.workers == 2
    assert pq.read_table(tmp_path / "b.parquet").equals(pq.read_table(tmp_path / "a.parquet"))


def test_resume_after_interruption_skips_finished_chunks(
    screen_index: WatchIndex, library: Path, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.parquet"
    run_screen(screen_index, _job(library, clean, workers=1))
    out = tmp_path / "resumed.parquet"
    seen: list[int] = []

    def interrupt(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_screen(screen_index, _job(library, out, workers=2), progress=interrupt)
    assert not out.exists()
    finished = sorted(p.name for p in parts_dir(out).glob("part-*.parquet"))
    assert finished == ["part-000000.parquet", "part-000001.parquet"]
    summary = run_screen(screen_index, _job(library, out, workers=2))
    assert (summary.chunks, summary.chunks_skipped) == (5, 2)
    assert (summary.rows, summary.screened) == (116, 116 - 2 * 25)
    assert pq.read_table(out).equals(pq.read_table(clean))


def test_unfinished_run_of_other_options_is_not_mixed(
    screen_index: WatchIndex, library: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.parquet"

    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_screen(screen_index, _job(library, out, workers=1), progress=interrupt)
    other = CheckOptions(as_of=date(2015, 1, 1))
    job = ScreenJob(source=library, out=out, options=other, chunk_size=25, workers=1)
    with pytest.raises(AnalogwatchError, match="--fresh"):
        run_screen(screen_index, job)
    summary = run_screen(screen_index, ScreenJob(**{**_fields(job), "fresh": True}))
    assert summary.chunks_skipped == 0
    fentanyl = pq.read_table(out).to_pylist()[10]
    assert (fentanyl["id"], fentanyl["US_status"]) == ("fentanyl", "controlled")


def _fields(job: ScreenJob) -> dict:
    return {f: getattr(job, f) for f in job.__dataclass_fields__}


def test_parquet_csv_and_sdf_inputs_give_the_same_rows(
    screen_index: WatchIndex, library: Path, library_records: list, tmp_path: Path
) -> None:
    from rdkit import Chem

    run_screen(screen_index, _job(library, tmp_path / "smi.parquet", workers=1))
    expected = pq.read_table(tmp_path / "smi.parquet").drop_columns(["input"])
    src = tmp_path / "library.parquet"
    pq.write_table(
        pa.table(
            {"ID": [i for _, i in library_records], "SMILES": [s for s, _ in library_records]}
        ),
        src,
    )
    run_screen(screen_index, _job(src, tmp_path / "pq.parquet", workers=1))
    assert pq.read_table(tmp_path / "pq.parquet").drop_columns(["input"]).equals(expected)
    csv = tmp_path / "library.csv"
    csv.write_text("id,smiles\n" + "".join(f"{i},{s}\n" for s, i in library_records))
    run_screen(screen_index, _job(csv, tmp_path / "csv.parquet", workers=1))
    # a CSV column may hold SMILES or InChI, so a bad record's reason is worded differently
    got_csv = pq.read_table(tmp_path / "csv.parquet")
    assert got_csv.drop_columns(["input", "error"]).equals(expected.drop_columns(["error"]))
    assert got_csv.column("error").is_null().equals(expected.column("error").is_null())
    good = [(s, i) for s, i in library_records[:30] if Chem.MolFromSmiles(s) is not None]
    sdf = tmp_path / "library.sdf"
    with Chem.SDWriter(str(sdf)) as w:
        for s, i in good:
            m = Chem.MolFromSmiles(s)
            m.SetProp("_Name", i)
            w.write(m)
    run_screen(screen_index, _job(sdf, tmp_path / "sdf.parquet", workers=1))
    got = pq.read_table(tmp_path / "sdf.parquet").to_pylist()
    by_id = {r["id"]: r for r in expected.to_pylist()}
    assert [r["id"] for r in got] == [i for _, i in good]
    assert all(r["US_status"] == by_id[r["id"]]["US_status"] for r in got)
    assert all(r["inchikey"] == by_id[r["id"]]["inchikey"] for r in got)


def test_cli_screen(library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.cli import app

    service_environment(monkeypatch, service_database_url(tmp_path, "cli.db"))
    get_settings.cache_clear()
    try:
        out = tmp_path / "cli.parquet"
        args = [
            "screen",
            str(library),
            "--out",
            str(out),
            "-j",
            "us",
            "--as-of",
            "2026-01-01",
            "--json",
        ]
        result = CliRunner().invoke(app, [*args, "--workers", "2"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["rows"] == pq.read_metadata(out).num_rows == 116
        assert data["errors"] == 3 and set(data["flagged"]) == {"US"}
        assert [c for c in pq.read_schema(out).names if c.endswith("_status")] == ["US_status"]
        bad = CliRunner().invoke(app, ["screen", str(library), "--out", str(tmp_path / "x.csv")])
        assert bad.exit_code == 2 and ".parquet" in bad.output
    finally:
        get_settings.cache_clear()


def test_merged_output_has_few_large_row_groups(
    screen_index: WatchIndex,
    library: Path,
    library_records: list,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks of 25 rows merge into row groups of at least ROW_GROUP_ROWS (the last may be
    shorter): the writer's metadata, and so the memory of a long screen, stays small."""
    from service.screen import run as screen_run

    monkeypatch.setattr(screen_run, "ROW_GROUP_ROWS", 60)
    out = tmp_path / "grouped.parquet"
    run_screen(screen_index, _job(library, out, workers=1))
    meta = pq.ParquetFile(out).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    n = len(library_records)
    assert sum(sizes) == n
    assert all(s == 75 for s in sizes[:-1])  # three chunks of 25 reach 60
    assert 0 < sizes[-1] <= 75
    assert len(sizes) == -(-n // 75)
    whole = tmp_path / "whole.parquet"
    monkeypatch.setattr(screen_run, "ROW_GROUP_ROWS", 10**9)
    run_screen(screen_index, _job(library, whole, workers=1))
    assert pq.read_table(out).equals(pq.read_table(whole))
