from __future__ import annotations

from django.urls import path

from webhooks import api

_trigger = "accounts/<str:account_id>/trigger-webhooks/<str:trigger_webhook_id>"

urlpatterns = [
    path("webhooks", api.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/test/<str:webhook_id>", api.WebhookTestView.as_view(), name="webhook-test"),
    path("webhooks/<str:webhook_id>", api.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "accounts/<str:account_id>/trigger-webhooks",
        api.TriggerWebhookListView.as_view(),
        name="trigger-webhook-list",
    ),
    path(_trigger, api.TriggerWebhookDetailView.as_view(), name="trigger-webhook-detail"),
    path(f"{_trigger}/trigger", api.TriggerCallView.as_view(), name="trigger-webhook-call"),
    path(
        "accounts/<str:account_id>/trigger-invocations/<str:reference_id>",
        api.TriggerInvocationDetailView.as_view(),
        name="trigger-invocation-detail",
    ),
]
