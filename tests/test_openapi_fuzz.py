"""The OpenAPI document, and a bounded schemathesis run of every documented operation against a
live server: no 500s, and every documented answer conforms to its response schema.

Each operation is a subtest with a fresh world of real objects (tests/support/world.py) for its
path kwargs, so it reaches its view instead of stopping at a 404. Worlds live in sub-accounts of
the registered owner, so fuzzing ``DELETE /accounts/{account_id}`` or a user update can never
take the token away. One live-server test for all operations keeps the run to one database
flush. (schemathesis' own pytest plugin needs pytest < 9's ``Node._nodeid``, so operations are
driven through ``APIOperation.as_strategy`` and Hypothesis directly.)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import Account, User
from accounts.services import account_create
from tests.support.world import World, account_routes, build_world

REGISTRATION = {
    "name": "Fuzz Inc",
    "first_name": "Fuzz",
    "last_name": "Owner",
    "email_address": "fuzz.owner@example.com",
    "password": "correct-horse-battery",
    "password_confirm": "correct-horse-battery",
    "plan_id": "pro",
}
CONFIG = schemathesis.Config.from_dict({"generation": {"deterministic": True, "database": "none"}})
# Examples per operation, half valid and half invalid input on average.
MAX_EXAMPLES = 8
ROUTES = {route.template: route for route in account_routes()}
PATH_PARAMETER = re.compile(r"\{(\w+)\}")

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def owner(live_server) -> tuple[str, str]:
    """(account id, API token) of an owner registered through the API."""
    response = requests.post(f"{live_server.url}/v1/register", json=REGISTRATION, timeout=10)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["account"]["id"], body["api_token"]


@pytest.fixture
def new_world(owner) -> Callable[[], World]:
    account = Account.objects.get(pk=owner[0])
    numbers = itertools.count()

    def make() -> World:
        n = next(numbers)
        sub_account = account_create(name=f"Fuzzed {n}", plan=account.plan, parent=account)
        member = User.objects.create_user(
            f"member{n}@example.com",
            "correct-horse-battery",
            account=sub_account,
            first_name="M",
            last_name="M",
        )
        return build_world(account=sub_account, user=member, label=f"fuzz{n}")

    return make


def served_schema(base_url: str):
    return schemathesis.openapi.from_url(f"{base_url}/v1/openapi.json", config=CONFIG)


def test_the_openapi_document_is_openapi_3_with_the_bucket_paths(live_server):
    response = requests.get(f"{live_server.url}/v1/openapi.json", timeout=10)

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert {"get", "post"} <= set(document["paths"]["/v1/accounts/{account_id}/buckets"])
    assert {"get", "put", "delete"} <= set(document["paths"]["/v1/accounts/{account_id}/buckets/{bucket_id}"])


def test_the_openapi_document_describes_the_gateway(live_server):
    document = requests.get(f"{live_server.url}/v1/openapi.json", timeout=10).json()

    for path in ("/v1/{input_name}/{input_id}", "/{input_id}/{target_url}"):
        operations = document["paths"][path]
        assert set(operations) == {"post", "put", "patch", "delete", "get", "head"}
        assert "*/*" in operations["post"]["requestBody"]["content"]
        assert {"200", "401", "404", "413", "429"} <= set(operations["post"]["responses"])
        assert "Retry-After" in operations["post"]["responses"]["429"]["headers"]
        assert set(operations["head"]["responses"]) == {"200", "404"}
    assert "error" in document["components"]["schemas"]["Error"]["properties"]


def test_the_openapi_document_loads_in_schemathesis_with_every_operation(live_server):
    labels = {result.ok().label for result in served_schema(live_server.url).get_all_operations()}

    assert "DELETE /v1/accounts/{account_id}/buckets/{bucket_id}" in labels
    documented = {PATH_PARAMETER.sub(r"<\1>", label.split(" ", 1)[1]) for label in labels}
    assert set(ROUTES) <= documented, f"undocumented account routes: {sorted(set(ROUTES) - documented)}"


def test_the_docs_page_renders_html(live_server):
    response = requests.get(f"{live_server.url}/v1/docs", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "swagger" in response.text.lower()


def fuzz(operation, *, base_url: str, token: str, world: World) -> None:
    route = ROUTES.get(PATH_PARAMETER.sub(r"<\1>", operation.path))
    # Real ids for the world's kwargs; other path parameters (plan ids, emailed keys) are generated.
    fixed = world.kwargs_for(route) if route is not None else {}
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    check()


def test_every_operation_answers_without_500_and_as_documented(live_server, owner, new_world, subtests):
    operations = [result.ok() for result in served_schema(live_server.url).get_all_operations()]
    assert operations

    for operation in operations:
        with subtests.test(msg=operation.label):
            fuzz(operation, base_url=live_server.url, token=owner[1], world=new_world())
