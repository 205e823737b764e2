"""Check throughput and latency against the full registry, as ratios to this machine's floor.

    python bench/check_bench.py [--input FILE.smi] [--n N] [--single M] [--no-http] [--json]

The floor is what one core does with RDKit alone for each molecule — parse, the same
standardization the check uses, InChIKey and Morgan fingerprint — with no service code.
It is measured in the same run, before and after the checks (the machine may be shared:
both are printed, and every ratio is to their mean). The check then adds identity lookup,
Tanimoto to every registry entry, class rules and the verdicts. Figures, each also as a
ratio to the floor (`*_vs_floor`; a latency as multiples of the floor's time per molecule):

  floor_mol_per_s           RDKit alone, one core
  batch_mol_per_s           check_many through the Python API, one process
  batch_parallel_mol_per_s  check_many on every core (`cores`)
  http_batch_mol_per_s      POST /check/batch (1,000 per request) to a live server
  http_p50_ms, http_p99_ms  one structure per POST /check, sequential, keep-alive, loopback
  index_build_s             building the watch index from the database
  rss_mb                    this process's peak resident memory
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from rdkit import Chem

from service import runtime
from service.check.batch import Item, check_many
from service.check.service import CheckOptions
from service.chem.fingerprints import fingerprint
from service.chem.standardize import parent
from service.config import Settings
from service.paths import schedules_dir

# Drug-like structures made from cores and substituents: amides, amines, ethers and
# heteroaromatics of the sizes found in screening libraries, plus some opioid-like cores
# so the class rules and near-miss paths are exercised as in real traffic.
CORES = [
    "c1ccc(cc1)C(=O)N{R}",
    "c1ccc(cc1)N(C(=O){A})C1CCN({R})CC1",
    "O=C(N{R})c1ccc2ccccc2c1",
    "c1ccc2[nH]ccc2c1C{R}",
    "CN1CCN(CC1)c1ccc({R})cc1",
    "O=C1CCC(N1){R}",
    "c1ccnc(c1)N{R}",
    "COc1ccc(cc1)CCN{R}",
    "CCN(CC)CCOC(=O)c1ccc({R})cc1",
    "CCOC(=O)C1(CCN(C)CC1)c1ccc({R})cc1",
    "CCN(CC)CCn1c(C{R})nc2ccccc21",
    "CN(C)C1CCCCC1N(C)C(=O)c1ccc({R})cc1",
    "O=C(O)c1ccccc1O{R}",
    "c1csc(c1)C(=O)N{R}",
    "Cc1nc2ccccc2c(=O)n1{R}",
    "NS(=O)(=O)c1ccc({R})cc1",
    "OC(c1ccccc1)(c1ccccc1)C{R}",
    "c1ccc2c(c1)CCN(C2){R}",
    "O=C(Nc1ccccc1){R}",
    "CC(C)(C)NCC(O)c1ccc(O)c({R})c1",
]
GROUPS = [
    "C",
    "CC",
    "CCC",
    "C(C)C",
    "CC(C)C",
    "C1CC1",
    "C1CCCC1",
    "C1CCCCC1",
    "CCO",
    "CCOC",
    "c1ccccc1",
    "Cc1ccccc1",
    "CCc1ccccc1",
    "c1ccc(F)cc1",
    "c1ccc(Cl)cc1",
    "c1ccc(OC)cc1",
    "c1ccncc1",
    "c1ccco1",
    "c1cccs1",
    "CC(=O)O",
    "CC(N)=O",
    "CCN(C)C",
    "CCCN",
    "C(F)(F)F",
    "CCC(F)(F)F",
    "c1cnccn1",
    "C1CCOC1",
    "CC1CCCO1",
    "c1ccc2ccccc2c1",
    "CCc1ccc(Cl)cc1",
]
ACYLS = ["CC", "CCC", "CCCC", "C1CC1", "COC", "c1ccco1", "C=C", "CC(C)C", "OCC"]


def generate(n: int, seed: int = 20261123) -> list[str]:
    """Deterministic, de-duplicated drug-like SMILES (varied by positions and substituents)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    tries = 0
    while len(out) < n and tries < n * 50:
        tries += 1
        core = rng.choice(CORES)
        smi = core.replace("{R}", rng.choice(GROUPS)).replace("{A}", rng.choice(ACYLS))
        if rng.random() < 0.7:  # decorate an aromatic CH with a second substituent
            smi = _decorate(smi, rng)
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            continue
        can = Chem.MolToSmiles(mol)
        if can not in seen:
            seen.add(can)
            out.append(can)
    return out


