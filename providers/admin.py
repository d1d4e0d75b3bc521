from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.utils import timezone

from providers.models import Application, ApplicationVersion, ClientToken, Consumer


class ApplicationVersionInline(admin.TabularInline):
    model = ApplicationVersion
    fields = ["key", "release_date", "active", "created"]
    readonly_fields = ["created"]
    extra = 0
    show_change_link = True


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "account", "active", "created"]
    list_select_related = ["account"]
    search_fields = ["id", "name", "account__id", "account__name"]
    list_filter = ["active", "created"]
    raw_id_fields = ["account"]
    inlines = [ApplicationVersionInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(ApplicationVersion)
class ApplicationVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "key", "application", "release_date", "active", "created"]
    list_select_related = ["application"]
    search_fields = ["id", "key", "application__id", "application__name", "account__id"]
    list_filter = ["active", "release_date"]
    raw_id_fields = ["account", "application"]


@admin.register(Consumer)
class ConsumerAdmin(admin.ModelAdmin):
    list_display = ["id", "consumer_id", "name", "application", "sub_account", "created"]
    list_select_related = ["application", "sub_account"]
    search_fields = ["id", "consumer_id", "name", "application__id", "account__id", "sub_account__id"]
    list_filter = ["created"]
    raw_id_fields = ["account", "application"]
    readonly_fields = ["sub_account"]


@admin.register(ClientToken)
class ClientTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "consumer", "bucket_key", "created", "expires_at"]
    list_select_related = ["account", "consumer"]
    search_fields = ["account__id", "consumer__id", "consumer__consumer_id", "bucket_key"]
    list_filter = ["created", "expires_at"]
    raw_id_fields = ["account", "consumer"]
    readonly_fields = ["digest", "created"]
    actions = ["expire_now"]

    def has_add_permission(self, request) -> bool:
        # A token is only useful when its plain value is shown once, which the API does.
        return False

    @admin.action(description="Expire the selected client tokens now")
    def expire_now(self, request, queryset) -> None:
        count = queryset.update(expires_at=timezone.now())
        self.message_user(request, f"{count} client token(s) expired.")
