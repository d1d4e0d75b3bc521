"""Reads for applications, versions and consumers. Every lookup goes through the owning account."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import accounts_visible
from buckets.models import Bucket
from core.errors import NotFound
from core.events import event_matches
from deliveries.models import OutgoingMessage
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


def application_get_visible(*, principal, application_id: str) -> Application:
    """An application of any account the principal can see."""
    application = Application.objects.filter(
        pk=application_id, account__in=accounts_visible(principal=principal)
    ).first()
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


def consumer_input_get(*, consumer: Consumer, bucket_key: str) -> Input:
    """The consumer's active input for its application in bucket ``bucket_key``: where what the
    provider sends to that bucket arrives."""
    input = (
        Input.objects.select_related("account__plan")
        .filter(
            account=consumer.sub_account_id,
            bucket__key=bucket_key,
            key=consumer.application_id,
            status=Input.Status.ACTIVE,
            account__status=Account.Status.ACTIVE,
        )
        .first()
    )
    if input is None:
        raise NotFound(f"The consumer has no bucket '{bucket_key}'.")
    return input


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


def bucket_destinations(*, bucket: Bucket) -> QuerySet[Destination]:
    """The destinations of a bucket's inputs (what an embedded view manages)."""
    return Destination.objects.filter(account=bucket.account_id, input__bucket=bucket).select_related("input")


def bucket_destination_get(*, bucket: Bucket, destination_id: str) -> Destination:
    destination = bucket_destinations(bucket=bucket).filter(pk=destination_id).first()
    if destination is None:
        raise NotFound("Destination not found.")
    return destination


def bucket_deliveries(*, bucket: Bucket) -> QuerySet[OutgoingMessage]:
    """The outgoing messages to a bucket's destinations, newest first."""
    return (
        OutgoingMessage.objects.filter(account=bucket.account_id, destination__input__bucket=bucket)
        .select_related("incoming", "destination")
        .order_by("-created", "-id")
    )


def bucket_delivery_get(*, bucket: Bucket, outgoing_message_id: str) -> OutgoingMessage:
    outgoing = bucket_deliveries(bucket=bucket).filter(pk=outgoing_message_id).first()
    if outgoing is None:
        raise NotFound("Outgoing message not found.")
    return outgoing


STATUSES_COUNTED = ("succeeded", "failed", "pending")


def _delivery_series(*, bucket: Bucket, step: timedelta, periods: int, now: datetime) -> list[dict]:
    trunc = TruncHour if step == timedelta(hours=1) else TruncDay
    last = now.replace(minute=0, second=0, microsecond=0)
    if trunc is TruncDay:
        last = last.replace(hour=0)
    starts = [last - step * index for index in reversed(range(periods))]
    series = {start: {"start": start, "succeeded": 0, "failed": 0, "pending": 0} for start in starts}
    rows = (
        bucket_deliveries(bucket=bucket)
        .filter(created__gte=starts[0])
        .annotate(period=trunc("created"))
        .values("period", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in rows:
        counts = series.get(row["period"])
        # Messages a recipe skipped or failed were neither delivered nor failed: not counted.
        if counts is not None and row["status"] in STATUSES_COUNTED:
            counts[row["status"]] += row["count"]
    return list(series.values())


def bucket_delivery_counts(*, bucket: Bucket, now: datetime | None = None) -> dict[str, list[dict]]:
    """Deliveries to the bucket's destinations by status: the last 7 days by day and the last 24
    hours by hour (UTC), oldest first, periods without any included."""
    now = now or timezone.now()
    return {
        "days": _delivery_series(bucket=bucket, step=timedelta(days=1), periods=7, now=now),
        "hours": _delivery_series(bucket=bucket, step=timedelta(hours=1), periods=24, now=now),
    }
