"""Test settings: the real PostgreSQL and Redis on this machine (override with DATABASE_URL/REDIS_URL)."""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hookrelay")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")  # the suites flush it

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process outbox, unless a test process (e.g. a Celery worker) is given EMAIL_URL to write files.
if not os.environ.get("EMAIL_URL"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tests deliver to receivers on loopback; SSRF tests take this away with override_settings.
OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]

# Tests change inputs between requests; tests/gateway covers the cache with it switched on.
GATEWAY_INPUT_CACHE_SECONDS = 0
