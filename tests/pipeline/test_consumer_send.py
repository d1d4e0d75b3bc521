"""A provider's ``send/:bucket_key`` and the application gateway go through the same pipeline as
the input gateway: a real Celery worker delivers to the consumer's subscribed destinations."""

from __future__ import annotations

from deliveries.models import IncomingMessage, OutgoingMessage
from providers.services import consumer_create, consumer_destination_create
from tests.conftest import make_actor
from tests.factories import make_account
from tests.pipeline.conftest import wait_until
from tests.providers.conftest import make_application, make_version

TIMEOUT = 60.0


def test_send_and_the_application_gateway_deliver_to_the_consumers_destinations(worker, make_receiver):
    provider = make_actor(make_account(name="Provider"))
    application = make_application(provider.account)
    make_version(application)
    consumer = consumer_create(application=application, consumer_id="acme-42", name="ACME")
    subscribed = make_receiver(path="/paid")
    dynamic_target = make_receiver(path="/dynamic")
    consumer_destination_create(
        consumer=consumer,
        name="Paid invoices",
        endpoint_url=subscribed.url,
        event_filters=["invoice.paid"],
        rate_limit=None,
    )
    send_url = (
        f"/v1/accounts/{provider.account.id}/applications/{application.id}"
        f"/consumers/{consumer.consumer_id}/send/default"
    )

    def send(url: str, event: str) -> IncomingMessage:
        response = provider.client.post(
            url, data=b'{"invoice": 7}', content_type="application/json", headers={"X-Webhooks-Event": event}
        )
        assert response.status_code == 200, response.content
        return IncomingMessage.objects.get(pk=response.json()["id"])

    unsubscribed = send(send_url, "customer.deleted")
    paid = send(send_url, "invoice.paid")
    target = dynamic_target.url.removeprefix("http://")
    dynamic = send(f"/{application.id}/{consumer.consumer_id}/default/http://{target}", "invoice.paid")

    def all_processed() -> bool:
        return not IncomingMessage.objects.filter(status=IncomingMessage.Status.RECEIVED).exists()

    wait_until(all_processed, timeout=TIMEOUT)
    wait_until(lambda: subscribed.requests and dynamic_target.requests, timeout=TIMEOUT)
    wait_until(
        lambda: OutgoingMessage.objects.filter(status=OutgoingMessage.Status.SUCCEEDED).count() == 2,
        timeout=TIMEOUT,
    )
    assert [request.message_id for request in subscribed.requests] == [
        OutgoingMessage.objects.get(incoming=paid).id
    ]
    assert [request.message_id for request in dynamic_target.requests] == [
        OutgoingMessage.objects.get(incoming=dynamic).id
    ]
    assert subscribed.requests[0].headers["X-Webhooks-Event"] == "invoice.paid"
    assert subscribed.requests[0].body == b'{"invoice": 7}'
    assert "Authorization" not in subscribed.requests[0].headers
    assert not OutgoingMessage.objects.filter(incoming=unsubscribed).exists()
