"""Subscriptions, the report summary each subscriber gets, and its delivery.

A delivery is queued once per (report, subscription): the pair is unique in the database,
so a second queueing of the same report is a no-op. A dispatcher claims a due delivery with a
conditional UPDATE (only one claim can succeed while `claimed_until` is in the future), POSTs
it signed per the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
`webhook-signature` = HMAC-SHA256 of id, timestamp and body, through the `standardwebhooks`
library), records the attempt, and on failure schedules the next one with backoff. A
receiver that is down keeps being retried, at the last interval of the schedule, until
`webhook_give_up_hours` after the report; then the delivery is `failed`.

Subscription URLs must be http(s) and must not resolve to a loopback, link-local, private,
multicast, reserved or unspecified address (server-side request forgery), unless the host is
named in `webhook_allow_hosts`. The check runs when the subscription is made and again before
every attempt (the name may resolve elsewhere by then); redirects are not followed.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from standardwebhooks.webhooks import Webhook

from service.config import Settings
from service.errors import NotFound, UnprocessableInput, require_jurisdictions
from service.models import (
    DeliveryStatus,
    Report,
    ReportStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from service.models.common import utcnow

EVENT = "report.published"
CLAIM = timedelta(minutes=2)  # longer than one attempt can take (timeout + bookkeeping)


class UnsafeWebhookURL(UnprocessableInput):
    """A subscription URL the service will not call."""

    def __init__(self, reason: str) -> None:
        super().__init__(("body", "url"), reason)


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form (`whsec_` + base64 of 24 bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _allowed(host: str, port: int, allow: Collection[str]) -> bool:
    names = {a.strip().lower() for a in allow}
    return host.lower() in names or f"{host.lower()}:{port}" in names


def _unsafe(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, bad in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("unspecified", ip.is_unspecified),
    ):
        if bad:
            return kind
    return None


def check_url(url: str, allow: Collection[str]) -> str:
    """The URL if the service may POST to it; UnsafeWebhookURL (a 422 on `url`) otherwise."""
    if len(url) > 2000:
        raise UnsafeWebhookURL("the URL is longer than 2,000 characters")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise UnsafeWebhookURL("the URL must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise UnsafeWebhookURL("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeWebhookURL("the URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookURL("the URL's port is not a number from 1 to 65535") from None
    if _allowed(host, port, allow):
        return url.strip()
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise UnsafeWebhookURL(f"the host {host!r} does not resolve") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        kind = _unsafe(ip)
        if kind is not None:
            raise UnsafeWebhookURL(
                f"the host {host!r} resolves to a {kind} address ({ip}); name it in "
                "ANALOGWATCH_WEBHOOK_ALLOW_HOSTS to allow it"
            )
    return url.strip()


# ---------------------------------------------------------------------------- subscriptions


def subscribe(
    session: Session,
    settings: Settings,
    *,
    url: str,
    jurisdictions: list[str] | None,
    min_signal: float,
    known: Collection[str],
) -> WebhookSubscription:
    """Store a subscription (URL checked, jurisdictions known); its secret is new."""
    codes = sorted({j.upper() for j in jurisdictions}) if jurisdictions else None
    require_jurisdictions(codes or (), known, ("body", "jurisdictions"))
    sub = WebhookSubscription(
        url=check_url(url, settings.webhook_allow_hosts),
        jurisdictions=codes,
        min_signal=min_signal,
        secret=new_secret(),
    )
    session.add(sub)
    session.flush()
    return sub


def subscriptions(session: Session) -> list[WebhookSubscription]:
    """Every subscription, oldest first."""
    stmt = select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    return list(session.execute(stmt).scalars())


def get_subscription(session: Session, sub_id: int) -> WebhookSubscription:
    """One subscription; NotFound when there is none with that id."""
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise NotFound(f"no webhook subscription {sub_id}")
    return sub


def unsubscribe(session: Session, sub_id: int) -> None:
    """Delete a subscription with its deliveries and their attempts."""
    session.delete(get_subscription(session, sub_id))


def deliveries(session: Session, sub_id: int) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """A subscription's deliveries, newest first, each with its attempts in order."""
    get_subscription(session, sub_id)
    rows = list(
        session.execute(
            select(WebhookDelivery)
            .where(col(WebhookDelivery.subscription_id) == sub_id)
            .order_by(col(WebhookDelivery.id).desc())
        ).scalars()
    )
    attempts: dict[int, list[WebhookAttempt]] = {}
    if rows:
        ids = [d.id for d in rows]
        for a in session.execute(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(ids))
            .order_by(col(WebhookAttempt.id))
        ).scalars():
            attempts.setdefault(a.delivery_id, []).append(a)
    return [(d, attempts.get(d.id or 0, [])) for d in rows]


# ---------------------------------------------------------------------------------- payload


