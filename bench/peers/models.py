from __future__ import annotations

from django.db import models


class Event(models.Model):
    """What the peer's ingest view stores; saving one fires its webhooks (django-webhook)."""

    body = models.JSONField()

    def __str__(self) -> str:
        return f"Event {self.pk}"
