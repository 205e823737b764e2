"""Load test on loopback: many concurrent clients against several workers on PostgreSQL.

    python bench/load_test.py [--workers 2] [--clients 32] [--requests 4000] [--seconds 90]
                              [--mix all|check] [--json]

Starts `analogwatch serve --workers N` on a fresh PostgreSQL database (created and dropped
here; ANALOGWATCH_TEST_POSTGRES_URL names the server), then runs a realistic mix from
concurrent clients until the request or time bound is reached:

  45%  POST /check          one structure (registry names, analogs, drug-like molecules)
  10%  POST /check/batch    20 structures
  25%  GET  /substances     name search
  20%  GET  /lag            per-jurisdiction lag rows

`--mix check` sends only single `POST /check` requests (the latency figure of issue 20: one
HTTP check at N concurrent clients). With every client always waiting on a request, the
mean latency is the clients divided by the throughput (Little's law), so the figures say
how much of a latency is queueing: `queueing_floor_ms` is that quotient.

It prints sustained requests per second, p50/p99 per endpoint, the error count, and the
resident memory of every worker at the start, after the first half and at the end (the
last two agree when nothing leaks; the first half warms the caches).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
from check_bench import generate

ADMIN = os.environ.get(
    "ANALOGWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NAMES = [
    "fentanyl",
    "U-47700",
    "isotonitazene",
    "carfentanil",
    "brorphine",
    "morphine",
    "acetyl fentanyl",
    "MT-45",
]
SEARCH = ["fent", "nitazene", "U-4", "morph", "meth", "AP-237", "carf", "xyz"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _workers(parent: int) -> list[int]:
    kids = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(k) for k in kids]


async def run(args: argparse.Namespace, base: str) -> dict[str, list[float] | int]:
    rng = random.Random(7)
    molecules = generate(500)
    lat: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    budget = {"left": args.requests}
    stop_at = time.monotonic() + args.seconds

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            while budget["left"] > 0 and time.monotonic() < stop_at:
                budget["left"] -= 1
                roll = 0.0 if args.mix == "check" else rng.random()
                if roll < 0.45:
                    name, call = (
                        "POST /check",
                        c.post("/check", json={"structure": rng.choice(NAMES + molecules)}),
                    )
                elif roll < 0.55:
                    items = [{"structure": rng.choice(molecules)} for _ in range(20)]
                    name, call = "POST /check/batch", c.post("/check/batch", json={"items": items})
                elif roll < 0.80:
                    name, call = (
                        "GET /substances",
                        c.get("/substances", params={"q": rng.choice(SEARCH)}),
                    )
                else:
                    j = rng.choice(["US", "CN", "UN", "EU", "UK"])
                    name, call = "GET /lag", c.get("/lag", params={"jurisdiction": j})
                t = time.perf_counter()
                try:
                    r = await call
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                lat[name].append((time.perf_counter() - t) * 1000)
                if not ok:
                    errors[name] += 1

    await asyncio.gather(*(client(i) for i in range(args.clients)))
    return {**{f"lat:{k}": v for k, v in lat.items()}, **{f"err:{k}": v for k, v in errors.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument(
        "--mix", choices=("all", "check"), default="all", help="request mix (default all)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    name = f"aw_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    port = _free_port()
    env = {
        **os.environ,
        "ANALOGWATCH_DATABASE_URL": url,
        "ANALOGWATCH_RATE_LIMIT_BATCH": "",  # measure throughput, not the limiter
        "ANALOGWATCH_SCHEDULER": "false",
    }
    subprocess.run(
        [sys.executable, "-m", "service.cli", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(900):
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        time.sleep(2)  # let every worker finish start-up
        for _ in range(args.workers * 4):  # warm each worker's index
            httpx.post(base + "/check", json={"structure": "CCO"}, timeout=30)
        workers = _workers(server.pid)
        rss_start = [_rss_mb(p) for p in workers]
        # two halves: memory after the first (warm caches) and after the second must agree
        half = argparse.Namespace(**{**vars(args), "requests": args.requests // 2})
        t0 = time.perf_counter()
        result = asyncio.run(run(half, base))
        rss_mid = [_rss_mb(p) for p in workers]
        second = asyncio.run(run(half, base))
        elapsed = time.perf_counter() - t0
        rss_end = [_rss_mb(p) for p in workers]
        for key, value in second.items():
            if key.startswith("lat:"):
                result.setdefault(key, []).extend(value)  # type: ignore[union-attr, arg-type]
            else:
                result[key] = result.get(key, 0) + value  # type: ignore[operator]
    finally:
        server.terminate()
        server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    per = {}
    total = 0
    for key, values in result.items():
        if key.startswith("lat:"):
            v = sorted(values)  # type: ignore[arg-type]
            total += len(v)
            per[key[4:]] = {
                "n": len(v),
                "p50_ms": round(statistics.median(v), 1),
                "p99_ms": round(v[min(len(v) - 1, int(len(v) * 0.99))], 1),
                "errors": result.get("err:" + key[4:], 0),
            }
    figures = {
        "workers": args.workers,
        "clients": args.clients,
        "requests": total,
        "seconds": round(elapsed, 1),
        "requests_per_s": round(total / elapsed, 1),
        "errors": sum(p["errors"] for p in per.values()),  # type: ignore[misc]
        "mix": args.mix,
        # Little's law: with every client always waiting, mean latency = clients / throughput
        "queueing_floor_ms": round(1000 * args.clients * elapsed / max(total, 1), 2),
        "endpoints": per,
        "worker_rss_mb_start": [round(x, 1) for x in rss_start],
        "worker_rss_mb_half": [round(x, 1) for x in rss_mid],
        "worker_rss_mb_end": [round(x, 1) for x in rss_end],
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{total} requests in {elapsed:.1f} s from {args.clients} clients on {args.workers} workers: "
        f"{figures['requests_per_s']} req/s, {figures['errors']} errors; "
        f"clients / throughput = {figures['queueing_floor_ms']} ms (Little's law)"
    )
    for k, v in per.items():
        print(
            f"  {k:<20} n={v['n']:<5} p50={v['p50_ms']} ms  p99={v['p99_ms']} ms  errors={v['errors']}"
        )
    print(
        f"  worker RSS MB start {figures['worker_rss_mb_start']} half {figures['worker_rss_mb_half']}"
        f" end {figures['worker_rss_mb_end']}"
    )


if __name__ == "__main__":
    main()
