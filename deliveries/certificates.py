"""Importing SSL certificates that deliveries to ``domain:port`` trust (self-signed receivers)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from accounts.models import Account
from core.errors import ValidationFailed
from deliveries.models import Certificate
from destinations.http_client import CertificateFetchError, fetch_certificate


def _parse_pem(pem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        message = "Not a PEM-encoded X.509 certificate."
        raise ValidationFailed(f"pem: {message}", fields={"pem": [message]}) from exc


def certificate_import(
    *, account: Account, domain: str, port: int, pem: str = ""
) -> tuple[Certificate, bool]:
    """Store the certificate trusted for ``domain:port``: the pasted ``pem`` or, without one,
    the certificate the server presents there (fetched through the SSRF guard). Replaces an
    earlier import; returns the certificate and whether it is new.

    Only the certificates are kept, re-encoded: anything else pasted with them (a private key)
    is dropped. The fingerprint is that of the first (the leaf of a chain)."""
    if not pem:
        try:
            pem = fetch_certificate(domain, port)
        except CertificateFetchError as exc:
            raise ValidationFailed(str(exc), fields={"domain": [str(exc)]}) from exc
    certificates = _parse_pem(pem)
    leaf = certificates[0]
    return Certificate.objects.update_or_create(
        account=account,
        domain=domain,
        port=port,
        defaults={
            "pem": "".join(certificate.public_bytes(Encoding.PEM).decode() for certificate in certificates),
            "fingerprint_sha256": leaf.fingerprint(hashes.SHA256()).hex(),
            "not_after": leaf.not_valid_after_utc,
        },
    )


def certificate_delete(*, certificate: Certificate) -> None:
    certificate.delete()
