"""Ten thousand screened structures keep the verdicts recorded before the speed-ups of issue 20.

`tests/fixtures/screen_recorded/verdicts.parquet` is the output of `analogwatch screen` for the
first 10,000 structures of bench/library.py, as of 2026-12-01, in every jurisdiction, with the
thresholds in `manifest.json`; `bench/record_verdicts.py` made it. This test screens the same
inputs again with the current code, on every core, and requires every cell to be equal: the
identity columns (canonical SMILES, InChIKey, error) and, per jurisdiction, the status, the match
(substance, or class key with its clauses), citation, reasons, nearest neighbour, similarity and
caveats (the last columns, added after the first recording: re-recorded with every earlier
column unchanged).
A change to the screen or check code must keep it green without touching the recording. All
10,000 records are checked (about 15 s on 2 cores).

The recording and this check both use the shipped registry (`schedules/`). A deliberate change
there (a new substance, act or class definition) moves some verdicts with it, and this test then
fails naming both registry digests: run `python bench/record_verdicts.py`, review the
differences it prints, and commit the new recording together with the registry change.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
from pathlib import Path
from types import ModuleType

import pytest

from service.check.index import WatchIndex
from service.chem.inputs import read_structure

RECORDER = Path(__file__).parents[2] / "bench" / "record_verdicts.py"


@pytest.fixture(scope="module")
def recorder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_verdicts", RECORDER)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_recording_covers_every_status_and_is_pinned(recorder: ModuleType) -> None:
    table, manifest = recorder.load()
    assert table.num_rows == manifest["rows"] == 10_000
    assert table.column("id").to_pylist()[:2] == ["lib-0", "lib-1"]
    statuses = {s for j in manifest["options"]["jurisdictions"] for s in manifest["counts"][j]}
    assert statuses == {"controlled", "controlled_by_class", "lookalike", "not_flagged"}
    assert manifest["options"]["as_of"] == "2026-12-01"


@pytest.mark.slow
def test_screen_gives_the_recorded_verdicts(recorder: ModuleType, screen_index: WatchIndex) -> None:
    recorded, manifest = recorder.load()
    now = recorder.screen(
        screen_index, recorded, recorder.options_of(manifest), workers=os.cpu_count() or 1
    )
    diff = recorder.differences(recorded, now)
    if diff:
        was, is_ = manifest["registry"]["digest"], screen_index.snapshot.digest
        hint = (
            f"the registry changed since the recording ({was[:12]} -> {is_[:12]}): if that "
            "change is meant, run `python bench/record_verdicts.py` and commit its output"
            if was != is_
            else "same registry as the recording: the code changed the verdicts"
        )
        pytest.fail(f"{hint}\n" + "\n".join(diff), pytrace=False)
    assert now.equals(recorded)


def test_remembered_substituents_give_the_same_class_matches(
    recorder: ModuleType, screen_index: WatchIndex
) -> None:
    """Class matching remembers each substituent it classified, across molecules. The screen
    output shows statuses only; here every match of 1,000 recorded inputs (member, clauses
    and their atoms, near-miss reason, notes) equals a match with nothing remembered."""
    recorded, _ = recorder.load()
    mols = [read_structure(s, "smiles").mol for s in recorded.column("input").to_pylist()[::10]]
    for cls in screen_index.snapshot.classes:
        warm = pickle.loads(pickle.dumps(cls.compiled))  # a copy remembers nothing yet
        cold = pickle.loads(pickle.dumps(cls.compiled))
        matched = 0
        for mol in mols:
            cold._seen.clear()
            found = warm.match(mol)
            assert found == cold.match(mol)
            matched += found.member or found.near_miss
        assert matched > 50  # every class meets members or near misses in the library
        assert warm._seen  # and remembered substituents on the way
