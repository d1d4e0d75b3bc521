"""Event-type matching shared by input filters, consumer destinations and the pipeline."""

from __future__ import annotations

from collections.abc import Iterable


def event_matches(event_type: str | None, filters: Iterable[str]) -> bool:
    """Whether ``event_type`` passes ``filters``: exact names or ``prefix.*`` globs.

    No filters (or a ``*``) means every event, including messages without an event type."""
    filters = [item for item in filters if item]
    if not filters or "*" in filters:
        return True
    if not event_type:
        return False
    for item in filters:
        if item == event_type:
            return True
        if item.endswith(".*") and event_type.startswith(item[:-1]):
            return True
    return False
