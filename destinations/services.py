from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from destinations.models import Destination
from inputs.authentication_options import new_signing_secret
from inputs.models import Input


def destination_create(*, account: Account, input: Input, **validated_fields) -> Destination:
    """Create a destination of ``input`` with a new signing secret. ``rate_limit`` defaults to
    (and null means) the account's plan maximum."""
    if validated_fields.get("rate_limit") is None:
        validated_fields["rate_limit"] = account.plan.max_rate_limit
    destination = Destination(account=account, input=input, secret=new_signing_secret(), **validated_fields)
    destination.save()
    return destination


def destination_update(*, destination: Destination, **validated_fields) -> Destination:
    """Update a destination. A null ``rate_limit`` becomes the plan maximum. A user setting
    it active or inactive clears the reason the platform disabled it for."""
    if "rate_limit" in validated_fields and validated_fields["rate_limit"] is None:
        validated_fields["rate_limit"] = destination.account.plan.max_rate_limit
    for name, value in validated_fields.items():
        setattr(destination, name, value)
    if "status" in validated_fields and destination.status != Destination.Status.DISABLED:
        destination.disabled_reason = ""
    destination.save()
    return destination


def destination_disable(*, destination: Destination, reason: str) -> Destination:
    """Disable a destination on the platform's (or an operator's) behalf."""
    destination.status = Destination.Status.DISABLED
    destination.disabled_reason = reason[:255]
    destination.save(update_fields=["status", "disabled_reason", "updated"])
    return destination


@transaction.atomic
def destination_rotate_secret(*, destination: Destination, grace_period_seconds: int) -> Destination:
    """Give a destination a new signing secret. The current one stays valid as
    ``previous_secret`` for ``grace_period_seconds`` (none when 0), so receivers can switch."""
    # Lock the row and read the secret in force, so two concurrent rotations chain correctly.
    current = Destination.objects.select_for_update().only("secret").get(pk=destination.pk)
    if grace_period_seconds > 0:
        destination.previous_secret = current.secret
        destination.previous_secret_expires_at = timezone.now() + timedelta(seconds=grace_period_seconds)
    else:
        destination.previous_secret = ""
        destination.previous_secret_expires_at = None
    destination.secret = new_signing_secret()
    destination.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated"])
    return destination
