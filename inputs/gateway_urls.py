"""The gateway's routes, included last at the root: every API route is matched before them."""

from __future__ import annotations

from django.urls import re_path

from inputs import gateway

INPUT_ID = r"(?P<input_id>IN[0-9a-f]{32})"

urlpatterns = [
    re_path(rf"^v1/(?P<input_name>[^/]+)/{INPUT_ID}\Z", gateway.static_gateway, name="gateway"),
    re_path(rf"^{INPUT_ID}/(?P<target_url>.+)\Z", gateway.dynamic_gateway, name="gateway-dynamic"),
]
