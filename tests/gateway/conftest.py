"""Inputs of account A and the URLs senders use to reach them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deliveries.models import IncomingMessage
from inputs.models import Input
from tests.routing_factories import InputFactory


@pytest.fixture
def make_input(account_a) -> Callable[..., Input]:
    def make(**fields) -> Input:
        return InputFactory(account=fields.pop("account", account_a), **fields)

    return make


def gateway_url(input: Input, name: str = "sample-input") -> str:
    return f"/v1/{name}/{input.pk}"


def only_message(input: Input) -> IncomingMessage:
    """The one message stored for ``input``."""
    (message,) = IncomingMessage.objects.filter(input=input)
    return message