def payload(report: Report, sub: WebhookSubscription) -> dict[str, Any]:
    """What one subscriber gets for one report: per wanted jurisdiction the counts and the
    newly flagged compounds whose signal reaches the subscriber's minimum."""
    results = (report.results or {}).get("jurisdictions", {})
    counts = report.summary.get("jurisdictions", {})
    wanted = sub.jurisdictions or sorted(results)
    sections: dict[str, Any] = {}
    for code in wanted:
        if code not in results:
            continue
        rows = [
            r
            for r in results[code].get("rows", [])
            if r.get("max_similarity", 0.0) >= sub.min_signal
            or set(r.get("reasons", [])) - {"similarity"}
        ]
        sections[code] = {
            **counts.get(code, {}),
            "at_or_above_min_signal": len(rows),
            "new": [
                {
                    "name": r["name"],
                    "inchikey": r["inchikey"],
                    "smiles": r["smiles"],
                    "reasons": r.get("reasons", []),
                    "max_similarity": r.get("max_similarity", 0.0),
                    "nearest": (r.get("neighbors") or [{}])[0].get("name"),
                }
                for r in rows
                if r.get("new_since_previous")
            ],
        }
    return {
        "type": EVENT,
        "timestamp": report.finished_at.isoformat(),
        "data": {
            "report_id": report.id,
            "as_of": report.as_of.isoformat(),
            "previous_id": report.previous_id,
            "links": {
                "html": f"/reports/{report.id}?format=html",
                "json": f"/reports/{report.id}",
                "csv": f"/reports/{report.id}?format=csv",
            },
            "min_signal": sub.min_signal,
            "jurisdictions": sections,
        },
    }


# --------------------------------------------------------------------------------- delivery


def enqueue(engine: Engine, report: Report) -> int:
    """Queue a succeeded report for every active subscription that has not had it; the count."""
    if report.status != ReportStatus.succeeded.value or report.id is None:
        return 0
    with Session(engine) as session:
        subs = list(
            session.execute(
                select(col(WebhookSubscription.id)).where(col(WebhookSubscription.active).is_(True))
            ).scalars()
        )
        done = set(
            session.execute(
                select(col(WebhookDelivery.subscription_id)).where(
                    col(WebhookDelivery.report_id) == report.id
                )
            ).scalars()
        )
        rows = [
            {
                "subscription_id": s,
                "report_id": report.id,
                "message_id": f"msg_{uuid.uuid4().hex}",
                "status": DeliveryStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "created_at": utcnow(),
            }
            for s in subs
            if s not in done
        ]
        if rows:
            session.execute(insert(WebhookDelivery), rows)
            session.commit()
        return len(rows)


def _claim(engine: Engine, delivery_id: int, holder: str, now: datetime) -> bool:
    with engine.begin() as conn:
        claimed = conn.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.status) == DeliveryStatus.pending.value,
                col(WebhookDelivery.next_attempt_at) <= now,
                (col(WebhookDelivery.claimed_until).is_(None))
                | (col(WebhookDelivery.claimed_until) < now),
            )
            .values(claimed_by=holder, claimed_until=now + CLAIM)
        )
        return claimed.rowcount == 1


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they are stored in UTC
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _next_delay(settings: Settings, attempts: int) -> float:
    schedule = settings.webhook_retry_seconds or [60.0]
    return schedule[min(attempts - 1, len(schedule) - 1)]


def _attempt(
    client: httpx.Client, sub: WebhookSubscription, message_id: str, body: bytes, settings: Settings
) -> tuple[int | None, str | None]:
    try:
        check_url(sub.url, settings.webhook_allow_hosts)
    except UnsafeWebhookURL as exc:
        return None, exc.message
    sent_at = utcnow()
    headers = {
        "content-type": "application/json",
        "user-agent": "analogwatch-webhooks",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(sub.secret).sign(message_id, sent_at, body),
    }
    try:
        response = client.post(sub.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def dispatch_due(
    engine: Engine,
    settings: Settings,
    *,
    holder: str,
    now: datetime | None = None,
    client: httpx.Client | None = None,
) -> int:
    """Attempt every due delivery this dispatcher can claim; the number delivered now."""
    now = now or utcnow()
    with Session(engine) as session:
        due = list(
            session.execute(
                select(col(WebhookDelivery.id))
                .where(
                    col(WebhookDelivery.status) == DeliveryStatus.pending.value,
                    col(WebhookDelivery.next_attempt_at) <= now,
                )
                .order_by(col(WebhookDelivery.next_attempt_at))
                .limit(100)
            ).scalars()
        )
    own = client is None
    client = client or httpx.Client(
        timeout=settings.webhook_timeout_seconds, follow_redirects=False
    )
    delivered = 0
    try:
        for delivery_id in due:
            if delivery_id is None or not _claim(engine, delivery_id, holder, now):
                continue
            delivered += _deliver(engine, settings, client, delivery_id, holder)
    finally:
        if own:
            client.close()
    return delivered


def _deliver(
    engine: Engine, settings: Settings, client: httpx.Client, delivery_id: int, holder: str
) -> int:
    with Session(engine) as session:
        d = session.get(WebhookDelivery, delivery_id)
        if d is None or d.claimed_by != holder:
            return 0
        sub = session.get(WebhookSubscription, d.subscription_id)
        report = session.get(Report, d.report_id)
        if sub is None or report is None:
            return 0
        body = json.dumps(payload(report, sub), separators=(",", ":"), sort_keys=True).encode()
        started = time.perf_counter()
        status_code, error = _attempt(client, sub, d.message_id, body, settings)
        finished = utcnow()
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                attempted_at=finished,
                status_code=status_code,
                error=error,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
        )
        d.attempts += 1
        d.claimed_by, d.claimed_until = None, None
        if error is None:
            d.status, d.delivered_at = DeliveryStatus.delivered.value, finished
        elif finished - _aware(d.created_at) >= timedelta(hours=settings.webhook_give_up_hours):
            d.status = DeliveryStatus.failed.value
        else:
            d.next_attempt_at = finished + timedelta(seconds=_next_delay(settings, d.attempts))
        session.add(d)
        session.commit()
        return 1 if error is None else 0
