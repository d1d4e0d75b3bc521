from __future__ import annotations

import pytest
from django.db import connection

from inputs.models import Input
from tests.gateway.conftest import gateway_url

pytestmark = pytest.mark.django_db


def test_a_cached_input_costs_only_the_insert_and_expires(client, make_input, settings, monkeypatch):
    settings.GATEWAY_INPUT_CACHE_SECONDS = 60
    clock = [1000.0]
    monkeypatch.setattr("inputs.gateway.time.monotonic", lambda: clock[0])
    input = make_input()
    url = gateway_url(input)
    client.post(url, b"{}", content_type="application/json")

    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql.split()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        cached = client.post(url, b"{}", content_type="application/json")
    Input.objects.filter(pk=input.pk).update(status=Input.Status.INACTIVE)
    still_cached = client.post(url, b"{}", content_type="application/json")
    clock[0] += 61
    expired = client.post(url, b"{}", content_type="application/json")

    assert cached.status_code == 200
    assert statements == ["INSERT"]
    assert still_cached.status_code == 200
    assert expired.status_code == 404
