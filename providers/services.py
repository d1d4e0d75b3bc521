"""Writes for applications, versions, consumers, consumer destinations and client tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_create
from buckets.models import Bucket
from core.db import save_unique
from core.secrets import digest, new_token
from destinations.models import Destination
from destinations.services import destination_create
from inputs.models import Input
from providers.models import Application, ApplicationVersion, ClientToken, Consumer


def _update(instance, fields: dict):
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance


def application_create(*, account: Account, **fields) -> Application:
    return Application.objects.create(account=account, **fields)


def application_update(*, application: Application, **fields) -> Application:
    _update(application, fields).save()
    return application


@transaction.atomic
def application_delete(*, application: Application) -> None:
    """Delete the application with its consumers and their sub-accounts."""
    Account.objects.filter(consumer__application=application).delete()
    application.delete()


def _save_version(version: ApplicationVersion) -> ApplicationVersion:
    return save_unique(version, field="key", message=f"A version with key '{version.key}' already exists.")


def application_version_create(*, application: Application, **fields) -> ApplicationVersion:
    """Add a version; its key is unique per application."""
    return _save_version(ApplicationVersion(account=application.account, application=application, **fields))


def application_version_update(*, version: ApplicationVersion, **fields) -> ApplicationVersion:
    return _save_version(_update(version, fields))


def application_version_delete(*, version: ApplicationVersion) -> None:
    version.delete()


EVENT_HEADER = "X-Webhooks-Event"


def consumer_bucket_ensure(*, consumer: Consumer, bucket_key: str) -> tuple[Bucket, Input]:
    """The consumer's bucket ``bucket_key`` and its input for the application, created on demand."""
    bucket, _ = Bucket.objects.get_or_create(
        account=consumer.sub_account, key=bucket_key, defaults={"name": bucket_key}
    )
    application = consumer.application
    # The provider names the event of what it sends in a header (``send``, the dynamic form).
    input_, _ = Input.objects.get_or_create(
        account=consumer.sub_account,
        bucket=bucket,
        key=application.id,
        defaults={
            "name": application.name,
            "event_location": Input.EventLocation.HEADER,
            "event_path": EVENT_HEADER,
        },
    )
    return bucket, input_


@transaction.atomic
def consumer_create(
    *, application: Application, consumer_id: str, name: str, bucket_key: str = "default"
) -> Consumer:
    """Create a consumer with its sub-account (within the plan's sub-account limit), its bucket
    and the application's input in it, all or nothing."""
    provider = application.account
    sub_account = account_create(name=name, plan=provider.plan, parent=provider, account_key=consumer_id)
    consumer = Consumer(
        account=provider, application=application, consumer_id=consumer_id, name=name, sub_account=sub_account
    )
    # A conflict rolls back the whole transaction, the sub-account included.
    save_unique(consumer, field="consumer_id", message=f"A consumer with id '{consumer_id}' already exists.")
    consumer_bucket_ensure(consumer=consumer, bucket_key=bucket_key)
    return consumer


def consumer_update(*, consumer: Consumer, name: str) -> Consumer:
    consumer.name = name
    consumer.save(update_fields=["name", "updated"])
    return consumer


def consumer_delete(*, consumer: Consumer) -> None:
    """Delete the consumer's sub-account, which takes the consumer and all it holds with it."""
    consumer.sub_account.delete()


def client_token_issue(
    *,
    account: Account,
    consumer: Consumer | None = None,
    bucket_key: str = "default",
    paths: list[str] | None = None,
    options: dict | None = None,
) -> tuple[str, ClientToken]:
    """Issue a client token reaching ``account`` (a consumer's sub-account, or an account for its
    own embedded view), its bucket ``bucket_key`` and ``paths``, with the embedded view's
    ``options``; only its digest is stored. Returns the plain token and its row."""
    token = new_token("whc_")
    expires_at: datetime = timezone.now() + timedelta(seconds=settings.CLIENT_TOKEN_TTL_SECONDS)
    client_token = ClientToken.objects.create(
        account=account,
        consumer=consumer,
        bucket_key=bucket_key,
        paths=paths or ["*"],
        options=options or {},
        digest=digest(token),
        expires_at=expires_at,
    )
    return token, client_token


@transaction.atomic
def consumer_client_token_issue(
    *, consumer: Consumer, bucket_key: str = "default", **fields
) -> tuple[str, ClientToken]:
    """A client token for the consumer's bucket ``bucket_key`` (created on demand with its input)."""
    consumer_bucket_ensure(consumer=consumer, bucket_key=bucket_key)
    return client_token_issue(
        account=consumer.sub_account, consumer=consumer, bucket_key=bucket_key, **fields
    )


@transaction.atomic
def consumer_destination_create(*, consumer: Consumer, bucket_key: str = "default", **fields) -> Destination:
    """Add a destination to the consumer's bucket ``bucket_key`` (created on demand with its input)."""
    _, input_ = consumer_bucket_ensure(consumer=consumer, bucket_key=bucket_key)
    return destination_create(account=consumer.sub_account, input=input_, **fields)
