from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.ids import PrefixedIdField


class Recipe(models.Model):
    """JavaScript transformation. Only ``recipe_published`` ever runs in the pipeline."""

    class Type(models.TextChoices):
        INPUT = "input"
        DESTINATION = "destination"

    id = PrefixedIdField(prefix="RE")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="recipes")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=Type.choices)
    notes = models.TextField(blank=True, default="")
    sample_code = models.TextField(blank=True, default="")
    recipe_draft = models.TextField()
    recipe_published = models.TextField(blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    run_on_each_attempt = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.name
