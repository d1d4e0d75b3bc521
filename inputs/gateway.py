"""The ingest gateway: ``/v1/<input_name>/<input_id>`` (static inputs) and
``/<input_id>/<target_url>`` (dynamic inputs).

Plain Django views, not DRF: this is the hot path. Checks run in the order of the spec: unknown
or inactive input (404), body size (413), rate limit (429), authentication (401), then the
request is stored and answered. Whatever the request holds, the answer is never a 500."""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import threading
import time
from urllib.parse import quote

import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.encoding import escape_uri_path, iri_to_uri
from django.views.decorators.csrf import csrf_exempt

from accounts.models import Account
from core.errors import error_body
from core.events import event_matches
from core.redis import redis_client
from deliveries.models import Attempt, IncomingMessage
from deliveries.services import incoming_accept, incoming_relay_sync
from inputs.extraction import event_type_of
from inputs.models import Input
from inputs.verification import request_authenticated

logger = logging.getLogger(__name__)

METHODS = ("POST", "PUT", "PATCH", "DELETE", "GET", "HEAD")
MAX_PATH_LENGTH = IncomingMessage._meta.get_field("path").max_length
MAX_CONTENT_TYPE_LENGTH = IncomingMessage._meta.get_field("content_type").max_length
# Printable ASCII stays as sent; anything else (NUL, spaces, raw non-UTF-8 bytes) is
# percent-encoded, so the stored query string is lossless and storable.
QUERY_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))
SCHEME = re.compile(r"^(https?):/*", re.IGNORECASE)
validate_target_url = URLValidator(schemes=["http", "https"])
INPUT_CACHE_SIZE = 10_000
_inputs: dict[tuple[str, str], tuple[float, Input | None]] = {}
_local_counts: dict[str, int] = {}
RATE_LIMIT_LEASE_SHARE = 64
RATE_LIMIT_LEASE_MAX = 100
# input id -> (window, tokens left in this process's lease; -1: the window is used up)
_leases: dict[str, tuple[int, int]] = {}
_leases_lock = threading.Lock()


