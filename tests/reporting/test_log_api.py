from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from providers.models import Application, Consumer
from providers.services import consumer_client_token_issue
from tests.conftest import error_code
from tests.factories import make_account
from tests.reporting.conftest import make_message
from tests.routing_factories import DestinationFactory, InputFactory

pytestmark = pytest.mark.django_db


def log_ids(client, account_id: str, **params) -> list[str]:
    response = client.get(f"/v1/accounts/{account_id}/log", params)
    assert response.status_code == 200, response.content
    return [entry["id"] for entry in response.json()["results"]]


def test_the_log_lists_requests_newest_first_with_their_deliveries(owner, routes):
    now = timezone.now()
    older = make_message(routes["in1"], created=now - timedelta(minutes=2))
    newer = make_message(
        routes["in1"],
        created=now - timedelta(minutes=1),
        deliveries=[(routes["d1"], "succeeded", 200), (routes["d2"], "failed", 500)],
    )

    response = owner.client.get(f"/v1/accounts/{owner.account.pk}/log")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [entry["id"] for entry in results] == [newer.pk, older.pk]
    deliveries = {
        d["destination_id"]: (d["status"], d["last_status_code"]) for d in results[0]["outgoing_messages"]
    }
    assert deliveries == {routes["d1"].pk: ("succeeded", 200), routes["d2"].pk: ("failed", 500)}
    assert "body" not in results[0]


def test_the_log_filters_by_input_bucket_and_destination(owner, routes):
    first = make_message(routes["in1"], deliveries=[(routes["d1"], "succeeded", 200)])
    second = make_message(routes["in1"], deliveries=[(routes["d2"], "succeeded", 200)])
    third = make_message(routes["in2"], deliveries=[(routes["d3"], "succeeded", 200)])
    account = owner.account.pk

    assert set(log_ids(owner.client, account, input_id=routes["in1"].pk)) == {first.pk, second.pk}
    assert log_ids(owner.client, account, bucket_id=routes["in2"].bucket_id) == [third.pk]
    assert log_ids(owner.client, account, destination_id=routes["d2"].pk) == [second.pk]


def test_the_log_filters_by_http_status_code_or_class(owner, routes):
    ok = make_message(routes["in1"], deliveries=[(routes["d1"], "succeeded", 200)])
    gone = make_message(routes["in1"], deliveries=[(routes["d1"], "failed", 410)])
    broken = make_message(routes["in1"], deliveries=[(routes["d1"], "pending", 503)])
    account = owner.account.pk

    assert log_ids(owner.client, account, http_status="410") == [gone.pk]
    assert log_ids(owner.client, account, http_status="5xx") == [broken.pk]
    assert log_ids(owner.client, account, http_status="2XX") == [ok.pk]


def test_the_log_filters_by_incoming_or_delivery_status(owner, routes):
    filtered = make_message(routes["in1"], status="filtered")
    delivered = make_message(routes["in1"], deliveries=[(routes["d1"], "succeeded", 200)])
    failing = make_message(
        routes["in1"], deliveries=[(routes["d1"], "succeeded", 200), (routes["d2"], "failed", 500)]
    )
    dropped_by_input = make_message(routes["in1"], status="skipped")
    dropped_by_destination = make_message(routes["in1"], deliveries=[(routes["d1"], "skipped", None)])
    account = owner.account.pk

    assert log_ids(owner.client, account, status="filtered") == [filtered.pk]
    assert set(log_ids(owner.client, account, status="succeeded")) == {delivered.pk, failing.pk}
    assert log_ids(owner.client, account, status="failed") == [failing.pk]
    assert set(log_ids(owner.client, account, status="skipped")) == {
        dropped_by_input.pk,
        dropped_by_destination.pk,
    }
    # Delivery filters together select messages with one delivery matching all of them.
    assert log_ids(owner.client, account, status="failed", destination_id=routes["d1"].pk) == []
    assert log_ids(owner.client, account, status="failed", destination_id=routes["d2"].pk) == [failing.pk]


