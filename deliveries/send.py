"""What a claimed message is sent as (the destination's recipe, signed headers) and sending it
through the SSRF-guarded outbound client."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from deliveries import throttle
from deliveries.models import Attempt, OutgoingMessage
from deliveries.selectors import certificate_for_url
from deliveries.throttle import rate_wait, request_slot
from destinations import http_client, signing
from destinations.models import Destination
from recipes.hooks import Message, run_recipe


def message_for(outgoing: OutgoingMessage) -> Message:
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


def apply_destination_recipe(outgoing: OutgoingMessage) -> Message | str | None:
    """The message to send: transformed once (stored) or, with ``run_on_each_attempt``, on
    every attempt. Returns None when the recipe drops it and the error text when it fails."""
    destination = outgoing.destination
    recipe = destination.recipe
    if outgoing.transformed is not None:
        stored = dict(outgoing.transformed)
        stored["body"] = base64.b64decode(stored["body"])
        return Message(**stored)
    message = message_for(outgoing)
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


def headers_for(outgoing: OutgoingMessage, message: Message, attempt_number: int) -> dict[str, str]:
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


@dataclass
class Prepared:
    """A claimed message about to be sent: its final form, headers and attempt row, and the
    account's certificates trusted for its URL (read before sending: senders use no database)."""

    outgoing: OutgoingMessage
    message: Message
    headers: dict[str, str]
    attempt: Attempt
    trusted_pem: list[str] = field(init=False)
    # Not sent because the destination's rate limit has no slot for it yet: seconds until one.
    retry_in: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # Imported certificates only matter to TLS.
        certificate = (
            certificate_for_url(account=self.outgoing.account_id, url=self.message.url)
            if self.message.url.startswith("https")
            else None
        )
        self.trusted_pem = [certificate.pem] if certificate else []


Sent = list[tuple[Prepared, http_client.Outcome]]


def send(prepared: Prepared, read_timeout: float | None) -> http_client.Outcome:
    message = prepared.message
    return http_client.send(
        method=message.method,
        url=message.url,
        headers=prepared.headers,
        body=message.body,
        verify_ssl=prepared.outgoing.destination.verify_ssl,
        trusted_certificates_pem=prepared.trusted_pem,
        read_timeout=read_timeout,
    )


def send_in_turn(to_send: list[Prepared], read_timeout: float | None) -> tuple[Sent, list[Prepared]]:
    """Send one destination's messages one after the other on the thread's keep-alive
    connections, holding one of its in-flight slots (with none free, nothing is sent), each in a
    rate-limit slot taken as it is made (waited for about RATE_WAIT_SECONDS at most; the rest
    get their ``retry_in``). After a timeout the destination gets nothing more from this batch
    (its slots are what keep a hanging destination from taking every thread), and no request
    starts that could outlast its claim's lease. Returns what was sent, and the messages not sent."""
    budget = timedelta(
        seconds=settings.OUTBOUND_CONNECT_TIMEOUT + (read_timeout or settings.OUTBOUND_READ_TIMEOUT)
    )
    destination = to_send[0].outgoing.destination
    sent: Sent = []
    with request_slot(destination_id=destination.pk) as slot:
        for index, prepared in enumerate(to_send if slot else ()):
            if sent and sent[-1][1].error_kind == "timeout":
                break
            if sent and timezone.now() + budget > prepared.outgoing.lease_until:
                break
            waited = 0.0
            while wait := rate_wait(destination_id=destination.pk, rate_limit=destination.rate_limit):
                if wait > throttle.RATE_WAIT_SECONDS or waited >= throttle.RATE_WAIT_SECONDS:
                    for later in to_send[index:]:
                        later.retry_in = wait
                    return sent, to_send[index:]
                slot.renew()  # waiting for the rate is not slowness
                time.sleep(wait)
                waited += wait
            if sent:
                slot.renew()
            prepared.attempt.started_at = timezone.now()
            sent.append((prepared, send(prepared, read_timeout)))
    return sent, to_send[len(sent) :]


# The threads that send batches, each destination's messages in turn: long-lived, so each keeps its
# keep-alive connections.
_senders = ThreadPoolExecutor(max_workers=settings.DELIVERY_SENDER_THREADS, thread_name_prefix="sender")
# A group is given to a sender only when one is free: a task handing off waits for it, rather than
# queue groups whose leases could run out before they are sent.
_free_senders = threading.BoundedSemaphore(settings.DELIVERY_SENDER_THREADS)
# How long the destinations done first wait for the others, to have their outcomes recorded together.
GATHER_SECONDS = 0.1
# How long a task (or a processing thread) waits for its destinations before leaving the rest to be
# recorded without it: a destination that takes longer holds up neither the task's thread nor what it
# does next. Short, because the threads a hanging destination holds meanwhile are those that claim
# and process the next messages (with 0.1 s, the first requests to a destination that began to hang
# held a worker's processing threads long enough to double the other destinations' p99, figure 4).
HAND_OFF_SECONDS = 0.02


def _send_freeing_sender(to_send: list[Prepared], read_timeout: float | None) -> tuple[Sent, list[Prepared]]:
    try:
        return send_in_turn(to_send, read_timeout)
    finally:
        _free_senders.release()


def send_by_destination(
    to_send: list[Prepared],
    read_timeout: float | None,
    *,
    late: Callable[[Sent, list[Prepared]], None] | None = None,
) -> Iterator[tuple[Sent, list[Prepared]]]:
    """Send each destination's messages in turn and the destinations at once. Yields the (sent,
    unsent) of the destinations done, together, every GATHER_SECONDS until all are: one that
    hangs holds up no other's outcome for longer than that. With ``late``, stops after
    HAND_OFF_SECONDS: the destinations not done yet call ``late(sent, unsent)`` from their
    sender thread when they are."""
    groups: dict[str, list[Prepared]] = {}
    for prepared in to_send:
        groups.setdefault(prepared.outgoing.destination_id, []).append(prepared)
    hand_off_at = time.monotonic() + HAND_OFF_SECONDS
    pending = set()
    for group in groups.values():
        _free_senders.acquire()
        pending.add(_senders.submit(_send_freeing_sender, group, read_timeout))
    while pending:
        timeout = GATHER_SECONDS if late is None else max(0.0, hand_off_at - time.monotonic())
        done, pending = wait(pending, timeout=timeout)
        if done:
            outcomes = [future.result() for future in done]
            yield (
                [one for sent, _ in outcomes for one in sent],
                [one for _, unsent in outcomes for one in unsent],
            )
        if late is not None and time.monotonic() >= hand_off_at:
            for future in pending:
                future.add_done_callback(lambda future: late(*future.result()))
            return
