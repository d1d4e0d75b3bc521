from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.fields import BooleanField
from rest_framework.response import Response

from core.api import AccountScopedMixin, ScopedDetailView, ScopedListCreateView
from core.errors import NotFound
from core.permissions import AllowAny
from deliveries.serializers import DestinationWithCertificateSerializer
from destinations import selectors, services
from destinations.retry import POLICIES, RetryPolicy
from destinations.serializers import (
    DestinationSecretSerializer,
    DestinationSerializer,
    DestinationWithSecretSerializer,
    RetryPolicySerializer,
    SecretRotateSerializer,
)
from inputs.selectors import input_get


class DestinationViewMixin:
    lookup_url_kwarg = "destination_id"

    def get_queryset(self):
        return selectors.destination_list(account=self.account)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "account": self.account}


class DestinationListView(DestinationViewMixin, ScopedListCreateView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.input = input_get(account=self.account, input_id=kwargs["input_id"])

    def get_queryset(self):
        key = self.request.query_params.get("destination_key", "")
        return selectors.destination_list(account=self.account, input=self.input, key=key)

    def get_serializer_class(self):
        # Only the answer to a creation shows the signing secret.
        return DestinationWithSecretSerializer if self.request.method == "POST" else DestinationSerializer

    def perform_create(self, serializer):
        serializer.instance = services.destination_create(
            account=self.account, input=self.input, **serializer.validated_data
        )


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "include_certificate_data",
                bool,
                description="Add `certificate`: the imported SSL certificate deliveries will use, or null.",
            )
        ]
    )
)
class DestinationDetailView(DestinationViewMixin, ScopedDetailView):
    def get_serializer_class(self):
        flag = self.request.query_params.get("include_certificate_data", "")
        if self.request.method == "GET" and flag.lower() in BooleanField.TRUE_VALUES:
            return DestinationWithCertificateSerializer
        return DestinationSerializer

    def perform_update(self, serializer):
        services.destination_update(destination=serializer.instance, **serializer.validated_data)


class DestinationSecretView(DestinationViewMixin, AccountScopedMixin, generics.RetrieveAPIView):
    read_level = "developer"
    serializer_class = DestinationSecretSerializer


class DestinationSecretRotateView(DestinationViewMixin, AccountScopedMixin, generics.GenericAPIView):
    serializer_class = SecretRotateSerializer

    def post(self, request, *args, **kwargs):
        destination = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.destination_rotate_secret(
            destination=destination, grace_period_seconds=serializer.validated_data["grace_period"]
        )
        return Response(DestinationSecretSerializer(destination).data)


class RetryPolicyMixin:
    """Public: the retry policies a destination may use."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = RetryPolicySerializer


class RetryPolicyListView(RetryPolicyMixin, generics.ListAPIView):
    def get_queryset(self) -> list[RetryPolicy]:
        return list(POLICIES.values())


class RetryPolicyDetailView(RetryPolicyMixin, generics.RetrieveAPIView):
    def get_object(self) -> RetryPolicy:
        policy = POLICIES.get(self.kwargs["policy_id"])
        if policy is None:
            raise NotFound("Unknown retry policy.")
        return policy