def test_the_log_pages_with_a_cursor_newest_first_without_repeats(owner, routes):
    start = timezone.now() - timedelta(hours=1)
    made = [make_message(routes["in1"], created=start + timedelta(seconds=n)).pk for n in range(7)]
    # Two at the same instant: the cursor's tie-break keeps both.
    made.append(make_message(routes["in1"], created=start + timedelta(seconds=6)).pk)
    url, seen, pages = f"/v1/accounts/{owner.account.pk}/log?page_size=3", [], 0

    while url:
        page = owner.client.get(url).json()
        seen += [entry["id"] for entry in page["results"]]
        url, pages = page["next"], pages + 1

    assert pages == 3
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))
    assert seen[-1] == made[0]


def test_the_previous_link_goes_back_a_page(owner, routes):
    start = timezone.now() - timedelta(hours=1)
    for n in range(5):
        make_message(routes["in1"], created=start + timedelta(seconds=n))
    first = owner.client.get(f"/v1/accounts/{owner.account.pk}/log?page_size=2").json()
    second = owner.client.get(first["next"]).json()

    back = owner.client.get(second["previous"]).json()

    assert [e["id"] for e in back["results"]] == [e["id"] for e in first["results"]]


def test_a_bad_cursor_is_a_client_error(owner):
    response = owner.client.get(f"/v1/accounts/{owner.account.pk}/log", {"cursor": "not-a-cursor"})

    assert 400 <= response.status_code < 500
    error_code(response)


# Dates


