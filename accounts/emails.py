"""The emails of the account flows. A mail server that fails never fails the request: it is logged."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail

from accounts.models import User

logger = logging.getLogger(__name__)


def _link(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/v1/{path}"


def _send(user: User, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email_address])
    except (smtplib.SMTPException, OSError):
        logger.exception("Could not send %r to user %s", subject, user.pk)


def send_verification_email(*, user: User, key: str) -> None:
    _send(
        user,
        "Verify your email address",
        f"Hello {user.first_name},\n\n"
        f"Please confirm your email address by opening this link:\n\n{_link(f'verify/{key}')}\n",
    )


def send_password_change_email(*, user: User, key: str) -> None:
    _send(
        user,
        "Change your password",
        f"Hello {user.first_name},\n\n"
        "Someone asked to change the password of your account. If it was you, use this change key:\n\n"
        f"{key}\n\n"
        f"Its details: {_link(f'password_change_key/{key}')}\n"
        f"Send it as change_key to PUT {_link(f'accounts/{user.account_id}/users/{user.pk}/change_password')}"
        "\n\nIf it was not you, ignore this email.\n",
    )


def send_welcome_email(*, user: User) -> None:
    _send(
        user,
        "Your account has been created",
        f"Hello {user.first_name},\n\n"
        f"An account has been created for you in {user.account.name}. "
        f"Sign in with your email address {user.email_address}.\n",
    )