class Refused(Exception):
    """A request the gateway answers with an error, before storing anything."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.response = JsonResponse(error_body(code, message), status=status, headers=headers)


def _active_input(input_id: str, input_type: str) -> Input | None:
    """The active input of an active account, from a per-process cache of
    GATEWAY_INPUT_CACHE_SECONDS (the gateway's most frequent query; a change to an input reaches
    the gateway within that time)."""
    key = (input_id, input_type)
    now = time.monotonic()
    cached = _inputs.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    input = (
        Input.objects.select_related("account__plan")
        .filter(
            pk=input_id,
            type=input_type,
            status=Input.Status.ACTIVE,
            account__status=Account.Status.ACTIVE,
        )
        .first()
    )
    if settings.GATEWAY_INPUT_CACHE_SECONDS > 0:
        if len(_inputs) >= INPUT_CACHE_SIZE:
            _inputs.clear()
        _inputs[key] = (now + settings.GATEWAY_INPUT_CACHE_SECONDS, input)
    return input


def target_url_of(raw_target: str) -> str:
    """The absolute http(s) URL a dynamic path names, or Refused (400).

    The path arrives decoded: it is re-encoded (spaces, non-ASCII) before validation. A
    ``https:/host`` whose slashes a proxy merged is repaired; no scheme means https."""
    match = SCHEME.match(raw_target)
    url = f"{match.group(1).lower()}://{raw_target[match.end() :]}" if match else f"https://{raw_target}"
    url = iri_to_uri(url)
    try:
        validate_target_url(url)
    except ValidationError:
        raise Refused(
            400, "invalid_target_url", "The target URL must be an http(s) URL with a host."
        ) from None
    return url


def _over_rate_limit(input: Input) -> int:
    """Seconds the sender should wait (0: go on). A fixed one-second window per input, counted in
    Redis so the limit holds across every web process (in process without Redis: the embedded
    default runs one web server).

    A process takes its tokens in leases of 1/RATE_LIMIT_LEASE_SHARE of the limit (one Redis round
    trip per lease, not per request) and remembers a window that is used up, so neither a busy input
    nor one over its limit costs a round trip per request. Never more than the limit is accepted;
    when the limit is reached, tokens other processes leased but did not use may refuse a few
    requests early (1 token per lease at a limit under RATE_LIMIT_LEASE_SHARE: exact)."""
    now = time.time()
    window = int(now)
    limit = settings.INGEST_RATE_LIMIT_PER_SECOND
    with _leases_lock:
        lease_window, left = _leases.get(input.pk, (0, 0))
        if lease_window == window and left:
            _leases[input.pk] = (window, left - 1 if left > 0 else left)
            return 0 if left > 0 else _retry_after(window, now)
    size = max(1, min(limit // RATE_LIMIT_LEASE_SHARE, RATE_LIMIT_LEASE_MAX))
    key = f"ingest:{input.pk}:{window}"
    client = redis_client()
    try:
        if client is None:
            total = _local_counts[key] = _local_counts.get(key, 0) + size
            if len(_local_counts) > INPUT_CACHE_SIZE:
                _local_counts.clear()
        else:
            total, _ = client.pipeline(transaction=False).incrby(key, size).expire(key, 5).execute()
    except redis.RedisError:  # the limit protects the platform; an unreachable Redis must not stop ingest
        logger.warning("ingest rate limit skipped: Redis is unavailable", exc_info=True)
        return 0
    granted = min(size, limit - (total - size))
    with _leases_lock:
        if len(_leases) >= INPUT_CACHE_SIZE:
            _leases.clear()
        _leases[input.pk] = (window, granted - 1 if granted > 0 else -1)  # -1: used up
    return 0 if granted > 0 else _retry_after(window, now)


def _retry_after(window: int, now: float) -> int:
    return max(1, math.ceil(window + 1 - now))


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _storable(text: str) -> str:
    """PostgreSQL text and JSON hold no NUL character."""
    return text.replace("\x00", "\ufffd")


def source_ip(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def _configured_answer(input: Input, incoming: IncomingMessage) -> HttpResponse:
    if not input.response_content:
        return JsonResponse({"id": incoming.pk}, status=input.response_code)
    return HttpResponse(
        input.response_content, status=input.response_code, content_type=input.response_content_type
    )


def _relayed_answer(attempt: Attempt) -> HttpResponse:
    """The destination's answer to a sync relay; 502/504 when there was none to relay."""
    if attempt.error_kind or attempt.status_code is None or not 100 <= attempt.status_code <= 599:
        if attempt.error_kind == "timeout":
            return JsonResponse(
                error_body("destination_timeout", attempt.error or "The destination timed out."), status=504
            )
        return JsonResponse(
            error_body("destination_failed", attempt.error or "The destination did not answer."), status=502
        )
    response = HttpResponse(bytes(attempt.response_body), status=attempt.status_code)
    headers = {name.lower(): value for name, value in attempt.response_headers.items()}
    if "content-type" in headers:
        response["Content-Type"] = headers["content-type"]
    else:
        del response["Content-Type"]  # relay the absence, not Django's text/html default
    return response


def _read_body(request: HttpRequest, input: Input) -> bytes:
    """The raw body, refused (413) over the plan's limit: by Content-Length first, then by
    what arrives, read straight from the stream and never more than one byte past the limit."""
    limit = input.account.plan.max_body_bytes
    declared = _declared_length(request)
    body = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(body) > limit:
        raise Refused(413, "payload_too_large", f"The body exceeds the limit of {limit} bytes.")
    if len(request.META.get("CONTENT_TYPE", "")) > MAX_CONTENT_TYPE_LENGTH:
        raise Refused(400, "bad_request", "The Content-Type header is too long.")
    return body


def _check_rate(input: Input) -> None:
    retry_after = _over_rate_limit(input)
    if retry_after:
        raise Refused(
            429,
            "rate_limited",
            "Too many requests to this input; slow down.",
            headers={"Retry-After": str(retry_after)},
        )


