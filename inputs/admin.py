from __future__ import annotations

from django.contrib import admin

from inputs.models import Input


@admin.register(Input)
class InputAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "type",
        "status",
        "delivery_mode",
        "authentication_type",
        "bucket",
        "account",
    ]
    list_select_related = ["account", "bucket"]
    search_fields = ["id", "name", "key", "account__id", "account__name", "bucket__id", "bucket__name"]
    list_filter = ["status", "type", "delivery_mode", "event_location", "authentication_type", "created"]
    raw_id_fields = ["account", "bucket", "recipe"]
