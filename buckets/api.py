from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.fields import BooleanField
from rest_framework.response import Response

from buckets import selectors, services
from buckets.serializers import BucketSerializer, ExpandedBucketSerializer
from core.api import ScopedDetailView, ScopedListCreateView
from reporting.selectors import report_accounts, traffic_summary
from reporting.serializers import SummarySerializer


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

    @extend_schema(
        parameters=[
            OpenApiParameter("expand", bool),
            OpenApiParameter(
                "include_stats", bool, description="Add `stats`: the traffic summary (all history)."
            ),
        ]
    )
    def get(self, request, *args, **kwargs) -> Response:
        response = super().get(request, *args, **kwargs)
        if request.query_params.get("include_stats", "").lower() in BooleanField.TRUE_VALUES:
            summary = traffic_summary(
                accounts=report_accounts(account=self.account),
                start=None,
                end=None,
                bucket_id=response.data["id"],
            )
            response.data["stats"] = SummarySerializer(summary).data
        return response

    def perform_update(self, serializer):
        services.bucket_update(bucket=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.bucket_delete(bucket=instance)
