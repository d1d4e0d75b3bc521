"""Writes for accounts, users, tokens and the emailed keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import emails
from accounts.models import Account, ApiToken, Plan, User, UserKey
from core.errors import AuthenticationFailed, Conflict, Forbidden, LimitExceeded, ValidationFailed
from core.permissions import has_level
from core.secrets import digest, new_hex_key, new_token

EMAIL_VERIFICATION_KEY_TTL = timedelta(days=7)
_KEY_PREFIXES = {UserKey.Purpose.PASSWORD_CHANGE: "CK", UserKey.Purpose.EMAIL_VERIFICATION: "EV"}


# Accounts


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


def sub_account_create(*, parent: Account, name: str, account_key: str = "") -> Account:
    """A sub-account shares its parent's plan; the root's plan limits how many exist."""
    return account_create(name=name, plan=parent.plan, parent=parent, account_key=account_key)


def account_update(*, account: Account, **fields) -> Account:
    for name, value in fields.items():
        setattr(account, name, value)
    account.save()
    return account


def account_delete(*, account: Account) -> None:
    """Delete an account with its sub-accounts, users and everything they own."""
    account.delete()


def account_register(
    *,
    first_name: str,
    last_name: str,
    email_address: str,
    password: str,
    plan: Plan,
    name: str = "",
    referrer: str = "",
    email_verification_callback_url: str = "",
) -> tuple[Account, User, str]:
    """Create an account with its owner and an API token, then email the owner a verification link.

    Returns the account, the owner and the plain API token (shown once)."""
    with transaction.atomic():
        account = account_create(name=name or f"{first_name} {last_name}", plan=plan, referrer=referrer)
        user = _user_save(
            User(
                account=account,
                first_name=first_name,
                last_name=last_name,
                email_address=email_address,
                permission_level=User.PermissionLevel.OWNER,
            ),
            password=password,
        )
        token = api_token_issue(user=user)
        key = user_key_issue(
            user=user,
            purpose=UserKey.Purpose.EMAIL_VERIFICATION,
            callback_url=email_verification_callback_url,
        )
    emails.send_verification_email(user=user, key=key)
    return account, user, token


# Users


def _check_password(password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(f"{field}: {exc.messages[0]}", fields={field: exc.messages}) from exc


def _user_save(user: User, *, password: str | None = None) -> User:
    """Save ``user`` (setting ``password`` when given); a taken email address is a 409."""
    if password is not None:
        _check_password(password, user, "password")
        user.set_password(password)
    taken = User.objects.filter(email_address__iexact=user.email_address).exclude(pk=user.pk)
    conflict = Conflict(
        "This email address is already registered.", fields={"email_address": ["Already registered."]}
    )
    if taken.exists():
        raise conflict
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise conflict from exc
    return user


def _check_may_grant(*, principal, permission_level: str) -> None:
    if permission_level == User.PermissionLevel.OWNER and not has_level(principal, "owner"):
        raise Forbidden("Only an owner may make a user an owner.")


def _check_keeps_an_owner(user: User) -> None:
    """An account always keeps at least one owner."""
    owners = (
        User.objects.select_for_update()
        .filter(account_id=user.account_id, permission_level=User.PermissionLevel.OWNER, is_active=True)
        .values_list("pk", flat=True)
    )
    if list(owners) == [user.pk]:
        raise Conflict("An account must keep at least one owner.")


def user_create(
    *,
    principal,
    account: Account,
    first_name: str,
    last_name: str,
    email_address: str,
    password: str,
    permission_level: str = User.PermissionLevel.DEVELOPER,
    timezone: str = "Etc/GMT",
    notify: bool = False,
) -> User:
    """Add a user to ``account``; with ``notify`` the user gets a welcome email."""
    _check_may_grant(principal=principal, permission_level=permission_level)
    user = _user_save(
        User(
            account=account,
            first_name=first_name,
            last_name=last_name,
            email_address=email_address,
            permission_level=permission_level,
            timezone=timezone,
        ),
        password=password,
    )
    if notify:
        emails.send_welcome_email(user=user)
    return user


@transaction.atomic
def user_update(*, principal, user: User, password: str | None = None, **fields) -> User:
    """Update a user. Only an owner may change an owner or make one; the last owner stays one."""
    if user.permission_level == User.PermissionLevel.OWNER and not has_level(principal, "owner"):
        raise Forbidden("Only an owner may change an owner.")
    new_level = fields.get("permission_level", user.permission_level)
    _check_may_grant(principal=principal, permission_level=new_level)
    if user.permission_level == User.PermissionLevel.OWNER and new_level != User.PermissionLevel.OWNER:
        _check_keeps_an_owner(user)
    if fields.get("email_address", user.email_address) != user.email_address:
        user.email_verified = False
    for name, value in fields.items():
        setattr(user, name, value)
    return _user_save(user, password=password)


@transaction.atomic
def user_delete(*, principal, user: User) -> None:
    if user.permission_level == User.PermissionLevel.OWNER:
        if not has_level(principal, "owner"):
            raise Forbidden("Only an owner may delete an owner.")
        _check_keeps_an_owner(user)
    user.delete()


def user_authenticate(*, email_address: str, password: str) -> tuple[User, str, datetime]:
    """Log in: a session token for the user, with its expiry. Unknown email and wrong password
    fail alike (Django's backend also spends the hashing time for an unknown email)."""
    user = authenticate(username=email_address.lower(), password=password)
    if user is None or user.account_id is None:
        raise AuthenticationFailed("Invalid email address or password.")
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    token = api_token_issue(user=user, kind=ApiToken.Kind.SESSION)
    return user, token, ApiToken.objects.get(digest=digest(token)).expires_at


@transaction.atomic
def password_change(
    *,
    user: User,
    new_password: str,
    principal=None,
    existing_password: str = "",
    change_key: str = "",
) -> User:
    """Change ``user``'s password, proven by a change key or, for the user themselves, the
    existing password. The key is consumed, and the user's session tokens are revoked."""
    if not change_key and not existing_password:
        raise ValidationFailed(
            "Either existing_password or change_key is required.",
            fields={"existing_password": ["Either existing_password or change_key is required."]},
        )
    if not change_key and getattr(principal, "pk", None) != user.pk:
        raise Forbidden("Only the user themselves may change their password with the existing one.")
    _check_password(new_password, user, "new_password")
    if change_key:
        if not _user_key_consume(user=user, key=change_key, purpose=UserKey.Purpose.PASSWORD_CHANGE):
            raise ValidationFailed(
                "change_key: Unknown or expired key.", fields={"change_key": ["Unknown or expired key."]}
            )
    elif not user.check_password(existing_password):
        raise ValidationFailed(
            "existing_password: Incorrect password.", fields={"existing_password": ["Incorrect password."]}
        )
    now = timezone.now()
    user.set_password(new_password)
    user.save(update_fields=["password", "updated"])
    user.keys.filter(purpose=UserKey.Purpose.PASSWORD_CHANGE, used_at__isnull=True).update(used_at=now)
    user.api_tokens.filter(kind=ApiToken.Kind.SESSION, revoked_at__isnull=True).update(revoked_at=now)
    return user


def password_reset_request(*, email_address: str) -> None:
    """Email a password change key to the user, if there is one; the caller cannot tell."""
    user = User.objects.filter(
        email_address__iexact=email_address, is_active=True, account__isnull=False
    ).first()
    if user is None:
        return
    key = user_key_issue(
        user=user,
        purpose=UserKey.Purpose.PASSWORD_CHANGE,
        ttl=timedelta(seconds=settings.PASSWORD_CHANGE_KEY_TTL_SECONDS),
    )
    emails.send_password_change_email(user=user, key=key)


# Email verification


def email_verification_send(*, principal, user: User) -> None:
    """Email a new verification link, with the callback URL of the user's previous one.
    For the user themselves or an admin."""
    if principal.pk != user.pk and not has_level(principal, "admin"):
        raise Forbidden("Only the user or an admin may resend the verification email.")
    if user.email_verified:
        raise Conflict("This email address is already verified.")
    previous = user.keys.filter(purpose=UserKey.Purpose.EMAIL_VERIFICATION).first()
    key = user_key_issue(
        user=user,
        purpose=UserKey.Purpose.EMAIL_VERIFICATION,
        callback_url=previous.callback_url if previous else "",
    )
    emails.send_verification_email(user=user, key=key)


def email_verify(*, key: str) -> tuple[bool, str]:
    """Consume an email verification key. Returns whether it verified the address and the
    key's callback URL with ``status=success|failure`` appended ("" when it has none)."""
    user_key = (
        UserKey.objects.select_related("user")
        .filter(digest=digest(key), purpose=UserKey.Purpose.EMAIL_VERIFICATION)
        .first()
    )
    if user_key is None:
        return False, ""
    verified = _user_key_consume(user=user_key.user, key=key, purpose=user_key.purpose)
    if verified:
        User.objects.filter(pk=user_key.user_id).update(email_verified=True, updated=timezone.now())
    if not user_key.callback_url:
        return verified, ""
    parts = urlsplit(user_key.callback_url)
    query = urlencode([*parse_qsl(parts.query), ("status", "success" if verified else "failure")])
    return verified, urlunsplit(parts._replace(query=query))


# Tokens and keys


def api_token_issue(
    *, user: User, kind: str = ApiToken.Kind.API, name: str = "", scopes: list[str] | None = None
) -> str:
    """Issue a token for ``user`` and return it in plain text; only its digest is stored."""
    token = new_token("whs_" if kind == ApiToken.Kind.SESSION else "wha_")
    expires_at = None
    if kind == ApiToken.Kind.SESSION:
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


def user_api_token_issue(*, principal, user: User, scopes: list[str] | None = None) -> str:
    """A new long-lived API token for the authenticated user themselves (tokens are stored
    hashed, so an existing one cannot be shown again), limited to ``scopes`` when given."""
    if principal.pk != user.pk:
        raise Forbidden("Only the user themselves may get an API token.")
    return api_token_issue(user=user, name="api-token lookup", scopes=scopes)


def api_tokens_revoke(*, tokens: QuerySet[ApiToken]) -> int:
    """Revoke the tokens not revoked yet; returns how many."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def user_key_issue(
    *, user: User, purpose: str, ttl: timedelta = EMAIL_VERIFICATION_KEY_TTL, callback_url: str = ""
) -> str:
    """Issue a single-use emailed key (``CK…`` or ``EV…``) and return it; only its digest is stored."""
    key = new_hex_key(_KEY_PREFIXES[purpose])
    UserKey.objects.create(
        user=user,
        purpose=purpose,
        digest=digest(key),
        callback_url=callback_url,
        expires_at=timezone.now() + ttl,
    )
    return key


def _user_key_consume(*, user: User, key: str, purpose: str) -> bool:
    """Mark the key used if it is ``user``'s, unused and unexpired; a conditional UPDATE, so a
    key is used once even by concurrent requests."""
    now = timezone.now()
    return (
        UserKey.objects.filter(
            user=user, digest=digest(key), purpose=purpose, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        == 1
    )
