"""Reads of simple webhooks, trigger webhooks and trigger invocations, always of one account."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account
from core.errors import NotFound
from core.ids import ID_PATTERN
from deliveries.models import OutgoingMessage
from destinations.models import Destination
from webhooks.models import TriggerWebhook, Webhook


def webhook_list(*, account: Account) -> QuerySet[Webhook]:
    return Webhook.objects.filter(account=account).select_related("destination")


def webhook_get(*, account: Account, webhook_id: str) -> Webhook:
    webhook = (
        webhook_list(account=account).filter(pk=webhook_id).first() if ID_PATTERN.match(webhook_id) else None
    )
    if webhook is None:
        raise NotFound("Webhook not found.")
    return webhook


def trigger_webhook_list(*, account: Account) -> QuerySet[TriggerWebhook]:
    return TriggerWebhook.objects.filter(account=account).select_related("destination")


def trigger_webhook_get(*, account: Account, name: str) -> TriggerWebhook:
    trigger = trigger_webhook_list(account=account).filter(name=name).first() if "\x00" not in name else None
    if trigger is None:
        raise NotFound("Trigger webhook not found.")
    return trigger


def trigger_invocation_get(*, account: Account, reference_id: str) -> OutgoingMessage:
    """A trigger call by its reference id (its outgoing message), with its attempt."""
    invocation = None
    if ID_PATTERN.match(reference_id):
        invocation = (
            OutgoingMessage.objects.filter(
                account=account, pk=reference_id, destination__feed=Destination.Feed.TRIGGER
            )
            .select_related("destination__trigger_webhook")
            .prefetch_related("attempts")
            .first()
        )
    if invocation is None:
        raise NotFound("Trigger invocation not found.")
    return invocation
