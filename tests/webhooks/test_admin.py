"""The admin lists simple webhooks, trigger webhooks (credentials not shown) and trigger calls."""

from __future__ import annotations

import pytest

from deliveries.models import OutgoingMessage
from webhooks.services import webhook_create
from webhooks.triggers import trigger_call, trigger_webhook_create

pytestmark = pytest.mark.django_db

CREDENTIAL = "Bearer sk_live_0123456789abcdef"


def test_the_admin_lists_registrations_and_only_trigger_calls_as_invocations(
    operator, account_a, unused_port
):
    webhook = webhook_create(account=account_a, url="https://hooks.example.com/a")
    trigger = trigger_webhook_create(
        account=account_a,
        name="get-randomapi",
        url=f"http://127.0.0.1:{unused_port}/api",
        headers={"Authorization": CREDENTIAL},
    )
    call = trigger_call(trigger=trigger, path="/", source_ip=None).outgoing
    delivery = OutgoingMessage.objects.create(
        account=account_a,
        incoming=call.incoming,
        destination=webhook.destination,
        received_at=call.received_at,
    )

    webhooks = operator.get("/admin/webhooks/webhook/").content.decode()
    triggers = operator.get("/admin/webhooks/triggerwebhook/").content.decode()
    trigger_page = operator.get(f"/admin/webhooks/triggerwebhook/{trigger.pk}/change/").content.decode()
    invocations = operator.get("/admin/webhooks/triggerinvocation/").content.decode()

    assert "https://hooks.example.com/a" in webhooks
    assert "get-randomapi" in triggers
    assert "Authorization" in trigger_page
    assert CREDENTIAL not in trigger_page
    assert call.pk in invocations
    assert delivery.pk not in invocations
