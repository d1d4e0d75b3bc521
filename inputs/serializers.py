from __future__ import annotations

import re

from django.urls import resolve
from django.utils.text import slugify
from rest_framework import serializers

from buckets.selectors import bucket_list
from core.fields import CommaListField, JSONDocumentField
from core.ids import ID_PATTERN
from inputs.authentication_options import (
    HEADER_NAME,
    INPUT_AUTHENTICATION,
    AuthenticationType,
    validate_authentication_options,
)
from inputs.models import Input
from inputs.selectors import input_recipes

EVENT_FILTER = re.compile(r"^(\*|[\w:/-]+(\.[\w:/-]+)*(\.\*)?)$")
QUERY_PARAMETER_NAME = re.compile(r"^[^\s&=#?]+$")


class AccountObjectField(serializers.PrimaryKeyRelatedField):
    """An id of an object of the serializer context's ``account``, found through ``selector``;
    any other id is a field error."""

    def __init__(self, *, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.selector(account=self.context["account"])

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        # Anything but an id (a NUL byte PostgreSQL cannot hold, a huge value) names nothing.
        if not ID_PATTERN.fullmatch(data):
            self.fail("does_not_exist", pk_value=data[:64])
        return super().to_internal_value(data)


class EventFiltersField(CommaListField):
    """Event names, ``prefix.*`` globs or ``*``, as a comma string or a JSON array."""

    def __init__(self, **kwargs):
        child = serializers.RegexField(
            EVENT_FILTER,
            max_length=255,
            error_messages={"invalid": "Must be an event name, a 'prefix.*' glob or '*'."},
        )
        super().__init__(child=child, **kwargs)


class AuthenticationOptionsMixin:
    """Validates ``authentication_options`` against the catalogue entry of the (new or
    current) ``authentication_type``, filling in defaults."""

    authentication_catalogue: dict[str, AuthenticationType]

    def validate_authentication(self, attrs: dict) -> dict:
        instance = self.instance
        type_given = "authentication_type" in attrs
        if instance is not None and not type_given and "authentication_options" not in attrs:
            return attrs
        type_name = attrs.get("authentication_type", getattr(instance, "authentication_type", "none"))
        if "authentication_options" in attrs:
            options = attrs["authentication_options"]
        elif instance is not None and type_name == instance.authentication_type:
            options = instance.authentication_options
        else:
            options = {}  # a new type starts from its own defaults
        try:
            attrs["authentication_options"] = validate_authentication_options(
                self.authentication_catalogue[type_name], options
            )
        except ValueError as exc:
            raise serializers.ValidationError({"authentication_options": exc.args[0]}) from None
        return attrs


class InputSerializer(AuthenticationOptionsMixin, serializers.ModelSerializer):
    """An input. Validation needs ``context={"account": account}``; ``url`` is absolute when
    the context has the request."""

    authentication_catalogue = INPUT_AUTHENTICATION

    account_id = serializers.CharField(read_only=True)
    bucket_id = AccountObjectField(
        source="bucket",
        selector=bucket_list,
        error_messages={"does_not_exist": "No bucket with id '{pk_value}' in this account."},
    )
    key = serializers.SlugField(max_length=128, required=False, allow_blank=True)
    event_filters = EventFiltersField(required=False)
    response_code = serializers.IntegerField(min_value=100, max_value=599, required=False)
    authentication_options = JSONDocumentField(required=False)
    recipe_id = AccountObjectField(
        source="recipe",
        selector=input_recipes,
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No input recipe with id '{pk_value}' in this account."},
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Input
        fields = [
            "id",
            "account_id",
            "bucket_id",
            "name",
            "key",
            "status",
            "type",
            "event_location",
            "event_path",
            "event_filters",
            "delivery_mode",
            "response_code",
            "response_content",
            "response_content_type",
            "authentication_type",
            "authentication_options",
            "authentication_failures",
            "recipe_id",
            "url",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]

    def get_url(self, input_: Input) -> str:
        """The gateway URL senders post to."""
        if input_.type == Input.Type.DYNAMIC:
            path = f"/{input_.id}/"
        else:
            path = f"/v1/{slugify(input_.name) or 'input'}/{input_.id}"
            # A name like "Accounts" would make an API route match first: fall back to a safe one.
            if resolve(path).url_name != "gateway":
                path = f"/v1/input/{input_.id}"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def validate(self, attrs: dict) -> dict:
        instance = self.instance
        if instance is not None and attrs.get("type", instance.type) != instance.type:
            raise serializers.ValidationError({"type": ["The type of an input cannot be changed."]})
        if "event_location" in attrs or "event_path" in attrs:
            self._validate_event_path(
                attrs.get("event_location", getattr(instance, "event_location", Input.EventLocation.PAYLOAD)),
                attrs.get("event_path", getattr(instance, "event_path", "")),
            )
        return self.validate_authentication(attrs)

    @staticmethod
    def _validate_event_path(location: str, path: str) -> None:
        if not path:
            return
        if location == Input.EventLocation.PAYLOAD:
            segments = path.split(".")
            valid = segments[0] == "msg" and all(segments)
            message = "A payload event path starts with 'msg' (e.g. msg.event)."
        elif location == Input.EventLocation.HEADER:
            valid = bool(HEADER_NAME.match(path))
            message = "Must be a valid HTTP header name."
        else:
            valid = bool(QUERY_PARAMETER_NAME.match(path))
            message = "Must be a query parameter name."
        if not valid:
            raise serializers.ValidationError({"event_path": [message]})
