from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.ids import PrefixedIdField


class Application(models.Model):
    id = PrefixedIdField(prefix="AP")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="applications")
    name = models.CharField(max_length=255)
    categories = models.JSONField(default=list, blank=True)
    overview = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    homepage_url = models.URLField(max_length=2048, blank=True, default="")
    api_url = models.URLField(max_length=2048, blank=True, default="")
    logo_url = models.URLField(max_length=2048, blank=True, default="")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.name


class ApplicationVersion(models.Model):
    """A version of an application; ``version_json`` carries the event types consumers subscribe to."""

    id = PrefixedIdField(prefix="AV")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="versions")
    key = models.CharField(max_length=64)
    release_date = models.DateField(null=True, blank=True)
    version_json = models.JSONField(default=dict, blank=True)
    examples_json = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "key"], name="application_version_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.key}"


class Consumer(models.Model):
    """A provider's customer, backed by a sub-account holding a bucket per ``bucket_key``."""

    id = PrefixedIdField(prefix="CN")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="consumers")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="consumers")
    consumer_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    sub_account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="consumer", editable=False
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "consumer_id"], name="consumer_id_unique_per_application"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.consumer_id})"


class ClientToken(models.Model):
    """A short-lived token for an embedded view: it reaches one account (a consumer's sub-account,
    or the account itself for the account's own embedded view), one bucket key and the permitted
    paths. ``options`` are the embedded view's, fixed when the token is issued. Only its SHA-256
    digest is stored."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    consumer = models.ForeignKey(
        Consumer, null=True, blank=True, on_delete=models.CASCADE, related_name="client_tokens"
    )
    bucket_key = models.SlugField(max_length=128, default="default")
    paths = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"client token for {self.account_id} ({self.bucket_key})"
