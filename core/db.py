"""Database helpers shared by the services."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from core.errors import Conflict


def save_unique(instance: models.Model, *, field: str, message: str) -> models.Model:
    """Save ``instance``; a unique constraint violated on ``field`` answers 409 with ``message``.

    The savepoint keeps an enclosing transaction usable (and lets it roll back as a whole)."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(message, fields={field: ["Already in use."]}) from exc
    return instance
