"""HookRelay's Python client: ``Client(base_url, token)``, ``HookRelayError``, signature checks."""

from __future__ import annotations

__version__ = "0.1.0"

from hookrelay.client import Client, Webhooks
from hookrelay.signatures import verify_qminder, verify_signature, verify_standard_webhooks
from hookrelay.transport import HookRelayError

__all__ = [
    "Client",
    "HookRelayError",
    "Webhooks",
    "verify_qminder",
    "verify_signature",
    "verify_standard_webhooks",
]
