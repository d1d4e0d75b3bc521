"""Delivering one outgoing message (the ``deliver`` task's body).

The order of operations is what makes delivery at-least-once and never parallel: claim the
message with a conditional UPDATE and a lease longer than the request timeout, write the
attempt row, make the HTTP call, then record the outcome and release the claim."""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from deliveries.queue import enqueue_deliver
from deliveries.selectors import certificate_for_url
from deliveries.throttle import in_flight_exceeded, rate_wait
from destinations import http_client, signing
from destinations.models import Destination
from destinations.retry import MAX_DELAY_SECONDS, effective_policy, retry_delay
from recipes.hooks import Message, run_recipe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Next:
    """What the task should do after a delivery call: enqueue these ids, now or later."""

    retry_in: float | None = None  # seconds until this message is due again
    then_deliver: str | None = None  # the next FIFO message of the same destination
    parked: bool = False  # over the destination's in-flight cap: wait for a delivery to finish
    finished_for: str | None = None  # a delivery to this destination finished: wake a parked one


def deliverable(now) -> QuerySet[OutgoingMessage]:
    """Pending messages that are due, not leased, and (FIFO) at the head of their destination's queue.

    A FIFO queue's head also waits for earlier incoming messages of its input still being
    processed: their outgoing messages do not exist yet but belong in front of it."""
    earlier_pending = OutgoingMessage.objects.filter(
        destination_id=OuterRef("destination_id"),
        status=OutgoingMessage.Status.PENDING,
    ).filter(
        Q(received_at__lt=OuterRef("received_at"))
        | Q(received_at=OuterRef("received_at"), pk__lt=OuterRef("pk"))
    )
    earlier_unprocessed = IncomingMessage.objects.filter(
        input_id=OuterRef("destination__input_id"),
        status__in=[IncomingMessage.Status.RECEIVED, IncomingMessage.Status.PROCESSING],
        created__lte=OuterRef("received_at"),
    )
    return (
        OutgoingMessage.objects.filter(status=OutgoingMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .exclude(
            Q(destination__delivery_order=Destination.DeliveryOrder.FIFO)
            & (Exists(earlier_pending) | Exists(earlier_unprocessed))
        )
    )


def outgoing_claim(*, outgoing_id: str) -> OutgoingMessage | None:
    """Take the delivery lease of a deliverable message; None if it is not due, leased by
    another worker, done, or (FIFO) not the head of its destination's queue."""
    outgoing = (
        OutgoingMessage.objects.select_related("destination__recipe", "incoming")
        .filter(pk=outgoing_id)
        .first()
    )
    if outgoing is None:
        return None
    now = timezone.now()
    # The row's own conditions stay in the UPDATE's WHERE, which PostgreSQL re-checks after
    # waiting for a concurrent claim's row lock, so only one of two racing claims succeeds.
    candidates = OutgoingMessage.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        pk=outgoing_id,
        status=OutgoingMessage.Status.PENDING,
        next_attempt_at__lte=now,
    )
    if outgoing.destination.delivery_order == Destination.DeliveryOrder.FIFO:
        # Django makes this ``WHERE id IN (subquery)``; the conditions above still guard the row.
        candidates = candidates.filter(pk__in=deliverable(now).filter(pk=outgoing_id).values("pk"))
    lease_until = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    if not candidates.update(lease_until=lease_until, attempt_count=F("attempt_count") + 1):
        return None
    outgoing.lease_until = lease_until
    outgoing.attempt_count += 1
    return outgoing


def _message_for(outgoing: OutgoingMessage) -> Message:
    incoming = outgoing.incoming
    destination = outgoing.destination
    return Message(
        body=bytes(incoming.body),
        headers=dict(incoming.headers),
        method=destination.message_method or incoming.method,
        event_type=incoming.event_type,
        content_type=incoming.content_type,
        url=incoming.target_url or destination.endpoint_url,
    )


