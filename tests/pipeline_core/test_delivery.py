from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.redis import redis_client
from deliveries import throttle
from deliveries.claim import outgoing_claim, parked
from deliveries.delivery import enqueue_followups, outgoing_deliver, outgoing_deliver_and_enqueue
from deliveries.models import Certificate, OutgoingMessage
from deliveries.outcome import Next
from deliveries.processing import incoming_process, incoming_process_and_deliver
from deliveries.queue import enqueue_deliver
from deliveries.send import HAND_OFF_SECONDS
from deliveries.throttle import SLOW_REQUEST_SECONDS, in_flight, request_slot, slow
from destinations.models import Destination
from tests.pipeline_core.conftest import accept, deliver_one
from tests.routing_factories import DestinationFactory
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db


def outgoing_for(input_, **accept_fields) -> OutgoingMessage:
    incoming = accept(input_, **accept_fields)
    (outgoing_id,) = incoming_process(incoming_ids=[incoming.pk])
    return OutgoingMessage.objects.get(pk=outgoing_id)


def make_due(outgoing: OutgoingMessage) -> None:
    OutgoingMessage.objects.filter(pk=outgoing.pk).update(next_attempt_at=timezone.now())


def test_the_receiver_gets_the_exact_request_signed_both_ways(route, receiver):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(
        signature_scheme=Destination.SignatureScheme.BOTH,
        headers_to_include=["x-trace"],
        authentication_type=Destination.AuthenticationType.BEARER,
        authentication_options={"token": "s3cret"},
    )
    body = b'{"event": "order.created", "total": 12.5}'
    outgoing = outgoing_for(input_, body=body)

    deliver_one(outgoing.pk)

    (request,) = receiver.requests
    destination.refresh_from_db()
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.body == body
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Trace"] == "t-1"
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.headers["X-Webhooks-Message-Id"] == outgoing.pk
    assert request.headers["X-Webhooks-Event"] == "order.created"
    assert request.headers["X-Webhooks-Attempt"] == "1"
    Webhook(destination.secret).verify(body, request.headers)
    expected = hmac.new(destination.secret.encode(), (receiver.url + "hook").encode() + body, hashlib.sha256)
    assert request.headers["X-Webhooks-Signature"] == expected.hexdigest()
    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingMessage.Status.SUCCEEDED
    assert outgoing.attempts.get().succeeded is True


def test_message_method_overrides_the_incoming_method(route, receiver):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(message_method="PUT")

    deliver_one(outgoing_for(input_).pk)

    assert receiver.requests[0].method == "PUT"


def test_a_failure_is_recorded_and_retried_on_the_policy_schedule(route, receiver):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(
        retry_policy_id="fixed", retry_interval=60, retry_count=3
    )
    receiver.reply = Reply(status=500, body=b"boom")
    outgoing = outgoing_for(input_)
    before = timezone.now()

    following = deliver_one(outgoing.pk)

    outgoing.refresh_from_db()
    attempt = outgoing.attempts.get()
    assert following.retry_in == 60
    assert outgoing.status == OutgoingMessage.Status.PENDING
    assert outgoing.next_attempt_at >= before + timedelta(seconds=59)
    assert outgoing.lease_until is None
    assert (attempt.status_code, attempt.succeeded, bytes(attempt.response_body)) == (500, False, b"boom")
    assert deliver_one(outgoing.pk).retry_in is None  # not due yet: nothing sent
    assert len(receiver.requests) == 1


def test_retries_end_in_failed_with_one_alert_per_destination_per_hour(
    account_a, route, receiver, django_capture_on_commit_callbacks
):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(
        retry_policy_id="fixed", retry_interval=1, retry_count=1, alert_on_failure=["ops@example.com"]
    )
    receiver.reply = Reply(status=503)
    first, second = outgoing_for(input_), outgoing_for(input_)

    with django_capture_on_commit_callbacks(execute=True):
        for outgoing in (first, second, first, second):
            make_due(outgoing)
            deliver_one(outgoing.pk)

    statuses = set(
        OutgoingMessage.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    )
    assert statuses == {OutgoingMessage.Status.FAILED}
    assert first.attempts.count() == 2
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]


def test_retry_after_is_honoured_on_429(route, receiver):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(
        retry_policy_id="fixed", retry_interval=1, retry_count=3
    )
    receiver.reply = Reply(status=429, headers={"Retry-After": "120"})

    following = deliver_one(outgoing_for(input_).pk)

    assert following.retry_in == 120


