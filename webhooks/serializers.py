from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import CommaListField
from deliveries.serializers import AttemptSerializer
from destinations.models import Destination
from destinations.serializers import validate_endpoint_url
from inputs.authentication_options import HEADER_NAME
from inputs.serializers import QUERY_PARAMETER_NAME, EventFiltersField
from webhooks.models import TriggerWebhook, Webhook
from webhooks.triggers import header_mask

MAX_WEBHOOK_URL_LENGTH = 512  # seed 001
DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
TOP_LEVEL = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Headers the HTTP client owns: neither a registration nor a caller sets them.
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
RESPONSE_EXCERPT_CHARACTERS = 1024


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def validate_webhook_url(value: str) -> str:
    """Seed 001's rules: http(s)://, a host with at least a domain and a top-level part (or an IP
    address, which the SSRF guard judges), at most 512 characters."""
    if len(value) > MAX_WEBHOOK_URL_LENGTH:
        raise serializers.ValidationError(f"At most {MAX_WEBHOOK_URL_LENGTH} characters.")
    validate_endpoint_url(value)
    host = urlsplit(value).hostname or ""
    if _is_ip_address(host):
        return value
    labels = host.rstrip(".").split(".")
    if (
        len(labels) < 2
        or not all(DOMAIN_LABEL.match(label) for label in labels)
        or not TOP_LEVEL.match(labels[-1])
    ):
        raise serializers.ValidationError(
            "The host must have a domain and a top-level part, e.g. example.com."
        )
    return value


class HeadersField(serializers.DictField):
    """HTTP headers as a JSON object of names to string values."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=8192, allow_blank=True), **kwargs)

    def to_internal_value(self, data):
        headers = super().to_internal_value(data)
        for name, value in headers.items():
            if not HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
                raise serializers.ValidationError(f"'{name[:64]}' is not a header that may be set.")
            if any(char in value for char in "\r\n\x00"):
                raise serializers.ValidationError(f"The value of '{name[:64]}' has a line break or NUL.")
        return headers


# Simple webhooks


class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="destination.endpoint_url", read_only=True)
    events = serializers.ListField(
        child=serializers.CharField(), source="destination.event_filters", read_only=True
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "created"]
        read_only_fields = fields


class WebhookWithSecretSerializer(WebhookSerializer):
    """A webhook with its signing secret: only the answer to its creation."""

    secret = serializers.CharField(source="destination.secret", read_only=True)

    class Meta(WebhookSerializer.Meta):
        fields = ["id", "url", "secret", "events", "created"]
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    # Not required here: a missing URL answers ERROR_NO_URL (webhooks.services).
    url = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, validators=[validate_webhook_url]
    )
    events = EventFiltersField(required=False, help_text="Event types sent to the URL; empty: all.")


class WebhookTestResultSerializer(serializers.Serializer):
    """The test request's attempt."""

    attempt_id = serializers.CharField(source="id")
    outgoing_message_id = serializers.CharField(source="outgoing_id")
    succeeded = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    elapsed_ms = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.SerializerMethodField()
    error_kind = serializers.CharField()
    error = serializers.CharField()

    def get_response_excerpt(self, attempt) -> str:
        return bytes(attempt.response_body).decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARACTERS]


# Trigger webhooks


class TriggerWebhookInputSerializer(serializers.Serializer):
    """Seed 004's registration format."""

    id = serializers.SlugField(max_length=128, source="name")
    url = serializers.CharField(max_length=2048, validators=[validate_endpoint_url])
    method = serializers.ChoiceField(choices=Destination.Method.choices, required=False)
    headers = HeadersField(required=False, help_text="Sent on every call; a caller cannot set them.")
    queryParams = CommaListField(
        child=serializers.RegexField(QUERY_PARAMETER_NAME, max_length=255),
        source="query_params",
        required=False,
        help_text="The query parameters a call may set.",
    )
    payload_encoding = serializers.ChoiceField(
        choices=TriggerWebhook.PayloadEncoding.choices, required=False, allow_blank=True, allow_null=True
    )


class TriggerWebhookSerializer(serializers.ModelSerializer):
    """A registration as callers see it: the registered headers' values masked."""

    id = serializers.CharField(source="name", read_only=True)
    url = serializers.CharField(source="destination.endpoint_url", read_only=True)
    method = serializers.CharField(read_only=True)
    headers = serializers.SerializerMethodField()
    queryParams = serializers.ListField(child=serializers.CharField(), source="query_params", read_only=True)
    payload_encoding = serializers.SerializerMethodField()

    class Meta:
        model = TriggerWebhook
        fields = ["id", "url", "method", "headers", "queryParams", "payload_encoding", "created", "updated"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_headers(self, trigger: TriggerWebhook) -> dict[str, str]:
        return {name: header_mask(value) for name, value in trigger.headers.items()}

    def get_payload_encoding(self, trigger: TriggerWebhook) -> str | None:
        return trigger.payload_encoding or None


class TriggerCallSerializer(serializers.Serializer):
    data = serializers.JSONField(
        required=False, allow_null=True, help_text="The body: JSON, text, or base64 (payload_encoding)."
    )
    headers = HeadersField(required=False)
    query_params = serializers.DictField(
        child=serializers.CharField(max_length=2048, allow_blank=True), required=False
    )


class TriggerResultSerializer(serializers.Serializer):
    reference_id = serializers.CharField(help_text="Finds the call: .../trigger-invocations/<reference_id>.")
    status = serializers.IntegerField(
        allow_null=True, help_text="The endpoint's HTTP status; null without one."
    )
    data = serializers.JSONField(allow_null=True, help_text="The endpoint's body, parsed when JSON.")
    error = serializers.BooleanField(help_text="True when the endpoint failed or could not be reached.")


class TriggerInvocationSerializer(TriggerResultSerializer):
    trigger_webhook_id = serializers.CharField()
    incoming_message_id = serializers.CharField()
    created = serializers.DateTimeField()
    attempt = AttemptSerializer()
