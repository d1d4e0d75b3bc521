"""With no allowed networks, nothing but public addresses may be reached, whatever the URL says."""

from __future__ import annotations

import pytest

from destinations.http_client import CertificateFetchError, fetch_certificate, send
from tests.support.receivers import Reply


@pytest.fixture
def no_allowed_networks(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@pytest.mark.usefixtures("no_allowed_networks")
@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "127.0.0.1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("127.1", "127.0.0.1"),
    ],
)
def test_it_blocks_loopback_before_connecting(receiver, host, address):
    url = f"http://{host}:{receiver.port}/"

    outcome = send(method="POST", url=url, headers={}, body=b"{}")

    assert not outcome.ok
    assert outcome.error_kind == "ssrf_blocked"
    assert outcome.remote_address == address
    assert address in outcome.error
    assert outcome.status is None
    assert receiver.requests == []


@pytest.mark.usefixtures("no_allowed_networks")
def test_it_blocks_ipv6_loopback_before_connecting(make_receiver):
    receiver = make_receiver("::1")

    outcome = send(method="POST", url=receiver.url, headers={}, body=b"{}")

    assert outcome.error_kind == "ssrf_blocked"
    assert outcome.remote_address == "::1"
    assert receiver.requests == []


@pytest.mark.usefixtures("no_allowed_networks")
@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "https://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_it_blocks_private_link_local_and_special_addresses(url):
    outcome = send(method="POST", url=url, headers={}, body=b"{}")

    assert outcome.error_kind == "ssrf_blocked"
    assert outcome.elapsed_ms < 1000


def test_it_blocks_a_redirect_from_an_allowed_receiver_to_loopback(make_receiver, settings):
    target = make_receiver("127.0.0.1")
    redirector = make_receiver("127.0.0.2")
    redirector.reply = Reply(status=307, headers={"Location": target.url})
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.2/32"]

    outcome = send(method="POST", url=redirector.url, headers={}, body=b"{}")

    assert outcome.error_kind == "ssrf_blocked"
    assert outcome.remote_address == "127.0.0.1"
    assert len(redirector.requests) == 1
    assert target.requests == []


def test_it_reaches_loopback_inside_the_allowed_networks(receiver, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    outcome = send(method="POST", url=receiver.url, headers={}, body=b"{}")

    assert outcome.ok
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("no_allowed_networks")
def test_fetching_a_certificate_goes_through_the_guard(tls_receiver):
    with pytest.raises(CertificateFetchError) as error:
        fetch_certificate("127.0.0.1", tls_receiver.port)

    assert error.value.error_kind == "ssrf_blocked"
    assert "127.0.0.1" in str(error.value)
    assert tls_receiver.requests == []
