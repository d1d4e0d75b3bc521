"""One request made at once, outside the delivery queues, and recorded like a delivery: a simple
webhook's test and a trigger webhook's call (``webhooks``). The caller waits for the answer, so
there is no retry."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from deliveries.outcome import ATTEMPT_OUTCOME_FIELDS, attempt_complete
from deliveries.send import Prepared, headers_for, message_for, send
from recipes.hooks import Message

INTERRUPTED = "Interrupted before the endpoint answered."


def outgoing_send_now(
    *,
    incoming: IncomingMessage,
    outgoing: OutgoingMessage,
    message: Message | None = None,
    headers: dict[str, str] | None = None,
    recorded_headers: dict[str, str] | None = None,
) -> Attempt:
    """Store the (unsaved) incoming message, its outgoing message and the attempt row in one
    commit, make the request through the outbound client, then record the outcome.

    Without ``message`` and ``headers`` the request is the destination's delivery of the
    incoming message, signed as the pipeline signs it. ``recorded_headers`` (default: the
    headers sent) is what the attempt row keeps, e.g. with credentials masked. Until the outcome
    is recorded the outgoing message reads ``failed`` ("interrupted"): no queue ever takes it
    up, and a process dying mid-request leaves a true record."""
    outgoing.incoming = incoming
    outgoing.account_id = incoming.account_id
    outgoing.received_at = incoming.created
    outgoing.status = OutgoingMessage.Status.FAILED
    outgoing.error = INTERRUPTED
    outgoing.attempt_count = 1
    outgoing.enqueued_at = None
    message = message or message_for(outgoing)
    headers = headers if headers is not None else headers_for(outgoing, message, 1)
    attempt = Attempt(
        account_id=incoming.account_id,
        outgoing=outgoing,
        number=1,
        request_method=message.method,
        request_url=message.url,
        request_headers=headers if recorded_headers is None else recorded_headers,
    )
    with transaction.atomic():
        incoming.save(force_insert=True)
        outgoing.save(force_insert=True)
        attempt.save(force_insert=True)
    outcome = send(Prepared(outgoing, message, headers, attempt), read_timeout=None)
    now = timezone.now()
    attempt_complete(attempt, outcome, now)
    with transaction.atomic():
        attempt.save(update_fields=ATTEMPT_OUTCOME_FIELDS)
        OutgoingMessage.objects.filter(pk=outgoing.pk).update(
            status=OutgoingMessage.Status.SUCCEEDED if outcome.ok else OutgoingMessage.Status.FAILED,
            last_status_code=outcome.status,
            error="" if outcome.ok else outcome.error or f"HTTP {outcome.status}",
            completed_at=now,
        )
    return attempt
