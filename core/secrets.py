"""Secrets shown once and stored only as SHA-256 digests (API, session and client tokens, emailed keys)."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def new_hex_key(prefix: str) -> str:
    """A key in the prefixed-id format (``CK`` + 32 hex), for keys that travel in URLs."""
    return f"{prefix}{secrets.token_hex(16)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
