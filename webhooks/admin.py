from __future__ import annotations

from django.contrib import admin

from destinations.models import Destination
from webhooks.models import TriggerInvocation, TriggerWebhook, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["id", "url", "account", "status", "created"]
    list_select_related = ["account", "destination"]
    search_fields = ["id", "destination__endpoint_url", "account__id", "account__name"]
    list_filter = ["destination__status", "created"]
    raw_id_fields = ["account", "destination"]

    @admin.display(ordering="destination__endpoint_url")
    def url(self, webhook: Webhook) -> str:
        return webhook.destination.endpoint_url

    @admin.display(ordering="destination__status")
    def status(self, webhook: Webhook) -> str:
        return webhook.destination.status


@admin.register(TriggerWebhook)
class TriggerWebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "method", "payload_encoding", "account", "created"]
    list_select_related = ["account", "destination"]
    search_fields = ["name", "destination__endpoint_url", "account__id", "account__name"]
    list_filter = ["payload_encoding", "destination__message_method", "created"]
    raw_id_fields = ["account", "destination"]
    # Registered headers hold credentials: operators see the names, not the values.
    exclude = ["headers"]
    readonly_fields = ["header_names"]

    @admin.display(ordering="destination__endpoint_url")
    def url(self, trigger: TriggerWebhook) -> str:
        return trigger.destination.endpoint_url

    @admin.display(ordering="destination__message_method")
    def method(self, trigger: TriggerWebhook) -> str:
        return trigger.destination.message_method or ""

    @admin.display(description="Registered headers")
    def header_names(self, trigger: TriggerWebhook) -> str:
        return ", ".join(trigger.headers)


@admin.register(TriggerInvocation)
class TriggerInvocationAdmin(admin.ModelAdmin):
    """Trigger calls (read-only): the outgoing messages of trigger webhooks' destinations."""

    list_display = ["id", "trigger_webhook", "account", "status", "last_status_code", "created"]
    list_select_related = ["account", "destination__trigger_webhook"]
    search_fields = ["id", "incoming__id", "destination__trigger_webhook__name", "account__id"]
    list_filter = ["status", "created"]
    raw_id_fields = ["account", "incoming", "destination", "resent_from"]
    date_hierarchy = "created"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(destination__feed=Destination.Feed.TRIGGER)

    @admin.display(ordering="destination__trigger_webhook__name")
    def trigger_webhook(self, invocation: TriggerInvocation) -> str:
        return invocation.destination.trigger_webhook.name

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
