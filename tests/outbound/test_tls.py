from __future__ import annotations

import ssl

import pytest
import trustme

from destinations.http_client import CertificateFetchError, fetch_certificate, send
from tests.support.receivers import server_context

# verify_ssl=False is a destination's choice; the client silences urllib3's warning about it, but
# pytest resets warning filters per test.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def ca_pem(ca: trustme.CA) -> str:
    return ca.cert_pem.bytes().decode()


def test_it_refuses_a_certificate_nobody_trusts(tls_receiver):
    outcome = send(method="POST", url=tls_receiver.url, headers={}, body=b"{}")

    assert not outcome.ok
    assert outcome.error_kind == "tls"
    assert "certificate" in outcome.error.lower()
    assert tls_receiver.requests == []


def test_it_trusts_an_imported_ca_certificate(tls_receiver, ca):
    outcome = send(
        method="POST", url=tls_receiver.url, headers={}, body=b"{}", trusted_certificates_pem=[ca_pem(ca)]
    )

    assert outcome.ok
    assert tls_receiver.requests[0].body == b"{}"


def test_it_trusts_the_server_certificate_imported_with_fetch_certificate(tls_receiver):
    pem = fetch_certificate("127.0.0.1", tls_receiver.port)

    outcome = send(
        method="POST", url=tls_receiver.url, headers={}, body=b"{}", trusted_certificates_pem=[pem]
    )

    assert outcome.ok


def test_it_skips_verification_when_verify_ssl_is_off(tls_receiver):
    outcome = send(method="POST", url=tls_receiver.url, headers={}, body=b"{}", verify_ssl=False)

    assert outcome.ok
    assert len(tls_receiver.requests) == 1


def test_an_unverified_connection_is_not_reused_for_a_verified_request(tls_receiver):
    send(method="POST", url=tls_receiver.url, headers={}, body=b"{}", verify_ssl=False)

    outcome = send(method="POST", url=tls_receiver.url, headers={}, body=b"{}")

    assert outcome.error_kind == "tls"
    assert len(tls_receiver.requests) == 1


def test_it_still_checks_the_hostname_of_a_trusted_certificate(make_receiver, ca):
    receiver = make_receiver(tls=server_context(ca, "receiver.example"))

    outcome = send(
        method="POST", url=receiver.url, headers={}, body=b"{}", trusted_certificates_pem=[ca_pem(ca)]
    )

    assert outcome.error_kind == "tls"
    assert receiver.requests == []


def test_an_invalid_imported_certificate_is_a_tls_failure(tls_receiver):
    outcome = send(
        method="POST", url=tls_receiver.url, headers={}, body=b"{}", trusted_certificates_pem=["not a pem"]
    )

    assert outcome.error_kind == "tls"
    assert tls_receiver.requests == []


def test_fetch_certificate_returns_the_server_certificate(make_receiver, ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf = ca.issue_cert("127.0.0.1")
    leaf.configure_cert(context)
    receiver = make_receiver(tls=context)

    pem = fetch_certificate("127.0.0.1", receiver.port)

    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert ssl.PEM_cert_to_DER_cert(pem) == ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())


def test_fetch_certificate_fails_clearly_without_tls(receiver):
    with pytest.raises(CertificateFetchError) as error:
        fetch_certificate("127.0.0.1", receiver.port)

    assert error.value.error_kind == "tls"
    assert f"127.0.0.1:{receiver.port}" in str(error.value)


def test_fetch_certificate_fails_clearly_when_refused(unused_port):
    with pytest.raises(CertificateFetchError) as error:
        fetch_certificate("127.0.0.1", unused_port)

    assert error.value.error_kind == "connection"
