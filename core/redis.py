"""The one Redis client for what the Django cache API cannot express (scripts, pipelines).

None without REDIS_URL (the embedded default): callers fall back to in-process state."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis | None:
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None
