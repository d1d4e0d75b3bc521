"""Messages made row by row with known times, statuses and answers, for the log and retention
tests (the rollups of the pipeline are tested through the pipeline itself)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from destinations.models import Destination
from inputs.models import Input
from tests.routing_factories import DestinationFactory, InputFactory


def make_message(
    input_: Input,
    *,
    created: datetime | None = None,
    status: str = IncomingMessage.Status.PROCESSED,
    deliveries: list[tuple[Destination, str, int | None]] = (),
) -> IncomingMessage:
    """An incoming message and, per (destination, status, last HTTP status), a delivery with
    one attempt."""
    created = created or timezone.now()
    incoming = IncomingMessage.objects.create(
        account_id=input_.account_id,
        bucket_id=input_.bucket_id,
        input=input_,
        status=status,
        method="POST",
        path=f"/v1/in/{input_.pk}",
        body=b"{}",
        created=created,
    )
    for destination, outgoing_status, code in deliveries:
        outgoing = OutgoingMessage.objects.create(
            account_id=input_.account_id,
            incoming=incoming,
            destination=destination,
            status=outgoing_status,
            received_at=created,
            created=created,
            last_status_code=code,
            attempt_count=1,
        )
        Attempt.objects.create(
            account_id=input_.account_id,
            outgoing=outgoing,
            number=1,
            request_method="POST",
            request_url=destination.endpoint_url,
            status_code=code,
            succeeded=code is not None and 200 <= code < 300,
            started_at=created,
        )
    return incoming


@pytest.fixture
def routes(account_a):
    """Two inputs in two buckets; the first feeds destinations d1 and d2, the second d3."""
    first = InputFactory(account=account_a)
    second = InputFactory(account=account_a)
    return {
        "in1": first,
        "in2": second,
        "d1": DestinationFactory(account=account_a, input=first),
        "d2": DestinationFactory(account=account_a, input=first),
        "d3": DestinationFactory(account=account_a, input=second),
    }
