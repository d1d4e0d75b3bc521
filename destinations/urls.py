from __future__ import annotations

from django.urls import path

from destinations import api

urlpatterns = [
    path(
        "accounts/<str:account_id>/inputs/<str:input_id>/destinations",
        api.DestinationListView.as_view(),
        name="destination-list",
    ),
    path(
        "accounts/<str:account_id>/destinations/<str:destination_id>",
        api.DestinationDetailView.as_view(),
        name="destination-detail",
    ),
    path(
        "accounts/<str:account_id>/destinations/<str:destination_id>/secret",
        api.DestinationSecretView.as_view(),
        name="destination-secret",
    ),
    path(
        "accounts/<str:account_id>/destinations/<str:destination_id>/secret/rotate",
        api.DestinationSecretRotateView.as_view(),
        name="destination-secret-rotate",
    ),
    path("retry_policies", api.RetryPolicyListView.as_view(), name="retry-policy-list"),
    path("retry_policies/<str:policy_id>", api.RetryPolicyDetailView.as_view(), name="retry-policy-detail"),
]
