"""At-least-once whatever crashes: a worker killed mid-request, Redis flushed; and the
disabling of a destination failing for days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.delivery import outgoing_deliver
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_process
from deliveries.sweeper import disable_failing_destinations, sweep
from destinations.models import Destination
from tests.pipeline.conftest import SWEEP_AFTER_SECONDS, flush_redis, ingest, wait_until
from tests.support.receivers import Reply, always


def all_delivered_after_sweeps(count: int, timeout: float) -> None:
    """Run the sweeper (as Celery beat would) until ``count`` outgoing messages succeeded."""

    def delivered() -> bool:
        sweep()
        return OutgoingMessage.objects.filter(status="succeeded").count() == count

    wait_until(delivered, timeout=timeout, interval=0.5)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_message_is_delivered_after_the_worker_is_killed_mid_request(
    workers, settings, make_scripted_receiver, make_input, make_destination
):
    settings.SWEEP_AFTER_SECONDS = SWEEP_AFTER_SECONDS
    receiver = make_scripted_receiver(always(Reply(delay=1.0)))
    source = make_input()
    make_destination(source, receiver)
    workers.start()

    sent = [ingest(source, {"n": n}, event="order.created") for n in range(20)]
    wait_until(lambda: len(receiver.requests) >= 5, timeout=10)
    workers.kill()
    in_flight = Attempt.objects.filter(finished_at__isnull=True).count()
    delivered_before = OutgoingMessage.objects.filter(status="succeeded").count()
    workers.restart()

    all_delivered_after_sweeps(20, timeout=30)
    assert not IncomingMessage.objects.exclude(status="processed").exists()
    outgoing = set(OutgoingMessage.objects.values_list("pk", flat=True))
    assert {o.pk for incoming in sent for o in incoming.outgoing_messages.all()} == outgoing
    assert set(receiver.message_ids()) == outgoing
    print(
        f"\nSIGKILL: {in_flight} attempts cut off, {delivered_before} delivered before the kill, "
        f"{len(receiver.requests)} requests for 20 messages"
    )
    assert in_flight > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_message_is_delivered_after_redis_is_flushed_before_processing(
    workers, settings, make_scripted_receiver, make_input, make_destination
):
    settings.SWEEP_AFTER_SECONDS = SWEEP_AFTER_SECONDS
    receiver = make_scripted_receiver()
    source = make_input()
    make_destination(source, receiver)
    make_destination(source, receiver, event_filters=["order.*"])

    for n in range(10):
        ingest(source, {"n": n}, event="order.created")
    flush_redis()  # every queued ``process`` task is gone
    workers.start(flush=False)

    all_delivered_after_sweeps(20, timeout=20)
    assert len(receiver.requests) == 20
    assert not IncomingMessage.objects.exclude(status="processed").exists()


@pytest.mark.django_db
def test_a_destination_failing_for_days_without_a_success_is_disabled(
    make_scripted_receiver, make_input, make_destination, mailoutbox, django_capture_on_commit_callbacks
):
    receiver = make_scripted_receiver(always(Reply(status=500)))
    source = make_input()
    long_failing = make_destination(source, receiver, alert_on_failure=["ops@example.com"])
    recently_failing = make_destination(source, receiver)
    incoming = ingest(source, event="order.created")
    outgoing_deliver(outgoing_ids=incoming_process(incoming_ids=[incoming.pk]))
    assert Destination.objects.filter(failing_since__isnull=False).count() == 2
    # Move the clock: the failures began six (and four) days ago.
    for destination, days in ((long_failing, 6), (recently_failing, 4)):
        Destination.objects.filter(pk=destination.pk).update(
            failing_since=timezone.now() - timedelta(days=days)
        )
        Attempt.objects.filter(outgoing__destination=destination).update(
            started_at=timezone.now() - timedelta(days=days)
        )

    with django_capture_on_commit_callbacks(execute=True):
        assert disable_failing_destinations() == 1

    long_failing.refresh_from_db()
    recently_failing.refresh_from_db()
    assert long_failing.status == "disabled"
    assert long_failing.disabled_reason == "Every delivery failed for 5 days."
    assert recently_failing.status == "active"
    (email,) = mailoutbox
    assert email.to == ["ops@example.com"]
    assert long_failing.pk in email.body
    assert disable_failing_destinations() == 0
    assert len(mailoutbox) == 1
