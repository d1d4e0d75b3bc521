"""Writes of simple webhooks: each is a destination fed by every input of its account, on the
account's webhooks input, signed with both the Qminder scheme (``X-Qminder-Signature``) and
Standard Webhooks."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from buckets.models import Bucket
from buckets.services import bucket_create
from core.errors import Conflict, ValidationFailed
from deliveries.direct import outgoing_send_now
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from destinations.models import Destination
from destinations.services import destination_create, destination_update
from inputs.models import Input
from inputs.services import input_create
from webhooks.models import WEBHOOKS_KEY, Webhook

SIGNATURE_PREFIX = "Qminder"  # X-Qminder-Signature, as seed 001's receivers verify it


def account_lock(account: Account) -> None:
    """Serialise the account's webhook writes (its webhooks input is made once, URLs and trigger
    ids stay unique) until the transaction ends."""
    Account.objects.select_for_update().filter(pk=account.pk).values_list("pk", flat=True).first()


def webhooks_input(*, account: Account) -> Input:
    """The account's input holding its simple and trigger webhooks, made (with its bucket) on
    first use. The caller holds ``account_lock``."""
    input_ = Input.objects.filter(account=account, key=WEBHOOKS_KEY).order_by("created", "pk").first()
    if input_ is None:
        bucket = Bucket.objects.filter(account=account, key=WEBHOOKS_KEY).first() or bucket_create(
            account=account, name="Simple webhooks", key=WEBHOOKS_KEY
        )
        input_ = input_create(account=account, bucket=bucket, name="Simple webhooks", key=WEBHOOKS_KEY)
    return input_


def _required_url(url: str | None) -> str:
    if not url:
        raise ValidationFailed(
            "A URL is required.", code="ERROR_NO_URL", fields={"url": ["A URL is required."]}
        )
    return url


def _ensure_url_free(*, account: Account, url: str, webhook: Webhook | None = None) -> None:
    taken = Webhook.objects.filter(account=account, destination__endpoint_url=url)
    if webhook is not None:
        taken = taken.exclude(pk=webhook.pk)
    if taken.exists():
        raise Conflict(f"A webhook with URL '{url}' is already registered on this account.")


@transaction.atomic
def webhook_create(*, account: Account, url: str | None = None, events: list[str] | None = None) -> Webhook:
    """Register ``url`` to receive every message the account's inputs accept (of the ``events``
    event types only, when given). 409 when the account already has a webhook with this URL."""
    url = _required_url(url)
    account_lock(account)
    _ensure_url_free(account=account, url=url)
    destination = destination_create(
        account=account,
        input=webhooks_input(account=account),
        feed=Destination.Feed.ACCOUNT,
        name=f"Webhook {url}"[:255],
        endpoint_url=url,
        event_filters=events or [],
        header_prefix=SIGNATURE_PREFIX,
        signature_scheme=Destination.SignatureScheme.BOTH,
    )
    return Webhook.objects.create(account=account, destination=destination)


@transaction.atomic
def webhook_update(*, webhook: Webhook, **fields) -> Webhook:
    """Change a webhook's ``url`` and/or ``events``."""
    changes: dict = {}
    if "url" in fields:
        url = _required_url(fields["url"])
        account_lock(webhook.account)
        _ensure_url_free(account=webhook.account, url=url, webhook=webhook)
        changes.update(endpoint_url=url, name=f"Webhook {url}"[:255])
    if "events" in fields:
        changes["event_filters"] = fields["events"] or []
    destination_update(destination=webhook.destination, **changes)
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """Stop sending to the webhook (its destination goes, with its log)."""
    webhook.destination.delete()


def webhook_test(*, webhook: Webhook, path: str, source_ip: str | None) -> Attempt:
    """Send a dummy ``webhook_test`` message to the webhook at once, outside its queue, signed as
    its deliveries are; recorded like any message. Returns the attempt."""
    destination = webhook.destination
    now = timezone.now()
    payload = {
        "type": "webhook_test",
        "data": {
            "webhook_id": webhook.pk,
            "url": destination.endpoint_url,
            "message": "A test message from HookRelay.",
            "created": now.isoformat(),
        },
    }
    incoming = IncomingMessage(
        account_id=webhook.account_id,
        bucket_id=destination.input.bucket_id,
        input_id=destination.input_id,
        status=IncomingMessage.Status.PROCESSED,
        method="POST",
        path=path,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        event_type="webhook_test",
        source_ip=source_ip,
        created=now,
        processed_at=now,
    )
    return outgoing_send_now(incoming=incoming, outgoing=OutgoingMessage(destination=destination))
