"""HTTP routes of the webhooks: subscribe, list, unsubscribe, read a subscriber's delivery log.

Every route needs the curator key: subscriptions name receivers' URLs and hold secrets.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from service.auth import CuratorDep
from service.deps import RowId, SessionDep, SettingsDep
from service.models import WebhookSubscription
from service.webhooks import service
from service.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "no X-API-Key header"},
    403: {"description": "the key is not a curator key"},
}


def _out(sub: WebhookSubscription) -> dict[str, Any]:
    return SubscriptionOut.model_validate(sub, from_attributes=True).model_dump()


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionCreated,
    operation_id="create_webhook",
    responses={**_AUTH, 422: {"description": "unsafe URL or unknown jurisdiction"}},
)
def post_subscription(
    body: SubscriptionIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: CuratorDep,
) -> dict[str, Any]:
    """Subscribe a URL to the reports; the answer holds the signing secret (shown only here)."""
    known = request.app.state.index_holder.get().snapshot.jurisdictions
    sub = service.subscribe(
        session,
        settings,
        url=body.url,
        jurisdictions=body.jurisdictions,
        min_signal=body.min_signal,
        known=known,
    )
    return {**_out(sub), "secret": sub.secret}


@router.get("", response_model=list[SubscriptionOut], operation_id="list_webhooks", responses=_AUTH)
def get_subscriptions(session: SessionDep, _: CuratorDep) -> list[dict[str, Any]]:
    """Every subscription (without secrets)."""
    return [_out(s) for s in service.subscriptions(session)]


@router.delete(
    "/{subscription_id}",
    status_code=204,
    operation_id="delete_webhook",
    responses={**_AUTH, 404: {"description": "no such subscription"}},
)
def delete_subscription(subscription_id: RowId, session: SessionDep, _: CuratorDep) -> Response:
    """Unsubscribe: the subscription and its delivery log go."""
    service.unsubscribe(session, subscription_id)
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=list[DeliveryOut],
    operation_id="list_webhook_deliveries",
    responses={**_AUTH, 404: {"description": "no such subscription"}},
)
def get_deliveries(subscription_id: RowId, session: SessionDep, _: CuratorDep) -> list[DeliveryOut]:
    """The subscription's deliveries, newest first, each with every attempt (time, status, error)."""
    return [
        DeliveryOut(
            id=d.id or 0,
            report_id=d.report_id,
            message_id=d.message_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            delivered_at=d.delivered_at,
            log=[AttemptOut.model_validate(a, from_attributes=True) for a in attempts],
        )
        for d, attempts in service.deliveries(session, subscription_id)
    ]
