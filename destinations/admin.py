from __future__ import annotations

from django.contrib import admin, messages

from destinations import services
from destinations.models import Destination

ROTATION_GRACE_PERIOD_SECONDS = 24 * 3600


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "endpoint_url",
        "status",
        "delivery_order",
        "retry_policy_id",
        "input",
        "account",
    ]
    list_select_related = ["account", "input"]
    search_fields = ["id", "name", "key", "endpoint_url", "account__id", "account__name", "input__id"]
    list_filter = [
        "status",
        "delivery_order",
        "authentication_type",
        "retry_policy_id",
        "signature_scheme",
        "verify_ssl",
        "created",
    ]
    raw_id_fields = ["account", "input", "recipe"]
    readonly_fields = ["disabled_reason", "previous_secret_expires_at", "created", "updated"]
    actions = ["disable", "enable", "rotate_secret"]

    @admin.action(description="Disable selected destinations")
    def disable(self, request, queryset):
        for destination in queryset:
            services.destination_disable(destination=destination, reason="Disabled by an operator.")
        self.message_user(request, f"Disabled {len(queryset)} destination(s).", messages.SUCCESS)

    @admin.action(description="Enable selected destinations")
    def enable(self, request, queryset):
        for destination in queryset:
            services.destination_update(destination=destination, status=Destination.Status.ACTIVE)
        self.message_user(request, f"Enabled {len(queryset)} destination(s).", messages.SUCCESS)

    @admin.action(description="Rotate the signing secret (previous one valid for 24 h)")
    def rotate_secret(self, request, queryset):
        for destination in queryset:
            services.destination_rotate_secret(
                destination=destination, grace_period_seconds=ROTATION_GRACE_PERIOD_SECONDS
            )
        self.message_user(request, f"Rotated the secret of {len(queryset)} destination(s).", messages.SUCCESS)
