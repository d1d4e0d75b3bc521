from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from deliveries.delivery import outgoing_deliver
from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from deliveries.processing import incoming_process
from providers.models import Application, Consumer
from reporting.models import Traffic
from reporting.rollups import traffic_count
from tests.conftest import error_code
from tests.factories import make_account
from tests.pipeline_core.conftest import accept
from tests.routing_factories import DestinationFactory, InputFactory
from tests.support.receivers import Reply, always, fail_times

pytestmark = pytest.mark.django_db
COUNTED = ("incoming", "outgoing", "succeeded", "failed", "retried", "attempts")


def totals(body: dict) -> dict:
    return {name: body[name] for name in COUNTED}


def summary(client, account_id: str, **params) -> dict:
    response = client.get(f"/v1/accounts/{account_id}/stats/summary", params)
    assert response.status_code == 200, response.content
    return response.json()


def overview(client, account_id: str, **params) -> dict:
    response = client.get(f"/v1/accounts/{account_id}/stats/overview", params)
    assert response.status_code == 200, response.content
    return response.json()


# Kept by the pipeline


def test_the_pipeline_keeps_the_rollups_in_step_with_the_messages(owner, make_receiver):
    source = InputFactory(account=owner.account)
    settings = {"rate_limit": None, "retry_policy_id": "fixed", "retry_interval": 1}
    ok, flaky, broken = (
        make_receiver(),
        make_receiver(responder=fail_times(1)),
        make_receiver(responder=always(Reply(status=500))),
    )
    DestinationFactory(account=owner.account, input=source, endpoint_url=ok.url, retry_count=3, **settings)
    flaky_destination = DestinationFactory(
        account=owner.account, input=source, endpoint_url=flaky.url, retry_count=3, **settings
    )
    DestinationFactory(
        account=owner.account, input=source, endpoint_url=broken.url, retry_count=0, **settings
    )
    received = [accept(source) for _ in range(3)]
    accept(source, status=IncomingMessage.Status.FILTERED)

    outgoing_ids = incoming_process(incoming_ids=[incoming.pk for incoming in received])
    outgoing_deliver(outgoing_ids=outgoing_ids)
    OutgoingMessage.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    outgoing_deliver(outgoing_ids=outgoing_ids)

    expected = {"incoming": 4, "outgoing": 9, "succeeded": 6, "failed": 3, "retried": 3, "attempts": 12}
    assert Attempt.objects.count() == 12
    assert totals(summary(owner.client, owner.account.pk)) == expected
    minutes = overview(
        owner.client,
        owner.account.pk,
        start_date="10 minutes ago",
        end_date="now",
        precision="minute",
    )["results"]
    assert {name: sum(point[name] for point in minutes) for name in COUNTED} == expected
    flaky_only = summary(owner.client, owner.account.pk, destination_id=flaky_destination.pk)
    # A destination's traffic: what its input received, and what went out to it.
    assert totals(flaky_only) == {
        "incoming": 4,
        "outgoing": 3,
        "succeeded": 3,
        "failed": 0,
        "retried": 3,
        "attempts": 6,
    }


def test_reprocessing_and_resending_count_once_more_as_they_should(owner, receiver):
    source = InputFactory(account=owner.account)
    destination = DestinationFactory(
        account=owner.account, input=source, endpoint_url=receiver.url, rate_limit=None
    )
    incoming = accept(source)
    [outgoing_id] = incoming_process(incoming_ids=[incoming.pk])
    IncomingMessage.objects.filter(pk=incoming.pk).update(status=IncomingMessage.Status.SKIPPED)

    response = owner.client.post(
        f"/v1/accounts/{owner.account.pk}/resend",
        {"outgoing_message_ids": [outgoing_id], "incoming_message_ids": [incoming.pk]},
        format="json",
    )

    assert response.status_code == 201, response.content
    counted = summary(owner.client, owner.account.pk)
    # The reprocessed message waits to be counted again by processing; the resend is one more.
    assert (counted["incoming"], counted["outgoing"]) == (0, 2)
    incoming_process(incoming_ids=[incoming.pk])
    assert summary(owner.client, owner.account.pk)["incoming"] == 1
    assert destination.outgoing_messages.count() == 2


# Series and percentiles from a known dataset


