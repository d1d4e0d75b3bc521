"""Signatures the platform puts on outgoing deliveries.

Signing secrets are made by ``inputs.authentication_options.new_signing_secret``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def _standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret ("whsec_" + base64, the prefix optional)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    # Like the reference library, accept unpadded base64 (b64decode ignores surplus padding).
    return base64.b64decode(encoded + "==")


def standard_webhooks_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One "v1,<base64>" signature of ``{msg_id}.{timestamp}.{body}``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_webhooks_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_webhooks_headers(
    *, secret: str | list[str] | tuple[str, ...], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The webhook-id, webhook-timestamp and webhook-signature headers of the Standard Webhooks spec.

    ``secret`` may be several secrets (during a rotation grace period): the signatures of all of
    them go space-separated into the one webhook-signature header, so either verifies.
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    signatures = [
        standard_webhooks_signature(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets
    ]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def url_body_signature(*, secret: str, url: str, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, URL + body)), the Qminder scheme; the secret is used as given."""
    return hmac.new(secret.encode(), url.encode() + body, hashlib.sha256).hexdigest()
