from __future__ import annotations

from rest_framework import serializers

from core.events import event_matches
from core.fields import CommaListField, JSONDocumentField
from destinations.serializers import DestinationSerializer, DestinationWithSecretSerializer
from providers.models import Application, ApplicationVersion, ClientToken, Consumer
from providers.selectors import event_types_of


class ApplicationSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(read_only=True)
    categories = CommaListField(child=serializers.CharField(max_length=64), required=False)
    # An explicit default: a form body without the field must not mean "false".
    active = serializers.BooleanField(default=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "account_id",
            "name",
            "categories",
            "overview",
            "description",
            "homepage_url",
            "api_url",
            "logo_url",
            "active",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]


class ApplicationVersionSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(read_only=True)
    application_id = serializers.CharField(read_only=True)
    release_date = serializers.DateField(input_formats=["%Y-%m-%d"], required=False, allow_null=True)
    version_json = JSONDocumentField(allowed=(dict, list), required=False)
    examples_json = JSONDocumentField(allowed=(dict, list), required=False)
    event_types = serializers.SerializerMethodField()
    active = serializers.BooleanField(default=True)

    class Meta:
        model = ApplicationVersion
        fields = [
            "id",
            "account_id",
            "application_id",
            "key",
            "release_date",
            "version_json",
            "examples_json",
            "event_types",
            "active",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]
        # Uniqueness of the key is the service's 409, not a 400 from the serializer.
        validators: list = []

    def get_event_types(self, version: ApplicationVersion) -> list[str]:
        return event_types_of(version.version_json)

    def validate_version_json(self, value: dict | list) -> dict | list:
        events = value.get("events", []) if isinstance(value, dict) else value
        if not isinstance(events, list) or any(
            not (isinstance(item, str) or (isinstance(item, dict) and isinstance(item.get("name"), str)))
            for item in events
        ):
            raise serializers.ValidationError(
                'Events must be a list of names or of objects with a "name": '
                '{"events": [{"name": "invoice.created"}]}.'
            )
        return value


class ConsumerSerializer(serializers.ModelSerializer):
    application_id = serializers.CharField(read_only=True)
    account_id = serializers.CharField(source="sub_account_id", read_only=True)
    bucket_key = serializers.SlugField(max_length=128, default="default", write_only=True)
    buckets = serializers.SerializerMethodField()

    class Meta:
        model = Consumer
        fields = [
            "id",
            "consumer_id",
            "name",
            "bucket_key",
            "application_id",
            "account_id",
            "buckets",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]
        validators: list = []

    def get_buckets(self, consumer: Consumer) -> list[str]:
        return [bucket.key for bucket in consumer.sub_account.buckets.all()]

    def validate_consumer_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.consumer_id:
            raise serializers.ValidationError("The consumer_id of a consumer cannot be changed.")
        return value


class ClientTokenRequestSerializer(serializers.Serializer):
    bucket_key = serializers.SlugField(max_length=128, default="default")
    paths = CommaListField(child=serializers.CharField(max_length=255), required=False)

    def validate_paths(self, value: list[str]) -> list[str]:
        paths = [item.strip("/") for item in value]
        if any(".." in item.split("/") for item in paths):
            raise serializers.ValidationError("Paths are relative to the consumer's account: no '..'.")
        return [item for item in paths if item] or ["*"]


class ClientTokenSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(source="consumer.sub_account_id", read_only=True)

    class Meta:
        model = ClientToken
        fields = ["expires_at", "bucket_key", "paths", "account_id"]


class ConsumerDestinationQuerySerializer(serializers.Serializer):
    bucket_key = serializers.CharField(max_length=128, default="default")
    destination_key = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)


class SubscriptionCheckSerializer(serializers.Serializer):
    event_type = serializers.CharField(max_length=255, required=False, allow_blank=True)
    include_destination_detail = serializers.BooleanField(default=False)


class ConsumerEventFiltersMixin:
    """Event filters must name event types of the application's active version, when it
    declares any (``context["event_types"]``)."""

    def validate_event_filters(self, value: list[str]) -> list[str]:
        known = self.context.get("event_types") or []
        unknown = [item for item in value if known and not any(event_matches(name, [item]) for name in known)]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown event types for this application: {', '.join(unknown)}. Known: {', '.join(known)}."
            )
        return value


class ConsumerDestinationSerializer(ConsumerEventFiltersMixin, DestinationSerializer):
    pass


class ConsumerDestinationCreateSerializer(ConsumerEventFiltersMixin, DestinationWithSecretSerializer):
    """The creation of a consumer destination: ``bucket_key`` picks the consumer's bucket."""

    bucket_key = serializers.SlugField(max_length=128, default="default", write_only=True)

    class Meta(DestinationWithSecretSerializer.Meta):
        fields = [*DestinationWithSecretSerializer.Meta.fields, "bucket_key"]
