"""Failures: the retry schedule, Retry-After, exhaustion with one alert email, 410 Gone."""

from __future__ import annotations

import pytest

from deliveries.models import Attempt, OutgoingMessage
from destinations.models import Destination
from tests.pipeline.conftest import ingest, wait_until
from tests.support.receivers import Reply, always, fail_times

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_message_failing_twice_is_delivered_on_the_third_attempt(
    worker, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(fail_times(2))
    source = make_input()
    make_destination(source, receiver, retry_policy_id="fixed", retry_interval=1, retry_count=5)

    incoming = ingest(source, event="order.created")

    outgoing = wait_until(
        lambda: OutgoingMessage.objects.filter(incoming=incoming, status="succeeded").first(), timeout=15
    )
    assert outgoing.attempt_count == 3
    attempts = list(Attempt.objects.filter(outgoing=outgoing).order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert [r.headers["X-Webhooks-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert {r.message_id for r in receiver.requests} == {outgoing.pk}
    gaps = [b.arrived - a.arrived for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    assert Destination.objects.get(pk=outgoing.destination_id).failing_since is None


def test_exhausted_retries_fail_the_message_with_one_alert_email_per_destination(
    worker, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(always(Reply(status=500, body=b"boom")))
    source = make_input()
    destination = make_destination(
        source,
        receiver,
        retry_policy_id="fixed",
        retry_interval=1,
        retry_count=2,
        alert_on_failure=["ops@example.com"],
    )

    for _ in range(3):
        ingest(source, event="order.created")

    wait_until(lambda: OutgoingMessage.objects.filter(status="failed").count() == 3)
    for outgoing in OutgoingMessage.objects.all():
        assert outgoing.attempt_count == 3
        assert outgoing.last_status_code == 500
        assert list(outgoing.attempts.values_list("number", "succeeded")) == [
            (1, False),
            (2, False),
            (3, False),
        ]
    assert len(receiver.requests) == 9
    destination.refresh_from_db()
    assert destination.failing_since is not None
    assert destination.status == "active"
    emails = wait_until(worker.emails)  # sent once the outcome is committed
    assert len(emails) == 1, emails
    assert "ops@example.com" in emails[0]
    assert "failed after its retries" in emails[0]


def test_retry_after_on_a_429_is_honoured_over_a_shorter_interval(
    worker, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(fail_times(1, Reply(status=429, headers={"Retry-After": "2"})))
    source = make_input()
    make_destination(source, receiver, retry_policy_id="fixed", retry_interval=1, retry_count=3)

    incoming = ingest(source, event="order.created")

    wait_until(
        lambda: OutgoingMessage.objects.filter(incoming=incoming, status="succeeded").exists(), timeout=15
    )
    first, second = receiver.requests
    assert second.arrived - first.arrived >= 2.0
    assert Attempt.objects.get(number=1).response_headers.get("Retry-After") == "2"


def test_a_410_gone_disables_the_destination_at_once(
    worker, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(always(Reply(status=410)))
    source = make_input()
    destination = make_destination(source, receiver, retry_count=5, alert_on_failure=["ops@example.com"])

    incoming = ingest(source, event="order.created")

    outgoing = wait_until(lambda: OutgoingMessage.objects.filter(incoming=incoming, status="failed").first())
    assert outgoing.attempt_count == 1
    destination.refresh_from_db()
    assert destination.status == "disabled"
    assert "410" in destination.disabled_reason
    wait_until(lambda: any("was disabled" in email for email in worker.emails()))  # sent after the commit

    later = ingest(source, event="order.created")
    wait_until(lambda: type(later).objects.get(pk=later.pk).status == "processed")
    assert not OutgoingMessage.objects.filter(incoming=later).exists()
    assert len(receiver.requests) == 1
