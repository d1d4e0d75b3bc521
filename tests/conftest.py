"""The shared cast: an owner of account A, a developer and a viewer of A, a sub-account of A,
and an outsider account B. Each actor comes with an authenticated API client."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import trustme
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account, User
from accounts.services import api_token_issue
from tests.factories import UserFactory, make_account
from tests.support.receivers import Receiver, Responder, server_context


@dataclass
class Actor:
    account: Account
    user: User
    token: str
    client: APIClient


def make_actor(account: Account, level: str = "owner") -> Actor:
    user = UserFactory(account=account, permission_level=level)
    token = api_token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return Actor(account=account, user=user, token=token, client=client)


@pytest.fixture
def account_a(db) -> Account:
    return make_account(name="Account A")


@pytest.fixture
def owner(account_a) -> Actor:
    return make_actor(account_a, "owner")


@pytest.fixture
def admin_user(account_a) -> Actor:
    return make_actor(account_a, "admin")


@pytest.fixture
def developer(account_a) -> Actor:
    return make_actor(account_a, "developer")


@pytest.fixture
def viewer(account_a) -> Actor:
    return make_actor(account_a, "viewer")


@pytest.fixture
def sub_account(account_a) -> Account:
    return make_account(name="Sub of A", parent=account_a, account_key="sub-a")


@pytest.fixture
def sub_owner(sub_account) -> Actor:
    return make_actor(sub_account, "owner")


@pytest.fixture
def outsider(db) -> Actor:
    return make_actor(make_account(name="Account B"), "owner")


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def operator(db) -> Client:
    """A Django admin session of a superuser (an operator, with no account)."""
    user = User.objects.create_superuser("ops@example.com", "ops-password", first_name="O", last_name="P")
    client = Client()
    client.force_login(user)
    return client


def error_code(response) -> str:
    """The ``error.code`` of a response in the one error shape (fails loudly otherwise)."""
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]["code"]


# Loopback HTTP(S) receivers (tests.support.receivers) for everything that sends requests.


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    receivers: list[Receiver] = []

    def make(
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
        *,
        responder: Responder | None = None,
        path: str = "/",
    ) -> Receiver:
        receiver = Receiver(host, tls, responder=responder, path=path)
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.close()


@pytest.fixture
def receiver(make_receiver) -> Receiver:
    return make_receiver()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_receiver(make_receiver, ca) -> Receiver:
    """An HTTPS receiver whose certificate (for 127.0.0.1 and localhost) a private CA issued."""
    return make_receiver(tls=server_context(ca, "127.0.0.1", "localhost"))


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
