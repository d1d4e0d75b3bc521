"""Reads of the reports (from the traffic rollups) and of the request log (from the messages).
Every read is scoped to the account(s) given by the caller, so a foreign id finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from accounts.models import Account
from core.errors import ValidationFailed
from deliveries.models import IncomingMessage, OutgoingMessage
from destinations.models import Destination
from providers.models import Consumer
from providers.selectors import application_get
from reporting.models import COUNTS, LATENCY_BOUNDS_MS, LATENCY_COLUMNS, Traffic
from reporting.periods import ago, start_of

PRECISIONS = ("minute", "hour", "day", "month")
MAX_POINTS = 2000
STATUSES = tuple(dict.fromkeys([*IncomingMessage.Status.values, *OutgoingMessage.Status.values]))


def report_accounts(
    *, account: Account, include_sub_accounts: bool = False, application_id: str | None = None
) -> QuerySet:
    """The ids of the accounts a report covers: the account, with its sub-accounts when asked,
    or the sub-accounts of one application's consumers (404 for another tenant's application)."""
    if application_id:
        application = application_get(account=account, application_id=application_id)
        return Consumer.objects.filter(application=application).values("sub_account_id")
    if include_sub_accounts:
        return Account.objects.filter(path__startswith=account.path).values("pk")
    return Account.objects.filter(pk=account.pk).values("pk")


def _ceil(at: datetime, unit: str) -> datetime:
    floor = start_of(at, unit)
    return floor if floor == at else ago(floor, -1, unit)


def percentile(histogram: list[int], fraction: float) -> float | None:
    """The value below which ``fraction`` of the histogram's attempts fall, interpolated linearly
    inside its bucket (the overflow bucket answers its lower bound)."""
    total = sum(histogram)
    if total <= 0:
        return None
    rank, below = fraction * total, 0
    for index, count in enumerate(histogram):
        if count > 0 and below + count >= rank:
            lower = LATENCY_BOUNDS_MS[index - 1] if index else 0
            if index == len(LATENCY_BOUNDS_MS):
                return float(lower)
            return round(lower + (LATENCY_BOUNDS_MS[index] - lower) * (rank - below) / count, 1)
        below += max(count, 0)
    return float(LATENCY_BOUNDS_MS[-1])


def _traffic(sums: dict) -> dict:
    histogram = [sums.get(column) or 0 for column in LATENCY_COLUMNS]
    return {
        **{name: sums.get(name) or 0 for name in ("incoming", "outgoing", "succeeded", "failed", "retried")},
        "attempts": sum(histogram),
        "latency_p50_ms": percentile(histogram, 0.50),
        "latency_p95_ms": percentile(histogram, 0.95),
    }


def _rows(
    *,
    accounts: QuerySet,
    grain: str,
    start: datetime | None,
    end: datetime,
    bucket_id: str | None = None,
    input_id: str | None = None,
    destination_id: str | None = None,
) -> QuerySet[Traffic]:
    """Rollup rows of one grain in [start, end). A destination's traffic is what went out to it
    and the incoming messages of the input that feeds it."""
    rows = Traffic.objects.filter(account_id__in=accounts, precision=grain, period__lt=end)
    if start is not None:
        rows = rows.filter(period__gte=start)
    if bucket_id:
        rows = rows.filter(bucket_id=bucket_id)
    if input_id:
        rows = rows.filter(input_id=input_id)
    if destination_id:
        input_of = Destination.objects.filter(pk=destination_id, account_id__in=accounts).values("input_id")
        rows = rows.filter(Q(destination_id=destination_id) | Q(destination_id="", input_id__in=input_of))
    return rows


def _period_starts(start: datetime, end: datetime, precision: str) -> list[datetime]:
    starts, at = [], start
    while at < end:
        if len(starts) == MAX_POINTS:
            raise ValidationFailed(
                f"More than {MAX_POINTS} points: choose a coarser precision or a shorter range.",
                fields={"precision": [f"At most {MAX_POINTS} points."]},
            )
        starts.append(at)
        at = ago(at, -1, precision)
    return starts


def traffic_overview(
    *, accounts: QuerySet, start: datetime, end: datetime, precision: str, **filters: str | None
) -> dict:
    """The traffic of every period (minute, hour, day or month, UTC) from ``start`` floored to
    ``end`` rounded up, periods without traffic included. Minutes come from the minute rollups
    (kept a few days), every other precision from the hour rollups (kept for good)."""
    start, end = start_of(start, precision), _ceil(end, precision)
    starts = _period_starts(start, end, precision)
    grain = "minute" if precision == "minute" else "hour"
    rows = _rows(accounts=accounts, grain=grain, start=start, end=end, **filters)
    at = F("period") if precision == grain else Trunc("period", precision, tzinfo=UTC)
    sums = {
        point.pop("at"): point
        for point in rows.annotate(at=at).values("at").annotate(**{c: Sum(c) for c in COUNTS}).order_by()
    }
    results = [{"date": period, **_traffic(sums.get(period, {}))} for period in starts]
    return {"start_date": start, "end_date": end, "precision": precision, "results": results}


def traffic_summary(*, accounts: QuerySet, start: datetime | None, end: datetime | None, **filters) -> dict:
    """The totals over [start, end) rounded out to whole hours (all history without ``start``)."""
    start = start_of(start, "hour") if start else None
    end = _ceil(end or timezone.now(), "hour")
    rows = _rows(accounts=accounts, grain="hour", start=start, end=end, **filters)
    sums = rows.aggregate(**{c: Sum(c) for c in COUNTS})
    return {"start_date": start, "end_date": end, **_traffic(sums)}


def request_log(
    *,
    account: Account,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    input_id: str | None = None,
    bucket_id: str | None = None,
    destination_id: str | None = None,
    http_status: tuple[int, int] | None = None,
    status: str | None = None,
) -> QuerySet[IncomingMessage]:
    """The account's incoming messages with their outgoing messages. Delivery filters
    (destination, HTTP status, a delivery status) select the messages with one delivery matching
    all of them; an incoming status selects by the message's own."""
    log = IncomingMessage.objects.filter(account=account)
    if start_date:
        log = log.filter(created__gte=start_date)
    if end_date:
        log = log.filter(created__lt=end_date)
    if input_id:
        log = log.filter(input_id=input_id)
    if bucket_id:
        log = log.filter(bucket_id=bucket_id)
    delivery = Q()
    if destination_id:
        delivery &= Q(destination_id=destination_id)
    if http_status:
        delivery &= Q(last_status_code__gte=http_status[0], last_status_code__lte=http_status[1])
    deliveries = OutgoingMessage.objects.filter(incoming=OuterRef("pk"))
    if status in OutgoingMessage.Status.values:
        matching = Exists(deliveries.filter(delivery, status=status))
        # skipped and recipe_failed are also incoming statuses (an input recipe's doing).
        either = status in IncomingMessage.Status.values and not delivery
        log = log.filter(matching | Q(status=status) if either else matching)
    else:
        if status:
            log = log.filter(status=status)
        if delivery:
            log = log.filter(Exists(deliveries.filter(delivery)))
    outgoing = OutgoingMessage.objects.defer("transformed").order_by("created", "pk")
    return log.defer("body", "headers", "query_string").prefetch_related(
        Prefetch("outgoing_messages", queryset=outgoing)
    )
