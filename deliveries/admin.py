from __future__ import annotations

from django.contrib import admin, messages

from deliveries import services
from deliveries.models import Attempt, Certificate, IncomingMessage, OutgoingMessage
from destinations.models import Destination


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ["id", "number", "status_code", "succeeded", "error_kind", "elapsed_ms", "started_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(IncomingMessage)
class IncomingMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "input", "method", "event_type", "status", "created"]
    list_select_related = ["account", "input"]
    list_filter = ["status", "method", "created"]
    search_fields = ["id", "event_type", "account__id", "input__id"]
    raw_id_fields = ["account", "bucket", "input"]
    date_hierarchy = "created"


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "destination", "status", "attempt_count", "next_attempt_at", "created"]
    list_select_related = ["account", "destination"]
    list_filter = ["status", "created"]
    search_fields = ["id", "incoming__id", "destination__id", "account__id"]
    raw_id_fields = ["account", "incoming", "destination", "resent_from"]
    date_hierarchy = "created"
    inlines = [AttemptInline]
    actions = ["resend_selected", "retry_selected_failed"]

    @admin.action(description="Resend selected outgoing messages")
    def resend_selected(self, request, queryset) -> None:
        # Trigger calls are triggered again, never resent (deliveries.services).
        resends = services.outgoing_resend(
            originals=list(queryset.exclude(destination__feed=Destination.Feed.TRIGGER))
        )
        self.message_user(request, f"Resent {len(resends)} outgoing message(s).", messages.SUCCESS)

    @admin.action(description="Retry selected failed outgoing messages")
    def retry_selected_failed(self, request, queryset) -> None:
        failed = list(
            queryset.filter(status=OutgoingMessage.Status.FAILED).exclude(
                destination__feed=Destination.Feed.TRIGGER
            )
        )
        for outgoing in failed:
            services.outgoing_retry(outgoing=outgoing)
        skipped = queryset.count() - len(failed)
        self.message_user(
            request,
            f"Retrying {len(failed)} failed outgoing message(s); {skipped} not failed were left alone.",
            messages.SUCCESS,
        )


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["id", "outgoing", "number", "status_code", "succeeded", "error_kind", "started_at"]
    list_select_related = ["outgoing"]
    list_filter = ["succeeded", "error_kind", "started_at"]
    search_fields = ["id", "outgoing__id", "account__id", "request_url"]
    raw_id_fields = ["account", "outgoing"]


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["domain", "port", "account", "not_after", "created"]
    list_select_related = ["account"]
    search_fields = ["domain", "account__id", "fingerprint_sha256"]
    raw_id_fields = ["account"]