def test_410_gone_disables_the_destination_at_once(route, receiver):
    input_, destination = route
    receiver.reply = Reply(status=410)
    outgoing = outgoing_for(input_)

    deliver_one(outgoing.pk)

    destination.refresh_from_db()
    outgoing.refresh_from_db()
    assert destination.status == Destination.Status.DISABLED
    assert "410" in destination.disabled_reason
    assert outgoing.status == OutgoingMessage.Status.FAILED


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook",
        "http://127.0.0.1:9/hook",
        "http://[::1]:9/",
    ],
)
def test_ssrf_targets_fail_at_once_with_the_reason_and_a_log_line(route, url, caplog):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(
        endpoint_url=url, retry_policy_id="fixed", retry_interval=1, retry_count=5
    )
    outgoing = outgoing_for(input_)

    with override_settings(OUTBOUND_ALLOWED_NETWORKS=[]):
        following = deliver_one(outgoing.pk)

    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingMessage.Status.FAILED  # a configuration error: no retries
    assert following.retry_in is None
    assert "blocked by the SSRF guard, not retried" in caplog.text
    attempt = outgoing.attempts.get()
    assert attempt.error_kind == "ssrf_blocked"
    assert attempt.status_code is None
    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingMessage.Status.FAILED


def test_a_self_signed_receiver_needs_its_certificate_imported_or_verify_ssl_off(
    account_a, route, tls_receiver, ca
):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(
        endpoint_url=tls_receiver.url, retry_policy_id="none"
    )

    deliver_one(outgoing_for(input_).pk)
    Certificate.objects.create(
        account=account_a,
        domain="127.0.0.1",
        port=tls_receiver.port,
        pem=ca.cert_pem.bytes().decode(),
        fingerprint_sha256="x",
    )
    deliver_one(outgoing_for(input_).pk)
    Certificate.objects.all().delete()
    Destination.objects.filter(pk=destination.pk).update(verify_ssl=False)
    deliver_one(outgoing_for(input_).pk)

    results = list(OutgoingMessage.objects.order_by("created").values_list("status", flat=True))
    assert results == ["failed", "succeeded", "succeeded"]


def test_fifo_delivers_only_the_head_of_the_queue(route, receiver):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(delivery_order=Destination.DeliveryOrder.FIFO)
    receiver.reply = Reply(status=500)
    head, behind = outgoing_for(input_), outgoing_for(input_)

    assert outgoing_claim(outgoing_ids=[behind.pk]).claimed == []
    following = deliver_one(head.pk)
    assert following.retry_in is not None
    assert outgoing_claim(outgoing_ids=[behind.pk]).claimed == []  # the failing head still blocks it

    receiver.reply = Reply(status=200)
    make_due(head)
    following = deliver_one(head.pk)
    assert following.then_deliver == behind.pk


def test_a_claimed_message_is_not_delivered_in_parallel(route):
    input_, _ = route
    outgoing = outgoing_for(input_)

    assert outgoing_claim(outgoing_ids=[outgoing.pk]).claimed != []
    assert outgoing_claim(outgoing_ids=[outgoing.pk]).claimed == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_message_locked_by_another_transaction_as_it_is_claimed_is_tried_again(route, receiver):
    input_, _ = route
    outgoing = outgoing_for(input_)
    other = connection.copy()  # another session, as another worker's
    try:
        with other.cursor() as cursor:
            other.set_autocommit(False)
            cursor.execute(
                "SELECT id FROM deliveries_outgoingmessage WHERE id = %s FOR UPDATE", [outgoing.pk]
            )

            followups = outgoing_deliver(outgoing_ids=[outgoing.pk])

            other.rollback()
    finally:
        other.close()

    assert receiver.requests == []
    assert followups[outgoing.pk].busy
    outgoing.refresh_from_db()
    assert (outgoing.status, outgoing.attempt_count, outgoing.lease_until) == ("pending", 0, None)
    assert outgoing_claim(outgoing_ids=[outgoing.pk]).claimed != []  # free again


def test_the_rate_limit_spaces_a_batch_s_deliveries(route, receiver):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(rate_limit=2)
    messages = [outgoing_for(input_) for _ in range(3)]

    outgoing_deliver(outgoing_ids=[outgoing.pk for outgoing in messages])

    # Slots are 1/rate = 0.5 s apart, each taken as its request is made.
    assert receiver.message_ids() == [outgoing.pk for outgoing in messages]
    arrived = [request.arrived for request in receiver.requests]
    assert all(later - earlier >= 0.45 for earlier, later in itertools.pairwise(arrived))


