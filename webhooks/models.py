"""Simple webhooks (seeds 000, 001, 003) and trigger webhooks (seed 004), both built on
destinations of the account's webhooks input, so they share the pipeline's delivery, log and
resend."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.ids import PrefixedIdField
from deliveries.models import OutgoingMessage

# The bucket and input (their key) that hold an account's simple webhooks and trigger webhooks.
WEBHOOKS_KEY = "simple-webhooks"


class Webhook(models.Model):
    """A URL that receives every message the account's inputs accept: a destination whose feed
    is "account"; its URL, event filters and secret are the destination's."""

    id = PrefixedIdField(prefix="WH")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="webhooks")
    destination = models.OneToOneField(
        "destinations.Destination", on_delete=models.CASCADE, related_name="webhook"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.id


class TriggerWebhook(models.Model):
    """A third-party endpoint in seed 004's format, called synchronously by a trigger: a
    destination whose feed is "trigger" (URL and method), plus the call's declared format."""

    class PayloadEncoding(models.TextChoices):
        BASE64 = "base64"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="trigger_webhooks")
    name = models.SlugField(max_length=128, help_text="The account's own id, e.g. get-randomapi.")
    destination = models.OneToOneField(
        "destinations.Destination", on_delete=models.CASCADE, related_name="trigger_webhook"
    )
    # Sent on every call and never overridable by the caller (credentials, content type).
    headers = models.JSONField(default=dict, blank=True)
    # The query parameters a call may set.
    query_params = models.JSONField(default=list, blank=True)
    payload_encoding = models.CharField(
        max_length=8, choices=PayloadEncoding.choices, blank=True, default="", help_text="Empty: as given."
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name"], name="trigger_webhook_name_unique_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def method(self) -> str:
        return self.destination.message_method or "POST"


class TriggerInvocation(OutgoingMessage):
    """A trigger call as the admin lists it: the outgoing message of a trigger webhook's
    destination (its id is the call's ``reference_id``)."""

    class Meta:
        proxy = True
        ordering = ["-created", "-id"]
