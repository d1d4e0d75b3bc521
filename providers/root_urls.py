"""Routes outside ``/v1``: the application gateway (``/<application_id>/<consumer_id>/<bucket_key>/
<target_url>``; no other root path starts with an application id) and the embedded view's page."""

from __future__ import annotations

from django.urls import path, re_path

from providers import api, embedded_api

urlpatterns = [
    re_path(
        r"^(?P<application_id>AP[0-9a-f]{32})/(?P<consumer_id>[^/]+)/(?P<bucket_key>[^/]+)/(?P<target_url>.+)\Z",
        api.ConsumerGatewayView.as_view(),
        name="consumer-gateway",
    ),
    path("embedded/", embedded_api.EmbeddedPageView.as_view(), name="embedded-page"),
]
