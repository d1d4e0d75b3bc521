"""The gateway's routes in the OpenAPI document. They are plain Django views (the hot path skips
DRF), so drf-spectacular cannot see them: this postprocessing hook describes them."""

from __future__ import annotations

from inputs.gateway import METHODS

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
        }
    },
}


def _error(description: str, headers: dict | None = None) -> dict:
    answer = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


INPUT_ID = {
    "name": "input_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^IN[0-9a-f]{32}$"},
    "description": "The input's id (its `url` holds the whole address).",
}
RESPONSES = {
    "200": {
        "description": "Accepted: the request is stored and will be routed. The body is the input's "
        "configured response (`response_content`, `response_content_type`, `response_code`), by "
        'default `{"id": "<incoming message id>"}`. A sync input answers with the destination\'s '
        "own answer instead.",
        "content": {
            "application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}}}}
        },
    },
    "400": _error("A malformed request (e.g. an over-long Content-Type) or target URL."),
    "401": _error("The request failed the input's authentication and the input rejects such requests."),
    "404": _error("No active input of this type has this id."),
    "413": _error("The body is over the plan's size limit."),
    "429": _error(
        "The input's rate limit is exceeded.",
        headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    ),
    "502": _error("Sync inputs: the destination did not answer."),
    "504": _error("Sync inputs: the destination timed out."),
}
BODY = {
    "required": False,
    "description": "The webhook, stored and routed byte for byte whatever its content type.",
    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
}


def _operations(tag: str, summary: str, parameters: list[dict]) -> dict:
    operations = {}
    for method in METHODS:
        operation = {
            "tags": [tag],
            "operationId": f"{tag}_{method.lower()}",
            "summary": summary,
            "parameters": parameters,
            "security": [{}],
            "responses": RESPONSES,
        }
        if method == "HEAD":
            operation["summary"] = "Verify the URL: 200 for an active input, nothing stored."
            operation["responses"] = {
                "200": {"description": "The input exists and is active."},
                "404": RESPONSES["404"],
            }
        elif method in ("POST", "PUT", "PATCH", "DELETE"):
            operation["requestBody"] = BODY
        operations[method.lower()] = operation
    return operations


def add_gateway_paths(result: dict, generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    result["paths"]["/v1/{input_name}/{input_id}"] = _operations(
        "gateway",
        "Send a webhook to a static input.",
        [
            {
                "name": "input_name",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "Cosmetic: any name (the input's name by convention).",
            },
            INPUT_ID,
        ],
    )
    result["paths"]["/{input_id}/{target_url}"] = _operations(
        "gateway-dynamic",
        "Send a webhook to a dynamic input: it is delivered to `target_url`.",
        [
            INPUT_ID,
            {
                "name": "target_url",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "Where to deliver, e.g. `https://example.com/hook` (http(s), a host).",
            },
        ],
    )
    return result
