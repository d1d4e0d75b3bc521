from __future__ import annotations

from django.core.validators import slug_re
from django.db.models import QuerySet

from accounts.models import Account
from buckets.selectors import bucket_list
from core.errors import NotFound
from core.events import event_matches
from inputs.models import Input
from recipes.models import Recipe


def input_list(
    *, account: Account, bucket_id: str | None = None, key: str = "", event_filter: str = ""
) -> QuerySet[Input]:
    """The account's inputs, optionally of one bucket (404 when it is not the account's), with
    a given ``key``, or letting ``event_filter`` through."""
    inputs = Input.objects.filter(account=account)
    if bucket_id is not None:
        if not bucket_list(account=account).filter(pk=bucket_id).exists():
            raise NotFound("Bucket not found.")
        inputs = inputs.filter(bucket_id=bucket_id)
    if key:
        # Keys are slugs: anything else (a NUL byte PostgreSQL cannot hold) matches nothing.
        inputs = inputs.filter(key=key) if slug_re.fullmatch(key) else inputs.none()
    if event_filter:
        # Matched in Python: globs cannot be matched by a portable JSON lookup, and an
        # account has few inputs.
        matching = [
            input_.pk
            for input_ in inputs.only("id", "event_filters")
            if event_matches(event_filter, input_.event_filters)
        ]
        inputs = inputs.filter(pk__in=matching)
    return inputs


def input_get(*, account: Account, input_id: str) -> Input:
    input_ = input_list(account=account).filter(pk=input_id).first()
    if input_ is None:
        raise NotFound("Input not found.")
    return input_


def input_recipes(*, account: Account) -> QuerySet[Recipe]:
    """The recipes an input of the account may use."""
    return Recipe.objects.filter(account=account, type=Recipe.Type.INPUT)
