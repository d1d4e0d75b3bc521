from __future__ import annotations

from django.urls import path

from providers import api

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
]