def _decorate(smi: str, rng: random.Random) -> str:
    mol = Chem.MolFromSmiles(smi)
    if mol is None:
        return smi
    rw = Chem.RWMol(mol)
    sites = [
        a.GetIdx()
        for a in mol.GetAtoms()
        if a.GetIsAromatic() and a.GetSymbol() == "C" and a.GetTotalNumHs() == 1
    ]
    if not sites:
        return smi
    site = rng.choice(sites)
    sub = rng.choice(["F", "Cl", "Br", "C", "O", "OC", "N", "C#N", "C(F)(F)F", "[N+](=O)[O-]"])
    frag = Chem.MolFromSmiles(sub)
    combo = Chem.RWMol(Chem.CombineMols(rw, frag))
    combo.AddBond(site, rw.GetNumAtoms(), Chem.BondType.SINGLE)
    try:
        Chem.SanitizeMol(combo)
    except Exception:
        return smi
    return Chem.MolToSmiles(combo)


def floor(smiles: list[str], settings: Settings) -> float:
    """Molecules per second for parse + standardize + InChIKey + fingerprint, one core."""
    t = time.perf_counter()
    for s in smiles:
        mol = parent(Chem.MolFromSmiles(s))
        Chem.MolToInchiKey(mol)
        fingerprint(mol, "morgan", settings.fingerprint_radius, settings.fingerprint_bits)
    return len(smiles) / (time.perf_counter() - t)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_figures(smiles: list[str], db_url: str, n_single: int) -> dict[str, float]:
    """Start `analogwatch serve` on loopback and measure batch throughput and single latency."""
    port = _free_port()
    env = {**os.environ, "ANALOGWATCH_DATABASE_URL": db_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            for _ in range(600):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            client.post("/check", json={"structure": "CCO"})  # warm up
            lat = []
            for s in smiles[:n_single]:
                t = time.perf_counter()
                r = client.post("/check", json={"structure": s})
                lat.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
            t = time.perf_counter()
            done = 0
            for i in range(0, len(smiles), 1000):
                chunk = smiles[i : i + 1000]
                r = client.post("/check/batch", json={"items": [{"structure": s} for s in chunk]})
                r.raise_for_status()
                done += len(chunk)
            batch_rate = done / (time.perf_counter() - t)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lat.sort()
    return {
        "http_batch_mol_per_s": batch_rate,
        "http_p50_ms": statistics.median(lat),
        "http_p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", type=Path, help=".smi file (SMILES first on each line)")
    parser.add_argument(
        "--n", type=int, default=10_000, help="structures to generate (default 10,000)"
    )
    parser.add_argument(
        "--single", type=int, default=2_000, help="sequential single checks over HTTP"
    )
    parser.add_argument("--no-http", action="store_true", help="skip the live-server figures")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    if args.input:
        smiles = [ln.split()[0] for ln in args.input.read_text().splitlines() if ln.strip()]
    else:
        smiles = generate(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.db"
        settings = Settings(database_url=db_url, schedules_dir=schedules_dir())
        rt = runtime.open_writable(settings)
        t = time.perf_counter()
        index = rt.index_holder.rebuild()
        index_build = time.perf_counter() - t
        options = CheckOptions(as_of=date.today(), threshold=settings.similarity_threshold)
        items = [Item(None, s, "smiles") for s in smiles]

        floor_before = floor(smiles, settings)
        t = time.perf_counter()
        # both as JSON lines: the batch check's product is `analogwatch check --file` output
        lines = list(check_many(index, items, options, processes=1, as_json=True))
        batch_rate = len(items) / (time.perf_counter() - t)
        t = time.perf_counter()
        parallel = list(check_many(index, items, options, processes=cores, as_json=True))
        parallel_rate = len(items) / (time.perf_counter() - t)
        assert parallel == lines
        floor_after = floor(smiles, settings)
        results = [json.loads(x) for x in lines]
        errors = sum(1 for r in results if "error" in r)
        flagged = sum(
            1
            for r in results
            if "verdicts" in r and any(v["status"] != "not_flagged" for v in r["verdicts"])
        )
        rt.close()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        http = {} if args.no_http else http_figures(smiles, db_url, min(args.single, len(smiles)))

    floor_rate = (floor_before + floor_after) / 2
    floor_ms = 1000 / floor_rate  # the floor's time per molecule
    figures: dict[str, object] = {
        "n": len(smiles),
        "cores": cores,
        "registry_substances": len(index.snapshot.substances),
        "errors": errors,
        "flagged": flagged,
        "floor_mol_per_s": round(floor_rate, 1),
        "floor_before_mol_per_s": round(floor_before, 1),
        "floor_after_mol_per_s": round(floor_after, 1),
        "batch_mol_per_s": round(batch_rate, 1),
        "batch_vs_floor": round(batch_rate / floor_rate, 2),
        "batch_parallel_mol_per_s": round(parallel_rate, 1),
        "parallel_vs_floor": round(parallel_rate / floor_rate, 2),
        "index_build_s": round(index_build, 3),
        "rss_mb": round(rss_mb, 1),
    }
    if http:
        figures |= {
            "http_batch_mol_per_s": round(http["http_batch_mol_per_s"], 1),
            "http_batch_vs_floor": round(http["http_batch_mol_per_s"] / floor_rate, 2),
            "http_p50_ms": round(http["http_p50_ms"], 2),
            "http_p50_vs_floor": round(http["http_p50_ms"] / floor_ms, 2),
            "http_p99_ms": round(http["http_p99_ms"], 2),
            "http_p99_vs_floor": round(http["http_p99_ms"] / floor_ms, 2),
        }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{cores} cores; registry of {figures['registry_substances']} substances; "
        f"{len(smiles):,} structures ({errors} unreadable, {flagged} flagged somewhere)"
    )
    print(
        f"floor (parse + standardize + InChIKey + fingerprint, one core): {floor_rate:,.0f} mol/s "
        f"= {floor_ms:.2f} ms/mol (before the checks {floor_before:,.0f}, after {floor_after:,.0f})"
    )
    rows = [
        ("batch check, one core", f"{batch_rate:,.0f} mol/s", batch_rate / floor_rate),
        (f"batch check, {cores} cores", f"{parallel_rate:,.0f} mol/s", parallel_rate / floor_rate),
    ]
    if http:
        rows += [
            (
                "HTTP batch, 1,000 per request",
                f"{http['http_batch_mol_per_s']:,.0f} mol/s",
                http["http_batch_mol_per_s"] / floor_rate,
            ),
            (
                "HTTP single check p50",
                f"{http['http_p50_ms']:.2f} ms",
                http["http_p50_ms"] / floor_ms,
            ),
            (
                "HTTP single check p99",
                f"{http['http_p99_ms']:.2f} ms",
                http["http_p99_ms"] / floor_ms,
            ),
        ]
    print(f"\n{'figure':<32}{'value':>14}{'x floor':>10}")
    for name, value, ratio in rows:
        print(f"{name:<32}{value:>14}{ratio:>10.2f}")
    print(f"\nindex build {index_build:.3f} s; peak RSS {rss_mb:,.0f} MB (without the server)")
    print("(a latency's ratio is in multiples of the floor's time per molecule)")


if __name__ == "__main__":
    main()
