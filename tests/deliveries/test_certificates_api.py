from __future__ import annotations

import hashlib
import ssl

import pytest
from django.test import override_settings

from deliveries.models import Certificate
from tests.conftest import error_code
from tests.routing_factories import DestinationFactory

pytestmark = pytest.mark.django_db


def url(account) -> str:
    return f"/v1/accounts/{account.id}/certificates"


@pytest.fixture
def pem(ca) -> str:
    return ca.issue_cert("hooks.example.com").cert_chain_pems[0].bytes().decode()


def fingerprint(pem: str) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_it_imports_the_certificate_a_server_presents(developer, tls_receiver):
    response = developer.client.put(
        url(developer.account), {"domain": "127.0.0.1", "port": tls_receiver.port}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == f"127.0.0.1:{tls_receiver.port}"
    certificate = Certificate.objects.get(account=developer.account)
    assert body["fingerprint_sha256"] == certificate.fingerprint_sha256 == fingerprint(certificate.pem)
    assert body["pem"] == certificate.pem
    assert certificate.not_after is not None
    assert body["not_after"] is not None


def test_it_stores_a_pasted_pem_from_a_form(owner, pem):
    response = owner.client.put(
        url(owner.account), {"domain": "Hooks.Example.com", "port": "8443", "pem": pem}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == "hooks.example.com:8443"
    assert body["domain"] == "hooks.example.com"
    assert body["port"] == 8443
    assert body["fingerprint_sha256"] == fingerprint(pem)


def test_a_pasted_pem_defaults_to_port_443_and_keeps_no_private_key(owner, ca):
    leaf = ca.issue_cert("hooks.example.com")
    pasted = leaf.private_key_pem.bytes().decode() + leaf.cert_chain_pems[0].bytes().decode()

    response = owner.client.put(
        url(owner.account), {"domain": "hooks.example.com", "pem": pasted}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["port"] == 443
    assert "PRIVATE KEY" not in Certificate.objects.get(account=owner.account).pem


def test_a_reimport_replaces_the_certificate(owner, ca, pem):
    owner.client.put(url(owner.account), {"domain": "hooks.example.com", "pem": pem}, format="json")
    newer = ca.issue_cert("hooks.example.com").cert_chain_pems[0].bytes().decode()

    response = owner.client.put(
        url(owner.account), {"domain": "hooks.example.com", "pem": newer}, format="json"
    )

    assert response.status_code == 200, response.content
    certificate = Certificate.objects.get(account=owner.account)
    assert certificate.fingerprint_sha256 == fingerprint(newer)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"domain": "hooks.example.com", "pem": "not a certificate"}, "pem"),
        (
            {
                "domain": "hooks.example.com",
                "pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            },
            "pem",
        ),
        ({"port": 443}, "domain"),
        ({"domain": "bad host!", "port": 443}, "domain"),
        ({"domain": "hooks.example.com", "port": 70000}, "port"),
    ],
)
def test_it_refuses_invalid_input(owner, payload, field):
    response = owner.client.put(url(owner.account), payload, format="json")

    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert not Certificate.objects.exists()


def test_it_refuses_to_fetch_from_a_blocked_address(owner, tls_receiver):
    with override_settings(OUTBOUND_ALLOWED_NETWORKS=[]):
        response = owner.client.put(
            url(owner.account), {"domain": "127.0.0.1", "port": tls_receiver.port}, format="json"
        )

    assert response.status_code == 400, response.content
    assert "not a public address" in response.json()["error"]["message"]
    assert "domain" in response.json()["error"]["fields"]
    assert tls_receiver.requests == []
    assert not Certificate.objects.exists()


def test_it_reports_why_a_fetch_failed(owner, unused_port):
    response = owner.client.put(
        url(owner.account), {"domain": "127.0.0.1", "port": unused_port}, format="json"
    )

    assert response.status_code == 400
    assert f"127.0.0.1:{unused_port}" in response.json()["error"]["message"]


def test_a_viewer_cannot_import(viewer, pem):
    response = viewer.client.put(
        url(viewer.account), {"domain": "hooks.example.com", "pem": pem}, format="json"
    )

    assert response.status_code == 403
    assert not Certificate.objects.exists()


