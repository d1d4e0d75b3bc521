"""The event type of an incoming request, from where its input says (``event_location``,
``event_path``). A request without one (a missing path, a body that is not JSON) has no event
type: ""."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from django.http import HttpRequest

from inputs.models import Input

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_EVENT_TYPE_LENGTH = 255
MISSING = object()


def _parsed_body(request: HttpRequest, body: bytes) -> object:
    """The JSON body, or a form-encoded body as a dict; MISSING when it is neither."""
    if request.content_type == FORM_CONTENT_TYPE:
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        return json.loads(body)
    # RecursionError: absurdly deep nesting is just not JSON we read.
    except (ValueError, RecursionError):
        return MISSING


def _walk(document: object, path: str) -> object:
    """``msg.a.b.0.c``: ``msg`` is the root, then object keys or list indexes."""
    segments = path.split(".")
    if segments[0] != "msg":
        return MISSING
    value = document
    for segment in segments[1:]:
        if isinstance(value, dict):
            value = value.get(segment, MISSING)
        elif isinstance(value, list) and segment.isdecimal() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return MISSING
    return value


def _as_event_type(value: object) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return ""  # not a name: no event type
    if not isinstance(value, str):
        value = json.dumps(value)  # numbers: 42 -> "42"
    # The column holds 255 characters and no NUL.
    return value.replace("\x00", "\ufffd")[:MAX_EVENT_TYPE_LENGTH]


def event_type_of(*, input: Input, request: HttpRequest, body: bytes) -> str:
    """The event type of this request for ``input``, or "" when there is none."""
    path = input.event_path
    if not path:
        return ""
    if input.event_location == Input.EventLocation.HEADER:
        value: object = request.headers.get(path, "")
    elif input.event_location == Input.EventLocation.QUERY:
        value = request.GET.get(path, "")
    else:
        document = _parsed_body(request, body)
        value = MISSING if document is MISSING else _walk(document, path)
    return "" if value is MISSING else _as_event_type(value)
