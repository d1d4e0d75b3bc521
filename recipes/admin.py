from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from recipes.models import Recipe


@admin.register(Recipe)
class RecipeAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "type", "account", "published_at", "updated"]
    list_select_related = ["account"]
    search_fields = ["id", "name", "account__id", "account__name"]
    list_filter = ["type", "run_on_each_attempt", "published_at"]
    raw_id_fields = ["account"]
    readonly_fields = ["code_side_by_side", "published_at", "created", "updated"]
    fields = [
        "account",
        "name",
        "type",
        "notes",
        "run_on_each_attempt",
        "sample_code",
        "recipe_draft",
        "code_side_by_side",
        "published_at",
        "created",
        "updated",
    ]

    @admin.display(description="Draft | published")
    def code_side_by_side(self, recipe: Recipe) -> str:
        pane = '<pre style="flex:1;overflow:auto;font-family:monospace;white-space:pre-wrap">{}</pre>'
        return format_html(
            '<div style="display:flex;gap:1em">' + pane + pane + "</div>",
            recipe.recipe_draft,
            recipe.recipe_published or "(not published)",
        )
