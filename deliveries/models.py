from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.ids import PrefixedIdField


class IncomingMessage(models.Model):
    """A request accepted by the gateway, committed before the sender gets its answer."""

    class Status(models.TextChoices):
        RECEIVED = "received"  # committed, not processed yet (lease_until: handed to a worker)
        PROCESSED = "processed"  # outgoing messages created
        FILTERED = "filtered"  # input event_filters did not match: delivered nowhere
        UNAUTHENTICATED = "unauthenticated"  # failed input authentication: delivered nowhere
        SKIPPED = "skipped"  # the input recipe dropped it
        RECIPE_FAILED = "recipe_failed"

    id = PrefixedIdField(prefix="IM")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    bucket = models.ForeignKey("buckets.Bucket", on_delete=models.CASCADE, related_name="+")
    input = models.ForeignKey("inputs.Input", on_delete=models.CASCADE, related_name="incoming_messages")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2048)
    query_string = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    content_type = models.CharField(max_length=255, blank=True, default="")
    event_type = models.CharField(max_length=255, blank=True, default="")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    target_url = models.URLField(max_length=2048, blank=True, default="", help_text="Dynamic inputs only.")
    error = models.TextField(blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    # When the outbox dispatcher last handed it to Celery (what its first hop took: the bench).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["account", "-created"], name="im_account_created"),
            models.Index(fields=["input", "-created"], name="im_input_created"),
            models.Index(
                fields=["created"],
                name="im_unprocessed",
                condition=Q(status="received"),
            ),
        ]

    def __str__(self) -> str:
        return self.id


class OutgoingMessage(models.Model):
    """One incoming message on its way to one destination."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"
        RECIPE_FAILED = "recipe_failed"

    id = PrefixedIdField(prefix="OM")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    incoming = models.ForeignKey(IncomingMessage, on_delete=models.CASCADE, related_name="outgoing_messages")
    destination = models.ForeignKey(
        "destinations.Destination", on_delete=models.CASCADE, related_name="outgoing_messages"
    )
    resent_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="resends"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # FIFO order: the incoming message's arrival, then id.
    received_at = models.DateTimeField()
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    # When its deliver task is expected to run: a new message's at once; None while it waits for a
    # free in-flight slot (parked). The sweeper re-sends what is past this by SWEEP_AFTER_SECONDS.
    enqueued_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # Set by a destination recipe (run once); empty means "derive from the incoming message".
    transformed = models.JSONField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incoming", "destination"],
                condition=Q(resent_from__isnull=True),
                name="one_original_outgoing_per_destination",
            )
        ]
        indexes = [
            models.Index(fields=["account", "-created"], name="om_account_created"),
            models.Index(fields=["destination", "-created"], name="om_destination_created"),
            models.Index(
                fields=["destination", "received_at", "id"],
                name="om_pending_fifo",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["next_attempt_at"], name="om_pending_due", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return self.id


class Attempt(models.Model):
    """One HTTP request of an outgoing message. Written before the call, completed after it."""

    id = PrefixedIdField(prefix="AT")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    outgoing = models.ForeignKey(OutgoingMessage, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    request_method = models.CharField(max_length=8)
    request_url = models.URLField(max_length=2048)
    request_headers = models.JSONField(default=dict)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.BinaryField(default=b"")
    succeeded = models.BooleanField(null=True)
    error_kind = models.CharField(max_length=32, blank=True, default="")
    error = models.TextField(blank=True, default="")
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    remote_address = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number", "started_at"]
        indexes = [models.Index(fields=["account", "-started_at"], name="at_account_started")]

    def __str__(self) -> str:
        return self.id


class Certificate(models.Model):
    """An imported server certificate trusted for deliveries to ``domain:port``."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="certificates")
    domain = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=443)
    pem = models.TextField()
    fingerprint_sha256 = models.CharField(max_length=64)
    not_after = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain", "port"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "domain", "port"], name="certificate_unique_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.certificate_id

    @property
    def certificate_id(self) -> str:
        return f"{self.domain}:{self.port}"
