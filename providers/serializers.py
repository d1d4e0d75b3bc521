from __future__ import annotations

from rest_framework import serializers

from core.events import event_matches
from core.fields import CommaListField, JSONDocumentField
from deliveries.serializers import BodyField, OutgoingMessageDetailSerializer, OutgoingMessageSerializer
from destinations.serializers import DestinationSerializer, DestinationWithSecretSerializer
from providers.embedded import SHOW_INTRODUCTION, TABS
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
    account_id = serializers.CharField(read_only=True)

    class Meta:
        model = ClientToken
        fields = ["expires_at", "bucket_key", "paths", "account_id"]


class ShowIntroductionField(serializers.ChoiceField):
    """``always``, ``never`` or ``no-destinations``; a boolean means always or never."""

    def __init__(self, **kwargs):
        super().__init__(choices=SHOW_INTRODUCTION, **kwargs)

    def to_internal_value(self, data):
        if str(data).lower() in ("true", "1"):
            return "always"
        if str(data).lower() in ("false", "0"):
            return "never"
        return super().to_internal_value(data)


class EmbeddedViewRequestSerializer(ClientTokenRequestSerializer):
    css_url = serializers.URLField(max_length=2048, required=False, allow_blank=True)
    default_tab = serializers.ChoiceField(choices=TABS, default="introduction")
    show_introduction = ShowIntroductionField(default="always")
    introduction_url = serializers.URLField(max_length=2048, required=False, allow_blank=True)
    element_id = serializers.RegexField(
        r"^[A-Za-z][A-Za-z0-9_-]*$",
        max_length=64,
        default="webhooks-embedded",
        error_messages={"invalid": "Letters, digits, '-' and '_', starting with a letter."},
    )
    api_url = serializers.URLField(
        max_length=2048, required=False, help_text="Where the platform is served; default: this server."
    )
    embedded_url = serializers.URLField(max_length=2048, required=False, help_text="The embed script.")

    OPTIONS = ("css_url", "default_tab", "show_introduction", "introduction_url")

    def token_fields(self) -> dict:
        """The client token's fields: its bucket, paths and the view's options."""
        data = self.validated_data
        fields = {
            "bucket_key": data["bucket_key"],
            "options": {name: data.get(name, "") for name in self.OPTIONS},
        }
        if "paths" in data:
            fields["paths"] = data["paths"]
        return fields


class EmbeddedViewSerializer(ClientTokenSerializer):
    html = serializers.CharField()
    token = serializers.CharField()

    class Meta(ClientTokenSerializer.Meta):
        fields = ["html", "token", *ClientTokenSerializer.Meta.fields]


class ConsumerDestinationQuerySerializer(serializers.Serializer):
    bucket_key = serializers.CharField(max_length=128, default="default")
    destination_key = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)


class SubscriptionCheckSerializer(serializers.Serializer):
    event_type = serializers.CharField(max_length=255, required=False, allow_blank=True)
    include_destination_detail = serializers.BooleanField(default=False)


class ConsumerSubscriptionCheckSerializer(SubscriptionCheckSerializer):
    """``check`` without the bucket key in the path takes it in the body."""

    bucket_key = serializers.CharField(max_length=128)


class SubscriptionSerializer(serializers.Serializer):
    subscribed = serializers.BooleanField()
    event_types = serializers.ListField(child=serializers.CharField())
    destinations = DestinationSerializer(many=True, required=False)


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


class EmbeddedContextSerializer(serializers.Serializer):
    """What the embedded view needs to draw itself."""

    account_id = serializers.CharField()
    consumer_name = serializers.CharField(allow_null=True)
    bucket_key = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    tabs = serializers.ListField(child=serializers.ChoiceField(choices=TABS))
    default_tab = serializers.ChoiceField(choices=TABS)
    css_url = serializers.CharField(allow_blank=True)
    introduction_html = serializers.CharField(allow_blank=True)


class DeliveryCountSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()


class EmbeddedStatsSerializer(serializers.Serializer):
    """Deliveries to the bucket's destinations by day (7) and by hour (24), oldest first."""

    days = DeliveryCountSerializer(many=True)
    hours = DeliveryCountSerializer(many=True)


class EmbeddedLogEntrySerializer(OutgoingMessageSerializer):
    event_type = serializers.CharField(source="incoming.event_type", read_only=True)
    destination_name = serializers.CharField(source="destination.name", read_only=True)

    class Meta(OutgoingMessageSerializer.Meta):
        fields = [*OutgoingMessageSerializer.Meta.fields, "event_type", "destination_name"]
        read_only_fields = fields


class EmbeddedLogDetailSerializer(OutgoingMessageDetailSerializer):
    event_type = serializers.CharField(source="incoming.event_type", read_only=True)
    destination_name = serializers.CharField(source="destination.name", read_only=True)
    body = BodyField(source="incoming.body", read_only=True)

    class Meta(OutgoingMessageDetailSerializer.Meta):
        fields = [*OutgoingMessageDetailSerializer.Meta.fields, "event_type", "destination_name", "body"]
        read_only_fields = fields
