from __future__ import annotations

from rest_framework import serializers

from recipes.models import Recipe

RECIPE_MAX_BYTES = 100 * 1024


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
        if len(value.encode()) > RECIPE_MAX_BYTES:
            raise serializers.ValidationError(f"A recipe is at most {RECIPE_MAX_BYTES // 1024} KiB.")
        return value
