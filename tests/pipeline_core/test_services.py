from __future__ import annotations

import pytest

from core.errors import Conflict
from deliveries.models import OutgoingMessage
from deliveries.processing import incoming_process
from deliveries.services import outgoing_bulk_resend, outgoing_retry
from tests.pipeline_core.conftest import accept

pytestmark = pytest.mark.django_db


def test_a_repeated_bulk_resend_resends_only_the_latest_of_each_chain(account_a, route):
    input_, _ = route
    (outgoing_id,) = incoming_process(incoming_ids=[accept(input_).pk])
    OutgoingMessage.objects.filter(pk=outgoing_id).update(status=OutgoingMessage.Status.FAILED)

    (first,) = outgoing_bulk_resend(account=account_a)
    OutgoingMessage.objects.filter(pk=first.pk).update(status=OutgoingMessage.Status.FAILED)
    (second,) = outgoing_bulk_resend(account=account_a, status=OutgoingMessage.Status.FAILED)

    assert first.resent_from_id == outgoing_id
    assert second.resent_from_id == first.pk


def test_retrying_a_delivered_message_is_a_conflict_and_changes_nothing(route):
    input_, _ = route
    (outgoing_id,) = incoming_process(incoming_ids=[accept(input_).pk])
    OutgoingMessage.objects.filter(pk=outgoing_id).update(status=OutgoingMessage.Status.SUCCEEDED)
    outgoing = OutgoingMessage.objects.get(pk=outgoing_id)

    with pytest.raises(Conflict):
        outgoing_retry(outgoing=outgoing)

    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingMessage.Status.SUCCEEDED
