from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account
from buckets.models import Bucket


def bucket_list(*, account: Account, expand: bool = False) -> QuerySet[Bucket]:
    buckets = Bucket.objects.filter(account=account)
    if expand:
        buckets = buckets.prefetch_related("inputs__destinations")
    return buckets
