"""Telling a destination's alert addresses: a failure after the retries, a disabled destination."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from deliveries.models import OutgoingMessage
from destinations.models import Destination


def destination_disable_and_alert(*, destination: Destination, reason: str) -> None:
    """Disable an active destination and tell its alert addresses (once: only the worker that
    changes the status sends the email)."""
    updated = Destination.objects.filter(pk=destination.pk, status=Destination.Status.ACTIVE).update(
        status=Destination.Status.DISABLED, disabled_reason=reason
    )
    if updated and destination.alert_on_failure:
        email_after_commit(
            destination,
            f"Destination {destination.name} was disabled",
            f"Destination {destination.pk} ({destination.endpoint_url}) was disabled: {reason}",
        )


def alert_on_failure(*, destination: Destination, outgoing: OutgoingMessage, error: str) -> None:
    """Email the destination's alert addresses: at most once per destination per hour, claimed
    with a conditional UPDATE so concurrent workers send one email."""
    if not destination.alert_on_failure:
        return
    now = timezone.now()
    claimed = (
        Destination.objects.filter(pk=destination.pk)
        .filter(Q(last_alert_at__isnull=True) | Q(last_alert_at__lt=now - timedelta(hours=1)))
        .update(last_alert_at=now)
    )
    if claimed:
        email_after_commit(
            destination,
            f"Webhook delivery failed for {destination.name}",
            f"Outgoing message {outgoing.pk} to {destination.endpoint_url} failed after its retries: {error}",
        )


def email_after_commit(destination: Destination, subject: str, text: str) -> None:
    """Email the destination's alert addresses once the outcome is committed; a mail server
    failure is logged and never undoes the delivery's record."""
    transaction.on_commit(
        lambda: send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, destination.alert_on_failure),
        robust=True,
    )
