"""Input authentication: whether a request carries the credentials its input expects.

Options are as stored by ``inputs.authentication_options`` (defaults filled in). Every secret
is compared with ``hmac.compare_digest``, on bytes (it only takes ASCII ``str``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable

from django.http import HttpRequest

from destinations.signing import standard_webhooks_signature
from inputs.models import Input

HMAC_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def _basic(options: dict, request: HttpRequest, body: bytes) -> bool:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    username, _, password = decoded.partition(":")
    # Both compared, always: no early exit that would time the username.
    return _same(username, options.get("username", "")) & _same(password, options.get("password", ""))


def _token(options: dict, request: HttpRequest, body: bytes) -> bool:
    name = options.get("name", "")
    given = (request.GET if options.get("location") == "query" else request.headers).get(name)
    return given is not None and _same(given, options.get("value", ""))


def _hmac(options: dict, request: HttpRequest, body: bytes) -> bool:
    given = request.headers.get(options.get("header", ""), "").strip()
    prefix = options.get("prefix", "")
    secret = options.get("secret", "")
    algorithm = HMAC_ALGORITHMS.get(options.get("algorithm", "sha256"))
    if not secret or algorithm is None or not given.startswith(prefix):
        return False
    signed = body
    if options.get("signed_content") == "url_body":
        signed = request.build_absolute_uri().encode() + body
    digest = hmac.new(secret.encode(), signed, algorithm).digest()
    if options.get("encoding") == "base64":
        return _same(given[len(prefix) :], base64.b64encode(digest).decode())
    return _same(given[len(prefix) :].lower(), digest.hex())


def _standard_webhooks(options: dict, request: HttpRequest, body: bytes) -> bool:
    msg_id = request.headers.get("webhook-id", "")
    secret = options.get("secret", "")
    try:
        timestamp = int(request.headers.get("webhook-timestamp", ""))
    except ValueError:
        return False
    # Integer arithmetic: a huge timestamp must not overflow a float.
    if not msg_id or not secret or abs(int(time.time()) - timestamp) > options.get("tolerance_seconds", 300):
        return False
    try:
        expected = standard_webhooks_signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
    except binascii.Error:  # a secret stored malformed (the API never stores one) verifies nothing
        return False
    # Several signatures (a sender rotating its secret): any one may match.
    signatures = request.headers.get("webhook-signature", "").split()
    return any([_same(signature, expected) for signature in signatures])


VERIFIERS: dict[str, Callable[[dict, HttpRequest, bytes], bool]] = {
    Input.AuthenticationType.BASIC: _basic,
    Input.AuthenticationType.TOKEN: _token,
    Input.AuthenticationType.HMAC: _hmac,
    Input.AuthenticationType.STANDARD_WEBHOOKS: _standard_webhooks,
}


def request_authenticated(*, input: Input, request: HttpRequest, body: bytes) -> bool:
    """Whether ``request`` (with its raw ``body``) passes ``input``'s authentication."""
    verify = VERIFIERS.get(input.authentication_type)
    if verify is None:
        return input.authentication_type == Input.AuthenticationType.NONE
    return verify(input.authentication_options or {}, request, body)