def _apply_destination_recipe(outgoing: OutgoingMessage) -> Message | str | None:
    """The message to send: transformed once (stored) or, with ``run_on_each_attempt``, on
    every attempt. Returns None when the recipe drops it and the error text when it fails."""
    destination = outgoing.destination
    recipe = destination.recipe
    if outgoing.transformed is not None:
        stored = dict(outgoing.transformed)
        stored["body"] = base64.b64decode(stored["body"])
        return Message(**stored)
    message = _message_for(outgoing)
    if recipe is None or not recipe.recipe_published:
        return message
    outcome = run_recipe(recipe=recipe, message=message)
    if outcome.failed:
        return outcome.error_text
    if outcome.message is not None and not recipe.run_on_each_attempt:
        # base64: JSON in PostgreSQL cannot hold the NUL bytes a binary body may have.
        stored = {**outcome.message.__dict__, "body": base64.b64encode(outcome.message.body).decode()}
        OutgoingMessage.objects.filter(pk=outgoing.pk).update(transformed=stored)
    return outcome.message


def _headers_for(outgoing: OutgoingMessage, message: Message, attempt_number: int) -> dict[str, str]:
    destination = outgoing.destination
    prefix = destination.header_prefix or "Webhooks"
    timestamp = int(time.time())
    headers: dict[str, str] = {}
    if message.content_type:
        headers["Content-Type"] = message.content_type
    wanted = {name.lower() for name in destination.headers_to_include}
    headers.update({name: value for name, value in message.headers.items() if name.lower() in wanted})
    headers.update(message.recipe_headers)
    headers.update(
        {
            f"X-{prefix}-Message-Id": outgoing.pk,
            f"X-{prefix}-Event": message.event_type,
            f"X-{prefix}-Attempt": str(attempt_number),
            f"X-{prefix}-Timestamp": str(timestamp),
        }
    )
    secrets = [destination.secret]
    if (
        destination.previous_secret
        and destination.previous_secret_expires_at
        and (destination.previous_secret_expires_at > timezone.now())
    ):
        secrets.append(destination.previous_secret)
    scheme = destination.signature_scheme
    if scheme in (Destination.SignatureScheme.STANDARD_WEBHOOKS, Destination.SignatureScheme.BOTH):
        headers.update(
            signing.standard_webhooks_headers(
                secret=secrets, msg_id=outgoing.pk, timestamp=timestamp, body=message.body
            )
        )
    if scheme in (Destination.SignatureScheme.URL_BODY_HMAC, Destination.SignatureScheme.BOTH):
        headers[f"X-{prefix}-Signature"] = " ".join(
            signing.url_body_signature(secret=secret, url=message.url, body=message.body)
            for secret in secrets
        )
    headers.update(_auth_headers(destination))
    return headers


def _auth_headers(destination: Destination) -> dict[str, str]:
    options = destination.authentication_options or {}
    kind = destination.authentication_type
    if kind == Destination.AuthenticationType.BASIC:
        pair = f"{options.get('username', '')}:{options.get('password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    if kind == Destination.AuthenticationType.BEARER:
        return {"Authorization": f"Bearer {options.get('token', '')}"}
    if kind == Destination.AuthenticationType.HEADER:
        return {options.get("name", "Authorization"): options.get("value", "")}
    return {}


def _release(outgoing: OutgoingMessage, **fields) -> None:
    OutgoingMessage.objects.filter(pk=outgoing.pk).update(lease_until=None, **fields)


def fifo_head(*, destination_id: str) -> str | None:
    """The first pending message of a destination's queue."""
    return (
        OutgoingMessage.objects.filter(destination_id=destination_id, status=OutgoingMessage.Status.PENDING)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )


def _next_fifo(outgoing: OutgoingMessage) -> str | None:
    if outgoing.destination.delivery_order != Destination.DeliveryOrder.FIFO:
        return None
    return fifo_head(destination_id=outgoing.destination_id)


