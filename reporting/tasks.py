"""Celery tasks of reporting: the retention purge, run by beat (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded

from core.tasks import task
from reporting import retention

logger = logging.getLogger(__name__)


@task("reporting.tasks.purge_expired_messages", time_limit=120)
def purge_expired_messages() -> None:
    try:
        retention.messages_purge()
    except SoftTimeLimitExceeded:
        # Each batch is its own transaction: what was purged stays purged; the next run goes on.
        logger.info("retention purge stopped at its time limit; the next run continues")