def test_an_outsider_cannot_import_into_another_account(outsider, owner, pem):
    response = outsider.client.put(
        url(owner.account), {"domain": "hooks.example.com", "pem": pem}, format="json"
    )

    assert response.status_code == 404
    assert not Certificate.objects.exists()


@pytest.fixture
def imported(owner, pem) -> Certificate:
    owner.client.put(url(owner.account), {"domain": "hooks.example.com", "pem": pem}, format="json")
    return Certificate.objects.get(account=owner.account)


def test_it_lists_certificates_without_their_pem(viewer, imported, outsider, pem):
    outsider.client.put(url(outsider.account), {"domain": "other.example.com", "pem": pem}, format="json")

    response = viewer.client.get(url(viewer.account))

    assert response.status_code == 200
    [listed] = response.json()["results"]
    assert listed["id"] == "hooks.example.com:443"
    assert set(listed) == {"id", "domain", "port", "fingerprint_sha256", "not_after", "created"}


def test_it_returns_one_certificate_with_its_pem(viewer, imported):
    response = viewer.client.get(f"{url(viewer.account)}/hooks.example.com:443")

    assert response.status_code == 200
    assert response.json()["pem"] == imported.pem


def test_it_deletes_a_certificate(developer, imported):
    response = developer.client.delete(f"{url(developer.account)}/hooks.example.com:443")

    assert response.status_code == 204
    assert not Certificate.objects.exists()


@pytest.mark.parametrize(
    "certificate_id", ["hooks.example.com:8443", "hooks.example.com", "hooks.example.com:x", ":443"]
)
def test_an_unknown_or_malformed_id_is_404(owner, imported, certificate_id):
    for method in ("get", "delete"):
        response = getattr(owner.client, method)(f"{url(owner.account)}/{certificate_id}")

        assert response.status_code == 404
        assert error_code(response) == "not_found"
    assert Certificate.objects.exists()


def test_another_tenants_certificate_is_404(outsider, imported):
    for method in ("get", "delete"):
        response = getattr(outsider.client, method)(f"{url(imported.account)}/hooks.example.com:443")

        assert response.status_code == 404
    assert Certificate.objects.exists()


def test_a_viewer_cannot_delete(viewer, imported):
    response = viewer.client.delete(f"{url(viewer.account)}/hooks.example.com:443")

    assert response.status_code == 403
    assert Certificate.objects.exists()


# include_certificate_data on GET destination


def test_a_destination_shows_the_certificate_its_deliveries_use(owner, imported):
    destination = DestinationFactory(account=owner.account, endpoint_url="https://HOOKS.example.com/in")

    response = owner.client.get(
        f"/v1/accounts/{owner.account.id}/destinations/{destination.id}", {"include_certificate_data": "true"}
    )

    assert response.status_code == 200, response.content
    certificate = response.json()["certificate"]
    assert certificate["id"] == "hooks.example.com:443"
    assert certificate["fingerprint_sha256"] == imported.fingerprint_sha256


def test_a_destination_on_another_port_has_no_certificate(owner, imported):
    destination = DestinationFactory(account=owner.account, endpoint_url="https://hooks.example.com:8443/in")

    response = owner.client.get(
        f"/v1/accounts/{owner.account.id}/destinations/{destination.id}", {"include_certificate_data": "true"}
    )

    assert response.json()["certificate"] is None


def test_a_destination_without_the_flag_has_no_certificate_key(owner, imported):
    destination = DestinationFactory(account=owner.account, endpoint_url="https://hooks.example.com/in")

    response = owner.client.get(f"/v1/accounts/{owner.account.id}/destinations/{destination.id}")

    assert "certificate" not in response.json()


def test_a_destination_never_shows_another_tenants_certificate(owner, outsider, pem):
    outsider.client.put(url(outsider.account), {"domain": "hooks.example.com", "pem": pem}, format="json")
    destination = DestinationFactory(account=owner.account, endpoint_url="https://hooks.example.com/in")

    response = owner.client.get(
        f"/v1/accounts/{owner.account.id}/destinations/{destination.id}", {"include_certificate_data": "true"}
    )

    assert response.json()["certificate"] is None
