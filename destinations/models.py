from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.ids import PrefixedIdField


class Destination(models.Model):
    """Where an input's messages are delivered."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        INACTIVE = "inactive"
        DISABLED = "disabled"  # by the platform: 410 Gone or prolonged failure

    class DeliveryOrder(models.TextChoices):
        RANDOM = "random"
        FIFO = "fifo"

    class Method(models.TextChoices):
        GET = "GET"
        POST = "POST"
        PUT = "PUT"
        PATCH = "PATCH"
        DELETE = "DELETE"

    class AuthenticationType(models.TextChoices):
        NONE = "none"
        BASIC = "basic"
        BEARER = "bearer"
        HEADER = "header"

    class RetryPolicy(models.TextChoices):
        NONE = "none"
        FIXED = "fixed"
        LINEAR = "linear"
        EXPONENTIAL = "exponential"

    class SignatureScheme(models.TextChoices):
        STANDARD_WEBHOOKS = "standard_webhooks"
        URL_BODY_HMAC = "url_body_hmac"
        BOTH = "both"

    class Feed(models.TextChoices):
        INPUT = "input"  # the messages of its input
        ACCOUNT = "account"  # the messages of every input of its account (a simple webhook)
        TRIGGER = "trigger"  # only the calls of its trigger webhook, never the pipeline's fan-out

    id = PrefixedIdField(prefix="OU")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="destinations")
    input = models.ForeignKey("inputs.Input", on_delete=models.CASCADE, related_name="destinations")
    feed = models.CharField(max_length=8, choices=Feed.choices, default=Feed.INPUT)
    name = models.CharField(max_length=255)
    key = models.SlugField(max_length=128, blank=True, default="")
    endpoint_url = models.URLField(max_length=2048)
    delivery_order = models.CharField(
        max_length=8, choices=DeliveryOrder.choices, default=DeliveryOrder.RANDOM
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")
    message_method = models.CharField(max_length=8, choices=Method.choices, null=True, blank=True)
    event_filters = models.JSONField(default=list, blank=True)
    authentication_type = models.CharField(
        max_length=16, choices=AuthenticationType.choices, default=AuthenticationType.NONE
    )
    authentication_options = models.JSONField(default=dict, blank=True)
    # Null retry settings mean "the system default policy".
    retry_policy_id = models.CharField(max_length=16, choices=RetryPolicy.choices, null=True, blank=True)
    retry_count = models.PositiveIntegerField(null=True, blank=True)
    retry_interval = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    verify_ssl = models.BooleanField(default=True)
    headers_to_include = models.JSONField(default=list, blank=True)
    header_prefix = models.CharField(max_length=64, default="Webhooks")
    alert_on_failure = models.JSONField(default=list, blank=True)
    recipe = models.ForeignKey(
        "recipes.Recipe", null=True, blank=True, on_delete=models.SET_NULL, related_name="destinations"
    )
    rate_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Deliveries per second.")
    signature_scheme = models.CharField(
        max_length=24, choices=SignatureScheme.choices, default=SignatureScheme.STANDARD_WEBHOOKS
    )
    secret = models.CharField(max_length=128, editable=False)
    previous_secret = models.CharField(max_length=128, blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Delivery health, kept by the pipeline: when the current run of failures began (None while
    # deliveries succeed) and when the last failure alert was emailed (at most one an hour).
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_alert_at = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.name
