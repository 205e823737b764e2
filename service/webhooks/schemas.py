"""Request and response shapes of the webhook routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionIn(BaseModel):
    """A new subscription."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000,
        description="http(s) URL the summary is POSTed to; private addresses need the allow-list",
        examples=["https://receiver.example.org/analogwatch"],
    )
    jurisdictions: list[str] | None = Field(
        default=None,
        max_length=20,
        description="jurisdiction codes to report on; empty or null: all",
        examples=[["CN", "US"]],
    )
    min_signal: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description=(
            "minimum signal of a listed compound: the similarity of its nearest controlled "
            "neighbour; compounds flagged by another signal (controlled elsewhere, class near "
            "miss) are always listed"
        ),
    )


class SubscriptionOut(BaseModel):
    """A subscription as stored (the secret is shown only when it is created)."""

    id: int
    url: str
    jurisdictions: list[str] | None
    min_signal: float
    active: bool
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    """A new subscription with its signing secret (Standard Webhooks `whsec_…`), shown once."""

    secret: str


class AttemptOut(BaseModel):
    """One POST of a delivery."""

    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryOut(BaseModel):
    """One report for the subscriber, with every attempt."""

    id: int
    report_id: int
    message_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    log: list[AttemptOut]
