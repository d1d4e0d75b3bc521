from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from core.api import AccountScopedMixin
from deliveries.models import IncomingMessage
from providers.api import ConsumerScopedMixin
from reporting import selectors
from reporting.serializers import (
    LogEntrySerializer,
    LogQuerySerializer,
    OverviewQuerySerializer,
    OverviewSerializer,
    SummaryQuerySerializer,
    SummarySerializer,
)


def _query(request, serializer_class) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class OverviewView(AccountScopedMixin, generics.GenericAPIView):
    """The traffic as a time series: incoming, outgoing, succeeded, failed and retried counts and
    the p50/p95 attempt duration of every period between the dates (UTC)."""

    serializer_class = OverviewSerializer

    @extend_schema(parameters=[OverviewQuerySerializer])
    def get(self, request, *args, **kwargs) -> Response:
        query = _query(request, OverviewQuerySerializer)
        accounts = selectors.report_accounts(
            account=self.account,
            include_sub_accounts=query.pop("include_sub_accounts"),
            application_id=query.pop("application_id", None),
        )
        overview = selectors.traffic_overview(
            accounts=accounts, start=query.pop("start_date"), end=query.pop("end_date"), **query
        )
        return Response(OverviewSerializer(overview).data)


class SummaryView(AccountScopedMixin, generics.GenericAPIView):
    """The traffic's totals between the dates (whole hours, UTC; all history without dates)."""

    serializer_class = SummarySerializer

    @extend_schema(parameters=[SummaryQuerySerializer])
    def get(self, request, *args, **kwargs) -> Response:
        query = _query(request, SummaryQuerySerializer)
        summary = selectors.traffic_summary(
            accounts=selectors.report_accounts(account=self.account),
            start=query.pop("start_date", None),
            end=query.pop("end_date", None),
            **query,
        )
        return Response(SummarySerializer(summary).data)


class LogPagination(CursorPagination):
    ordering = ("-created", "-id")
    page_size_query_param = "page_size"
    max_page_size = settings.MAX_PAGE_SIZE


class RequestLogView(AccountScopedMixin, generics.ListAPIView):
    """The request log, newest first, with cursor pagination: each incoming message with its
    deliveries (the body and headers are at ``/incoming/:id``)."""

    serializer_class = LogEntrySerializer
    pagination_class = LogPagination

    def log_account(self):
        return self.account

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IncomingMessage.objects.none()
        query = _query(self.request, LogQuerySerializer)
        return selectors.request_log(account=self.log_account(), **query)

    @extend_schema(parameters=[LogQuerySerializer])
    def get(self, request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class ConsumerLogView(ConsumerScopedMixin, RequestLogView):
    """A consumer's request log: the messages of the consumer's sub-account and its destinations."""

    def log_account(self):
        return self.consumer.sub_account
