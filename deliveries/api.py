from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.fields import BooleanField
from rest_framework.response import Response

from core.api import AccountScopedMixin
from deliveries import certificates, selectors, services
from deliveries.serializers import (
    AttemptSerializer,
    BulkResendResultSerializer,
    BulkResendSerializer,
    CertificateDetailSerializer,
    CertificateImportSerializer,
    CertificateSerializer,
    IncomingMessageSerializer,
    IncomingMessageWithOutgoingSerializer,
    OutgoingMessageDetailSerializer,
    OutgoingMessageSerializer,
    OutgoingMessageStatusSerializer,
    ResendResultSerializer,
    ResendSerializer,
    RetrySerializer,
)
from destinations.selectors import destination_get


class ActionView(generics.GenericAPIView):
    """A POST action: validates the body with ``serializer_class``."""

    def validated(self) -> dict:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# Messages


@extend_schema_view(
    get=extend_schema(
        parameters=[OpenApiParameter("include_outgoing_messages", bool)],
        responses=IncomingMessageWithOutgoingSerializer,
    )
)
class IncomingMessageDetailView(AccountScopedMixin, generics.RetrieveAPIView):
    lookup_url_kwarg = "incoming_message_id"

    def include_outgoing(self) -> bool:
        flag = self.request.query_params.get("include_outgoing_messages", "")
        return flag.lower() in BooleanField.TRUE_VALUES

    def get_queryset(self):
        return selectors.incoming_list(account=self.account, with_outgoing=self.include_outgoing())

    def get_serializer_class(self):
        return IncomingMessageWithOutgoingSerializer if self.include_outgoing() else IncomingMessageSerializer


class OutgoingMessageDetailView(AccountScopedMixin, generics.RetrieveAPIView):
    lookup_url_kwarg = "outgoing_message_id"
    serializer_class = OutgoingMessageDetailSerializer

    def get_queryset(self):
        return selectors.outgoing_list(account=self.account, with_attempts=True)


class OutgoingMessageStatusView(AccountScopedMixin, generics.RetrieveAPIView):
    lookup_url_kwarg = "outgoing_message_id"
    serializer_class = OutgoingMessageStatusSerializer

    def get_queryset(self):
        return selectors.outgoing_list(account=self.account)


class AttemptDetailView(AccountScopedMixin, generics.RetrieveAPIView):
    lookup_url_kwarg = "attempt_id"
    serializer_class = AttemptSerializer

    def get_queryset(self):
        return selectors.attempt_list(account=self.account)


# Resend and retry


class ResendView(AccountScopedMixin, ActionView):
    """Duplicate outgoing messages of the account and deliver the copies from scratch; process
    again incoming messages an input recipe failed or skipped (``incoming_message_ids``)."""

    serializer_class = ResendSerializer

    @extend_schema(responses={201: ResendResultSerializer})
    def post(self, request, *args, **kwargs) -> Response:
        data = self.validated()
        originals = selectors.outgoing_get_many(
            account=self.account, outgoing_message_ids=data.get("outgoing_message_ids", [])
        )
        incomings = selectors.incoming_get_many(
            account=self.account, incoming_message_ids=data.get("incoming_message_ids", [])
        )
        body = {}
        if incomings:
            reprocessed = services.incoming_reprocess(incomings=incomings)
            body["incoming_messages"] = IncomingMessageSerializer(reprocessed, many=True).data
        resends = services.outgoing_resend(originals=originals)
        body["outgoing_messages"] = OutgoingMessageSerializer(resends, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


class BulkResendView(AccountScopedMixin, ActionView):
    """Resend every outgoing message of the account matching the filter (recovery after an
    outage). ``start_date`` and ``end_date`` take ISO 8601 or Unix seconds."""

    serializer_class = BulkResendSerializer

    @extend_schema(responses={201: BulkResendResultSerializer})
    def post(self, request, *args, **kwargs) -> Response:
        data = self.validated()
        if "destination_id" in data:
            destination_get(account=self.account, destination_id=data["destination_id"])
        resends = services.outgoing_bulk_resend(
            account=self.account,
            destination_id=data.get("destination_id"),
            status=data.get("status"),
            start=data.get("start_date"),
            end=data.get("end_date"),
        )
        body = {"count": len(resends), "outgoing_message_ids": [resend.pk for resend in resends]}
        return Response(body, status=status.HTTP_201_CREATED)


class RetryView(ActionView):
    """Retry a failed outgoing message of any account the token can see, now (409 once it
    was delivered: resend it instead)."""

    serializer_class = RetrySerializer

    @extend_schema(responses=OutgoingMessageDetailSerializer)
    def post(self, request, *args, **kwargs) -> Response:
        outgoing_id = self.validated()["outgoing_message_id"]
        outgoing = selectors.outgoing_get_visible(principal=request.user, outgoing_message_id=outgoing_id)
        outgoing = services.outgoing_retry(outgoing=outgoing)
        return Response(OutgoingMessageDetailSerializer(outgoing).data)


# SSL certificates


class CertificateListView(AccountScopedMixin, generics.ListAPIView):
    serializer_class = CertificateSerializer

    def get_queryset(self):
        return selectors.certificate_list(account=self.account)

    @extend_schema(
        request=CertificateImportSerializer,
        responses={200: CertificateDetailSerializer, 201: CertificateDetailSerializer},
    )
    def put(self, request, *args, **kwargs) -> Response:
        """Import the certificate the server at ``domain:port`` presents, or the pasted ``pem``;
        answers 201 for a new import and 200 when it replaces the earlier one."""
        serializer = CertificateImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        certificate, created = certificates.certificate_import(account=self.account, **data)
        return Response(
            CertificateDetailSerializer(certificate).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema_view(
    get=extend_schema(parameters=[OpenApiParameter("certificate_id", str, OpenApiParameter.PATH)]),
    delete=extend_schema(parameters=[OpenApiParameter("certificate_id", str, OpenApiParameter.PATH)]),
)
class CertificateDetailView(AccountScopedMixin, generics.RetrieveDestroyAPIView):
    serializer_class = CertificateDetailSerializer

    def get_object(self):
        return selectors.certificate_get(account=self.account, certificate_id=self.kwargs["certificate_id"])

    def perform_destroy(self, instance) -> None:
        certificates.certificate_delete(certificate=instance)
