"""PUT /v1/accounts/:account_id/recipes/test: run a draft on a sample message."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from recipes.models import Recipe
from tests.conftest import error_code
from tests.recipes.test_sandbox import SLACK_RECIPE

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "sample_code": '{"name": "Zoë", "email": "zoe@example.com"}',
    "type": "input",
    "recipe": 'function wh(){ result.data = {"name": data.name, "client_id": 8000}; exit(result); }',
    "event_type": "invoice.create",
}


def url(account) -> str:
    return f"/v1/accounts/{account.id}/recipes/test"


def test_it_runs_the_reference_example_and_answers_the_resulting_message(developer):
    response = developer.client.put(url(developer.account), EXAMPLE, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "transformed"
    assert body["error"] is None
    assert body["logs"] == []
    message = body["message"]
    assert json.loads(message["body"]) == {"name": "Zoë", "client_id": 8000}
    assert message["event_type"] == "invoice.create"
    assert message["method"] == "POST"
    assert message["content_type"] == "application/json"
    assert message["headers"] == {"Content-Type": "application/json"}
    assert "body_encoding" not in message


def test_it_accepts_a_form_encoded_request(owner):
    response = owner.client.put(url(owner.account), EXAMPLE)

    assert response.status_code == 200, response.content
    assert json.loads(response.json()["message"]["body"]) == {"name": "Zoë", "client_id": 8000}


def test_the_sample_may_be_a_json_object(owner):
    payload = {**EXAMPLE, "sample_code": {"name": "Ada"}}

    response = owner.client.put(url(owner.account), payload, format="json")

    assert json.loads(response.json()["message"]["body"]) == {"name": "Ada", "client_id": 8000}


def test_a_destination_recipe_answers_its_url_and_a_form_encoded_body(owner):
    payload = {"type": "destination", "recipe": SLACK_RECIPE, "sample_code": '{"email": "zoe@example.com"}'}

    response = owner.client.put(url(owner.account), payload, format="json")

    message = response.json()["message"]
    assert message["url"] == "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"
    assert message["content_type"] == "application/x-www-form-urlencoded"
    assert json.loads(parse_qs(message["body"])["payload"][0]) == {"text": "New sign-up: zoe@example.com"}


def test_it_answers_the_console_lines_and_a_skip(owner):
    payload = {**EXAMPLE, "recipe": "console.log('event', message.getEventType());\nmessage.skip();"}

    response = owner.client.put(url(owner.account), payload, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "status": "skipped",
        "message": None,
        "logs": ["event invoice.create"],
        "error": None,
    }


def test_a_syntax_error_comes_back_with_line_and_column(owner):
    payload = {
        **EXAMPLE,
        "recipe": "function wh() {\n  result.data = {name: data.name,, };\n  exit(result);\n}",
    }

    response = owner.client.put(url(owner.account), payload, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "recipe_failed"
    assert body["message"] is None
    assert body["error"] == {"message": "SyntaxError: Unexpected token ','", "line": 2, "column": 34}


def test_a_runtime_error_comes_back_with_line_and_column_and_the_logs(owner):
    payload = {**EXAMPLE, "recipe": "console.log('start');\nvar email = data.customer.email;"}

    response = owner.client.put(url(owner.account), payload, format="json")

    body = response.json()
    assert body["error"] == {
        "message": "TypeError: Cannot read properties of undefined (reading 'email')",
        "line": 2,
        "column": 27,
    }
    assert body["logs"] == ["start"]


def test_a_runaway_draft_answers_its_time_limit(owner):
    response = owner.client.put(url(owner.account), {**EXAMPLE, "recipe": "while (true) {}"}, format="json")

    assert response.status_code == 200
    assert response.json()["error"] == {
        "message": "The recipe ran longer than its time limit of 100 ms.",
        "line": None,
        "column": None,
    }


def test_it_stores_nothing(owner):
    owner.client.put(url(owner.account), EXAMPLE, format="json")

    assert not Recipe.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "input"}, "recipe"),
        ({"recipe": "exit(result);"}, "type"),
        ({"recipe": "exit(result);", "type": "output"}, "type"),
        ({"recipe": "x" * (100 * 1024 + 1), "type": "input"}, "recipe"),
        ({"recipe": "exit(result);", "type": "input", "sample_code": "x" * (1024 * 1024 + 1)}, "sample_code"),
        ({"recipe": "exit(result);", "type": "input", "event_type": "e" * 256}, "event_type"),
    ],
)
def test_it_rejects_invalid_requests_in_the_error_shape(owner, payload, field):
    response = owner.client.put(url(owner.account), payload, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]


def test_a_viewer_cannot_run_recipes(viewer):
    response = viewer.client.put(url(viewer.account), EXAMPLE, format="json")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_it_rejects_a_foreign_account(owner, outsider):
    response = owner.client.put(url(outsider.account), EXAMPLE, format="json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_a_missing_token_is_401(anon, account_a):
    response = anon.put(url(account_a), EXAMPLE, format="json")

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_other_methods_are_405(owner):
    response = owner.client.post(url(owner.account), EXAMPLE, format="json")

    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
