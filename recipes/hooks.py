"""The pipeline's one entry point into recipes.

The pipeline calls ``run_recipe`` for input recipes (once per incoming message) and destination
recipes (per outgoing message, or per attempt with ``run_on_each_attempt``). Only the published
code runs; the sandbox (``recipes.sandbox``) keeps a warm context per published version."""

from __future__ import annotations

from recipes.models import Recipe
from recipes.sandbox import Message, RecipeOutcome, run, version_key

__all__ = ["Message", "RecipeOutcome", "run_recipe"]


def run_recipe(*, recipe: Recipe, message: Message) -> RecipeOutcome:
    """Run the published code of ``recipe`` on ``message``. Never raises for anything the
    recipe does: a failure (error, time or memory limit) is an outcome with ``error`` set."""
    source = recipe.recipe_published
    key = version_key(account_id=recipe.account_id, recipe_id=recipe.pk, source=source)
    return run(source=source, type=recipe.type, message=message, cache_key=key)
