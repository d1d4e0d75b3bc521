from __future__ import annotations

import pytest

from tests.conftest import error_code

pytestmark = pytest.mark.django_db


def test_it_lists_the_retry_policies_without_a_token(anon):
    response = anon.get("/v1/retry_policies")

    assert response.status_code == 200, response.content
    policies = response.json()["results"]
    assert [p["id"] for p in policies] == ["none", "fixed", "linear", "exponential"]
    assert [p["id"] for p in policies if p["is_default"]] == ["exponential"]
    assert set(policies[0]) == {"id", "name", "description", "retry_count", "retry_interval", "is_default"}


def test_it_gets_one_policy(anon):
    response = anon.get("/v1/retry_policies/exponential")

    assert response.status_code == 200
    body = response.json()
    assert (body["retry_count"], body["retry_interval"], body["is_default"]) == (12, 30, True)


def test_an_unknown_policy_is_404(anon):
    response = anon.get("/v1/retry_policies/sometimes")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
