from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("inputs.gateway_urls")),
    path("admin/", admin.site.urls),
    path("v1/openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    path("v1/", include("accounts.urls")),
    path("v1/", include("providers.urls")),
    path("v1/", include("buckets.urls")),
    path("v1/", include("inputs.urls")),
    path("v1/", include("destinations.urls")),
    path("v1/", include("recipes.urls")),
    path("v1/", include("deliveries.urls")),
    path("v1/", include("webhooks.urls")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