def _retry_after(outcome, scheduled: float) -> float:
    """A Retry-After on 429/503, clamped between the scheduled delay and 24 h."""
    if outcome.status not in (429, 503):
        return scheduled
    raw = {k.lower(): v for k, v in outcome.headers.items()}.get("retry-after", "")
    try:
        asked = float(raw)
    except ValueError:
        try:
            asked = (parsedate_to_datetime(raw) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return scheduled
    return min(max(asked, scheduled), MAX_DELAY_SECONDS)


class _GiveBack(Exception):
    """Undo the claim (its transaction rolls back): come again in ``retry_in`` seconds, or (None)
    park until a delivery to the destination finishes."""

    def __init__(self, retry_in: float | None):
        self.retry_in = retry_in


def _prepare(outgoing_id: str) -> tuple[OutgoingMessage, Message, dict[str, str], Attempt] | Next:
    """Claim, throttle, transform and write the attempt row: one transaction, one commit, before
    the HTTP call. A throttled claim is rolled back, leaving the row as it was."""
    try:
        with transaction.atomic():
            outgoing = outgoing_claim(outgoing_id=outgoing_id)
            if outgoing is None:
                return Next()
            destination = outgoing.destination
            if in_flight_exceeded(destination_id=destination.pk):
                # The destination holds its share of worker threads (it may be hanging): leave
                # the threads to other destinations until one of its deliveries finishes.
                raise _GiveBack(None)
            wait = rate_wait(destination_id=destination.pk, rate_limit=destination.rate_limit)
            if wait:
                raise _GiveBack(wait)
            message = _apply_destination_recipe(outgoing)
            if message is None or isinstance(message, str):
                status = (
                    OutgoingMessage.Status.SKIPPED
                    if message is None
                    else OutgoingMessage.Status.RECIPE_FAILED
                )
                _release(outgoing, status=status, error=message or "", completed_at=timezone.now())
                return Next(then_deliver=_next_fifo(outgoing))
            headers = _headers_for(outgoing, message, outgoing.attempt_count)
            attempt = Attempt.objects.create(
                account_id=outgoing.account_id,
                outgoing=outgoing,
                number=outgoing.attempt_count,
                request_method=message.method,
                request_url=message.url,
                request_headers=headers,
            )
    except _GiveBack as give_back:
        return Next(retry_in=give_back.retry_in, parked=give_back.retry_in is None)
    return outgoing, message, headers, attempt


@transaction.atomic
def _record(outgoing: OutgoingMessage, attempt: Attempt, outcome: http_client.Outcome) -> Next:
    """Record the outcome and release the claim: one transaction, one commit, after the call."""
    destination = outgoing.destination
    now = timezone.now()
    Attempt.objects.filter(pk=attempt.pk).update(
        status_code=outcome.status,
        response_headers=outcome.headers,
        response_body=outcome.body,
        succeeded=outcome.ok,
        error_kind=outcome.error_kind or "",
        error=outcome.error or "",
        elapsed_ms=outcome.elapsed_ms,
        remote_address=outcome.remote_address or "",
        finished_at=now,
    )
    if outcome.ok:
        _release(
            outgoing,
            status=OutgoingMessage.Status.SUCCEEDED,
            last_status_code=outcome.status,
            completed_at=now,
        )
        if destination.failing_since is not None:
            Destination.objects.filter(pk=destination.pk).update(failing_since=None)
        return Next(then_deliver=_next_fifo(outgoing))
    error = outcome.error or f"HTTP {outcome.status}"
    if destination.failing_since is None:
        Destination.objects.filter(pk=destination.pk, failing_since__isnull=True).update(failing_since=now)
    if outcome.status == 410:
        destination_disable_and_alert(destination=destination, reason="The endpoint answered 410 Gone.")
    policy_id, retry_count, interval = effective_policy(destination)
    if outcome.status == 410 or attempt.number > retry_count:
        _release(
            outgoing,
            status=OutgoingMessage.Status.FAILED,
            last_status_code=outcome.status,
            error=error,
            completed_at=now,
        )
        alert_on_failure(destination=destination, outgoing=outgoing, error=error)
        return Next(then_deliver=_next_fifo(outgoing))
    delay = _retry_after(outcome, retry_delay(policy_id, attempt.number, interval) or 0)
    _release(
        outgoing, last_status_code=outcome.status, error=error, next_attempt_at=now + timedelta(seconds=delay)
    )
    return Next(retry_in=delay)


def outgoing_deliver(*, outgoing_id: str, read_timeout: float | None = None) -> Next:
    """Make one delivery attempt of an outgoing message, if it is due and ours to make.

    ``read_timeout`` overrides the outbound default (sync relays answer a waiting sender)."""
    prepared = _prepare(outgoing_id)
    if isinstance(prepared, Next):
        return prepared
    outgoing, message, headers, attempt = prepared
    # Imported certificates only matter to TLS.
    certificate = (
        certificate_for_url(account=outgoing.account_id, url=message.url)
        if message.url.startswith("https")
        else None
    )
    outcome = http_client.send(
        method=message.method,
        url=message.url,
        headers=headers,
        body=message.body,
        verify_ssl=outgoing.destination.verify_ssl,
        trusted_certificates_pem=[certificate.pem] if certificate else [],
        read_timeout=read_timeout,
    )
    return replace(_record(outgoing, attempt, outcome), finished_for=outgoing.destination_id)


def destination_disable_and_alert(*, destination: Destination, reason: str) -> None:
    """Disable an active destination and tell its alert addresses (once: only the worker that
    changes the status sends the email)."""
    updated = Destination.objects.filter(pk=destination.pk, status=Destination.Status.ACTIVE).update(
        status=Destination.Status.DISABLED, disabled_reason=reason
    )
    if updated and destination.alert_on_failure:
        _email_after_commit(
            destination,
            f"Destination {destination.name} was disabled",
            f"Destination {destination.pk} ({destination.endpoint_url}) was disabled: {reason}",
        )


def alert_on_failure(*, destination: Destination, outgoing: OutgoingMessage, error: str) -> None:
    """Email the destination's alert addresses: at most once per destination per hour, claimed
    with a conditional UPDATE so concurrent workers send one email."""
    if not destination.alert_on_failure:
        return
    now = timezone.now()
    claimed = (
        Destination.objects.filter(pk=destination.pk)
        .filter(Q(last_alert_at__isnull=True) | Q(last_alert_at__lt=now - timedelta(hours=1)))
        .update(last_alert_at=now)
    )
    if claimed:
        _email_after_commit(
            destination,
            f"Webhook delivery failed for {destination.name}",
            f"Outgoing message {outgoing.pk} to {destination.endpoint_url} failed after its retries: {error}",
        )


def parked_head(*, destination_id: str) -> list[str]:
    """The oldest due message of a destination waiting for a free in-flight slot (not enqueued)."""
    now = timezone.now()
    return list(
        OutgoingMessage.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            destination_id=destination_id,
            status=OutgoingMessage.Status.PENDING,
            enqueued_at__isnull=True,
            next_attempt_at__lte=now,
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:1]
    )


def outgoing_deliver_and_enqueue(*, outgoing_id: str, read_timeout: float | None = None) -> None:
    following = outgoing_deliver(outgoing_id=outgoing_id, read_timeout=read_timeout)
    if following.parked:
        # Not enqueued any more: a finishing delivery (or the sweeper) sends it again.
        OutgoingMessage.objects.filter(pk=outgoing_id).update(enqueued_at=None)
    if following.retry_in is not None:
        enqueue_deliver([outgoing_id], countdown=following.retry_in)
    woken = [following.then_deliver] if following.then_deliver else []
    if following.finished_for:
        woken += parked_head(destination_id=following.finished_for)
    enqueue_deliver(woken)


def _email_after_commit(destination: Destination, subject: str, text: str) -> None:
    """Email the destination's alert addresses once the outcome is committed; a mail server
    failure is logged and never undoes the delivery's record."""
    transaction.on_commit(
        lambda: send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, destination.alert_on_failure),
        robust=True,
    )
