from __future__ import annotations

from django.urls import path

from deliveries import api

urlpatterns = [
    path(
        "accounts/<str:account_id>/incoming/<str:incoming_message_id>",
        api.IncomingMessageDetailView.as_view(),
        name="incoming-message-detail",
    ),
    path(
        "accounts/<str:account_id>/outgoing/<str:outgoing_message_id>",
        api.OutgoingMessageDetailView.as_view(),
        name="outgoing-message-detail",
    ),
    path(
        "accounts/<str:account_id>/outgoing/<str:outgoing_message_id>/status",
        api.OutgoingMessageStatusView.as_view(),
        name="outgoing-message-status",
    ),
    path(
        "accounts/<str:account_id>/attempts/<str:attempt_id>",
        api.AttemptDetailView.as_view(),
        name="attempt-detail",
    ),
    path("accounts/<str:account_id>/resend", api.ResendView.as_view(), name="resend"),
    path("accounts/<str:account_id>/resend/bulk", api.BulkResendView.as_view(), name="resend-bulk"),
    path("retry", api.RetryView.as_view(), name="retry"),
    path(
        "accounts/<str:account_id>/certificates", api.CertificateListView.as_view(), name="certificate-list"
    ),
    path(
        "accounts/<str:account_id>/certificates/<str:certificate_id>",
        api.CertificateDetailView.as_view(),
        name="certificate-detail",
    ),
]
