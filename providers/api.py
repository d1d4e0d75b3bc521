from __future__ import annotations

from rest_framework import generics, status
from rest_framework.response import Response

from core.api import AccountScopedMixin, ScopedDetailView, ScopedListCreateView
from destinations.serializers import DestinationSerializer
from destinations.services import destination_delete, destination_update
from providers import selectors, services
from providers.serializers import (
    ApplicationSerializer,
    ApplicationVersionSerializer,
    ClientTokenRequestSerializer,
    ClientTokenSerializer,
    ConsumerDestinationCreateSerializer,
    ConsumerDestinationQuerySerializer,
    ConsumerDestinationSerializer,
    ConsumerSerializer,
    SubscriptionCheckSerializer,
)


class ApplicationScopedMixin:
    """Sets ``self.application`` to the URL's application of ``self.account``, or 404."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.application = selectors.application_get(
            account=self.account, application_id=kwargs["application_id"]
        )


class ConsumerScopedMixin(ApplicationScopedMixin):
    """Sets ``self.consumer`` to the URL's consumer (the provider's ``consumer_id``), or 404."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.consumer = selectors.consumer_get(
            application=self.application, consumer_id=kwargs["consumer_id"]
        )


class ApplicationViewMixin:
    serializer_class = ApplicationSerializer

    def get_queryset(self):
        return selectors.application_list(account=self.account)


class ApplicationListView(ApplicationViewMixin, ScopedListCreateView):
    def perform_create(self, serializer):
        serializer.instance = services.application_create(account=self.account, **serializer.validated_data)


class ApplicationDetailView(ApplicationViewMixin, ScopedDetailView):
    lookup_url_kwarg = "application_id"

    def perform_update(self, serializer):
        services.application_update(application=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.application_delete(application=instance)


class ApplicationVersionViewMixin(ApplicationScopedMixin):
    serializer_class = ApplicationVersionSerializer

    def get_queryset(self):
        return selectors.application_version_list(application=self.application)


class ApplicationVersionListView(ApplicationVersionViewMixin, ScopedListCreateView):
    def perform_create(self, serializer):
        serializer.instance = services.application_version_create(
            application=self.application, **serializer.validated_data
        )


class ApplicationVersionDetailView(ApplicationVersionViewMixin, ScopedDetailView):
    lookup_url_kwarg = "application_version_id"

    def perform_update(self, serializer):
        services.application_version_update(version=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.application_version_delete(version=instance)


class ConsumerViewMixin(ApplicationScopedMixin):
    serializer_class = ConsumerSerializer

    def get_queryset(self):
        return selectors.consumer_list(application=self.application)


class ConsumerListView(ConsumerViewMixin, ScopedListCreateView):
    def perform_create(self, serializer):
        serializer.instance = services.consumer_create(
            application=self.application, **serializer.validated_data
        )


class ConsumerDetailView(ConsumerViewMixin, ScopedDetailView):
    lookup_field = "consumer_id"

    def perform_update(self, serializer):
        if "name" in serializer.validated_data:
            services.consumer_update(consumer=serializer.instance, name=serializer.validated_data["name"])

    def perform_destroy(self, instance):
        services.consumer_delete(consumer=instance)


class ConsumerDestinationViewMixin(ConsumerScopedMixin):
    lookup_url_kwarg = "destination_id"

    def get_queryset(self):
        return selectors.consumer_destination_list(consumer=self.consumer)

    def get_serializer_context(self) -> dict:
        return {
            **super().get_serializer_context(),
            "account": self.consumer.sub_account,
            "event_types": selectors.application_event_types(application=self.application),
        }


class ConsumerDestinationListView(ConsumerDestinationViewMixin, ScopedListCreateView):
    def get_queryset(self):
        query = ConsumerDestinationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.consumer_destination_list(consumer=self.consumer, **query.validated_data)

    def get_serializer_class(self):
        # Only the answer to a creation shows the signing secret.
        if self.request.method == "POST":
            return ConsumerDestinationCreateSerializer
        return ConsumerDestinationSerializer

    def perform_create(self, serializer):
        serializer.instance = services.consumer_destination_create(
            consumer=self.consumer, **serializer.validated_data
        )


class ConsumerDestinationDetailView(ConsumerDestinationViewMixin, ScopedDetailView):
    serializer_class = ConsumerDestinationSerializer

    def perform_update(self, serializer):
        destination_update(destination=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        destination_delete(destination=instance)


class ClientTokenView(ConsumerScopedMixin, AccountScopedMixin, generics.GenericAPIView):
    serializer_class = ClientTokenRequestSerializer

    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, client_token = services.client_token_issue(consumer=self.consumer, **serializer.validated_data)
        body = {"token": token, **ClientTokenSerializer(client_token).data}
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionCheckView(ConsumerScopedMixin, AccountScopedMixin, generics.GenericAPIView):
    serializer_class = SubscriptionCheckSerializer
    write_level = "viewer"  # a POST that only reads

    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_type = serializer.validated_data.get("event_type") or None
        event_types, destinations = selectors.consumer_subscription(
            consumer=self.consumer, bucket_key=kwargs["bucket_key"], event_type=event_type
        )
        body: dict = {"subscribed": bool(destinations), "event_types": event_types}
        if serializer.validated_data["include_destination_detail"]:
            body["destinations"] = DestinationSerializer(
                destinations, many=True, context=self.get_serializer_context()
            ).data
        return Response(body)
