from __future__ import annotations

import base64
import json

import pytest
import redis

from deliveries.delivery import outgoing_deliver
from deliveries.outcome import Next
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


@pytest.fixture
def sent_tasks(settings):
    """The tasks published (name, args), read back from the real Redis broker's queue."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")

    def read() -> list[tuple[str, list]]:
        tasks = []
        for raw in reversed(broker.lrange("celery", 0, -1)):
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            tasks.append((message["headers"]["task"], args))
        return tasks

    yield read
    broker.delete("celery")


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


def deliver_one(outgoing_id: str) -> Next:
    """One delivery attempt of one message: the ``deliver`` task's body for a batch of one."""
    return outgoing_deliver(outgoing_ids=[outgoing_id])[outgoing_id]
