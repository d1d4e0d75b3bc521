from __future__ import annotations

import json

from django.utils import timezone

from accounts.models import Account
from recipes import sandbox
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


def recipe_test(
    *, recipe: str, type: str, sample_code: str = "", event_type: str = ""
) -> sandbox.RecipeOutcome:
    """Run code (a draft) on a sample message whose body is ``sample_code`` (JSON when it
    parses as JSON, else text), in a context of its own. Nothing is stored."""
    try:
        json.loads(sample_code)
        content_type = "application/json"
    except (ValueError, RecursionError):
        content_type = "text/plain" if sample_code else ""
    message = sandbox.Message(
        body=sample_code.encode(),
        headers={"Content-Type": content_type} if content_type else {},
        method="POST",
        event_type=event_type,
        content_type=content_type,
    )
    return sandbox.run(source=recipe, type=type, message=message)