def count_at(input_, at: datetime, *, latencies: list[int] = (), destination=None) -> None:
    """One incoming message at ``at``; with ``latencies``, as many successful attempts to
    ``destination`` finishing at ``at``."""
    incoming = IncomingMessage(
        account_id=input_.account_id, bucket_id=input_.bucket_id, input_id=input_.pk, created=at
    )
    outgoing = OutgoingMessage(
        account_id=input_.account_id,
        incoming=incoming,
        destination_id=destination.pk if destination else "",
        received_at=at,
    )
    attempts = [(outgoing, Attempt(succeeded=True, elapsed_ms=ms, finished_at=at), False) for ms in latencies]
    traffic_count(incoming=[incoming], attempts=attempts)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def january(owner):
    """Incoming messages on 1 Jan 10:15, 10:45, 11:05, 2 Jan 09:00 and 3 Feb 00:00 (2026)."""
    source = InputFactory(account=owner.account)
    for moment in (
        "2026-01-01 10:15",
        "2026-01-01 10:45",
        "2026-01-01 11:05",
        "2026-01-02 09:00",
        "2026-02-03 00:00",
    ):
        count_at(source, at(moment))
    return source


@pytest.mark.parametrize(
    ("precision", "start", "end", "expected"),
    [
        (
            "minute",
            "2026-01-01T10:15:30Z",
            "2026-01-01T10:17:00Z",
            [("2026-01-01T10:15:00Z", 1), ("2026-01-01T10:16:00Z", 0)],
        ),
        (
            "hour",
            "2026-01-01T10:00:00Z",
            "2026-01-01T11:30:00Z",
            [("2026-01-01T10:00:00Z", 2), ("2026-01-01T11:00:00Z", 1)],
        ),
        (
            "day",
            "2026-01-01T12:00:00Z",
            "2026-01-03T00:00:00Z",
            [("2026-01-01T00:00:00Z", 3), ("2026-01-02T00:00:00Z", 1)],
        ),
        (
            "month",
            "2026-01-15T00:00:00Z",
            "2026-02-10T00:00:00Z",
            [("2026-01-01T00:00:00Z", 4), ("2026-02-01T00:00:00Z", 1)],
        ),
    ],
)
def test_the_overview_sums_each_period_and_fills_the_empty_ones(
    owner, january, precision, start, end, expected
):
    body = overview(owner.client, owner.account.pk, start_date=start, end_date=end, precision=precision)

    assert body["precision"] == precision
    assert body["start_date"] == expected[0][0]
    assert [(point["date"], point["incoming"]) for point in body["results"]] == expected


def test_the_overview_and_summary_filter_by_bucket_and_input(owner, january):
    other = InputFactory(account=owner.account)
    count_at(other, at("2026-01-01 10:20"))
    params = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-02T00:00:00Z"}

    by_input = overview(owner.client, owner.account.pk, precision="day", input_id=other.pk, **params)
    by_bucket = summary(owner.client, owner.account.pk, bucket_id=january.bucket_id, **params)
    everything = summary(owner.client, owner.account.pk, **params)

    assert [point["incoming"] for point in by_input["results"]] == [1]
    assert by_bucket["incoming"] == 3
    assert everything["incoming"] == 4


def test_percentiles_come_from_the_latency_histogram(owner):
    source = InputFactory(account=owner.account)
    destination = DestinationFactory(account=owner.account, input=source)
    count_at(source, at("2026-01-01 10:00"), latencies=list(range(1, 101)), destination=destination)
    count_at(source, at("2026-01-01 11:00"), latencies=[200] * 10, destination=destination)
    count_at(source, at("2026-01-01 12:00"))

    body = overview(
        owner.client,
        owner.account.pk,
        start_date="2026-01-01T10:00:00Z",
        end_date="2026-01-01T13:00:00Z",
        precision="hour",
    )

    spread, constant, idle = body["results"]
    assert spread["attempts"] == 100
    # 1..100 ms: the true p50 is 50 (bucket 45-64 ms), p95 is 95 (bucket 91-128 ms).
    assert 45 < spread["latency_p50_ms"] <= 64
    assert abs(spread["latency_p50_ms"] - 50) <= 0.2 * 50
    assert 91 < spread["latency_p95_ms"] <= 128
    assert abs(spread["latency_p95_ms"] - 95) <= 0.2 * 95
    assert 181 < constant["latency_p50_ms"] <= constant["latency_p95_ms"] <= 256
    assert idle["latency_p50_ms"] is None
    assert idle["attempts"] == 0
    whole_day = summary(
        owner.client, owner.account.pk, start_date="2026-01-01T00:00:00Z", end_date="2026-01-02T00:00:00Z"
    )
    assert whole_day["attempts"] == 110
    assert 45 < whole_day["latency_p50_ms"] <= 64  # 55th of 110
    assert 181 < whole_day["latency_p95_ms"] <= 256


