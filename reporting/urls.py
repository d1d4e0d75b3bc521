from __future__ import annotations

from django.urls import path

from reporting import api

urlpatterns = [
    path("accounts/<str:account_id>/stats/overview", api.OverviewView.as_view(), name="stats-overview"),
    path("accounts/<str:account_id>/stats/summary", api.SummaryView.as_view(), name="stats-summary"),
    path("accounts/<str:account_id>/log", api.RequestLogView.as_view(), name="request-log"),
    path(
        "accounts/<str:account_id>/applications/<str:application_id>/consumers/<str:consumer_id>/log",
        api.ConsumerLogView.as_view(),
        name="consumer-log",
    ),
]
