from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account
from recipes.models import Recipe


def recipe_list(*, account: Account) -> QuerySet[Recipe]:
    return Recipe.objects.filter(account=account)
