"""Webhooks skip the middleware made for browsers and the API.

A request to the ingest gateway needs no session, user, CSRF check, message storage, static file
or frame header: that chain and resolving the URL were a fifth of a gateway request's CPU. This
middleware sits right after SecurityMiddleware (HTTPS redirect and security headers still apply)
and answers gateway paths itself, with the view the gateway's routes name."""

from __future__ import annotations

from inputs import gateway_urls


def gateway_middleware(get_response):
    routes = gateway_urls.urlpatterns

    def middleware(request):
        path = request.path_info[1:]
        for route in routes:
            match = route.resolve(path)
            if match:
                request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks for every other request
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return get_response(request)

    return middleware
