from __future__ import annotations

import pytest

from deliveries.services import incoming_accept
from tests.routing_factories import DestinationFactory, InputFactory


@pytest.fixture
def route(account_a, receiver):
    """An input with one destination pointing at a loopback receiver."""
    input_ = InputFactory(account=account_a, event_location="payload", event_path="msg.event")
    destination = DestinationFactory(
        account=account_a, input=input_, endpoint_url=receiver.url + "hook", rate_limit=None
    )
    return input_, destination


def accept(input_, body: bytes = b'{"event": "order.created"}', event_type: str = "order.created", **extra):
    fields = {
        "method": "POST",
        "path": f"/v1/in/{input_.pk}",
        "query_string": "",
        "headers": {"Content-Type": "application/json", "X-Trace": "t-1"},
        "body": body,
        "content_type": "application/json",
        "event_type": event_type,
        "source_ip": "127.0.0.1",
    }
    fields.update(extra)
    return incoming_accept(input=input_, **fields)
