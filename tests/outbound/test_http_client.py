from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from destinations.http_client import MAX_REDIRECTS, send
from tests.support.receivers import Reply


def test_it_delivers_method_body_and_headers_exactly(receiver, settings):
    body = b'{"name": "caf\xc3\xa9"}\x00\xff'
    headers = {"Content-Type": "application/json", "X-Webhooks-Event": "order.created"}

    outcome = send(method="POST", url=receiver.url + "hooks?a=1", headers=headers, body=body)

    assert outcome.ok
    assert outcome.status == 200
    assert outcome.body == b"ok"
    assert outcome.error_kind is None
    assert outcome.remote_address == "127.0.0.1"
    assert outcome.elapsed_ms >= 0
    [received] = receiver.requests
    assert received.method == "POST"
    assert received.path == "/hooks?a=1"
    assert received.body == body
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Webhooks-Event"] == "order.created"
    assert received.headers["User-Agent"] == settings.OUTBOUND_USER_AGENT
    assert "Cookie" not in received.headers


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "GET"])
def test_it_sends_other_methods(receiver, method):
    outcome = send(method=method, url=receiver.url, headers={}, body=b"x" if method != "GET" else b"")

    assert outcome.ok
    assert receiver.requests[0].method == method


def test_it_reports_a_non_2xx_answer_as_not_ok_with_its_status_headers_and_body(receiver):
    receiver.reply = Reply(status=503, headers={"Retry-After": "120"}, body=b"busy")

    outcome = send(method="POST", url=receiver.url, headers={}, body=b"{}")

    assert not outcome.ok
    assert outcome.status == 503
    assert outcome.headers["Retry-After"] == "120"
    assert outcome.body == b"busy"
    assert outcome.error_kind is None


def test_it_truncates_the_response_body_at_the_limit(receiver, settings):
    limit = settings.OUTBOUND_MAX_RESPONSE_BYTES
    receiver.reply = Reply(body=bytes(range(256)) * (limit // 256 * 3))

    outcome = send(method="POST", url=receiver.url, headers={}, body=b"{}")

    assert outcome.ok
    assert len(outcome.body) == limit
    assert outcome.body == receiver.reply.body[:limit]


def test_it_reuses_the_connection_to_the_same_host(receiver):
    send(method="POST", url=receiver.url, headers={}, body=b"1")
    outcome = send(method="POST", url=receiver.url, headers={}, body=b"2")

    first, second = receiver.requests
    assert first.client_port == second.client_port
    assert outcome.remote_address == "127.0.0.1"


def test_threads_send_concurrently_each_on_its_own_connections(receiver):
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(
            pool.map(lambda n: send(method="POST", url=receiver.url, headers={}, body=b"%d" % n), range(20))
        )

    assert all(o.ok for o in outcomes)
    assert sorted(r.body for r in receiver.requests) == sorted(b"%d" % n for n in range(20))
    assert len({r.client_port for r in receiver.requests}) <= 4


def test_it_does_not_keep_cookies_between_requests(receiver):
    receiver.reply = Reply(headers={"Set-Cookie": "session=secret; Path=/"})

    send(method="POST", url=receiver.url, headers={}, body=b"1")
    send(method="POST", url=receiver.url, headers={}, body=b"2")

    assert "Cookie" not in receiver.requests[1].headers


def test_it_times_out_when_the_receiver_answers_too_slowly(receiver):
    receiver.reply = Reply(delay=3)

    outcome = send(method="POST", url=receiver.url, headers={}, body=b"{}", read_timeout=0.2)

    assert not outcome.ok
    assert outcome.error_kind == "timeout"
    assert outcome.status is None
    assert outcome.elapsed_ms < 2000


def test_it_reports_a_refused_connection(unused_port):
    outcome = send(method="POST", url=f"http://127.0.0.1:{unused_port}/", headers={}, body=b"{}")

    assert not outcome.ok
    assert outcome.error_kind == "connection"
    assert "refused" in outcome.error.lower()


@pytest.mark.parametrize("status", [307, 308])
def test_it_follows_a_307_or_308_keeping_method_and_body(make_receiver, status):
    target = make_receiver()
    redirector = make_receiver()
    redirector.reply = Reply(status=status, headers={"Location": target.url + "moved"})

    outcome = send(
        method="PUT", url=redirector.url, headers={"Content-Type": "application/json"}, body=b'{"a": 1}'
    )

    assert outcome.ok
    [received] = target.requests
    assert (received.method, received.path, received.body) == ("PUT", "/moved", b'{"a": 1}')
    assert received.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("status", [301, 302, 303])
def test_it_follows_a_301_302_or_303_as_a_get_without_body(make_receiver, status):
    target = make_receiver()
    redirector = make_receiver()
    redirector.reply = Reply(status=status, headers={"Location": target.url})

    outcome = send(
        method="POST", url=redirector.url, headers={"Content-Type": "application/json"}, body=b'{"a": 1}'
    )

    assert outcome.ok
    [received] = target.requests
    assert (received.method, received.body) == ("GET", b"")
    assert "Content-Type" not in received.headers


def test_it_follows_a_relative_location(receiver):
    receiver.reply = Reply(status=307, headers={"Location": "/elsewhere"})

    outcome = send(method="POST", url=receiver.url, headers={}, body=b"{}")

    assert outcome.error_kind == "too_many_redirects"
    assert [r.path for r in receiver.requests][:2] == ["/", "/elsewhere"]


def test_it_gives_up_after_five_redirects(receiver):
    receiver.reply = Reply(status=302, headers={"Location": receiver.url})

    outcome = send(method="GET", url=receiver.url, headers={}, body=b"")

    assert not outcome.ok
    assert outcome.error_kind == "too_many_redirects"
    assert outcome.status == 302
    assert len(receiver.requests) == MAX_REDIRECTS + 1


def test_it_drops_the_authorization_header_when_redirected_to_another_host(make_receiver):
    target = make_receiver("127.0.0.2")
    redirector = make_receiver()
    redirector.reply = Reply(status=307, headers={"Location": target.url})

    send(method="POST", url=redirector.url, headers={"Authorization": "Bearer s3cret"}, body=b"{}")

    assert redirector.requests[0].headers["Authorization"] == "Bearer s3cret"
    assert "Authorization" not in target.requests[0].headers


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "example.com/hooks", "http://", "http://127.0.0.1:99999/"]
)
def test_it_rejects_an_invalid_url(url):
    outcome = send(method="POST", url=url, headers={}, body=b"{}")

    assert not outcome.ok
    assert outcome.error_kind == "invalid_url"
    assert outcome.error


def test_it_rejects_a_header_value_that_would_split_the_request(receiver):
    outcome = send(method="POST", url=receiver.url, headers={"X-Test": "a\r\nX-Injected: 1"}, body=b"{}")

    assert outcome.error_kind == "invalid_request"
    assert receiver.requests == []
