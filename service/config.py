"""Settings from the environment (prefix ANALOGWATCH_), built once and overridable in tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_database_url() -> str:
    """SQLite file in the per-user data directory (e.g. ~/.local/share/analogwatch/)."""
    return f"sqlite:///{Path(user_data_dir('analogwatch')) / 'analogwatch.db'}"


class Settings(BaseSettings):
    """Effective configuration of one analogwatch process."""

    model_config = SettingsConfigDict(env_prefix="ANALOGWATCH_", env_file=None, extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL; default: SQLite file in the per-user data directory",
    )
    schedules_dir: Path | None = Field(
        default=None, description="registry directory to load; default: the shipped schedules/"
    )
    auto_load: bool = Field(
        default=True,
        description="load schedules/ on start when the database is empty or files changed",
    )
    similarity_threshold: float = Field(
        default=0.55,
        ge=0.0,
        le=1.0,
        description=(
            "Tanimoto similarity (Morgan r=2, 2048 bits) at or above which a compound is a "
            "lookalike. 0.55, from the time-split backtest (docs/backtest.md, figure "
            "docs/backtest.svg; registry of 2026-12-04): pooled recall at first appearance is "
            "0.83 at every threshold from 0.35 to 0.55 and falls from 0.60 (0.82); within that "
            "plateau false alarms on 1,604 ChEMBL approved drugs fall from 0.91% (registry frozen "
            "at each first appearance) / 1.01% (today's registry) at 0.45 to 0.71% / 0.81% at 0.50 "
            "and 0.42% / 0.45% at 0.55: the highest Morgan recall within a 1% false-alarm budget, "
            "at the lowest false-alarm rate"
        ),
    )
    elsewhere_threshold: float = Field(
        default=0.50,
        ge=0.0,
        le=1.0,
        description=(
            "Tanimoto similarity (Morgan) to a substance controlled in ANOTHER jurisdiction at or "
            "above which a compound is flagged `similar_elsewhere` where it is not controlled. "
            "0.50, from the backtest (docs/backtest.md): pooled recall at first appearance 0.83 -> "
            "0.88 with false alarms 0.79% (frozen at t) / 0.87% (today) on approved drugs; 0.45 "
            "breaks the 1% budget (1.02% / 1.11%), 0.55 gives 0.87 at 0.47% / 0.50%"
        ),
    )
    fingerprint_radius: int = Field(default=2, ge=1, le=6, description="Morgan fingerprint radius")
    fingerprint_bits: int = Field(
        default=2048, ge=64, le=16384, description="Morgan fingerprint size in bits"
    )
    search_backend: Literal["memory", "cartridge"] = Field(
        default="memory",
        description=(
            "where similarity ranking and the class-scaffold prefilter run: `memory` (the "
            "index built at start-up) or `cartridge` (PostgreSQL with the RDKit cartridge)"
        ),
    )
    curator_api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="API keys allowed to write (comma-separated in the environment)",
    )
    index_refresh_seconds: float = Field(
        default=10.0,
        ge=0.0,
        le=3600.0,
        description="how often a worker checks whether the registry changed and rebuilds its index",
    )
    report_cron: str = Field(
        default="0 6 * * 1",
        description="cron expression (UTC) of the periodic lookalike report; default Monday 06:00",
    )
    scheduler: bool = Field(
        default=False,
        description=(
            "run the periodic jobs (the lookalike report) in this process; `analogwatch serve` "
            "turns it on unless set; a lease in the database keeps several workers to one run"
        ),
    )
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="largest request body accepted (413 above); a 10,000-structure batch of molfiles fits",
    )
    rate_limit_batch: str = Field(
        default="60/minute",
        description="POST /check/batch per client (API key or address) per worker; empty: no limit",
    )
    rate_limit_import: str = Field(
        default="20/minute",
        description="appearance imports per client per worker; empty: no limit",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="origins allowed by CORS (comma-separated); empty: CORS off",
    )
    webhook_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "hosts (or host:port) that webhook subscriptions may name although they resolve to a "
            "loopback, link-local or private address (comma-separated); empty: none"
        ),
    )
    webhook_dispatch_seconds: float = Field(
        default=10.0, ge=0.5, le=3600.0, description="how often due webhook deliveries are sent"
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0.0, le=120.0, description="time allowed for one webhook POST"
    )
    webhook_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [10.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0],
        description=(
            "waits before the 2nd, 3rd, ... attempt of a webhook delivery (comma-separated "
            "seconds); the last one repeats until webhook_give_up_hours"
        ),
    )
    webhook_give_up_hours: float = Field(
        default=72.0,
        gt=0.0,
        description="a delivery still failing this long after the report is given up",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    @field_validator(
        "curator_api_keys",
        "cors_origins",
        "webhook_allow_hosts",
        "webhook_retry_seconds",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        """Lists come from the environment comma-separated; blanks between commas are dropped."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _waits_positive(cls, value: list[float]) -> list[float]:
        if not value or any(w <= 0 for w in value):
            raise ValueError("webhook_retry_seconds needs one or more positive numbers of seconds")
        return value

    @field_validator("rate_limit_batch", "rate_limit_import")
    @classmethod
    def _rate_spec(cls, value: str) -> str:
        if value:
            from limits import parse

            try:
                parse(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a rate like 60/minute") from None
        return value

    @field_validator("curator_api_keys")
    @classmethod
    def _keys_long_enough(cls, value: list[SecretStr]) -> list[SecretStr]:
        for key in value:
            if len(key.get_secret_value()) < 16:
                raise ValueError("each curator API key must be at least 16 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql:// URLs are supported")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("report_cron")
    @classmethod
    def _cron_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("report_cron needs five fields: minute hour day month weekday")
        from service.cron import cron_trigger

        try:
            cron_trigger(value)
        except ValueError as exc:
            raise ValueError(f"report_cron is not a valid cron expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _cartridge_needs_postgres(self) -> Settings:
        if self.search_backend == "cartridge" and not self.database_url.startswith("postgresql"):
            raise ValueError("search_backend=cartridge needs a postgresql:// database_url")
        return self

    @model_validator(mode="after")
    def _schedules_exist(self) -> Settings:
        if self.schedules_dir is not None and not self.schedules_dir.is_dir():
            raise ValueError(f"schedules_dir {self.schedules_dir} is not a directory")
        return self

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    def masked(self) -> dict[str, Any]:
        """Effective settings as plain data, secrets replaced by asterisks."""
        data = self.model_dump(mode="json")
        data["curator_api_keys"] = ["********" for _ in self.curator_api_keys]
        url = self.database_url
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            if ":" in creds:
                creds = creds.split(":", 1)[0] + ":********"
            data["database_url"] = f"{scheme}://{creds}@{host}"
        return data


@lru_cache
def get_settings() -> Settings:
    """Build the settings once per process from the environment."""
    return Settings()
