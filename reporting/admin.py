from __future__ import annotations

from django.contrib import admin

from reporting.models import Traffic


@admin.register(Traffic)
class TrafficAdmin(admin.ModelAdmin):
    list_display = [
        "account_id",
        "precision",
        "period",
        "bucket_id",
        "input_id",
        "destination_id",
        "incoming",
        "outgoing",
        "succeeded",
        "failed",
        "retried",
    ]
    search_fields = ["account_id", "bucket_id", "input_id", "destination_id"]
    list_filter = ["precision", "period"]
    readonly_fields = [field.name for field in Traffic._meta.fields]
