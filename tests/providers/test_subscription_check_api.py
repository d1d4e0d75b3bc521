from __future__ import annotations

import pytest

from core.events import event_matches
from providers.services import consumer_create, consumer_destination_create
from tests.conftest import error_code
from tests.providers.conftest import make_application, make_version

pytestmark = pytest.mark.django_db


def url(consumer, bucket_key: str = "default") -> str:
    return (
        f"/v1/accounts/{consumer.account_id}/applications/{consumer.application_id}"
        f"/consumers/{consumer.consumer_id}/check/{bucket_key}"
    )


def add_destination(consumer, **fields):
    values = {"name": "Hook", "endpoint_url": "https://example.com/hook", **fields}
    return consumer_destination_create(consumer=consumer, **values)


@pytest.mark.parametrize(
    ("event_type", "filters", "expected"),
    [
        ("invoice.created", [], True),
        ("invoice.created", ["*"], True),
        ("invoice.created", ["invoice.created"], True),
        ("invoice.created", ["invoice.*"], True),
        ("invoice.created", ["invoice.paid", "customer.*"], False),
        ("invoice", ["invoice.*"], False),
        ("invoicex.created", ["invoice.*"], False),
        ("", ["invoice.created"], False),
        (None, [], True),
    ],
)
def test_event_matches(event_type, filters, expected):
    assert event_matches(event_type, filters) is expected


def test_it_answers_whether_an_active_destination_matches_the_event(owner, consumer):
    add_destination(consumer, event_filters=["invoice.*"])

    matching = owner.client.post(url(consumer), {"event_type": "invoice.paid"}, format="json")
    other = owner.client.post(url(consumer), {"event_type": "customer.deleted"}, format="json")

    assert matching.status_code == 200, matching.content
    assert matching.json() == {"subscribed": True, "event_types": ["invoice.paid"]}
    assert other.json() == {"subscribed": False, "event_types": []}


def test_empty_filters_subscribe_to_everything(owner, consumer):
    add_destination(consumer)

    response = owner.client.post(url(consumer), {"event_type": "anything.at.all"})

    assert response.json()["subscribed"] is True


def test_inactive_destinations_and_other_buckets_do_not_count(owner, consumer):
    add_destination(consumer, status="inactive")
    add_destination(consumer, bucket_key="development", event_filters=["invoice.paid"])

    default = owner.client.post(url(consumer), {"event_type": "invoice.paid"}, format="json")
    development = owner.client.post(
        url(consumer, "development"), {"event_type": "invoice.paid"}, format="json"
    )
    unknown_bucket = owner.client.post(
        url(consumer, "nowhere"), {"event_type": "invoice.paid"}, format="json"
    )

    assert default.json()["subscribed"] is False
    assert development.json()["subscribed"] is True
    assert unknown_bucket.json() == {"subscribed": False, "event_types": []}


def test_without_an_event_type_it_lists_the_declared_event_types_subscribed_to(owner, application, consumer):
    make_version(application)
    add_destination(consumer, event_filters=["invoice.*"])

    response = owner.client.post(url(consumer))

    assert response.json() == {"subscribed": True, "event_types": ["invoice.created", "invoice.paid"]}


def test_without_a_version_it_lists_the_filters_themselves(owner, consumer):
    add_destination(consumer, event_filters=["order.placed", "order.*"])
    add_destination(consumer)

    response = owner.client.post(url(consumer))

    assert response.json() == {"subscribed": True, "event_types": ["*", "order.*", "order.placed"]}


def test_without_destinations_nothing_is_subscribed(owner, consumer):
    response = owner.client.post(url(consumer))

    assert response.json() == {"subscribed": False, "event_types": []}


def test_it_includes_the_matching_destinations_on_request(owner, consumer):
    matching = add_destination(consumer, event_filters=["invoice.paid"])
    add_destination(consumer, event_filters=["customer.deleted"])

    response = owner.client.post(
        url(consumer), {"event_type": "invoice.paid", "include_destination_detail": "true"}
    )

    destinations = response.json()["destinations"]
    assert [d["id"] for d in destinations] == [matching.id]
    assert "secret" not in destinations[0]


def test_it_rejects_a_bad_flag_in_the_error_shape(owner, consumer):
    response = owner.client.post(url(consumer), {"include_destination_detail": "perhaps"}, format="json")

    assert response.status_code == 400
    assert "include_destination_detail" in response.json()["error"]["fields"]


def test_a_viewer_may_check(viewer, consumer):
    response = viewer.client.post(url(consumer), {"event_type": "x"}, format="json")

    assert response.status_code == 200


def test_it_rejects_foreign_consumers(owner, outsider, consumer):
    foreign = consumer_create(application=make_application(outsider.account), consumer_id="f", name="F")
    add_destination(foreign)

    response = owner.client.post(url(foreign), {"event_type": "x"}, format="json")
    reverse = outsider.client.post(url(consumer), {"event_type": "x"}, format="json")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert reverse.status_code == 404
