"""Django-level error views, so that no request ever answers an HTML error page."""

from __future__ import annotations

from django.http import JsonResponse

from core.errors import error_body


def bad_request(request, exception=None):
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("permission_denied", "Permission denied."), status=403)


def not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def server_error(request):
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


def csrf_failure(request, reason=""):
    return JsonResponse(error_body("csrf_failed", f"CSRF verification failed: {reason}"), status=403)
