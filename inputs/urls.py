from __future__ import annotations

from django.urls import path

from inputs import api

urlpatterns = [
    path("accounts/<str:account_id>/inputs", api.InputListView.as_view(), name="input-list"),
    path(
        "accounts/<str:account_id>/inputs/<str:input_id>",
        api.InputDetailView.as_view(),
        name="input-detail",
    ),
    path(
        "accounts/<str:account_id>/buckets/<str:bucket_id>/inputs",
        api.BucketInputListView.as_view(),
        name="bucket-input-list",
    ),
    path(
        "gateway/authentication/<str:type>",
        api.AuthenticationTypeListView.as_view(),
        name="gateway-authentication-list",
    ),
    path(
        "gateway/authentication/<str:type>/<str:option>",
        api.AuthenticationTypeDetailView.as_view(),
        name="gateway-authentication-detail",
    ),
]
