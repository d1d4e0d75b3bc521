from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import schema  # noqa: F401  (registers the OpenAPI authentication extensions)
        from core.db import tune_session

        connection_created.connect(tune_session)