def test_rollups_have_a_minute_and_an_hour_row_per_key(owner, january):
    rows = Traffic.objects.filter(account_id=owner.account.pk, period__lt=at("2026-01-01 11:00"))

    assert sorted((row.precision, row.period.minute, row.incoming) for row in rows) == [
        ("hour", 0, 2),
        ("minute", 15, 1),
        ("minute", 45, 1),
    ]


# Accounts covered


def test_sub_accounts_and_applications_are_included_only_when_asked(owner, january):
    child = make_account(name="Child", parent=owner.account, account_key="child")
    count_at(InputFactory(account=child), at("2026-01-01 10:30"))
    application = Application.objects.create(account=owner.account, name="Shop")
    customer = make_account(name="Customer", parent=owner.account, account_key="customer")
    Consumer.objects.create(
        account=owner.account, application=application, consumer_id="c1", name="C", sub_account=customer
    )
    count_at(InputFactory(account=customer), at("2026-01-01 10:40"))
    params = {"start_date": "2026-01-01T10:00:00Z", "end_date": "2026-01-01T11:00:00Z", "precision": "hour"}

    alone = overview(owner.client, owner.account.pk, **params)["results"][0]["incoming"]
    family = overview(owner.client, owner.account.pk, include_sub_accounts="true", **params)["results"][0][
        "incoming"
    ]
    shop = overview(owner.client, owner.account.pk, application_id=application.pk, **params)["results"][0][
        "incoming"
    ]

    assert (alone, family, shop) == (2, 4, 1)


def test_a_foreign_application_is_404_and_foreign_traffic_is_never_counted(owner, outsider, january):
    foreign_input = InputFactory(account=outsider.account)
    count_at(foreign_input, at("2026-01-01 10:10"))
    application = Application.objects.create(account=outsider.account, name="Theirs")
    params = {"start_date": "2026-01-01T10:00:00Z", "end_date": "2026-01-01T11:00:00Z", "precision": "hour"}

    response = owner.client.get(
        f"/v1/accounts/{owner.account.pk}/stats/overview", {**params, "application_id": application.pk}
    )
    foreign_filter = overview(owner.client, owner.account.pk, input_id=foreign_input.pk, **params)

    assert response.status_code == 404
    assert foreign_filter["results"][0]["incoming"] == 0


# Bad input


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end_date": "now", "precision": "hour"}, "start_date"),
        ({"start_date": "today", "precision": "hour"}, "end_date"),
        ({"start_date": "today", "end_date": "now"}, "precision"),
        ({"start_date": "today", "end_date": "now", "precision": "fortnight"}, "precision"),
        ({"start_date": "whenever", "end_date": "now", "precision": "hour"}, "start_date"),
        ({"start_date": "now", "end_date": "today", "precision": "hour"}, "end_date"),
        ({"start_date": "a year ago", "end_date": "now", "precision": "minute"}, "precision"),
        (
            {"start_date": "today", "end_date": "now", "precision": "hour", "include_sub_accounts": "maybe"},
            "include_sub_accounts",
        ),
    ],
)
def test_a_bad_overview_query_is_a_400_naming_the_parameter(owner, params, field):
    response = owner.client.get(f"/v1/accounts/{owner.account.pk}/stats/overview", params)

    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]


def test_the_summary_rounds_its_range_out_to_whole_hours(owner, january):
    body = summary(
        owner.client, owner.account.pk, start_date="2026-01-01T10:30:00Z", end_date="2026-01-01T10:31:00Z"
    )

    assert (body["start_date"], body["end_date"], body["incoming"]) == (
        "2026-01-01T10:00:00Z",
        "2026-01-01T11:00:00Z",
        2,
    )


def test_a_bucket_includes_its_traffic_summary_when_asked(owner, january):
    other = InputFactory(account=owner.account)
    count_at(other, at("2026-01-01 10:20"))
    url = f"/v1/accounts/{owner.account.pk}/buckets/{january.bucket_id}"

    plain = owner.client.get(url).json()
    with_stats = owner.client.get(url, {"include_stats": "true", "expand": "true"}).json()

    assert "stats" not in plain
    assert with_stats["stats"]["incoming"] == 5
    assert [item["id"] for item in with_stats["inputs"]] == [january.pk]
