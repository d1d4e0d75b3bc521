from __future__ import annotations

import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.ids import ID_PATTERN
from deliveries.models import IncomingMessage
from deliveries.serializers import InstantField, OutgoingMessageSerializer
from reporting.periods import parse_text_period
from reporting.selectors import PRECISIONS, STATUSES

HTTP_STATUS = re.compile(r"^([1-5])(?:xx|\d\d)$")


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}, {"type": "string"}],
        "description": "ISO 8601, Unix seconds, or a text period (UTC): now, today, yesterday, "
        "this hour|day|week|month|year, last 24 hours, 7 days ago.",
    }
)
class DateField(InstantField):
    """An instant as ISO 8601, Unix seconds or a text period (``reporting.periods``)."""

    default_error_messages = {
        "invalid": "Not a date: use ISO 8601, Unix seconds or a text period such as "
        "'today', 'last 24 hours' or '7 days ago'."
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and (instant := parse_text_period(value, now=timezone.now())):
            return instant
        return super().to_internal_value(value)


def _id_field(what: str) -> serializers.RegexField:
    return serializers.RegexField(ID_PATTERN, required=False, error_messages={"invalid": f"Not {what} id."})


class _RangeQuerySerializer(serializers.Serializer):
    """The dates and object filters every report takes."""

    start_date = DateField(required=False)
    end_date = DateField(required=False)
    bucket_id = _id_field("a bucket")
    input_id = _id_field("an input")
    destination_id = _id_field("a destination")

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and start >= end:
            raise serializers.ValidationError({"end_date": ["Must be after start_date."]})
        return attrs


class OverviewQuerySerializer(_RangeQuerySerializer):
    start_date = DateField()
    end_date = DateField()
    precision = serializers.ChoiceField(choices=PRECISIONS)
    application_id = _id_field("an application")
    include_sub_accounts = serializers.BooleanField(required=False, default=False)


class SummaryQuerySerializer(_RangeQuerySerializer):
    pass


class LogQuerySerializer(_RangeQuerySerializer):
    http_status = serializers.CharField(
        required=False, help_text="The last HTTP status of a delivery: 404, or a class such as 5xx."
    )
    status = serializers.ChoiceField(
        choices=STATUSES,
        required=False,
        help_text="Of the incoming message (received, processed, filtered, unauthenticated) or of "
        "one of its deliveries (pending, succeeded, failed); skipped and recipe_failed match either.",
    )

    def validate_http_status(self, value: str) -> tuple[int, int]:
        match = HTTP_STATUS.fullmatch(value.strip().lower())
        if match is None:
            raise serializers.ValidationError("Not an HTTP status: use a code (404) or a class (5xx).")
        if value.strip()[1:].isdigit():
            return int(value), int(value)
        return int(match[1]) * 100, int(match[1]) * 100 + 99


class TrafficSerializer(serializers.Serializer):
    incoming = serializers.IntegerField()
    outgoing = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    retried = serializers.IntegerField(help_text="Failed attempts followed by a retry.")
    attempts = serializers.IntegerField(help_text="Finished delivery attempts.")
    latency_p50_ms = serializers.FloatField(allow_null=True, help_text="Median attempt duration.")
    latency_p95_ms = serializers.FloatField(allow_null=True)


class TrafficPointSerializer(TrafficSerializer):
    date = serializers.DateTimeField(help_text="Start of the period (UTC).")


class OverviewSerializer(serializers.Serializer):
    start_date = serializers.DateTimeField(help_text="start_date floored to the precision.")
    end_date = serializers.DateTimeField(help_text="end_date rounded up to the precision.")
    precision = serializers.CharField()
    results = TrafficPointSerializer(many=True)


class SummarySerializer(TrafficSerializer):
    start_date = serializers.DateTimeField(allow_null=True, help_text="start_date floored to the hour.")
    end_date = serializers.DateTimeField(help_text="end_date rounded up to the hour.")


class LogEntrySerializer(serializers.ModelSerializer):
    """A request of the log: the incoming message without its body, with its deliveries."""

    account_id = serializers.CharField(read_only=True)
    bucket_id = serializers.CharField(read_only=True)
    input_id = serializers.CharField(read_only=True)
    outgoing_messages = OutgoingMessageSerializer(many=True, read_only=True)

    class Meta:
        model = IncomingMessage
        fields = [
            "id",
            "account_id",
            "bucket_id",
            "input_id",
            "status",
            "method",
            "event_type",
            "content_type",
            "source_ip",
            "error",
            "created",
            "processed_at",
            "outgoing_messages",
        ]
        read_only_fields = fields
