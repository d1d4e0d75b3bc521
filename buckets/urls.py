from __future__ import annotations

from django.urls import path

from buckets import api

urlpatterns = [
    path("accounts/<str:account_id>/buckets", api.BucketListView.as_view(), name="bucket-list"),
    path(
        "accounts/<str:account_id>/buckets/<str:bucket_id>",
        api.BucketDetailView.as_view(),
        name="bucket-detail",
    ),
]