def test_the_rate_limit_delays_what_would_wait_too_long_without_an_attempt(route, receiver, monkeypatch):
    input_, destination = route
    Destination.objects.filter(pk=destination.pk).update(rate_limit=2)
    monkeypatch.setattr(throttle, "RATE_WAIT_SECONDS", 0.3)  # less than a slot
    first, *later = [outgoing_for(input_) for _ in range(3)]

    followups = outgoing_deliver(outgoing_ids=[first.pk, *(outgoing.pk for outgoing in later)])

    assert receiver.message_ids() == [first.pk]
    for outgoing in later:
        assert 0 < followups[outgoing.pk].retry_in <= 0.5
        outgoing.refresh_from_db()
        assert (outgoing.status, outgoing.attempt_count, outgoing.lease_until) == ("pending", 0, None)
        assert not outgoing.attempts.exists()


def test_a_destination_at_its_in_flight_cap_parks_the_next_until_a_delivery_finishes(
    route, receiver, settings, django_capture_on_commit_callbacks
):
    input_, destination = route
    settings.DESTINATION_MAX_IN_FLIGHT = 1
    waiting, finishing = outgoing_for(input_), outgoing_for(input_)

    with request_slot(destination_id=destination.pk) as slot:  # a request in flight elsewhere
        assert slot is not None
        assert in_flight(destination_ids=[destination.pk]) == {destination.pk: 1}
        followups = outgoing_deliver(outgoing_ids=[waiting.pk])

    assert receiver.requests == []
    assert followups[waiting.pk].parked_for == destination.pk
    waiting.refresh_from_db()
    assert (waiting.attempt_count, waiting.lease_until, waiting.enqueued_at) == (0, None, None)
    assert not waiting.attempts.exists()
    with transaction.atomic():  # taking a parked message marks it: look, and put it back
        assert parked(wake={destination.pk: 2}) == [waiting.pk]
        transaction.set_rollback(True)

    with django_capture_on_commit_callbacks() as callbacks:
        outgoing_deliver_and_enqueue(outgoing_ids=[finishing.pk])

    waiting.refresh_from_db()
    assert len(receiver.requests) == 1
    assert waiting.enqueued_at is not None  # woken: its deliver task is sent on commit
    assert len(callbacks) == 1
    assert in_flight(destination_ids=[destination.pk]) == {destination.pk: 0}


def test_a_delivery_left_unanswered_wakes_one_parked_message_and_an_answered_one_a_batch(route):
    input_, destination = route
    waiting = [outgoing_for(input_) for _ in range(4)]
    OutgoingMessage.objects.filter(pk__in=[outgoing.pk for outgoing in waiting]).update(
        enqueued_at=None, lease_until=None, next_attempt_at=timezone.now()
    )
    woken = OutgoingMessage.objects.filter(destination=destination, enqueued_at__isnull=False)

    # A request to it timed out: one message is sent to probe it, not a batch that would wait too.
    enqueue_followups({"OMtimedout": Next(retry_in=60, finished_for=destination.pk, unanswered=True)})
    assert list(woken.values_list("pk", flat=True)) == [waiting[0].pk]

    enqueue_followups({"OManswered": Next(finished_for=destination.pk)})
    assert woken.count() == 4


def test_a_destination_whose_requests_hang_has_its_messages_parked_without_an_attempt(
    route, receiver, settings
):
    input_, destination = route
    settings.DESTINATION_MAX_IN_FLIGHT = 1
    waiting = outgoing_for(input_)

    with request_slot(destination_id=destination.pk):  # a request in flight elsewhere...
        assert slow(destination_ids=[destination.pk]) == set()  # ...for a moment: worth waiting for
        time.sleep(SLOW_REQUEST_SECONDS)
        assert slow(destination_ids=[destination.pk]) == {destination.pk}  # for long: hanging
        followups = outgoing_deliver(outgoing_ids=[waiting.pk])

    assert receiver.requests == []
    assert followups[waiting.pk].parked_for == destination.pk
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempt_count, waiting.lease_until, waiting.enqueued_at) == (
        "pending",
        0,
        None,
        None,
    )
    assert not waiting.attempts.exists()
    assert slow(destination_ids=[destination.pk]) == set()


