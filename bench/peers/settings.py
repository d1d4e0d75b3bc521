"""Figure 1's peer: a minimal Django project sending webhooks the way Django projects do today,
with ``django-webhook`` (PyPI): a model's ``post_save`` queues one Celery task per subscribed
webhook, which writes a ``WebhookEvent`` row and makes the request with ``requests``.

Same PostgreSQL server (its own database), Redis database, Celery worker settings and sink as
figure 2; DEBUG off and persistent connections, as bench.settings."""

from __future__ import annotations

import environ

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_webhook",
    "bench.peers",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.peers.urls"
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

DJANGO_WEBHOOK = {"MODELS": ["peers.Event"]}

CELERY_BROKER_URL = env.str("REDIS_URL")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
