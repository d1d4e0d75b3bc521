from __future__ import annotations

import pytest
from django.test import Client

from deliveries.models import OutgoingMessage
from tests.deliveries.factories import OutgoingMessageFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/deliveries/outgoingmessage/"


def run_action(operator: Client, action: str, messages: list[OutgoingMessage]):
    return operator.post(
        CHANGELIST, {"action": action, "_selected_action": [message.pk for message in messages]}, follow=True
    )


def test_the_resend_action_creates_linked_pending_messages(operator, account_a):
    originals = OutgoingMessageFactory.create_batch(2, account=account_a)

    response = run_action(operator, "resend_selected", originals)

    assert response.status_code == 200
    assert "Resent 2 outgoing message(s)." in response.content.decode()
    for original in originals:
        [resend] = OutgoingMessage.objects.filter(resent_from=original)
        assert resend.status == OutgoingMessage.Status.PENDING


def test_the_retry_action_retries_only_the_failed_messages(operator, account_a):
    failed = OutgoingMessageFactory(account=account_a)
    delivered = OutgoingMessageFactory(account=account_a, status=OutgoingMessage.Status.SUCCEEDED)

    response = run_action(operator, "retry_selected_failed", [failed, delivered])

    assert response.status_code == 200
    assert "Retrying 1 failed outgoing message(s); 1 not failed were left alone." in response.content.decode()
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert failed.status == OutgoingMessage.Status.PENDING
    assert delivered.status == OutgoingMessage.Status.SUCCEEDED
