"""The one SD-file splitter: records, their first line numbers, their molfiles."""

from __future__ import annotations

from service.chem import sdf

MOL = ["methane", "  RDKit", "", "  1  0  0  0  0  0  0  0  0  0999 V2000",
       "    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0", "M  END"]


def test_records_keep_their_first_line_and_skip_blank_ones() -> None:
    lines = [*MOL, "> <id>", "a", "", "$$$$", "", "$$$$", *MOL, "$$$$\r\n", "tail without M END"]
    got = list(sdf.records(lines))
    assert [start for start, _ in got] == [1, 13, 20]
    assert got[0][1][-3:] == ["> <id>", "a", ""]
    assert got[2][1] == ["tail without M END"]


def test_the_molfile_ends_at_m_end() -> None:
    record = [*MOL, "> <name>", "x"]
    assert sdf.molblock(record) == "\n".join(MOL) + "\n"
    assert sdf.end_of_molfile(record) == 5
    assert sdf.molblock(["no molfile here"]) is None


def test_the_batch_check_reads_each_record_of_an_sd_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from service.check.batch import read_items

    path = tmp_path / "two.sdf"
    path.write_text("\n".join([*MOL, "> <id>", "a", "", "$$$$", "", *MOL[1:], "$$$$", ""]) + "\n")
    items = list(read_items(path))
    assert [i.id for i in items] == ["methane", None]
    assert all(i.structure.endswith("M  END\n") and i.input_type == "molfile" for i in items)
