from __future__ import annotations

from django.utils.text import slugify

from accounts.models import Account
from buckets.models import Bucket
from inputs.models import Input


def input_create(*, account: Account, bucket: Bucket, name: str, key: str = "", **fields) -> Input:
    """Create an input in one of the account's buckets; its key defaults to the slug of its name."""
    input_ = Input(account=account, bucket=bucket, name=name, key=key or slugify(name)[:128], **fields)
    input_.save()
    return input_


def input_update(*, input: Input, **fields) -> Input:
    for name, value in fields.items():
        setattr(input, name, value)
    input.save()
    return input


def input_delete(*, input: Input) -> None:
    """Delete an input and, with it, its destinations."""
    input.delete()
