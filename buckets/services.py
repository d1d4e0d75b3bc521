from __future__ import annotations

from django.utils.text import slugify

from accounts.models import Account
from buckets.models import Bucket
from core.db import save_unique


def _save(bucket: Bucket) -> Bucket:
    return save_unique(bucket, field="key", message=f"A bucket with key '{bucket.key}' already exists.")


def bucket_create(*, account: Account, name: str, key: str = "") -> Bucket:
    """Create a bucket; its key defaults to the slug of its name and is unique per account."""
    return _save(Bucket(account=account, name=name, key=key or slugify(name)[:128] or "bucket"))


def bucket_update(*, bucket: Bucket, **fields) -> Bucket:
    for name, value in fields.items():
        setattr(bucket, name, value)
    return _save(bucket)


def bucket_delete(*, bucket: Bucket) -> None:
    bucket.delete()
