from __future__ import annotations

from django.utils import timezone

from accounts.models import Account
from recipes.models import Recipe


def recipe_create(*, account: Account, **fields) -> Recipe:
    return Recipe.objects.create(account=account, **fields)


def recipe_update(*, recipe: Recipe, **fields) -> Recipe:
    for name, value in fields.items():
        setattr(recipe, name, value)
    recipe.save()
    return recipe


def recipe_publish(*, recipe: Recipe) -> Recipe:
    """Make the draft the code the pipeline runs; the draft is kept for further editing."""
    recipe.recipe_published = recipe.recipe_draft
    recipe.published_at = timezone.now()
    recipe.save(update_fields=["recipe_published", "published_at", "updated"])
    return recipe


def recipe_delete(*, recipe: Recipe) -> None:
    recipe.delete()
