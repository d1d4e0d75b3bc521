"""Reads for applications, versions and consumers. Every lookup goes through the owning account."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account
from core.errors import NotFound
from core.events import event_matches
from destinations.models import Destination
from destinations.selectors import destination_list
from inputs.models import Input
from providers.models import Application, ApplicationVersion, Consumer


def application_list(*, account: Account) -> QuerySet[Application]:
    return Application.objects.filter(account=account)


def application_get(*, account: Account, application_id: str) -> Application:
    application = application_list(account=account).filter(pk=application_id).first()
    if application is None:
        raise NotFound("Application not found.")
    return application


def application_version_list(*, application: Application) -> QuerySet[ApplicationVersion]:
    return ApplicationVersion.objects.filter(application=application, account=application.account_id)


def event_types_of(version_json: object) -> list[str]:
    """The event type names a version declares: ``{"events": [...]}`` or a plain list, whose
    items are names or objects with a ``name``."""
    events = version_json.get("events", []) if isinstance(version_json, dict) else version_json
    if not isinstance(events, list):
        return []
    names = [item.get("name") if isinstance(item, dict) else item for item in events]
    return list(dict.fromkeys(name for name in names if isinstance(name, str) and name))


def application_event_types(*, application: Application) -> list[str]:
    """The event types of the application's newest active version (empty when none declares any)."""
    version = (
        application_version_list(application=application)
        .filter(active=True)
        .order_by("-release_date", "-created")
        .first()
    )
    return event_types_of(version.version_json) if version else []


def consumer_list(*, application: Application) -> QuerySet[Consumer]:
    return (
        Consumer.objects.filter(application=application, account=application.account_id)
        .select_related("application", "sub_account")
        .prefetch_related("sub_account__buckets")
    )


def consumer_get(*, application: Application, consumer_id: str) -> Consumer:
    consumer = consumer_list(application=application).filter(consumer_id=consumer_id).first()
    if consumer is None:
        raise NotFound("Consumer not found.")
    return consumer


def consumer_destination_list(
    *, consumer: Consumer, bucket_key: str | None = None, destination_key: str = ""
) -> QuerySet[Destination]:
    """Destinations of the consumer's sub-account, optionally of one bucket and with one key."""
    destinations = destination_list(account=consumer.sub_account, key=destination_key)
    if bucket_key is not None:
        destinations = destinations.filter(input__bucket__key=bucket_key)
    return destinations


def consumer_subscription(
    *, consumer: Consumer, bucket_key: str, event_type: str | None = None
) -> tuple[list[str], list[Destination]]:
    """The event types the consumer's active destinations in ``bucket_key`` subscribe to, and
    those destinations; with ``event_type``, only the destinations that match it."""
    destinations = list(
        consumer_destination_list(consumer=consumer, bucket_key=bucket_key).filter(
            status=Destination.Status.ACTIVE, input__status=Input.Status.ACTIVE
        )
    )
    if event_type:
        matching = [d for d in destinations if event_matches(event_type, d.event_filters)]
        return ([event_type] if matching else []), matching
    declared = application_event_types(application=consumer.application)
    if declared:
        # Globs and "all events" are answered as the declared names they cover.
        types = [name for name in declared if any(event_matches(name, d.event_filters) for d in destinations)]
    else:
        types = sorted({item for d in destinations for item in (d.event_filters or ["*"])})
    return types, destinations
