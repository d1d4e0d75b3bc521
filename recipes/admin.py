from __future__ import annotations

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from recipes import services
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
        test_link = ""
        if recipe.pk:
            url = reverse("admin:recipes_recipe_test_draft", args=[recipe.pk])
            test_link = format_html(
                '<p><a class="button" href="{}">Test the saved draft on its sample code</a></p>', url
            )
        return format_html(
            '<div style="display:flex;gap:1em">' + pane + pane + "</div>{}",
            recipe.recipe_draft,
            recipe.recipe_published or "(not published)",
            test_link,
        )

    def get_urls(self):
        test_draft = path(
            "<path:object_id>/test-draft/",
            self.admin_site.admin_view(self.test_draft_view),
            name="recipes_recipe_test_draft",
        )
        return [test_draft, *super().get_urls()]

    def test_draft_view(self, request, object_id: str) -> TemplateResponse:
        """Run the saved draft on the recipe's sample code, as ``PUT .../recipes/test`` does."""
        recipe = self.get_object(request, object_id)
        if recipe is None or not self.has_view_permission(request, recipe):
            raise Http404("No such recipe.")
        outcome = services.recipe_test(
            recipe=recipe.recipe_draft, type=recipe.type, sample_code=recipe.sample_code
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": recipe,
            "title": f"Test of the draft of {recipe}",
            "outcome": outcome,
            "body": outcome.message.body.decode("utf-8", "replace") if outcome.message else "",
        }
        return TemplateResponse(request, "admin/recipes/recipe/test_draft.html", context)
