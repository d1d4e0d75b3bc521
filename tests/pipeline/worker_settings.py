"""Settings of the Celery worker the pipeline tests start: the test settings, with alert emails
written as files under ``PIPELINE_EMAIL_DIR`` so the test process can count them (the test
settings' in-memory outbox lives in the worker's process)."""

from __future__ import annotations

import os

from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["PIPELINE_EMAIL_DIR"]
