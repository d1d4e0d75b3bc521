"""Reads. Every tenant-facing read goes through the principal's visible accounts."""

from __future__ import annotations

import functools
import logging
import zoneinfo

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from kombu import Connection

from accounts.models import Account, Plan, User, UserKey
from core.errors import NotFound, ValidationFailed
from core.ids import ID_PATTERN
from core.secrets import digest

logger = logging.getLogger(__name__)


def accounts_visible(*, principal) -> QuerySet[Account]:
    """The principal's account and all its descendants; never a parent or a sibling."""
    return Account.objects.filter(path__startswith=principal.account.path)


def _is_id(value: str) -> bool:
    """Whether ``value`` has the form of an id; anything else (a NUL byte, which PostgreSQL
    text cannot hold, a huge value) names nothing and is never sent to the database."""
    return ID_PATTERN.fullmatch(value) is not None


def account_get_visible(*, principal, account_id: str) -> Account:
    if not _is_id(account_id):
        raise NotFound("Account not found.")
    account = accounts_visible(principal=principal).select_related("plan").filter(pk=account_id).first()
    if account is None:
        raise NotFound("Account not found.")
    return account


def account_list(*, principal, account_key: str | None = None) -> QuerySet[Account]:
    accounts = accounts_visible(principal=principal)
    if account_key is not None:
        accounts = accounts.filter(account_key=account_key)
    return accounts


def sub_account_list(*, account: Account, account_key: str | None = None) -> QuerySet[Account]:
    """The direct children of ``account``."""
    children = Account.objects.filter(parent=account)
    if account_key is not None:
        children = children.filter(account_key=account_key)
    return children


def plan_list() -> QuerySet[Plan]:
    return Plan.objects.filter(public=True)


def plan_get(*, plan_id: str) -> Plan:
    plan = None if "\x00" in plan_id else plan_list().filter(pk=plan_id).first()
    if plan is None:
        raise NotFound("Plan not found.")
    return plan


def user_list(*, account: Account) -> QuerySet[User]:
    return User.objects.filter(account=account)


def user_get(*, account: Account, user_id: str) -> User:
    user = user_list(account=account).filter(pk=user_id).first() if _is_id(user_id) else None
    if user is None:
        raise NotFound("User not found.")
    return user


def user_key_get_valid(*, key: str, purpose: str) -> UserKey:
    """The unused, unexpired emailed key, or NotFound (unknown, used and expired look the same)."""
    user_key = (
        UserKey.objects.select_related("user")
        .filter(
            digest=digest(key),
            purpose=purpose,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )
    if user_key is None:
        raise NotFound("Unknown or expired key.")
    return user_key


def user_get_by_change_key(*, account_id: str, user_id: str, change_key: str) -> User:
    """The user of the URL, when the password change key is valid and was issued to them.

    For requests without a token: any mismatch is the same 400, so nothing about users leaks."""
    user = None
    if _is_id(account_id) and _is_id(user_id):
        user = User.objects.filter(
            pk=user_id,
            account_id=account_id,
            is_active=True,
            keys__digest=digest(change_key),
            keys__purpose=UserKey.Purpose.PASSWORD_CHANGE,
            keys__used_at__isnull=True,
            keys__expires_at__gt=timezone.now(),
        ).first()
    if user is None:
        raise ValidationFailed(
            "change_key: Unknown or expired key.", fields={"change_key": ["Unknown or expired key."]}
        )
    return user


@functools.cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def health_check() -> dict[str, str]:
    """The state of the database and the Celery broker: ``"ok"`` or ``"error"`` for each."""
    result = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("Health check: database unavailable")
        result["database"] = "error"
    transport_options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    try:
        with Connection(
            settings.CELERY_BROKER_URL, connect_timeout=2, transport_options=transport_options
        ) as broker:
            broker.ensure_connection(max_retries=0, timeout=2)
    except Exception:
        logger.exception("Health check: broker unavailable")
        result["broker"] = "error"
    return result
