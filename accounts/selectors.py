"""Reads. Every tenant-facing read goes through the principal's visible accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account, Plan, User
from core.errors import NotFound


def accounts_visible(*, principal) -> QuerySet[Account]:
    """The principal's account and all its descendants; never a parent or a sibling."""
    return Account.objects.filter(path__startswith=principal.account.path)


def account_get_visible(*, principal, account_id: str) -> Account:
    account = accounts_visible(principal=principal).select_related("plan").filter(pk=account_id).first()
    if account is None:
        raise NotFound("Account not found.")
    return account


def plan_list() -> QuerySet[Plan]:
    return Plan.objects.filter(public=True)


def user_list(*, account: Account) -> QuerySet[User]:
    return User.objects.filter(account=account)
