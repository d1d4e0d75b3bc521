"""The gateway's cheaper paths keep its guarantees: rows written together (group commit) are each
committed before their answer, one bad row fails only its own request, and the leased rate-limit
tokens never let more than the limit through."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from core.group_commit import group_commit
from core.redis import redis_client
from deliveries.models import IncomingMessage
from deliveries.services import incoming_accept
from tests.conftest import error_code
from tests.gateway.conftest import gateway_url


def accept(input, **fields):
    fields = {
        "method": "POST",
        "path": "/v1/hook",
        "query_string": "",
        "headers": {},
        "body": b"{}",
        "content_type": "application/json",
        "event_type": "",
        "source_ip": None,
        **fields,
    }
    return incoming_accept(input=input, **fields)


def in_thread(target, results: dict, name: str) -> threading.Thread:
    def run():
        try:
            results[name] = target()
        except Exception as error:
            results[name] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def backends_waiting_on_a_lock(cursor) -> int:
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_requests_each_get_their_own_committed_row(make_input):
    input = make_input()
    results: dict[str, object] = {}

    def post():
        return Client().post(gateway_url(input), b'{"a": 1}', content_type="application/json")

    threads = [in_thread(post, results, str(number)) for number in range(12)]
    for thread in threads:
        thread.join(30)

    ids = [response.json()["id"] for response in results.values()]
    assert len(set(ids)) == 12
    assert set(IncomingMessage.objects.filter(input=input).values_list("pk", flat=True)) == set(ids)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rows_queued_behind_a_commit_go_in_together_and_a_bad_row_fails_alone(make_input):
    input = make_input()
    rows = group_commit(IncomingMessage)
    results: dict[str, object] = {}
    # Holding the input's row FOR UPDATE blocks the first INSERT (its foreign-key check), so the
    # rows after it queue behind that leader and are written together next.
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT 1 FROM inputs_input WHERE id = %s FOR UPDATE", [input.pk])
        first = in_thread(lambda: accept(input, event_type="first"), results, "first")
        wait_for(lambda: backends_waiting_on_a_lock(cursor))  # the first caller leads, blocked
        good = in_thread(lambda: accept(input, event_type="good"), results, "good")
        bad = in_thread(lambda: accept(input, event_type="x" * 300), results, "bad")  # too long
        wait_for(lambda: len(rows.waiting) == 2)
        cursor.execute("COMMIT")
    for thread in (first, good, bad):
        thread.join(30)

    assert isinstance(results["bad"], Exception)
    stored = set(IncomingMessage.objects.filter(input=input).values_list("pk", flat=True))
    assert stored == {results["first"].pk, results["good"].pk}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_webhook_arriving_on_a_connection_the_database_closed_is_stored_and_answered(make_input, settings):
    """The gateway skips Django's per-request health check; group commit replaces a broken
    connection itself and writes the row again. (The input is cached: the INSERT is the request's
    only query.)"""
    settings.GATEWAY_INPUT_CACHE_SECONDS = 60
    input = make_input()
    client = Client()
    assert client.post(gateway_url(input), b"{}", content_type="application/json").status_code == 200
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    finally:
        other.close()

    response = client.post(gateway_url(input), b'{"after": 1}', content_type="application/json")

    assert response.status_code == 200
    assert IncomingMessage.objects.filter(pk=response.json()["id"], body=b'{"after": 1}').exists()
    assert IncomingMessage.objects.filter(input=input).count() == 2


def test_a_busy_input_takes_its_rate_limit_tokens_in_leases(client, make_input, settings):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 640  # leases of 10 tokens
    input = make_input()

    statuses = [client.post(gateway_url(input)).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    counted = [int(redis_client().get(key)) for key in redis_client().keys(f"ingest:{input.pk}:*")]
    assert sum(counted) in (10, 20)  # one lease per window (the three may span two windows)


def test_tokens_other_processes_took_are_not_given_again(client, make_input, settings):
    settings.INGEST_RATE_LIMIT_PER_SECOND = 640
    input = make_input()
    window = int(time.time())
    for second in range(window, window + 3):  # another process used up these windows
        redis_client().set(f"ingest:{input.pk}:{second}", 640, ex=5)

    responses = [client.post(gateway_url(input)) for _ in range(3)]

    assert [response.status_code for response in responses] == [429, 429, 429]
    assert error_code(responses[0]) == "rate_limited"
    assert not IncomingMessage.objects.filter(input=input).exists()
