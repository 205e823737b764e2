"""A registry load killed at any moment leaves all of it or none of it (SQLite and PostgreSQL).

The real registry is loaded by `analogwatch load` in a child process that is SIGKILLed at
staggered moments; after each kill the database must hold exactly the previous state or
exactly the new one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session

from service import migrate
from service.db import make_engine
from service.paths import schedules_dir
from service.registry.loader import load_registry
from service.registry.service import table_counts


def _state(url: str) -> dict[str, int]:
    eng = make_engine(url)
    try:
        with Session(eng) as s:
            counts = table_counts(s)
    finally:
        eng.dispose()
    counts.pop("registry_loads")
    return counts


def test_killed_load_is_all_or_nothing(database_url: str, registry_dir: Path) -> None:
    migrate.upgrade(database_url)
    eng = make_engine(database_url)
    load_registry(eng, registry_dir)  # the small fixture registry: the "before" state
    eng.dispose()
    before = _state(database_url)
    env = {**os.environ, "ANALOGWATCH_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "service.cli", "load", str(schedules_dir())]

    # how long a full load takes here, to spread the kills over it
    t0 = time.monotonic()
    probe_url = database_url  # measure on a scratch copy would need another DB: time a dry check
    subprocess.run([*cmd, "--check"], env=env, check=True, capture_output=True)
    span = max(time.monotonic() - t0, 1.0)

    outcomes = []
    for i in range(6):
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(span * (0.3 + 0.25 * i))
        finished = child.poll() is not None
        if not finished:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
        state = _state(probe_url)
        if state == before:
            outcomes.append("none")
        else:
            # all of it: exactly what a complete load of the real registry gives
            assert state["substances"] >= 140 and state["class_definitions"] >= 2, state
            outcomes.append("all")
            break
    # every kill left a consistent state; at least one kill landed before the commit
    assert outcomes[0] == "none" or len(outcomes) == 1
    assert set(outcomes) <= {"none", "all"}
    final = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    after = _state(database_url)
    assert after["substances"] >= 140
    again = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True)
    assert '"changed": false' in again.stdout
