from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.ids import PrefixedIdField


class Bucket(models.Model):
    id = PrefixedIdField(prefix="BU")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="buckets")
    name = models.CharField(max_length=255)
    key = models.SlugField(max_length=128)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="bucket_key_unique_per_account")
        ]

    def __str__(self) -> str:
        return self.name
