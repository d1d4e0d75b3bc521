from __future__ import annotations

from django.urls import path

from providers import api, embedded_api

APPLICATIONS = "accounts/<str:account_id>/applications"
APPLICATION = f"{APPLICATIONS}/<str:application_id>"
CONSUMER = f"{APPLICATION}/consumers/<str:consumer_id>"

urlpatterns = [
    path(APPLICATIONS, api.ApplicationListView.as_view(), name="application-list"),
    path(APPLICATION, api.ApplicationDetailView.as_view(), name="application-detail"),
    path(
        f"{APPLICATION}/versions", api.ApplicationVersionListView.as_view(), name="application-version-list"
    ),
    path(
        f"{APPLICATION}/versions/<str:application_version_id>",
        api.ApplicationVersionDetailView.as_view(),
        name="application-version-detail",
    ),
    path(f"{APPLICATION}/consumers", api.ConsumerListView.as_view(), name="consumer-list"),
    path(CONSUMER, api.ConsumerDetailView.as_view(), name="consumer-detail"),
    path(
        f"{CONSUMER}/destinations",
        api.ConsumerDestinationListView.as_view(),
        name="consumer-destination-list",
    ),
    path(
        f"{CONSUMER}/destinations/<str:destination_id>",
        api.ConsumerDestinationDetailView.as_view(),
        name="consumer-destination-detail",
    ),
    path(f"{CONSUMER}/client-token", api.ClientTokenView.as_view(), name="consumer-client-token"),
    path(
        f"{CONSUMER}/check/<str:bucket_key>",
        api.SubscriptionCheckView.as_view(),
        name="consumer-subscription-check",
    ),
    path(f"{CONSUMER}/check", api.ConsumerSubscriptionCheckView.as_view(), name="consumer-check"),
    path(f"{CONSUMER}/buckets", api.ConsumerBucketListView.as_view(), name="consumer-bucket-list"),
    path(f"{CONSUMER}/send/<str:bucket_key>", api.ConsumerSendView.as_view(), name="consumer-send"),
    path(
        f"{CONSUMER}/embedded-view-html",
        api.ConsumerEmbeddedViewView.as_view(),
        name="consumer-embedded-view-html",
    ),
    path(
        "accounts/<str:account_id>/embedded-view-html",
        api.AccountEmbeddedViewView.as_view(),
        name="account-embedded-view-html",
    ),
    # The embedded view's own endpoints (client tokens only).
    path("embedded/context", embedded_api.EmbeddedContextView.as_view(), name="embedded-context"),
    path("embedded/stats", embedded_api.EmbeddedStatsView.as_view(), name="embedded-stats"),
    path(
        "embedded/destinations",
        embedded_api.EmbeddedDestinationListView.as_view(),
        name="embedded-destination-list",
    ),
    path(
        "embedded/destinations/<str:destination_id>",
        embedded_api.EmbeddedDestinationDetailView.as_view(),
        name="embedded-destination-detail",
    ),
    path("embedded/log", embedded_api.EmbeddedLogView.as_view(), name="embedded-log"),
    path(
        "embedded/log/<str:outgoing_message_id>",
        embedded_api.EmbeddedLogDetailView.as_view(),
        name="embedded-log-detail",
    ),
    path(
        "embedded/log/<str:outgoing_message_id>/resend",
        embedded_api.EmbeddedResendView.as_view(),
        name="embedded-resend",
    ),
]
