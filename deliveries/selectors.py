"""Reads of messages, attempts and certificates. Every read is scoped to an account (or, for
``POST /v1/retry``, to the accounts the principal can see), so a foreign id is 404."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db.models import QuerySet

from accounts.models import Account
from accounts.selectors import accounts_visible
from core.errors import NotFound
from deliveries.models import Attempt, Certificate, IncomingMessage, OutgoingMessage

MAX_PORT = 65535


def incoming_list(*, account: Account, with_outgoing: bool = False) -> QuerySet[IncomingMessage]:
    incoming = IncomingMessage.objects.filter(account=account)
    if with_outgoing:
        incoming = incoming.prefetch_related("outgoing_messages")
    return incoming


def outgoing_list(*, account: Account, with_attempts: bool = False) -> QuerySet[OutgoingMessage]:
    outgoing = OutgoingMessage.objects.filter(account=account)
    if with_attempts:
        outgoing = outgoing.prefetch_related("attempts")
    return outgoing


def outgoing_get_many(*, account: Account, outgoing_message_ids: list[str]) -> list[OutgoingMessage]:
    """The account's outgoing messages with these ids, in the order given; NotFound naming the
    first id that is not one of them (another tenant's id looks the same as an unknown one)."""
    found = outgoing_list(account=account).in_bulk(outgoing_message_ids)
    missing = [outgoing_id for outgoing_id in outgoing_message_ids if outgoing_id not in found]
    if missing:
        raise NotFound(f"Outgoing message {missing[0]} not found.")
    return [found[outgoing_id] for outgoing_id in outgoing_message_ids]


def incoming_get_many(*, account: Account, incoming_message_ids: list[str]) -> list[IncomingMessage]:
    """The account's incoming messages with these ids, in the order given (as ``outgoing_get_many``)."""
    found = incoming_list(account=account).in_bulk(incoming_message_ids)
    missing = [incoming_id for incoming_id in incoming_message_ids if incoming_id not in found]
    if missing:
        raise NotFound(f"Incoming message {missing[0]} not found.")
    return [found[incoming_id] for incoming_id in incoming_message_ids]


def outgoing_get_visible(*, principal, outgoing_message_id: str) -> OutgoingMessage:
    """An outgoing message of any account the principal can see (the account-less retry)."""
    outgoing = OutgoingMessage.objects.filter(
        pk=outgoing_message_id, account__in=accounts_visible(principal=principal)
    ).first()
    if outgoing is None:
        raise NotFound("Outgoing message not found.")
    return outgoing


def attempt_list(*, account: Account) -> QuerySet[Attempt]:
    return Attempt.objects.filter(account=account)


def certificate_list(*, account: Account) -> QuerySet[Certificate]:
    return Certificate.objects.filter(account=account)


def certificate_get(*, account: Account, certificate_id: str) -> Certificate:
    """The certificate named ``domain:port``; a malformed id names nothing."""
    domain, _, port = certificate_id.rpartition(":")
    certificate = None
    if domain and port.isascii() and port.isdigit() and 0 < int(port) <= MAX_PORT:
        certificate = (
            certificate_list(account=account)
            .filter(domain=domain.strip("[]").lower(), port=int(port))
            .first()
        )
    if certificate is None:
        raise NotFound("Certificate not found.")
    return certificate


def certificate_for_url(*, account: Account, url: str) -> Certificate | None:
    """The imported certificate deliveries to ``url`` trust: the one of its host and port."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return certificate_list(account=account).filter(domain=parts.hostname or "", port=port).first()
