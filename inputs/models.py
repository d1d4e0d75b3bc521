from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.ids import PrefixedIdField


class Input(models.Model):
    """Where senders deliver: ``/v1/<name>/<id>`` (static) or ``/<id>/<target_url>`` (dynamic)."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        INACTIVE = "inactive"

    class Type(models.TextChoices):
        STATIC = "static"
        DYNAMIC = "dynamic"

    class EventLocation(models.TextChoices):
        PAYLOAD = "payload"
        HEADER = "header"
        QUERY = "query"

    class DeliveryMode(models.TextChoices):
        ASYNC = "async"
        SYNC = "sync"

    class AuthenticationType(models.TextChoices):
        NONE = "none"
        BASIC = "basic"
        TOKEN = "token"
        HMAC = "hmac"
        STANDARD_WEBHOOKS = "standard_webhooks"

    class AuthenticationFailures(models.TextChoices):
        REJECT = "reject"
        ACCEPT = "accept"

    id = PrefixedIdField(prefix="IN")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="inputs")
    bucket = models.ForeignKey("buckets.Bucket", on_delete=models.CASCADE, related_name="inputs")
    name = models.CharField(max_length=255)
    key = models.SlugField(max_length=128, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.STATIC)
    event_location = models.CharField(
        max_length=16, choices=EventLocation.choices, default=EventLocation.PAYLOAD
    )
    event_path = models.CharField(max_length=255, blank=True, default="")
    event_filters = models.JSONField(default=list, blank=True)
    delivery_mode = models.CharField(max_length=8, choices=DeliveryMode.choices, default=DeliveryMode.ASYNC)
    response_code = models.PositiveSmallIntegerField(default=200)
    response_content = models.TextField(blank=True, default="")
    response_content_type = models.CharField(max_length=255, default="application/json")
    authentication_type = models.CharField(
        max_length=32, choices=AuthenticationType.choices, default=AuthenticationType.NONE
    )
    authentication_options = models.JSONField(default=dict, blank=True)
    authentication_failures = models.CharField(
        max_length=8, choices=AuthenticationFailures.choices, default=AuthenticationFailures.REJECT
    )
    recipe = models.ForeignKey(
        "recipes.Recipe", null=True, blank=True, on_delete=models.SET_NULL, related_name="inputs"
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.name
