"""Trigger webhooks (seed 004): registered third-party endpoints that a caller triggers with
``{data, headers, query_params}`` and gets the answer of, synchronously. A call fails (4xx) only
when it breaks the registered format; whatever the endpoint does (an error status, a timeout, no
answer) is a successful trigger with ``error: true``. Every call is recorded like a message."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from core.errors import Conflict, ValidationFailed
from deliveries.direct import outgoing_send_now
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from destinations.models import Destination
from destinations.services import destination_create, destination_update
from recipes.hooks import Message
from webhooks.models import TriggerWebhook
from webhooks.services import account_lock, webhooks_input

MASK = "****"


def header_mask(value: str) -> str:
    """A registered header's value as callers see it: its last 4 characters at most (none of a
    short one)."""
    return MASK + value[-4:] if len(value) >= 12 else MASK


def _ensure_name_free(*, account: Account, name: str, trigger: TriggerWebhook | None = None) -> None:
    taken = TriggerWebhook.objects.filter(account=account, name=name)
    if trigger is not None:
        taken = taken.exclude(pk=trigger.pk)
    if taken.exists():
        raise Conflict(f"A trigger webhook with id '{name}' already exists.")


@transaction.atomic
def trigger_webhook_create(
    *,
    account: Account,
    name: str,
    url: str,
    method: str = Destination.Method.POST,
    headers: dict[str, str] | None = None,
    query_params: list[str] | None = None,
    payload_encoding: str = "",
) -> TriggerWebhook:
    """Register an endpoint under the account's own id ``name`` (409 when taken)."""
    account_lock(account)
    _ensure_name_free(account=account, name=name)
    destination = destination_create(
        account=account,
        input=webhooks_input(account=account),
        feed=Destination.Feed.TRIGGER,
        name=f"Trigger {name}",
        endpoint_url=url,
        message_method=method,
    )
    return TriggerWebhook.objects.create(
        account=account,
        name=name,
        destination=destination,
        headers=headers or {},
        query_params=query_params or [],
        payload_encoding=payload_encoding or "",
    )


@transaction.atomic
def trigger_webhook_update(*, trigger: TriggerWebhook, **fields) -> TriggerWebhook:
    """Change any of the registration's fields (``name``, ``url``, ``method``, ``headers``,
    ``query_params``, ``payload_encoding``)."""
    if "name" in fields:
        account_lock(trigger.account)
        _ensure_name_free(account=trigger.account, name=fields["name"], trigger=trigger)
    changes = {}
    if "url" in fields:
        changes["endpoint_url"] = fields.pop("url")
    if "method" in fields:
        changes["message_method"] = fields.pop("method")
    if "name" in fields:
        changes["name"] = f"Trigger {fields['name']}"
    if changes:
        destination_update(destination=trigger.destination, **changes)
    for name, value in fields.items():
        setattr(trigger, name, value if value is not None else "")
    trigger.save()
    return trigger


def trigger_webhook_delete(*, trigger: TriggerWebhook) -> None:
    trigger.destination.delete()


def _body(trigger: TriggerWebhook, data) -> tuple[bytes, str]:
    """The bytes to send and their default content type: base64 decoded when the registration
    says so, a string as UTF-8 text, anything else as JSON; nothing for null."""
    if trigger.payload_encoding == TriggerWebhook.PayloadEncoding.BASE64:
        if not isinstance(data, str):
            raise ValidationFailed(
                "data: must be a base64 string.", fields={"data": ["Must be a base64 string."]}
            )
        try:
            return base64.b64decode(data, validate=True), "application/octet-stream"
        except (binascii.Error, ValueError):
            raise ValidationFailed(
                "data: not valid base64.", fields={"data": ["Not valid base64."]}
            ) from None
    if data is None:
        return b"", ""
    if isinstance(data, str):
        return data.encode(), "text/plain; charset=utf-8"
    return json.dumps(data).encode(), "application/json"


def _check_format(trigger: TriggerWebhook, headers: dict[str, str], query_params: dict) -> None:
    fixed = {name.lower() for name in trigger.headers}
    refused_headers = sorted(name for name in headers if name.lower() in fixed)
    if refused_headers:
        message = f"Fixed by the registration: {', '.join(refused_headers)}."
        raise ValidationFailed(f"headers: {message}", fields={"headers": [message]})
    unknown = sorted(name for name in query_params if name not in trigger.query_params)
    if unknown:
        message = f"Not a query parameter of this webhook: {', '.join(unknown)}."
        raise ValidationFailed(f"query_params: {message}", fields={"query_params": [message]})


def trigger_call(
    *,
    trigger: TriggerWebhook,
    data=None,
    headers: dict[str, str] | None = None,
    query_params: dict[str, str | list[str]] | None = None,
    path: str,
    source_ip: str | None,
) -> Attempt:
    """Call the registered endpoint now through the outbound client (SSRF guard, timeouts) and
    return the recorded attempt. The registered headers are sent as registered and recorded
    masked."""
    headers = headers or {}
    query_params = query_params or {}
    _check_format(trigger, headers, query_params)
    body, default_content_type = _body(trigger, data)
    destination = trigger.destination
    query_string = urlencode(query_params, doseq=True)
    url = destination.endpoint_url
    if query_string:
        url += ("&" if "?" in url else "?") + query_string
    sent = {**headers, **trigger.headers}
    content_type = next((value for name, value in sent.items() if name.lower() == "content-type"), "")
    if not content_type and default_content_type:
        content_type = sent["Content-Type"] = default_content_type
    method = trigger.method
    event_type = f"trigger.{trigger.name}"
    now = timezone.now()
    incoming = IncomingMessage(
        account_id=trigger.account_id,
        bucket_id=destination.input.bucket_id,
        input_id=destination.input_id,
        status=IncomingMessage.Status.PROCESSED,
        method=method,
        path=path,
        query_string=query_string,
        headers=headers,
        body=body,
        content_type=content_type,
        event_type=event_type,
        source_ip=source_ip,
        created=now,
        processed_at=now,
    )
    message = Message(
        body=body, headers=headers, method=method, event_type=event_type, content_type=content_type, url=url
    )
    recorded = {**sent, **{name: header_mask(value) for name, value in trigger.headers.items()}}
    return outgoing_send_now(
        incoming=incoming,
        outgoing=OutgoingMessage(destination=destination),
        message=message,
        headers=sent,
        recorded_headers=recorded,
    )


def invocation_result(attempt: Attempt) -> dict:
    """``{reference_id, status, data, error}`` of a trigger call: the endpoint's status and its
    body, parsed when JSON, else as text (null without an answer)."""
    raw = bytes(attempt.response_body)
    data = None
    if attempt.status_code is not None and raw:
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw.decode("utf-8", errors="replace")
    return {
        "reference_id": attempt.outgoing_id,
        "status": attempt.status_code,
        "data": data,
        "error": not attempt.succeeded,
    }
