from __future__ import annotations

from django.core.validators import slug_re
from django.db.models import QuerySet

from accounts.models import Account
from core.errors import NotFound
from destinations.models import Destination
from inputs.models import Input
from recipes.models import Recipe


def destination_list(*, account: Account, input: Input | None = None, key: str = "") -> QuerySet[Destination]:
    """The account's destinations, optionally of one input and with one ``key``."""
    destinations = Destination.objects.filter(account=account)
    if input is not None:
        destinations = destinations.filter(input=input)
    if key:
        # Keys are slugs: anything else (a NUL byte PostgreSQL cannot hold) matches nothing.
        destinations = destinations.filter(key=key) if slug_re.fullmatch(key) else destinations.none()
    return destinations


def destination_get(*, account: Account, destination_id: str) -> Destination:
    destination = destination_list(account=account).filter(pk=destination_id).first()
    if destination is None:
        raise NotFound("Destination not found.")
    return destination


def destination_recipes(*, account: Account) -> QuerySet[Recipe]:
    """The recipes a destination of the account may use."""
    return Recipe.objects.filter(account=account, type=Recipe.Type.DESTINATION)
