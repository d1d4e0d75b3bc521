"""The gateway's routes: inputs.middleware answers them before the middleware made for browsers and
the API, and before the ~60 API routes are tried (included at the root too, for ``reverse``). They
shadow no API route: a static gateway path is ``v1/<name>/IN<32 hex>`` and no two-segment API path
takes an input id; no API path starts with an input id."""

from __future__ import annotations

from django.urls import re_path

from inputs import gateway

INPUT_ID = r"(?P<input_id>IN[0-9a-f]{32})"

urlpatterns = [
    re_path(rf"^v1/(?P<input_name>[^/]+)/{INPUT_ID}\Z", gateway.static_gateway, name="gateway"),
    re_path(rf"^{INPUT_ID}/(?P<target_url>.+)\Z", gateway.dynamic_gateway, name="gateway-dynamic"),
]
