"""Waking the outbox dispatchers (``deliveries.dispatcher``) when new messages are committed.

With Redis, whoever commits messages to process publishes a wake on a channel every dispatcher
subscribes to (the gateway once per group commit), and an idle dispatcher claims them about a
millisecond after their commit rather than at its next poll; it polls only as a fallback
(DISPATCH_POLL_SECONDS). A wake is only a hint: one lost (Redis unreachable, a dispatcher
reconnecting) costs a poll interval, and nothing accepted waits on Redis. Without Redis (the
embedded default) the dispatchers poll."""

from __future__ import annotations

import logging
import threading
from contextlib import suppress

import redis
from django.conf import settings

from core.redis import redis_client

logger = logging.getLogger(__name__)

CHANNEL = "deliveries:dispatch"


def wake() -> None:
    """Tell the dispatchers that messages were committed."""
    client = redis_client()
    if client is None:
        return
    with suppress(redis.RedisError):  # the dispatchers' poll finds the messages
        client.publish(CHANNEL, b"")


class Wakes:
    """One dispatcher's subscription to the wakes."""

    def __init__(self) -> None:
        client = redis_client()
        self._pubsub = client.pubsub(ignore_subscribe_messages=True) if client else None
        self._subscribe()

    def _subscribe(self) -> None:
        if self._pubsub is None or self._pubsub.subscribed:
            return
        try:
            self._pubsub.subscribe(CHANNEL)
        except redis.RedisError:
            logger.warning("the dispatcher could not subscribe to its wakes; polling meanwhile")
            self._pubsub.reset()

    def wait(self, stop: threading.Event) -> None:
        """Return at a wake published since the last call (at once if there was one), after the
        poll interval, or when ``stop`` is set (within the poll interval)."""
        self._subscribe()
        if self._pubsub is None or not self._pubsub.subscribed:
            stop.wait(settings.DISPATCH_POLL_SECONDS)
            return
        try:
            if self._pubsub.get_message(timeout=settings.DISPATCH_POLL_SECONDS) is not None:
                while self._pubsub.get_message(timeout=0) is not None:
                    pass  # the wakes waiting are all answered by the next claim
        except redis.RedisError:
            self._pubsub.reset()
            stop.wait(settings.DISPATCH_POLL_SECONDS)

    def close(self) -> None:
        if self._pubsub is not None:
            self._pubsub.close()
