"""Every task of the platform has limits Celery accepts, and every beat entry names one."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def platform_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_has_a_soft_time_limit_below_its_hard_limit():
    tasks = platform_tasks()

    assert tasks
    for name, task in tasks.items():
        assert 0 < task.soft_time_limit < task.time_limit, name


def test_every_beat_entry_names_a_platform_task():
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(platform_tasks())
