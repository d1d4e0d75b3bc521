"""The peer's ingest: store the JSON document as an ``Event`` (whose ``post_save`` queues its
webhooks' tasks) and answer its id."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench.peers.models import Event


@csrf_exempt
def ingest(request: HttpRequest) -> JsonResponse:
    event = Event.objects.create(body=json.loads(request.body))
    return JsonResponse({"id": str(event.pk)}, status=202)


urlpatterns = [path("peer/ingest", ingest)]
