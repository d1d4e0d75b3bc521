from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.settings")

import bench.peers.celery_app  # noqa: F401 (the app fire_webhook.delay sends through)

application = get_wsgi_application()
