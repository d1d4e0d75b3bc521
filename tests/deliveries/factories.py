"""Messages and attempts made with the ORM, as the pipeline leaves them. Pass ``account``."""

from __future__ import annotations

import factory
from django.utils import timezone

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from tests.routing_factories import DestinationFactory, InputFactory


class IncomingMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncomingMessage

    input = factory.SubFactory(InputFactory, account=factory.SelfAttribute("..account"))
    bucket = factory.SelfAttribute("input.bucket")
    status = IncomingMessage.Status.PROCESSED
    method = "POST"
    path = factory.LazyAttribute(lambda message: f"/v1/{message.input.key}/{message.input.id}")
    query_string = "source=shop"
    headers = factory.LazyFunction(lambda: {"Content-Type": "application/json", "X-Shop": "acme"})
    body = b'{"order": 1}'
    content_type = "application/json"
    event_type = "order.created"
    source_ip = "203.0.113.7"
    processed_at = factory.LazyFunction(timezone.now)


class OutgoingMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutgoingMessage

    destination = factory.SubFactory(DestinationFactory, account=factory.SelfAttribute("..account"))
    incoming = factory.SubFactory(
        IncomingMessageFactory,
        account=factory.SelfAttribute("..account"),
        input=factory.SelfAttribute("..destination.input"),
    )
    received_at = factory.SelfAttribute("incoming.created")
    status = OutgoingMessage.Status.FAILED
    attempt_count = 1
    last_status_code = 500
    error = "HTTP 500"
    completed_at = factory.LazyFunction(timezone.now)


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attempt

    account = factory.SelfAttribute("outgoing.account")
    number = 1
    request_method = "POST"
    request_url = factory.SelfAttribute("outgoing.destination.endpoint_url")
    request_headers = factory.LazyFunction(lambda: {"Content-Type": "application/json"})
    status_code = 500
    response_headers = factory.LazyFunction(lambda: {"Content-Type": "text/plain"})
    response_body = b"Internal error"
    succeeded = False
    error_kind = "status"
    error = "HTTP 500"
    elapsed_ms = 42
    finished_at = factory.LazyFunction(timezone.now)
