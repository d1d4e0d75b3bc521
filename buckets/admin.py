from __future__ import annotations

from django.contrib import admin

from buckets.models import Bucket


@admin.register(Bucket)
class BucketAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "key", "account", "created"]
    list_select_related = ["account"]
    search_fields = ["id", "name", "key", "account__id", "account__name"]
    list_filter = ["created"]
    raw_id_fields = ["account"]
