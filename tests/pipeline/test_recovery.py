"""At-least-once whatever crashes (a worker killed mid-request or after its claim, Redis flushed), and the disabling
of a destination failing for days: all through scheduled work as production runs it, a real
``celery beat`` sending the sweeps to a real worker; no test calls the sweeper itself."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.dispatcher import claim
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_process
from destinations.models import Destination
from tests.pipeline.conftest import flush_redis, ingest, wait_until
from tests.support.receivers import Reply, always


def assert_run_by_beat(workers, task: str) -> None:
    """Beat sent ``task`` and the worker ran it; beat applied every entry (Celery refuses an
    entry whose limits are inconsistent, and says so at every tick)."""
    wait_until(lambda: re.search(rf"Task {re.escape(task)}\[\S+\] succeeded", workers.log()))
    assert "Couldn't apply scheduled task" not in workers.beat_log(), workers.beat_log()[-3000:]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_warm_shutdown_records_the_delivery_still_in_flight(
    workers, make_scripted_receiver, make_input, make_destination
):
    """The request outlasts the hand-off, so its outcome is left to the recorder thread, whose
    pool takes no more work once the worker's interpreter is exiting: the sender records it."""
    receiver = make_scripted_receiver(always(Reply(delay=1.5)))
    source = make_input()
    make_destination(source, receiver)
    workers.start()

    outgoing_of = ingest(source, {"n": 1}, event="order.created").outgoing_messages
    wait_until(lambda: len(receiver.requests) == 1)
    log = workers.log_path
    workers.stop()  # before the receiver answers

    outgoing = outgoing_of.get()
    assert (outgoing.status, outgoing.lease_until) == (OutgoingMessage.Status.SUCCEEDED, None)
    assert outgoing.attempts.get().status_code == 200
    assert "ERROR" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_message_is_delivered_after_the_worker_is_killed_mid_request(
    workers, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(always(Reply(delay=1.0)))
    source = make_input()
    make_destination(source, receiver)
    workers.start()
    workers.start_beat()

    sent = [ingest(source, {"n": n}, event="order.created") for n in range(20)]
    wait_until(lambda: len(receiver.requests) >= 5)
    workers.kill()  # its claimed and queued deliveries are lost with it
    in_flight = Attempt.objects.filter(finished_at__isnull=True).count()
    delivered_before = OutgoingMessage.objects.filter(status="succeeded").count()
    workers.restart()

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 20)
    assert not IncomingMessage.objects.exclude(status="processed").exists()
    outgoing = set(OutgoingMessage.objects.values_list("pk", flat=True))
    assert {o.pk for incoming in sent for o in incoming.outgoing_messages.all()} == outgoing
    assert set(receiver.message_ids()) == outgoing
    assert_run_by_beat(workers, "deliveries.tasks.sweep")
    print(
        f"\nSIGKILL: {in_flight} attempts cut off, {delivered_before} delivered before the kill, "
        f"{len(receiver.requests)} requests for 20 messages"
    )
    assert in_flight > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_messages_claimed_by_a_worker_that_died_are_processed_once_their_lease_expires(
    workers, make_scripted_receiver, make_input, make_destination, settings
):
    receiver = make_scripted_receiver()
    source = make_input()
    make_destination(source, receiver)
    make_destination(source, receiver, event_filters=["order.*"])
    for n in range(10):
        ingest(source, {"n": n}, event="order.created")
    settings.PROCESSING_LEASE_SECONDS = 3
    claimed_at = time.monotonic()
    assert len(claim(20)) == 10  # claimed by a worker's dispatcher, which then dies with the broker's data
    flush_redis()
    workers.start(flush=False)

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 20)
    assert time.monotonic() - claimed_at >= 3
    assert len(receiver.requests) == 20
    assert not IncomingMessage.objects.exclude(status="processed").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deliveries_whose_worker_died_after_processing_are_sent_by_the_scheduled_sweep(
    workers, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver()
    source = make_input()
    make_destination(source, receiver)
    incoming_ids = [ingest(source, {"n": n}, event="order.created").pk for n in range(10)]
    # Processed as a worker would that then dies before delivering; the broker's data goes too.
    incoming_process(incoming_ids=incoming_ids)
    assert OutgoingMessage.objects.filter(status="pending").count() == 10
    flush_redis()
    workers.start(flush=False)
    workers.start_beat()

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 10)
    assert sorted(receiver.message_ids()) == sorted(OutgoingMessage.objects.values_list("pk", flat=True))
    assert "sweep re-enqueued outgoing=10" in workers.log()
    assert_run_by_beat(workers, "deliveries.tasks.sweep")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_disables_a_destination_failing_for_days_without_a_success(
    workers, make_scripted_receiver, make_input, make_destination
):
    receiver = make_scripted_receiver(always(Reply(status=500)))
    source = make_input()
    long_failing = make_destination(source, receiver, retry_count=0, alert_on_failure=["ops@example.com"])
    recently_failing = make_destination(source, receiver, retry_count=0)
    workers.start()
    ingest(source, event="order.created")
    wait_until(lambda: Destination.objects.filter(failing_since__isnull=False).count() == 2)
    wait_until(lambda: OutgoingMessage.objects.filter(status="failed").count() == 2)
    # Move the clock: the failures began six (and four) days ago.
    for destination, days in ((long_failing, 6), (recently_failing, 4)):
        Destination.objects.filter(pk=destination.pk).update(
            failing_since=timezone.now() - timedelta(days=days)
        )
        Attempt.objects.filter(outgoing__destination=destination).update(
            started_at=timezone.now() - timedelta(days=days)
        )
    workers.start_beat()

    wait_until(lambda: Destination.objects.get(pk=long_failing.pk).status == "disabled")
    assert_run_by_beat(workers, "deliveries.tasks.disable_failing_destinations")
    long_failing.refresh_from_db()
    recently_failing.refresh_from_db()
    assert long_failing.disabled_reason == "Every delivery failed for 5 days."
    assert recently_failing.status == "active"
    (disabled_email,) = wait_until(lambda: [text for text in workers.emails() if "was disabled" in text])
    assert "ops@example.com" in disabled_email
    assert f"Destination {long_failing.pk}" in disabled_email
