"""Webhooks: curators' subscriptions to reports, one delivery per report and subscriber, and
every attempt to deliver it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from service.models.common import in_list, utcnow


class DeliveryStatus(StrEnum):
    """Where a delivery stands: waiting for its next attempt, delivered, or given up."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookSubscription(SQLModel, table=True):
    """A receiver of report summaries: its URL, the jurisdictions and the minimum signal it wants."""

    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    jurisdictions: list[str] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="None: every jurisdiction"
    )
    min_signal: float = Field(
        default=0.0, sa_column=Column(Float, nullable=False), description="see the schemas"
    )
    secret: str = Field(max_length=100)
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class WebhookDelivery(SQLModel, table=True):
    """One report for one subscriber: sent once, retried until it is delivered or given up.

    The unique (subscription, report) pair is what keeps a report from being sent twice to
    one subscriber; `claimed_until` keeps two dispatchers from sending it at the same time.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "report_id"),
        CheckConstraint(in_list("status", DeliveryStatus), name="status"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False
        )
    )
    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    )
    message_id: str = Field(max_length=60, unique=True)
    status: str = Field(default=DeliveryStatus.pending.value, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery: when, the HTTP status (if any answer came) and the error."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    attempted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    status_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    duration_ms: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
