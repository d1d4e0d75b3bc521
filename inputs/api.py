from __future__ import annotations

from rest_framework import generics, serializers

from core.api import AccountScopedMixin, ScopedDetailView, ScopedListCreateView
from core.errors import NotFound
from core.permissions import AllowAny
from inputs import selectors, services
from inputs.authentication_options import CATALOGUES, AuthenticationType
from inputs.serializers import InputSerializer


class InputViewMixin:
    serializer_class = InputSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.input_list(
            account=self.account,
            bucket_id=self.kwargs.get("bucket_id"),
            key=params.get("key", ""),
            event_filter=params.get("event_filter", ""),
        )

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "account": self.account}


class InputListView(InputViewMixin, ScopedListCreateView):
    def perform_create(self, serializer):
        serializer.instance = services.input_create(account=self.account, **serializer.validated_data)


class BucketInputListView(InputViewMixin, AccountScopedMixin, generics.ListAPIView):
    pass


class InputDetailView(InputViewMixin, ScopedDetailView):
    lookup_url_kwarg = "input_id"

    def perform_update(self, serializer):
        services.input_update(input=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.input_delete(input=instance)


class AuthenticationOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    default = serializers.JSONField()
    choices = serializers.ListField(child=serializers.CharField())


class AuthenticationTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    options = AuthenticationOptionSerializer(many=True)


class AuthenticationCatalogueMixin:
    """Public: the catalogue of ``input`` or ``destination`` authentication types."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = AuthenticationTypeSerializer

    def catalogue(self) -> dict[str, AuthenticationType]:
        catalogue = CATALOGUES.get(self.kwargs["type"])
        if catalogue is None:
            raise NotFound("Unknown authentication catalogue: use 'input' or 'destination'.")
        return catalogue


class AuthenticationTypeListView(AuthenticationCatalogueMixin, generics.ListAPIView):
    def get_queryset(self) -> list[AuthenticationType]:
        return list(self.catalogue().values())


class AuthenticationTypeDetailView(AuthenticationCatalogueMixin, generics.RetrieveAPIView):
    def get_object(self) -> AuthenticationType:
        auth_type = self.catalogue().get(self.kwargs["option"])
        if auth_type is None:
            raise NotFound("Unknown authentication type.")
        return auth_type
