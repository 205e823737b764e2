"""Fuzzed structure inputs: every case ends in a verdict or a StructureError (a 422), never a
crash or a hang. Hypothesis's deadline bounds each case; the counts are in the settings."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdkit import Chem

from service.check.index import WatchIndex
from service.check.service import CheckOptions, check
from service.chem.errors import StructureError

OPTIONS = CheckOptions(as_of=date(2024, 1, 1))
CASES = settings(
    max_examples=300,
    deadline=2000,  # ms per case: far above a normal check (~2 ms), catches a hang
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
SMILES_ALPHABET = list("CNOSPFIBrcnospl()[]=#@+-\\/%0123456789.:*H") + ["Cl", "Br", "%99", "[Na+]", "[Xe]", "[2H]"]


def _ends_cleanly(index: WatchIndex, text: str) -> None:
    try:
        result = check(index, text, OPTIONS)
    except StructureError as exc:
        assert str(exc)  # a reason, always
        return
    assert len(result.inchikey) == 27
    assert {v.status.value for v in result.verdicts} <= {
        "controlled",
        "controlled_by_class",
        "lookalike",
        "not_flagged",
    }


@CASES
@given(text=st.text(max_size=300))
def test_arbitrary_unicode_text(real_index: WatchIndex, text: str) -> None:
    _ends_cleanly(real_index, text)


@st.composite
def mutated_smiles(draw: st.DrawFn, pool: list[str]) -> str:
    s = list(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "nest", "ring", "repeat"]))
        i = draw(st.integers(0, max(len(s) - 1, 0)))
        if op == "insert":
            s.insert(i, draw(st.sampled_from(SMILES_ALPHABET)))
        elif op == "delete" and s:
            del s[i]
        elif op == "replace" and s:
            s[i] = draw(st.sampled_from(SMILES_ALPHABET))
        elif op == "nest":
            depth = draw(st.integers(1, 400))
            s.insert(i, "C(" * depth + "C" + ")" * depth)
        elif op == "ring":
            s.insert(i, f"C%{draw(st.integers(10, 99))}CCC%{draw(st.integers(10, 99))}")
        elif op == "repeat":
            s = s * draw(st.integers(2, 12))
    return "".join(s)


def test_mutated_registry_smiles(real_index: WatchIndex) -> None:
    pool = [s.smiles for s in real_index.snapshot.substances]

    @CASES
    @given(text=mutated_smiles(pool))
    def run(text: str) -> None:
        _ends_cleanly(real_index, text)

    run()


def test_truncated_and_garbled_molfiles(real_index: WatchIndex) -> None:
    blocks = [Chem.MolToMolBlock(s.mol) for s in real_index.snapshot.substances[:40]]

    @CASES
    @given(block=st.sampled_from(blocks), cut=st.floats(0.05, 1.0), noise=st.text(max_size=20))
    def run(block: str, cut: float, noise: str) -> None:
        lines = block.splitlines()
        k = max(1, int(len(lines) * cut))
        garbled = "\n".join(lines[:k] + [noise] + lines[k:k + 2]) + "\nM  END\n"
        _ends_cleanly(real_index, garbled)

    run()


def test_truncated_and_garbled_inchis(real_index: WatchIndex) -> None:
    inchis = [Chem.MolToInchi(s.mol) for s in real_index.snapshot.substances[:60]]

    @CASES
    @given(inchi=st.sampled_from(inchis), cut=st.integers(6, 200), junk=st.text(alphabet="/0123456789-,()hcbtmsq+", max_size=15))
    def run(inchi: str, cut: int, junk: str) -> None:
        _ends_cleanly(real_index, inchi[:cut] + junk)

    run()


def test_hostile_shapes(real_index: WatchIndex) -> None:
    hostile = [
        "C" * 100_001,  # over the text bound
        "C(" * 5000 + "C" + ")" * 5000,  # deep nesting, over the SMILES length bound
        "C(" * 900 + "C" + ")" * 900,  # deep nesting within it
        "c1" * 400,
        "C%99" * 300,
        "[U+92]",
        "[C-4]",
        "N(=O)(=O)(=O)(=O)C",
        "\x00CCO",
        "ＣＣＯ",  # full-width letters
        "C" * 151,  # one over the heavy-atom bound
        "[Na+].[Cl-].[K+].[Br-]",
        "*",
        ".",
    ]
    for text in hostile:
        _ends_cleanly(real_index, text)
