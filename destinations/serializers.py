from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.utils import timezone
from rest_framework import serializers

from core.fields import CommaListField, JSONDocumentField
from destinations import http_client
from destinations.models import Destination
from destinations.selectors import destination_recipes
from inputs.authentication_options import DESTINATION_AUTHENTICATION, HEADER_NAME
from inputs.serializers import (
    AccountObjectField,
    AuthenticationOptionsMixin,
    EventFiltersField,
)

MAX_GRACE_PERIOD_SECONDS = 7 * 24 * 3600


def validate_endpoint_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise serializers.ValidationError("Enter a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise serializers.ValidationError("Enter an http or https URL with a host.")
    # A name is resolved, and its addresses checked, at every delivery (http_client's guard); a
    # literal address that deliveries may never reach is a mistake to say now.
    host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return value
    if not http_client.is_allowed(str(literal)):
        raise serializers.ValidationError(
            f"{parts.hostname} is a private, loopback or link-local address, which deliveries may not "
            "reach (the operator can allow networks with OUTBOUND_ALLOWED_NETWORKS)."
        )
    return value


class DestinationSerializer(AuthenticationOptionsMixin, serializers.ModelSerializer):
    """A destination, without its signing secret. Validation needs ``context={"account": account}``
    (recipes and the plan's rate limit are the account's)."""

    authentication_catalogue = DESTINATION_AUTHENTICATION

    account_id = serializers.CharField(read_only=True)
    input_id = serializers.CharField(read_only=True)
    key = serializers.SlugField(max_length=128, required=False, allow_blank=True)
    endpoint_url = serializers.CharField(max_length=2048, validators=[validate_endpoint_url])
    status = serializers.ChoiceField(choices=Destination.Status.choices, required=False)
    message_method = serializers.ChoiceField(
        choices=Destination.Method.choices, required=False, allow_null=True
    )
    event_filters = EventFiltersField(required=False)
    authentication_options = JSONDocumentField(required=False)
    retry_policy_id = serializers.ChoiceField(
        choices=Destination.RetryPolicy.choices, required=False, allow_null=True
    )
    retry_count = serializers.IntegerField(min_value=0, max_value=50, required=False, allow_null=True)
    retry_interval = serializers.IntegerField(min_value=1, max_value=86400, required=False, allow_null=True)
    # An explicit default, or a form body without the field would mean False.
    verify_ssl = serializers.BooleanField(default=True)
    headers_to_include = CommaListField(
        child=serializers.RegexField(
            HEADER_NAME, max_length=255, error_messages={"invalid": "Must be a valid HTTP header name."}
        ),
        required=False,
    )
    header_prefix = serializers.RegexField(
        r"^[A-Za-z0-9-]+$",
        max_length=64,
        required=False,
        error_messages={"invalid": "Only letters, digits and dashes."},
    )
    alert_on_failure = CommaListField(child=serializers.EmailField(), required=False)
    recipe_id = AccountObjectField(
        source="recipe",
        selector=destination_recipes,
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No destination recipe with id '{pk_value}' in this account."},
    )
    # Null (or omitted on create) means the plan maximum.
    rate_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    class Meta:
        model = Destination
        fields = [
            "id",
            "account_id",
            "input_id",
            "name",
            "key",
            "endpoint_url",
            "delivery_order",
            "status",
            "disabled_reason",
            "message_method",
            "event_filters",
            "authentication_type",
            "authentication_options",
            "retry_policy_id",
            "retry_count",
            "retry_interval",
            "verify_ssl",
            "headers_to_include",
            "header_prefix",
            "alert_on_failure",
            "recipe_id",
            "rate_limit",
            "signature_scheme",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "disabled_reason", "created", "updated"]

    def validate_status(self, value: str) -> str:
        if value == Destination.Status.DISABLED:
            raise serializers.ValidationError(
                "Only the platform disables a destination: set 'active' or 'inactive'."
            )
        return value

    def validate_rate_limit(self, value: int | None) -> int | None:
        maximum = self.context["account"].plan.max_rate_limit
        if value is not None and value > maximum:
            raise serializers.ValidationError(
                f"Your plan allows a rate_limit of at most {maximum} per second."
            )
        return value

    def validate(self, attrs: dict) -> dict:
        return self.validate_authentication(attrs)


class DestinationWithSecretSerializer(DestinationSerializer):
    """A destination with its signing secret: only the answer to its creation."""

    secret = serializers.CharField(read_only=True)

    class Meta(DestinationSerializer.Meta):
        fields = [*DestinationSerializer.Meta.fields, "secret"]


class DestinationSecretSerializer(serializers.Serializer):
    """The signing secret, and the previous one while its grace period lasts (else null)."""

    secret = serializers.CharField()
    previous_secret = serializers.CharField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, destination: Destination) -> dict:
        data = super().to_representation(destination)
        expires_at = destination.previous_secret_expires_at
        if not destination.previous_secret or expires_at is None or expires_at <= timezone.now():
            data.update(previous_secret=None, previous_secret_expires_at=None)
        return data


class SecretRotateSerializer(serializers.Serializer):
    grace_period = serializers.IntegerField(
        min_value=0,
        max_value=MAX_GRACE_PERIOD_SECONDS,
        default=24 * 3600,
        help_text="Seconds during which the previous secret stays valid.",
    )


class RetryPolicySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    retry_count = serializers.IntegerField()
    retry_interval = serializers.IntegerField()
    is_default = serializers.BooleanField()
