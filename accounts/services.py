"""Writes for accounts, users and tokens."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, ApiToken, Plan, User
from core.errors import LimitExceeded
from core.secrets import digest, new_token


@transaction.atomic
def account_create(
    *, name: str, plan: Plan, parent: Account | None = None, account_key: str = "", **fields
) -> Account:
    """Create an account, or a sub-account under ``parent`` within the root plan's sub-account limit."""
    if parent is not None:
        root = Account.objects.select_related("plan").get(pk=parent.root_id)
        in_use = Account.objects.filter(path__startswith=root.path).exclude(pk=root.pk).count()
        if in_use >= root.plan.max_sub_accounts:
            raise LimitExceeded(
                f"The {root.plan.name} plan allows {root.plan.max_sub_accounts} sub-accounts."
            )
    account = Account(name=name, plan=plan, parent=parent, account_key=account_key, **fields)
    account.path = f"{parent.path if parent else ''}{account.id}/"
    account.save()
    return account


def api_token_issue(
    *, user: User, kind: str = ApiToken.Kind.API, name: str = "", scopes: list[str] | None = None
) -> str:
    """Issue a token for ``user`` and return it in plain text; only its digest is stored."""
    token = new_token("whs_" if kind == ApiToken.Kind.SESSION else "wha_")
    expires_at = None
    if kind == ApiToken.Kind.SESSION:
        from django.conf import settings

        expires_at = timezone.now() + timedelta(seconds=settings.SESSION_TOKEN_TTL_SECONDS)
    ApiToken.objects.create(
        user=user,
        kind=kind,
        name=name,
        digest=digest(token),
        hint=token[:8],
        scopes=scopes or [],
        expires_at=expires_at,
    )
    return token
