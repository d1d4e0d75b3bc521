"""Celery tasks of the platform, declared with limits that Celery accepts by construction."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task

logger = logging.getLogger(__name__)

# The soft limit raises SoftTimeLimitExceeded inside the task, leaving it this share of its hard
# limit to clean up before the worker kills it.
SOFT_SHARE = 0.8


def task(name: str, *, time_limit: int, **options):
    """A shared task named ``name`` killed after ``time_limit`` seconds, warned before.

    Both limits are always set, the soft one below the hard one: Celery refuses to run a task
    whose soft limit exceeds its hard limit, and a task that sets only a hard limit takes the
    global soft one (``CELERY_TASK_SOFT_TIME_LIMIT``), which may be longer."""
    return shared_task(
        name=name, time_limit=time_limit, soft_time_limit=int(time_limit * SOFT_SHARE), **options
    )


def batch_or_each(work: Callable[[list[str]], None], ids: list[str], what: str) -> None:
    """Do the work for the batch; if it fails, for each id alone, so that one message's failure
    does not hold up the rest (a failed one's lease expires and it is handed out again)."""
    try:
        work(ids)
        return
    except Exception:
        if len(ids) == 1:
            logger.exception("%s %s failed", what, ids[0])
            return
        logger.exception("%s of a batch of %d failed; trying each alone", what, len(ids))
    for one in ids:
        try:
            work([one])
        except Exception:
            logger.exception("%s %s failed", what, one)
