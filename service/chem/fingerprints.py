"""Fingerprints and Tanimoto similarity (RDKit generators; one generator per setting)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rdkit import DataStructs
from rdkit.Chem import rdFingerprintGenerator

KINDS = ("morgan", "feature-morgan", "atom-pair", "torsion")


@lru_cache(maxsize=32)
def generator(kind: str = "morgan", radius: int = 2, bits: int = 2048) -> Any:
    """A cached RDKit fingerprint generator.

    `morgan` is ECFP-like (radius 2 ~ ECFP4), `feature-morgan` FCFP-like, `atom-pair` and
    `torsion` the topological atom-pair and torsion fingerprints (radius ignored).
    """
    if kind == "morgan":
        return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    if kind == "feature-morgan":
        return rdFingerprintGenerator.GetMorganGenerator(
            radius=radius,
            fpSize=bits,
            atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen(),
        )
    if kind == "atom-pair":
        return rdFingerprintGenerator.GetAtomPairGenerator(fpSize=bits)
    if kind == "torsion":
        return rdFingerprintGenerator.GetTopologicalTorsionGenerator(fpSize=bits)
    raise ValueError(f"unknown fingerprint kind {kind!r}; one of {', '.join(KINDS)}")


def fingerprint(mol: Any, kind: str = "morgan", radius: int = 2, bits: int = 2048) -> Any:
    """Bit-vector fingerprint of a molecule."""
    return generator(kind, radius, bits).GetFingerprint(mol)


def tanimoto_many(query: Any, fps: Sequence[Any]) -> list[float]:
    """Tanimoto similarity of one fingerprint to many (0.0 to 1.0)."""
    return list(DataStructs.BulkTanimotoSimilarity(query, list(fps))) if fps else []