def _without_token_parameter(query_string: str) -> str:
    return "&".join(part for part in query_string.split("&") if part and not part.startswith("_token="))


def _accept(request: HttpRequest, input: Input, body: bytes, target_url: str, trusted: bool) -> HttpResponse:
    """Store the request (whatever its status) and answer it."""
    authenticated = trusted or request_authenticated(input=input, request=request, body=body)
    event_type = event_type_of(input=input, request=request, body=body)
    if not authenticated:
        status = IncomingMessage.Status.UNAUTHENTICATED
    elif not event_matches(event_type, input.event_filters):
        status = IncomingMessage.Status.FILTERED
    else:
        status = IncomingMessage.Status.RECEIVED
    headers = {_storable(name): _storable(value) for name, value in request.headers.items()}
    query_string = quote(get_bytes_from_wsgi(request.META, "QUERY_STRING", ""), safe=QUERY_SAFE)
    if trusted:  # the platform's own credentials are not part of the message
        headers.pop("Authorization", None)
        query_string = _without_token_parameter(query_string)
    incoming = incoming_accept(
        input=input,
        method=request.method,
        path=escape_uri_path(request.path)[:MAX_PATH_LENGTH],
        query_string=query_string,
        headers=headers,
        body=body,
        content_type=_storable(request.META.get("CONTENT_TYPE", "")),
        event_type=event_type,
        source_ip=source_ip(request),
        target_url=target_url,
        status=status,
    )
    if not authenticated and input.authentication_failures == Input.AuthenticationFailures.REJECT:
        challenge = {"WWW-Authenticate": 'Basic realm="input"'}
        return JsonResponse(
            error_body("authentication_failed", "The request failed the input's authentication."),
            status=401,
            headers=challenge if input.authentication_type == Input.AuthenticationType.BASIC else None,
        )
    if status == IncomingMessage.Status.RECEIVED and input.delivery_mode == Input.DeliveryMode.SYNC:
        attempt = incoming_relay_sync(incoming=incoming)
        if attempt is not None:
            return _relayed_answer(attempt)
    return _configured_answer(input, incoming)


def ingest_request(
    request: HttpRequest, *, input: Input, target_url: str = "", trusted: bool = False
) -> HttpResponse:
    """Store ``request`` as a message of ``input`` and answer it: body size (413), rate limit
    (429), then authentication, and the message stored.

    ``trusted``: the platform authenticated the request itself (a provider's API token sending to
    a consumer), so the input's authentication is not asked and the request's credentials (its
    ``Authorization`` header, a ``_token`` parameter) are not stored with the message."""
    try:
        body = _read_body(request, input)
        _check_rate(input)
    except Refused as refused:
        return refused.response
    return _accept(request, input, body, target_url, trusted)


def _ingest(request: HttpRequest, *, input_id: str, input_type: str, raw_target: str = "") -> HttpResponse:
    try:
        if request.method not in METHODS:
            raise Refused(
                405,
                "method_not_allowed",
                f'Method "{request.method}" not allowed.',
                headers={"Allow": ", ".join(METHODS)},
            )
        input = _active_input(input_id, input_type)
        if input is None:
            raise Refused(404, "not_found", "Input not found.")
        if request.method == "HEAD":
            return HttpResponse(status=200)
        target_url = target_url_of(raw_target) if input.type == Input.Type.DYNAMIC else ""
    except Refused as refused:
        return refused.response
    return ingest_request(request, input=input, target_url=target_url)


@csrf_exempt
def static_gateway(request: HttpRequest, input_name: str, input_id: str) -> HttpResponse:
    """``/v1/<input_name>/<input_id>``: ``input_name`` is cosmetic."""
    return _ingest(request, input_id=input_id, input_type=Input.Type.STATIC)


@csrf_exempt
def dynamic_gateway(request: HttpRequest, input_id: str, target_url: str) -> HttpResponse:
    """``/<input_id>/<target_url>``: the message goes to ``target_url``."""
    return _ingest(request, input_id=input_id, input_type=Input.Type.DYNAMIC, raw_target=target_url)