@pytest.fixture(params=["redis", "in process"])
def slot_store(request, settings):
    """The slots in Redis, or in process (the embedded default, without REDIS_URL)."""
    if request.param == "in process":
        settings.REDIS_URL = ""
    redis_client.cache_clear()
    yield
    redis_client.cache_clear()


def test_a_destination_found_slow_stays_so_while_its_slots_are_held_until_its_mark_expires(
    slot_store, route, settings, monkeypatch
):
    _, destination = route
    settings.DESTINATION_MAX_IN_FLIGHT = 1
    monkeypatch.setattr(throttle, "SLOW_MARK_SECONDS", 1.0)

    with request_slot(destination_id=destination.pk) as slot:
        time.sleep(SLOW_REQUEST_SECONDS)
        assert slow(destination_ids=[destination.pk]) == {destination.pk}  # found slow: marked
        slot.renew()  # its hanging request ends and another starts: still slow, no new wait
        assert slow(destination_ids=[destination.pk]) == {destination.pk}
        with request_slot(destination_id=destination.pk) as second:
            assert second is None  # not waited for
        time.sleep(1.0)
        slot.renew()  # the mark has expired, and this request is new
        assert slow(destination_ids=[destination.pk]) == set()
    assert slow(destination_ids=[destination.pk]) == set()  # a free slot: never slow


def test_processing_parks_the_message_for_a_destination_whose_requests_hang_and_sends_the_others(
    account_a, route, receiver, settings
):
    input_, hanging = route
    healthy = DestinationFactory(
        account=account_a, input=input_, endpoint_url=receiver.url + "ok", rate_limit=None
    )
    settings.DESTINATION_MAX_IN_FLIGHT = 1
    incoming = accept(input_)

    with request_slot(destination_id=hanging.pk):  # a request in flight elsewhere, for long
        time.sleep(SLOW_REQUEST_SECONDS)
        incoming_process_and_deliver(incoming_ids=[incoming.pk])

    parked_one = OutgoingMessage.objects.get(incoming=incoming, destination=hanging)
    sent_one = OutgoingMessage.objects.get(incoming=incoming, destination=healthy)
    assert (parked_one.status, parked_one.attempt_count, parked_one.lease_until, parked_one.enqueued_at) == (
        "pending",
        0,
        None,
        None,
    )
    assert not parked_one.attempts.exists()
    assert sent_one.status == "succeeded"
    assert [request.path for request in receiver.requests] == ["/ok"]
    assert parked(wake={hanging.pk: 1}) == [parked_one.pk]  # woken when a slot frees
    parked_one.refresh_from_db()
    assert parked_one.enqueued_at is not None


def test_processing_parks_the_message_for_a_destination_whose_slots_are_all_held_rather_than_wait(
    route, receiver, settings
):
    input_, busy = route
    settings.DESTINATION_MAX_IN_FLIGHT = 1
    incoming = accept(input_)
    taken, free = threading.Event(), threading.Event()

    def request_in_flight_elsewhere() -> None:
        with request_slot(destination_id=busy.pk):
            taken.set()
            free.wait(timeout=30)

    holder = threading.Thread(target=request_in_flight_elsewhere)
    holder.start()
    assert taken.wait(timeout=30)
    time.sleep(throttle.FULL_FOR_SECONDS)
    # Freed before the destination counts as slow: a batch waiting for the slot would get it.
    threading.Timer(SLOW_REQUEST_SECONDS * 0.9 - throttle.FULL_FOR_SECONDS, free.set).start()
    incoming_process_and_deliver(incoming_ids=[incoming.pk])
    holder.join()

    waiting = OutgoingMessage.objects.get(incoming=incoming)
    assert receiver.requests == []
    assert (waiting.status, waiting.attempt_count, waiting.lease_until) == ("pending", 0, None)
    assert not waiting.attempts.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_leaves_a_slow_destination_to_its_sender_and_the_outcome_is_still_recorded(route, receiver):
    input_, _ = route
    answer = threading.Event()
    receiver.responder = lambda index, request: (answer.wait(60), Reply())[1]
    outgoing = outgoing_for(input_)

    started = time.monotonic()
    outgoing_deliver_and_enqueue(outgoing_ids=[outgoing.pk], hand_off=True)
    returned_after = time.monotonic() - started

    # Returned while the receiver still holds the request (it answers once told to).
    deadline = time.monotonic() + 60
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    outgoing.refresh_from_db()
    assert (len(receiver.requests), outgoing.status, outgoing.lease_until is not None) == (1, "pending", True)
    answer.set()
    while outgoing.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
        outgoing.refresh_from_db()
    assert (outgoing.status, outgoing.lease_until, outgoing.attempts.get().status_code) == (
        "succeeded",
        None,
        200,
    )
    assert returned_after >= HAND_OFF_SECONDS


