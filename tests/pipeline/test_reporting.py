"""Reports kept by the real pipeline, and the retention purge run by Celery beat and a worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import IncomingMessage, OutgoingMessage
from reporting.models import Traffic
from tests.conftest import make_actor
from tests.pipeline.conftest import ingest, wait_until
from tests.support.receivers import fail_times

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
RETENTION_DAYS = 30  # the pipeline account's plan (pro)


def test_the_worker_keeps_the_reports_in_step_with_its_deliveries(
    worker, account, make_input, make_destination, make_receiver
):
    source = make_input()
    make_destination(source, make_receiver())
    make_destination(source, make_receiver(responder=fail_times(1)), retry_interval=1)
    owner = make_actor(account)

    for n in range(10):
        ingest(source, {"n": n}, event="order.created")
    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 20)

    summary = owner.client.get(f"/v1/accounts/{account.pk}/stats/summary").json()
    minutes = owner.client.get(
        f"/v1/accounts/{account.pk}/stats/overview",
        {"start_date": "last 10 minutes", "end_date": "now", "precision": "minute"},
    ).json()["results"]
    expected = {"incoming": 10, "outgoing": 20, "succeeded": 20, "failed": 0, "retried": 10, "attempts": 30}
    assert {name: summary[name] for name in expected} == expected
    assert {name: sum(point[name] for point in minutes) for name in expected} == expected
    assert summary["latency_p50_ms"] is not None


def test_beat_and_a_worker_purge_what_is_past_retention(
    workers, account, make_input, make_destination, receiver
):
    source = make_input()
    make_destination(source, receiver)
    expired = [ingest(source, {"n": n}, event="order.created") for n in range(3)]
    workers.start()
    workers.start_beat()
    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 3)
    # The clock moved past retention for these three: they arrived 31 days ago.
    long_ago = timezone.now() - timedelta(days=RETENTION_DAYS + 1)
    IncomingMessage.objects.filter(pk__in=[incoming.pk for incoming in expired]).update(created=long_ago)
    kept = ingest(source, {"n": 3}, event="order.created")

    wait_until(lambda: not IncomingMessage.objects.filter(created__lte=long_ago).exists())

    wait_until(lambda: OutgoingMessage.objects.filter(status="succeeded").count() == 1)
    assert list(IncomingMessage.objects.values_list("pk", flat=True)) == [kept.pk]
    assert "reporting.tasks.purge_expired_messages" in workers.beat_log()
    assert "reporting.tasks.purge_expired_messages" in workers.log()
    # The rollups keep the history of what was purged.
    assert sum(Traffic.objects.filter(precision="hour").values_list("incoming", flat=True)) == 4
