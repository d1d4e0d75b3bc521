from __future__ import annotations

from rest_framework.fields import BooleanField

from buckets import selectors, services
from buckets.serializers import BucketSerializer, ExpandedBucketSerializer
from core.api import ScopedDetailView, ScopedListCreateView


class BucketViewMixin:
    def expand(self) -> bool:
        return self.request.query_params.get("expand", "").lower() in BooleanField.TRUE_VALUES

    def get_queryset(self):
        return selectors.bucket_list(account=self.account, expand=self.expand())

    def get_serializer_class(self):
        return (
            ExpandedBucketSerializer if self.request.method == "GET" and self.expand() else BucketSerializer
        )


class BucketListView(BucketViewMixin, ScopedListCreateView):
    def perform_create(self, serializer):
        serializer.instance = services.bucket_create(account=self.account, **serializer.validated_data)


class BucketDetailView(BucketViewMixin, ScopedDetailView):
    lookup_url_kwarg = "bucket_id"

    def perform_update(self, serializer):
        services.bucket_update(bucket=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.bucket_delete(bucket=instance)
