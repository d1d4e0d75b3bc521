from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deliveries.serializers import BodyEncodingField, BodyField
from recipes.models import Recipe

RECIPE_MAX_BYTES = 100 * 1024
SAMPLE_MAX_BYTES = 1024 * 1024


def _recipe_size(value: str) -> str:
    if len(value.encode("utf-8", "replace")) > RECIPE_MAX_BYTES:
        raise serializers.ValidationError(f"A recipe is at most {RECIPE_MAX_BYTES // 1024} KiB.")
    return value


class RecipeSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(read_only=True)
    type = serializers.ChoiceField(choices=Recipe.Type.choices)
    # Code is kept byte for byte: no whitespace trimming.
    recipe_draft = serializers.CharField(trim_whitespace=False)
    sample_code = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False)

    class Meta:
        model = Recipe
        fields = [
            "id",
            "account_id",
            "name",
            "type",
            "notes",
            "sample_code",
            "recipe_draft",
            "recipe_published",
            "published_at",
            "run_on_each_attempt",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "recipe_published", "published_at", "created", "updated"]

    def validate_type(self, value: str) -> str:
        if self.instance is not None and value != self.instance.type:
            raise serializers.ValidationError("The type of a recipe cannot be changed.")
        return value

    def validate_recipe_draft(self, value: str) -> str:
        return _recipe_size(value)


class RecipeTestSerializer(serializers.Serializer):
    recipe = serializers.CharField(trim_whitespace=False)
    type = serializers.ChoiceField(choices=Recipe.Type.choices)
    # The sample message's body: text, or JSON given as an object or array.
    sample_code = serializers.JSONField(required=False, default="")
    event_type = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")

    def validate_recipe(self, value: str) -> str:
        return _recipe_size(value)

    def validate_sample_code(self, value: object) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text.encode("utf-8", "replace")) > SAMPLE_MAX_BYTES:
            raise serializers.ValidationError(f"A sample is at most {SAMPLE_MAX_BYTES // 1024} KiB.")
        return text


class RecipeTestMessageSerializer(serializers.Serializer):
    body = BodyField()
    body_encoding = BodyEncodingField(source="body")
    headers = serializers.DictField(child=serializers.CharField())
    url = serializers.CharField()
    method = serializers.CharField()
    event_type = serializers.CharField()
    content_type = serializers.CharField()


class RecipeTestErrorSerializer(serializers.Serializer):
    message = serializers.CharField(source="error")
    line = serializers.IntegerField(allow_null=True)
    column = serializers.IntegerField(allow_null=True)


class RecipeTestResultSerializer(serializers.Serializer):
    """What a test run produced: the message (``transformed``), nothing (``skipped``), or the
    error with its line and column in the recipe (``recipe_failed``); the console lines."""

    status = serializers.SerializerMethodField()
    message = RecipeTestMessageSerializer(allow_null=True)
    logs = serializers.ListField(child=serializers.CharField())
    error = serializers.SerializerMethodField()

    def get_status(self, outcome) -> str:
        if outcome.failed:
            return "recipe_failed"
        return "skipped" if outcome.message is None else "transformed"

    @extend_schema_field(RecipeTestErrorSerializer(allow_null=True))
    def get_error(self, outcome) -> dict | None:
        return RecipeTestErrorSerializer(outcome).data if outcome.failed else None
