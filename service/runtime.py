"""The composition root: settings, engine, watch index (with its search backend) and scheduler.

FastAPI's lifespan and every command of the CLI ask this module; nothing else builds an
engine for the configured database, an `IndexHolder` or a scheduler. There are two ways in,
each returning a `Runtime` to close when done (`with runtime.open_read_only(s) as rt:`):

- `open_writable(settings)` (`serve`, `load`, `import`, `report`): migrates the embedded
  SQLite database to head (PostgreSQL must already be at head) and loads `schedules/` when
  the database is empty or the files changed.
- `open_read_only(settings)` (`check`, `screen`, `lag`, `backtest`, `registry export`,
  `registry stats`): never migrates, loads or writes the configured database. It is opened
  read-only (SQLite `mode=ro`, PostgreSQL `default_transaction_read_only`). When it holds no
  loaded registry at the code's schema (a first run, before `analogwatch serve` or `load`),
  the registry is read from `schedules/` into a private scratch database that is deleted on
  close, and `Runtime.source` says so.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from service import migrate
from service.config import Settings
from service.db import make_engine
from service.errors import AnalogwatchError
from service.paths import schedules_dir
from service.registry.loader import LoadResult, latest_load, load_registry
from service.registry.snapshot import Snapshot

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from service.check.index import IndexHolder, WatchIndex

log = logging.getLogger("analogwatch")

Source = Literal["database", "scratch"]


@dataclass
class Runtime:
    """What one process works with; build it with `open_writable` or `open_read_only`."""

    settings: Settings
    engine: Engine
    read_only: bool
    source: Source = "database"
    _scratch: Path | None = None
    _holder: IndexHolder | None = field(default=None, repr=False)
    _scheduler: BackgroundScheduler | None = field(default=None, repr=False)

    @property
    def index_holder(self) -> IndexHolder:
        """The one index holder of this process (built on first use)."""
        if self._holder is None:
            from service.check.index import IndexHolder

            # a scratch copy lives in SQLite, where only the in-memory search runs
            backend = "memory" if self.source == "scratch" else self.settings.search_backend
            self._holder = IndexHolder(
                self.engine,
                kind="morgan",
                radius=self.settings.fingerprint_radius,
                bits=self.settings.fingerprint_bits,
                ttl=self.settings.index_refresh_seconds,
                search_backend=backend,
                sync=not self.read_only,
            )
        return self._holder

    def index(self) -> WatchIndex:
        """The current watch index (rebuilt when the registry changed)."""
        return self.index_holder.get()

    def snapshot(self) -> Snapshot:
        """The registry as loaded, read in one session."""
        with Session(self.engine) as session:
            return Snapshot.from_session(session)

    def start_scheduler(self) -> BackgroundScheduler:
        """Start the periodic jobs in this process (writable runtimes only)."""
        if self.read_only:
            raise AnalogwatchError("a read-only runtime runs no periodic jobs")
        from service.scheduler import start_scheduler

        self._scheduler = start_scheduler(self.engine, self.settings, self.index)
        return self._scheduler

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the scheduler, release the engine, delete a scratch database."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self.engine.dispose()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _after_load(settings: Settings) -> Callable[[Connection], object]:
    """Keep the cartridge's structure tables in step with a load, in its transaction."""

    def sync(conn: Connection) -> object:
        from service.check.cartridge import sync_structures

        return sync_structures(
            conn, radius=settings.fingerprint_radius, bits=settings.fingerprint_bits
        )

    return sync


def load(
    settings: Settings, engine: Engine, directory: Path | None = None, *, force: bool = False
) -> LoadResult:
    """Load a registry directory (default: the configured one) into the engine's database."""
    return load_registry(
        engine,
        directory or settings.schedules_dir or schedules_dir(),
        force=force,
        after_load=_after_load(settings),
    )


def prepare_database(engine: Engine, settings: Settings) -> None:
    """Migrate an embedded SQLite database to head; require head on PostgreSQL."""
    url = settings.database_url
    if settings.is_sqlite:
        migrate.upgrade(url)
        return
    current, head = migrate.current_revision(engine), migrate.head_revision(url)
    if current != head:
        raise AnalogwatchError(
            f"database is at revision {current}, the code needs {head}: run `analogwatch db upgrade`"
        )


def open_writable(settings: Settings, *, auto_load: bool | None = None) -> Runtime:
    """The configured database, migrated (SQLite) and loaded when empty or changed."""
    engine = make_engine(settings.database_url)
    try:
        prepare_database(engine, settings)
        if settings.auto_load if auto_load is None else auto_load:
            result = load(settings, engine)
            if result.changed:
                log.info("registry loaded: %s", result.counts)
    except BaseException:
        engine.dispose()
        raise
    return Runtime(settings=settings, engine=engine, read_only=False)


def read_only_url(url: str) -> str:
    """The SQLite URL of the same file opened read-only (`mode=ro`); other URLs unchanged."""
    if not url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return url
    path = Path(url.removeprefix("sqlite:///")).resolve()
    return f"sqlite:///file:{path.as_posix()}?mode=ro&uri=true"


def _usable(engine: Engine, url: str) -> bool:
    """True when the database is at the code's schema and holds a loaded registry (a database
    that cannot be reached raises: it is not silently replaced by a scratch copy)."""
    if migrate.current_revision(engine) != migrate.head_revision(url):
        return False
    with Session(engine) as session:
        return latest_load(session) is not None


def open_read_only(settings: Settings) -> Runtime:
    """The configured database, read-only; a scratch copy of `schedules/` when it has no registry."""
    url = settings.database_url
    exists = not settings.is_sqlite or Path(url.removeprefix("sqlite:///")).is_file()
    if exists:
        engine = make_engine(read_only_url(url), read_only=True)
        if _usable(engine, url):
            return Runtime(settings=settings, engine=engine, read_only=True)
        engine.dispose()
    log.warning(
        "the database %s holds no loaded registry at this version; reading schedules/ into a "
        "scratch copy (run `analogwatch load` to store it)",
        settings.masked()["database_url"],
    )
    return _scratch_runtime(settings, settings.schedules_dir or schedules_dir())


def open_scratch(settings: Settings, directory: Path) -> Runtime:
    """A private database holding the registry of `directory` (deleted on close)."""
    return _scratch_runtime(settings, directory)


def _scratch_runtime(settings: Settings, directory: Path) -> Runtime:
    tmp = Path(tempfile.mkdtemp(prefix="analogwatch-"))
    url = f"sqlite:///{tmp / 'registry.db'}"
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        load_registry(engine, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    scratch = settings.model_copy(update={"database_url": url, "search_backend": "memory"})
    return Runtime(settings=scratch, engine=engine, read_only=True, source="scratch", _scratch=tmp)
