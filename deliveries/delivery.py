"""Delivering one outgoing message (the ``deliver`` task's body).

The order of operations is what makes delivery at-least-once and never parallel: claim the
message with a conditional UPDATE and a lease longer than the request timeout, write the
attempt row, make the HTTP call, then record the outcome and release the claim."""

from __future__ import annotations

import base64
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from itertools import groupby

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from core.db import insert_rows, update_rows
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from deliveries.queue import enqueue_deliver
from deliveries.selectors import certificate_for_url
from deliveries.throttle import in_flight, rate_wait
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
    parked_for: str | None = None  # waits for a free in-flight slot of this destination
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
        status=IncomingMessage.Status.RECEIVED, created__lte=OuterRef("received_at")
    )
    # A simple webhook's queue (feed "account") takes the messages of every input of its account.
    waits_for_processing = Exists(earlier_unprocessed.filter(input_id=OuterRef("destination__input_id"))) | (
        Q(destination__feed=Destination.Feed.ACCOUNT)
        & Exists(earlier_unprocessed.filter(account_id=OuterRef("account_id")))
    )
    return (
        OutgoingMessage.objects.filter(status=OutgoingMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .exclude(
            Q(destination__delivery_order=Destination.DeliveryOrder.FIFO)
            & (Exists(earlier_pending) | waits_for_processing)
        )
    )


def outgoing_claim(*, outgoing_ids: list[str]) -> list[OutgoingMessage]:
    """Take the delivery lease of the deliverable messages among these, in queue order.

    The rows are locked by primary key alone (``FOR UPDATE SKIP LOCKED``: a message another
    worker is claiming right now is left to it), then checked: a locked row is read in its
    latest committed version, so two claims never both succeed. Only the primary key is in the
    WHERE so that the planner never walks the pending-messages indexes instead. One claim (one
    lease value) covers the whole batch."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        locked = (
            OutgoingMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("destination__recipe", "incoming")
            .filter(pk__in=outgoing_ids)
            .order_by("received_at", "pk")
        )
        claimed = [
            outgoing
            for outgoing in locked
            if outgoing.status == OutgoingMessage.Status.PENDING
            and outgoing.next_attempt_at <= now
            and (outgoing.lease_until is None or outgoing.lease_until < now)
        ]
        fifo = [o.pk for o in claimed if o.destination.delivery_order == Destination.DeliveryOrder.FIFO]
        if fifo:
            heads = set(deliverable(now).filter(pk__in=fifo).values_list("pk", flat=True))
            claimed = [outgoing for outgoing in claimed if outgoing.pk in heads or outgoing.pk not in fifo]
        OutgoingMessage.objects.filter(pk__in=[outgoing.pk for outgoing in claimed]).update(
            lease_until=lease_until, attempt_count=F("attempt_count") + 1
        )
    for outgoing in claimed:
        outgoing.lease_until = lease_until
        outgoing.attempt_count += 1
    return claimed


def _message_for(outgoing: OutgoingMessage) -> Message:
    incoming = outgoing.incoming
    destination = outgoing.destination
    return Message(
        body=bytes(incoming.body),
        headers=dict(incoming.headers),
        method=destination.message_method or incoming.method,
        event_type=incoming.event_type,
        content_type=incoming.content_type,
        # A dynamic input's target URL is its own destination's, not the account's webhooks'.
        url=(destination.feed == Destination.Feed.INPUT and incoming.target_url) or destination.endpoint_url,
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


def _release(outgoings: list[OutgoingMessage], **fields) -> None:
    OutgoingMessage.objects.filter(pk__in=[outgoing.pk for outgoing in outgoings]).update(
        lease_until=None, **fields
    )


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


@dataclass
class _Prepared:
    """A claimed message about to be sent: its final form, headers and attempt row."""

    outgoing: OutgoingMessage
    message: Message
    headers: dict[str, str]
    attempt: Attempt


def _give_back(outgoings: list[OutgoingMessage], **fields) -> None:
    """Undo the claim of messages that were not sent (as if never claimed)."""
    OutgoingMessage.objects.filter(pk__in=[outgoing.pk for outgoing in outgoings]).update(
        lease_until=None, attempt_count=F("attempt_count") - 1, **fields
    )


def _prepare(outgoing_ids: list[str]) -> tuple[list[_Prepared], dict[str, Next]]:
    """Claim, throttle, transform and write the attempt rows: one transaction, one commit, before
    the HTTP calls. Returns what to send, and what happened to the messages not to be sent."""
    to_send: list[_Prepared] = []
    followups: dict[str, Next] = {}
    with transaction.atomic():
        claimed = outgoing_claim(outgoing_ids=outgoing_ids)
        parked: list[OutgoingMessage] = []
        by_destination = sorted(claimed, key=lambda outgoing: outgoing.destination_id)  # stable: queue order
        for destination_id, group in groupby(by_destination, key=lambda outgoing: outgoing.destination_id):
            group = list(group)
            destination = group[0].destination
            if in_flight(destination_id=destination_id) > settings.DESTINATION_MAX_IN_FLIGHT:  # ours included
                # The destination holds its share of worker threads (it may be hanging): leave
                # the threads to other destinations until one of its deliveries finishes.
                parked += group
                followups.update((outgoing.pk, Next(parked_for=destination_id)) for outgoing in group)
                continue
            for index, outgoing in enumerate(group):
                wait = rate_wait(destination_id=destination_id, rate_limit=destination.rate_limit)
                if wait:
                    _give_back(group[index:])
                    followups.update((later.pk, Next(retry_in=wait)) for later in group[index:])
                    break
                message = _apply_destination_recipe(outgoing)
                if message is None or isinstance(message, str):
                    status = (
                        OutgoingMessage.Status.SKIPPED
                        if message is None
                        else OutgoingMessage.Status.RECIPE_FAILED
                    )
                    _release([outgoing], status=status, error=message or "", completed_at=timezone.now())
                    followups[outgoing.pk] = Next(then_deliver=_next_fifo(outgoing))
                    continue
                headers = _headers_for(outgoing, message, outgoing.attempt_count)
                attempt = Attempt(
                    account_id=outgoing.account_id,
                    outgoing=outgoing,
                    number=outgoing.attempt_count,
                    request_method=message.method,
                    request_url=message.url,
                    request_headers=headers,
                )
                to_send.append(_Prepared(outgoing, message, headers, attempt))
        # Parked messages are no longer enqueued: a finishing delivery, this task once a slot is
        # free (outgoing_deliver_and_enqueue) or the sweeper sends them.
        _give_back(parked, enqueued_at=None)
        insert_rows([prepared.attempt for prepared in to_send])
    return to_send, followups


def _send(prepared: _Prepared, read_timeout: float | None) -> http_client.Outcome:
    message = prepared.message
    # Imported certificates only matter to TLS.
    certificate = (
        certificate_for_url(account=prepared.outgoing.account_id, url=message.url)
        if message.url.startswith("https")
        else None
    )
    return http_client.send(
        method=message.method,
        url=message.url,
        headers=prepared.headers,
        body=message.body,
        verify_ssl=prepared.outgoing.destination.verify_ssl,
        trusted_certificates_pem=[certificate.pem] if certificate else [],
        read_timeout=read_timeout,
    )


def _send_all(
    to_send: list[_Prepared], read_timeout: float | None
) -> tuple[list[tuple[_Prepared, http_client.Outcome]], list[_Prepared]]:
    """Send one after the other on the thread's keep-alive connections. A destination that timed
    out gets nothing more from this batch (its threads are what the in-flight cap protects), and
    no request starts that could outlast its claim's lease; those messages are returned unsent."""
    budget = timedelta(
        seconds=settings.OUTBOUND_CONNECT_TIMEOUT + (read_timeout or settings.OUTBOUND_READ_TIMEOUT)
    )
    sent: list[tuple[_Prepared, http_client.Outcome]] = []
    unsent: list[_Prepared] = []
    timed_out: set[str] = set()
    for prepared in to_send:
        outgoing = prepared.outgoing
        if outgoing.destination_id in timed_out or (sent and timezone.now() + budget > outgoing.lease_until):
            unsent.append(prepared)
            continue
        outcome = _send(prepared, read_timeout)
        if outcome.error_kind == "timeout":
            timed_out.add(outgoing.destination_id)
        sent.append((prepared, outcome))
    return sent, unsent


def _outcome(prepared: _Prepared, outcome: http_client.Outcome, now) -> tuple[dict, float | None]:
    """The outgoing message's new fields after an attempt, and the seconds until its next attempt
    (None: it is finished)."""
    outgoing, destination = prepared.outgoing, prepared.outgoing.destination
    if outcome.ok:
        fields = {
            "status": OutgoingMessage.Status.SUCCEEDED,
            "last_status_code": outcome.status,
            "completed_at": now,
        }
        return fields, None
    error = outcome.error or f"HTTP {outcome.status}"
    if outcome.status == 410:
        destination_disable_and_alert(destination=destination, reason="The endpoint answered 410 Gone.")
    blocked = outcome.error_kind == "ssrf_blocked"
    if blocked:
        logger.warning(
            "delivery blocked by the SSRF guard, not retried: a configuration error outgoing=%s "
            "destination=%s error=%r",
            outgoing.pk,
            destination.pk,
            error,
        )
    policy_id, retry_count, interval = effective_policy(destination)
    if outcome.status == 410 or blocked or prepared.attempt.number > retry_count:
        alert_on_failure(destination=destination, outgoing=outgoing, error=error)
        fields = {
            "status": OutgoingMessage.Status.FAILED,
            "last_status_code": outcome.status,
            "error": error,
            "completed_at": now,
        }
        return fields, None
    delay = _retry_after(outcome, retry_delay(policy_id, prepared.attempt.number, interval) or 0)
    fields = {
        "last_status_code": outcome.status,
        "error": error,
        "next_attempt_at": now + timedelta(seconds=delay),
    }
    return fields, delay


ATTEMPT_OUTCOME_FIELDS = [
    "status_code",
    "response_headers",
    "response_body",
    "succeeded",
    "error_kind",
    "error",
    "elapsed_ms",
    "remote_address",
    "finished_at",
]


def attempt_complete(attempt: Attempt, outcome: http_client.Outcome, now) -> None:
    """Fill in an attempt's ATTEMPT_OUTCOME_FIELDS from what the request did (not saved)."""
    attempt.status_code = outcome.status
    attempt.response_headers = outcome.headers
    attempt.response_body = outcome.body
    attempt.succeeded = outcome.ok
    attempt.error_kind = outcome.error_kind or ""
    attempt.error = outcome.error or ""
    attempt.elapsed_ms = outcome.elapsed_ms
    attempt.remote_address = outcome.remote_address or ""
    attempt.finished_at = now


@transaction.atomic
def _record(sent: list[tuple[_Prepared, http_client.Outcome]], unsent: list[_Prepared]) -> dict[str, Next]:
    """Record the outcomes and release the claims: one transaction, one commit, after the calls.
    Unsent messages lose their attempt rows and wait for a free slot (parked)."""
    now = timezone.now()
    for prepared, outcome in sent:
        attempt_complete(prepared.attempt, outcome, now)
    update_rows([prepared.attempt for prepared, _ in sent], ATTEMPT_OUTCOME_FIELDS)
    # A destination is failing from its first failure until a delivery succeeds.
    destinations = {prepared.outgoing.destination_id: prepared.outgoing.destination for prepared, _ in sent}
    reached = {prepared.outgoing.destination_id for prepared, outcome in sent if outcome.ok}
    for destination_id, destination in destinations.items():
        if destination_id in reached and destination.failing_since is not None:
            Destination.objects.filter(pk=destination_id).update(failing_since=None)
        elif destination_id not in reached and destination.failing_since is None:
            Destination.objects.filter(pk=destination_id, failing_since__isnull=True).update(
                failing_since=now
            )
    retry_in: dict[str, float | None] = {}
    released: dict[tuple, list[OutgoingMessage]] = defaultdict(list)
    for prepared, outcome in sent:
        fields, retry_in[prepared.outgoing.pk] = _outcome(prepared, outcome, now)
        released[tuple(sorted(fields.items()))].append(prepared.outgoing)
    for fields, outgoings in released.items():
        _release(outgoings, **dict(fields))
    followups = {
        outgoing.pk: Next(
            retry_in=retry_in[outgoing.pk],
            then_deliver=None if retry_in[outgoing.pk] is not None else _next_fifo(outgoing),
            finished_for=outgoing.destination_id,
        )
        for outgoing in (prepared.outgoing for prepared, _ in sent)
    }
    if unsent:
        Attempt.objects.filter(pk__in=[prepared.attempt.pk for prepared in unsent]).delete()
        _give_back([prepared.outgoing for prepared in unsent], enqueued_at=None)
        followups.update(
            (prepared.outgoing.pk, Next(parked_for=prepared.outgoing.destination_id)) for prepared in unsent
        )
    return followups


def outgoing_deliver(*, outgoing_ids: list[str], read_timeout: float | None = None) -> dict[str, Next]:
    """Make one delivery attempt of each of these outgoing messages that is due and ours to make.

    Returns what comes next for each id (an empty ``Next`` for one that was not ours).
    ``read_timeout`` overrides the outbound default (sync relays answer a waiting sender)."""
    to_send, followups = _prepare(outgoing_ids)
    sent, unsent = _send_all(to_send, read_timeout)
    followups.update(_record(sent, unsent))
    return {outgoing_id: followups.get(outgoing_id, Next()) for outgoing_id in outgoing_ids}


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


def parked(*, destination_id: str) -> list[str]:
    """The oldest due messages of a destination waiting for a free in-flight slot (not
    enqueued), a batch of them, locked until the caller's transaction ends (``SKIP LOCKED``:
    two deliveries finishing at once wake different messages, and never wait on each other)."""
    now = timezone.now()
    return list(
        OutgoingMessage.objects.select_for_update(skip_locked=True)
        .filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now),
            destination_id=destination_id,
            status=OutgoingMessage.Status.PENDING,
            enqueued_at__isnull=True,
            next_attempt_at__lte=now,
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[: settings.DELIVERY_BATCH_SIZE]
    )