NOW = datetime(2026, 3, 18, 15, 30, 45, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def dated(routes):
    """Messages 10 minutes, 23 hours, 25 hours, 6 days, 8 days and 40 days old."""
    ages = {"10m": timedelta(minutes=10), "23h": timedelta(hours=23), "25h": timedelta(hours=25)}
    ages |= {"6d": timedelta(days=6), "8d": timedelta(days=8), "40d": timedelta(days=40)}
    now = timezone.now()
    return {label: make_message(routes["in1"], created=now - age).pk for label, age in ages.items()}


@pytest.mark.parametrize(
    ("start_date", "expected"),
    [
        ("last 24 hours", {"10m", "23h"}),
        ("Last  24 Hours", {"10m", "23h"}),
        ("7 days ago", {"10m", "23h", "25h", "6d"}),
        ("last 7 days", {"10m", "23h", "25h", "6d"}),
        ("last week", {"10m", "23h", "25h", "6d"}),
        ("an hour ago", {"10m"}),
    ],
)
def test_text_periods_relative_to_now_filter_the_log(owner, dated, start_date, expected):
    ids = log_ids(owner.client, owner.account.pk, start_date=start_date)

    assert set(ids) == {dated[label] for label in expected}


def test_iso_and_unix_seconds_dates_filter_the_log(owner, dated):
    now = timezone.now()
    start = now - timedelta(hours=24)
    end = now - timedelta(minutes=30)
    account = owner.account.pk

    assert log_ids(owner.client, account, start_date=start.isoformat(), end_date=end.isoformat()) == [
        dated["23h"]
    ]
    assert log_ids(
        owner.client, account, start_date=str(int(start.timestamp())), end_date=str(int(end.timestamp()))
    ) == [dated["23h"]]
    assert log_ids(
        owner.client, account, start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"), end_date=end.timestamp()
    ) == [dated["23h"]]


def test_calendar_periods_select_whole_days_and_months(owner, routes):
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday_noon = make_message(routes["in1"], created=today - timedelta(hours=12)).pk
    today_early = make_message(routes["in1"], created=today + timedelta(seconds=1)).pk
    two_days_ago = make_message(routes["in1"], created=today - timedelta(days=1, hours=12)).pk
    account = owner.account.pk

    assert log_ids(owner.client, account, start_date="yesterday", end_date="today") == [yesterday_noon]
    assert log_ids(owner.client, account, start_date="today") == [today_early]
    this_month = set(log_ids(owner.client, account, start_date="this month"))
    month_start = today.replace(day=1)
    assert this_month == {
        pk
        for pk, at in [
            (yesterday_noon, today - timedelta(hours=12)),
            (today_early, today),
            (two_days_ago, today - timedelta(days=1, hours=12)),
        ]
        if at >= month_start
    }


@pytest.mark.parametrize("parameter", ["start_date", "end_date"])
@pytest.mark.parametrize("value", ["next tuesday-ish", "2026-13-45", "yesterday at noon", "99999999999999"])
def test_an_unparseable_date_is_a_400_naming_the_parameter(owner, parameter, value):
    response = owner.client.get(f"/v1/accounts/{owner.account.pk}/log", {parameter: value})

    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    body = response.json()["error"]
    assert parameter in body["fields"]
    assert body["message"].startswith(f"{parameter}:")


@pytest.mark.parametrize("value", ["600", "2x", "abc", "20"])
def test_a_bad_http_status_is_a_400(owner, value):
    response = owner.client.get(f"/v1/accounts/{owner.account.pk}/log", {"http_status": value})

    assert response.status_code == 400
    assert "http_status" in response.json()["error"]["fields"]


def test_a_bad_status_or_id_filter_is_a_400(owner):
    for params in ({"status": "lost"}, {"input_id": "IN123"}, {"destination_id": "'; drop"}):
        response = owner.client.get(f"/v1/accounts/{owner.account.pk}/log", params)
        assert response.status_code == 400, params
        assert set(params) <= set(response.json()["error"]["fields"])


def test_the_log_never_shows_another_accounts_messages(owner, outsider, routes):
    mine = make_message(routes["in1"])
    foreign_input = InputFactory(account=outsider.account)
    make_message(foreign_input)

    assert log_ids(owner.client, owner.account.pk) == [mine.pk]
    assert log_ids(owner.client, owner.account.pk, input_id=foreign_input.pk) == []


# The consumer's log


@pytest.fixture
def consumer(account_a):
    application = Application.objects.create(account=account_a, name="Shop")
    sub_account = make_account(name="Customer", parent=account_a, account_key="customer-1")
    return Consumer.objects.create(
        account=account_a,
        application=application,
        consumer_id="customer-1",
        name="Customer",
        sub_account=sub_account,
    )


def test_a_consumers_log_holds_only_its_sub_accounts_messages(owner, consumer, routes):
    make_message(routes["in1"])  # the provider's own traffic
    consumer_input = InputFactory(account=consumer.sub_account)
    consumer_destination = DestinationFactory(account=consumer.sub_account, input=consumer_input)
    theirs = make_message(consumer_input, deliveries=[(consumer_destination, "failed", 500)])
    url = f"/v1/accounts/{owner.account.pk}/applications/{consumer.application_id}/consumers/customer-1/log"

    response = owner.client.get(url)
    filtered = owner.client.get(url, {"destination_id": consumer_destination.pk, "http_status": "500"})

    assert response.status_code == 200
    assert [entry["id"] for entry in response.json()["results"]] == [theirs.pk]
    assert [entry["id"] for entry in filtered.json()["results"]] == [theirs.pk]
    assert owner.client.get(url.replace("customer-1", "customer-2")).status_code == 404


def test_a_client_token_reads_its_consumers_log_and_not_the_providers(owner, consumer, anon):
    consumer_input = InputFactory(account=consumer.sub_account)
    theirs = make_message(consumer_input)
    token, _ = consumer_client_token_issue(consumer=consumer, bucket_key="default")
    anon.credentials(HTTP_AUTHORIZATION=f"client-token-bearer {token}")

    own = anon.get(f"/v1/accounts/{consumer.sub_account_id}/log")
    provider = anon.get(f"/v1/accounts/{owner.account.pk}/log")

    assert [entry["id"] for entry in own.json()["results"]] == [theirs.pk]
    assert provider.status_code == 404
