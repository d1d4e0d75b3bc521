"""A hanging destination delays only its own messages."""

from __future__ import annotations

import time

import pytest

from deliveries.models import OutgoingMessage
from tests.pipeline.conftest import ingest, wait_until
from tests.support.receivers import Reply, always

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# Within the worker's 16 threads, and twice as many hanging deliveries as threads: the
# per-destination in-flight cap (DESTINATION_MAX_IN_FLIGHT, 8) leaves the other threads free.
@pytest.mark.parametrize("hanging_messages", [5, 32])
def test_a_hanging_destination_does_not_delay_another_destinations_deliveries(
    hanging_messages, worker, make_scripted_receiver, make_input, make_destination
):
    hanging = make_scripted_receiver(always(Reply(delay=20)))
    healthy = make_scripted_receiver()
    stuck_input, source = make_input(), make_input()
    make_destination(stuck_input, hanging, retry_count=5)
    destination = make_destination(source, healthy)

    for n in range(hanging_messages):
        ingest(stuck_input, {"n": n}, event="order.created")
    wait_until(lambda: len(hanging.requests) >= min(hanging_messages, 8))
    sent = {}
    for n in range(20):
        incoming = ingest(source, {"n": n}, event="order.created")
        sent[incoming.pk] = incoming.created.timestamp()
        time.sleep(0.05)

    wait_until(lambda: len(healthy.requests) >= 20)
    incoming_of = dict(
        OutgoingMessage.objects.filter(destination=destination).values_list("pk", "incoming_id")
    )
    latencies = [request.arrived - sent[incoming_of[request.message_id]] for request in healthy.requests]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(
        f"\nisolation ({hanging_messages} hanging): healthy destination ingest->receipt "
        f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
        f"hanging receiver got {len(hanging.requests)} requests"
    )
    assert p99 < 1.0