def outgoing_deliver_and_enqueue(*, outgoing_ids: list[str], read_timeout: float | None = None) -> None:
    followups = outgoing_deliver(outgoing_ids=outgoing_ids, read_timeout=read_timeout)
    retries: dict[float, list[str]] = defaultdict(list)
    woken: list[str] = []
    finished_for: set[str] = set()
    parked_for: set[str] = set()
    for outgoing_id, following in followups.items():
        if following.retry_in is not None:
            retries[following.retry_in].append(outgoing_id)
        if following.then_deliver:
            woken.append(following.then_deliver)
        if following.finished_for:
            finished_for.add(following.finished_for)
        if following.parked_for:
            parked_for.add(following.parked_for)
    for delay, retried in retries.items():
        enqueue_deliver(retried, countdown=delay)
    # A delivery finishing while we parked may have looked for parked messages before ours were
    # committed: with a slot free now, nobody else would wake them.
    parked_for = {
        destination_id
        for destination_id in parked_for - finished_for
        if in_flight(destination_id=destination_id) < settings.DESTINATION_MAX_IN_FLIGHT
    }
    with transaction.atomic():
        for destination_id in finished_for | parked_for:
            woken += parked(destination_id=destination_id)
        enqueue_deliver(list(dict.fromkeys(woken)))


def _email_after_commit(destination: Destination, subject: str, text: str) -> None:
    """Email the destination's alert addresses once the outcome is committed; a mail server
    failure is logged and never undoes the delivery's record."""
    transaction.on_commit(
        lambda: send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, destination.alert_on_failure),
        robust=True,
    )
