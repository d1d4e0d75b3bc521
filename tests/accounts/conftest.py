"""Helpers for the account flows: read the emailed keys from Django's locmem outbox."""

from __future__ import annotations

import re

from django.core import mail

KEY_PATTERN = re.compile(r"\b(?:CK|EV)[0-9a-f]{32}\b")


def emailed_key(prefix: str, *, to: str) -> str:
    """The last key with ``prefix`` emailed to ``to`` (fails loudly if there is none)."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no email to {to}"
    keys = [key for key in KEY_PATTERN.findall(messages[-1].body) if key.startswith(prefix)]
    assert keys, messages[-1].body
    return keys[-1]
