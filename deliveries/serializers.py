from __future__ import annotations

import base64
import ipaddress
import re
from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from core.fields import CommaListField
from core.ids import ID_PATTERN
from deliveries.models import Attempt, Certificate, IncomingMessage, OutgoingMessage
from deliveries.selectors import MAX_PORT, certificate_for_url
from destinations.serializers import DestinationSerializer

MAX_RESEND_IDS = 1000
MAX_PEM_LENGTH = 64 * 1024
HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
UNIX_SECONDS = re.compile(r"^-?\d{1,12}(\.\d+)?$")


def _is_text(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@extend_schema_field(OpenApiTypes.STR)
class BodyField(serializers.Field):
    """Stored bytes: the text when they decode as UTF-8, else base64 (see BodyEncodingField)."""

    def to_representation(self, value) -> str:
        raw = bytes(value)
        return raw.decode("utf-8") if _is_text(raw) else base64.b64encode(raw).decode("ascii")


@extend_schema_field(
    {"type": "string", "description": 'Present, as "base64", when the body is not UTF-8 text.'}
)
class BodyEncodingField(serializers.Field):
    """``"base64"`` beside a body that is not UTF-8 text; absent otherwise."""

    def __init__(self, *, source: str):
        # Not required: drf-spectacular then documents the key as optional, as it is.
        super().__init__(source=source, required=False)

    def get_attribute(self, instance):
        if _is_text(bytes(super().get_attribute(instance))):
            raise SkipField
        return "base64"

    def to_representation(self, value) -> str:
        return value


class OutgoingMessageStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutgoingMessage
        fields = ["id", "status", "attempt_count", "last_status_code", "next_attempt_at", "completed_at"]
        read_only_fields = fields


class OutgoingMessageSerializer(serializers.ModelSerializer):
    incoming_message_id = serializers.CharField(source="incoming_id", read_only=True)
    destination_id = serializers.CharField(read_only=True)
    resent_from_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = OutgoingMessage
        fields = [
            "id",
            "incoming_message_id",
            "destination_id",
            "resent_from_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "error",
            "created",
            "completed_at",
        ]
        read_only_fields = fields


class AttemptSerializer(serializers.ModelSerializer):
    outgoing_message_id = serializers.CharField(source="outgoing_id", read_only=True)
    request_headers = serializers.JSONField(read_only=True)
    response_headers = serializers.JSONField(read_only=True)
    response_body = BodyField(read_only=True)
    response_body_encoding = BodyEncodingField(source="response_body")

    class Meta:
        model = Attempt
        fields = [
            "id",
            "outgoing_message_id",
            "number",
            "request_method",
            "request_url",
            "request_headers",
            "status_code",
            "response_headers",
            "response_body",
            "response_body_encoding",
            "succeeded",
            "error_kind",
            "error",
            "elapsed_ms",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class OutgoingMessageDetailSerializer(OutgoingMessageSerializer):
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(OutgoingMessageSerializer.Meta):
        fields = [*OutgoingMessageSerializer.Meta.fields, "attempts"]
        read_only_fields = fields


class IncomingMessageSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(read_only=True)
    bucket_id = serializers.CharField(read_only=True)
    input_id = serializers.CharField(read_only=True)
    headers = serializers.JSONField(read_only=True)
    body = BodyField(read_only=True)
    body_encoding = BodyEncodingField(source="body")
    # Empty unless the input is dynamic, so not documented as a URI.
    target_url = serializers.CharField(read_only=True)

    class Meta:
        model = IncomingMessage
        fields = [
            "id",
            "account_id",
            "bucket_id",
            "input_id",
            "status",
            "method",
            "path",
            "query_string",
            "headers",
            "body",
            "body_encoding",
            "content_type",
            "event_type",
            "source_ip",
            "target_url",
            "error",
            "created",
            "processed_at",
        ]
        read_only_fields = fields


class IncomingMessageWithOutgoingSerializer(IncomingMessageSerializer):
    # Not required, so the one documented answer also covers the plain form (without the flag).
    outgoing_messages = OutgoingMessageSerializer(many=True, required=False)

    class Meta(IncomingMessageSerializer.Meta):
        fields = [*IncomingMessageSerializer.Meta.fields, "outgoing_messages"]
        read_only_fields = fields


class ResendSerializer(serializers.Serializer):
    outgoing_message_ids = CommaListField(
        child=serializers.RegexField(ID_PATTERN, error_messages={"invalid": "Not an outgoing message id."}),
        allow_empty=False,
        max_length=MAX_RESEND_IDS,
        required=False,
    )
    # Incoming messages whose input recipe failed or skipped them: processed again.
    incoming_message_ids = CommaListField(
        child=serializers.RegexField(ID_PATTERN, error_messages={"invalid": "Not an incoming message id."}),
        allow_empty=False,
        max_length=MAX_RESEND_IDS,
        required=False,
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("outgoing_message_ids") and not attrs.get("incoming_message_ids"):
            raise serializers.ValidationError({"outgoing_message_ids": ["This field is required."]})
        return attrs


class ResendResultSerializer(serializers.Serializer):
    outgoing_messages = OutgoingMessageSerializer(many=True)
    incoming_messages = IncomingMessageSerializer(many=True, required=False)


@extend_schema_field({"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]})
class InstantField(serializers.DateTimeField):
    """An ISO 8601 date-time or Unix seconds."""

    def to_internal_value(self, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and UNIX_SECONDS.fullmatch(value.strip()):
            try:
                return datetime.fromtimestamp(float(value), tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise serializers.ValidationError("Unix seconds out of range.") from None
        return super().to_internal_value(value)


class BulkResendSerializer(serializers.Serializer):
    destination_id = serializers.RegexField(
        ID_PATTERN, required=False, error_messages={"invalid": "Not a destination id."}
    )
    status = serializers.ChoiceField(choices=OutgoingMessage.Status.choices, required=False)
    start_date = InstantField(required=False)
    end_date = InstantField(required=False)

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and start >= end:
            raise serializers.ValidationError({"end_date": ["Must be after start_date."]})
        return attrs


class BulkResendResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    outgoing_message_ids = serializers.ListField(child=serializers.CharField())


class RetrySerializer(serializers.Serializer):
    outgoing_message_id = serializers.RegexField(
        ID_PATTERN, error_messages={"invalid": "Not an outgoing message id."}
    )


class CertificateSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="certificate_id", read_only=True)

    class Meta:
        model = Certificate
        fields = ["id", "domain", "port", "fingerprint_sha256", "not_after", "created"]
        read_only_fields = fields


class CertificateDetailSerializer(CertificateSerializer):
    class Meta(CertificateSerializer.Meta):
        fields = [*CertificateSerializer.Meta.fields, "pem"]
        read_only_fields = fields


class CertificateImportSerializer(serializers.Serializer):
    domain = serializers.CharField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=MAX_PORT, default=443)
    pem = serializers.CharField(max_length=MAX_PEM_LENGTH, required=False, allow_blank=True, default="")

    def validate_domain(self, value: str) -> str:
        """A host name or IP address as deliveries see it in a URL: lower case, no brackets."""
        domain = value.strip().strip("[]").rstrip(".").lower()
        try:
            return str(ipaddress.ip_address(domain))
        except ValueError:
            pass
        if len(domain) > 253 or not HOSTNAME.fullmatch(domain):
            raise serializers.ValidationError("Not a host name or IP address.")
        return domain


class DestinationWithCertificateSerializer(DestinationSerializer):
    """A destination with the imported certificate its deliveries trust (``include_certificate_data``)."""

    certificate = serializers.SerializerMethodField()

    class Meta(DestinationSerializer.Meta):
        fields = [*DestinationSerializer.Meta.fields, "certificate"]

    @extend_schema_field(CertificateSerializer(allow_null=True))
    def get_certificate(self, destination) -> dict | None:
        certificate = certificate_for_url(account=self.context["account"], url=destination.endpoint_url)
        return CertificateSerializer(certificate).data if certificate else None
