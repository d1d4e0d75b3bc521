"""Checking the signatures HookRelay puts on the requests it delivers.

- Standard Webhooks (the default): ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
  (``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, several space-separated during a
  secret rotation); the key is the base64 part of the ``whsec_...`` secret.
- The Qminder scheme: ``X-<prefix>-Signature`` (``X-Webhooks-Signature``, or ``X-Qminder-Signature``
  from the simple webhooks API) = hex HMAC-SHA256 of the URL then the body, the secret as given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE_SECONDS = 5 * 60


def qminder_signature(secret: str, url: str, body: bytes) -> str:
    return hmac.new(secret.encode(), url.encode() + body, hashlib.sha256).hexdigest()


def verify_qminder(secret: str, url: str, body: bytes, signature: str) -> bool:
    """True when ``signature`` (or one of several space-separated, during a secret rotation) is
    hex(HMAC-SHA256(secret, url + body)). ``url`` is the URL the request was sent to, exactly as
    registered."""
    expected = qminder_signature(secret, url, body)
    return any(hmac.compare_digest(expected, candidate.lower()) for candidate in signature.split())


def verify_standard_webhooks(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when one of the ``webhook-signature`` signatures matches and ``webhook-timestamp``
    is within ``tolerance`` seconds of now (replays of old requests fail)."""
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id, timestamp, signatures = (
        lower.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (msg_id and timestamp.isdigit() and signatures):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    except binascii.Error:
        return False
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    )
    return any(
        version == "v1" and hmac.compare_digest(expected, candidate.encode())
        for version, _, candidate in (item.partition(",") for item in signatures.split())
    )


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, *, url: str | None = None) -> bool:
    """Check a delivered request by whichever scheme signed it: Standard Webhooks when its
    headers are present, else the Qminder scheme (``url`` required) from a header ending in
    ``-Signature``. False when no signature is present or none matches."""
    lower = {name.lower(): value for name, value in headers.items()}
    if "webhook-signature" in lower:
        return verify_standard_webhooks(secret, lower, body)
    signature = next(
        (value for name, value in lower.items() if name.startswith("x-") and name.endswith("-signature")),
        None,
    )
    if signature is None:
        return False
    if url is None:
        raise ValueError("The Qminder scheme signs the URL too: pass url=")
    return verify_qminder(secret, url, body, signature)
