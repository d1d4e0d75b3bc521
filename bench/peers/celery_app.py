"""The peer's Celery app (django-webhook's tasks use the current app)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.settings")

app = Celery("peers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["django_webhook"])
