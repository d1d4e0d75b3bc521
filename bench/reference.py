"""The URLconf of the benchmarked stack: every route of the platform, plus ``/bench/trivial``, the
reference the gateway is compared with. Same process, middleware and gunicorn settings; the view
reads the body and answers a small JSON document, touching neither the database nor Redis."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as platform_urlpatterns


@csrf_exempt
def trivial(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"id": "trivial", "bytes": len(request.body)})


urlpatterns = [path("bench/trivial", trivial), *platform_urlpatterns]