def test_other_destinations_are_unaffected_by_a_disabled_one(account_a, route, receiver):
    input_, _ = route
    DestinationFactory(account=account_a, input=input_, status=Destination.Status.DISABLED)

    assert len(incoming_process(incoming_ids=[accept(input_).pk])) == 1


def test_a_dynamic_message_goes_once_to_its_target_url(account_a, route, receiver):
    input_, _ = route
    DestinationFactory(
        account=account_a, input=input_, endpoint_url="https://ignored.example.com/", rate_limit=None
    )
    incoming = accept(input_, target_url=receiver.url + "dynamic/target")

    outgoing_ids = incoming_process(incoming_ids=[incoming.pk])
    deliver_one(outgoing_ids[0])

    assert len(outgoing_ids) == 1
    assert [request.path for request in receiver.requests] == ["/dynamic/target"]


def test_a_batch_is_sent_in_queue_order_with_one_attempt_row_each(route, receiver):
    input_, destination = route
    messages = [outgoing_for(input_) for _ in range(3)]

    followups = outgoing_deliver(outgoing_ids=[outgoing.pk for outgoing in reversed(messages)])

    assert [request.headers["X-Webhooks-Message-Id"] for request in receiver.requests] == [
        outgoing.pk for outgoing in messages
    ]
    for outgoing in messages:
        outgoing.refresh_from_db()
        (attempt,) = outgoing.attempts.all()
        assert (outgoing.status, outgoing.lease_until, attempt.number, attempt.status_code) == (
            "succeeded",
            None,
            1,
            200,
        )
    assert {following.finished_for for following in followups.values()} == {destination.pk}


def test_a_timeout_ends_the_batch_for_its_destination_and_parks_the_rest(route, receiver, settings):
    input_, _ = route
    settings.OUTBOUND_READ_TIMEOUT = 0.3
    receiver.reply = Reply(delay=1.0)
    first, *rest = [outgoing_for(input_) for _ in range(3)]

    followups = outgoing_deliver(outgoing_ids=[first.pk, *(outgoing.pk for outgoing in rest)])

    assert len(receiver.requests) == 1
    first.refresh_from_db()
    assert (first.status, first.attempt_count, first.lease_until) == ("pending", 1, None)
    assert first.attempts.get().error_kind == "timeout"
    assert followups[first.pk].retry_in is not None
    for outgoing in rest:
        outgoing.refresh_from_db()
        assert (outgoing.attempt_count, outgoing.lease_until, outgoing.enqueued_at) == (0, None, None)
        assert not outgoing.attempts.exists()
        assert followups[outgoing.pk].parked_for == outgoing.destination_id


def test_the_in_flight_cap_counts_a_batch_as_one_request_at_a_time(route, receiver, settings):
    input_, _ = route
    settings.DESTINATION_MAX_IN_FLIGHT = 1
    messages = [outgoing_for(input_) for _ in range(3)]

    outgoing_deliver(outgoing_ids=[outgoing.pk for outgoing in messages])

    assert len(receiver.requests) == 3
    assert receiver.max_in_flight == 1


def test_enqueue_sends_one_task_per_batch_of_one_destination(
    account_a, route, receiver, settings, sent_tasks, django_capture_on_commit_callbacks
):
    input_, first = route
    second = DestinationFactory(account=account_a, input=input_, endpoint_url=receiver.url, rate_limit=None)
    settings.DELIVERY_BATCH_SIZE = 2
    outgoing_ids = [
        outgoing_id for _ in range(3) for outgoing_id in incoming_process(incoming_ids=[accept(input_).pk])
    ]

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_deliver(outgoing_ids)

    batches = [args[0] for name, args in sent_tasks() if name == "deliveries.tasks.deliver"]
    destination_of = dict(OutgoingMessage.objects.values_list("pk", "destination_id"))
    assert sorted(len(batch) for batch in batches) == [1, 1, 2, 2]
    assert all(len({destination_of[outgoing_id] for outgoing_id in batch}) == 1 for batch in batches)
    assert sorted(outgoing_id for batch in batches for outgoing_id in batch) == sorted(outgoing_ids)
    assert {destination_of[batch[0]] for batch in batches} == {first.pk, second.pk}
