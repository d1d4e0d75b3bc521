from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from buckets.selectors import bucket_list
from buckets.serializers import BucketSerializer
from core.api import AccountScopedMixin, ScopedDetailView, ScopedListCreateView
from core.errors import NotFound, ValidationFailed
from destinations.serializers import DestinationSerializer
from destinations.services import destination_update
from inputs.gateway import Refused, ingest_request, target_url_of
from providers import selectors, services
from providers.embedded import snippet_html
from providers.models import ClientToken
from providers.serializers import (
    ApplicationSerializer,
    ApplicationVersionSerializer,
    ClientTokenRequestSerializer,
    ClientTokenSerializer,
    ConsumerDestinationCreateSerializer,
    ConsumerDestinationQuerySerializer,
    ConsumerDestinationSerializer,
    ConsumerSerializer,
    ConsumerSubscriptionCheckSerializer,
    EmbeddedViewRequestSerializer,
    EmbeddedViewSerializer,
    SubscriptionCheckSerializer,
    SubscriptionSerializer,
)

ACCEPTED = inline_serializer("MessageAccepted", fields={"id": serializers.CharField()})


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


class ConsumerBucketListView(ConsumerScopedMixin, AccountScopedMixin, generics.ListAPIView):
    """The consumer's buckets."""

    serializer_class = BucketSerializer

    def get_queryset(self):
        return bucket_list(account=self.consumer.sub_account)


class ClientTokenView(ConsumerScopedMixin, AccountScopedMixin, generics.GenericAPIView):
    serializer_class = ClientTokenRequestSerializer

    @extend_schema(responses={201: ClientTokenSerializer})
    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, client_token = services.consumer_client_token_issue(
            consumer=self.consumer, **serializer.validated_data
        )
        body = {"token": token, **ClientTokenSerializer(client_token).data}
        return Response(body, status=status.HTTP_201_CREATED)


def _embedded_view_answer(
    request, serializer: EmbeddedViewRequestSerializer, token: str, client_token: ClientToken
) -> Response:
    data = serializer.validated_data
    html = snippet_html(
        token=token,
        element_id=data["element_id"],
        api_url=data.get("api_url") or request.build_absolute_uri("/"),
        embedded_url=data.get("embedded_url", ""),
    )
    body = {"html": html, "token": token, **ClientTokenSerializer(client_token).data}
    return Response(body, status=status.HTTP_201_CREATED)


class ConsumerEmbeddedViewView(ConsumerScopedMixin, AccountScopedMixin, generics.GenericAPIView):
    """The HTML of the consumer's embedded view, with a new client token for it."""

    serializer_class = EmbeddedViewRequestSerializer

    @extend_schema(responses={201: EmbeddedViewSerializer})
    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, client_token = services.consumer_client_token_issue(
            consumer=self.consumer, **serializer.token_fields()
        )
        return _embedded_view_answer(request, serializer, token, client_token)


class AccountEmbeddedViewView(AccountScopedMixin, generics.GenericAPIView):
    """The HTML of the account's own embedded view of one of its buckets (``bucket_key``)."""

    serializer_class = EmbeddedViewRequestSerializer

    @extend_schema(responses={201: EmbeddedViewSerializer})
    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.token_fields()
        if not bucket_list(account=self.account).filter(key=fields["bucket_key"]).exists():
            message = f"The account has no bucket with key '{fields['bucket_key']}'."
            raise ValidationFailed(message, fields={"bucket_key": [message]})
        # A consumer's sub-account shows the event types of its application.
        consumer = getattr(self.account, "consumer", None)
        token, client_token = services.client_token_issue(account=self.account, consumer=consumer, **fields)
        return _embedded_view_answer(request, serializer, token, client_token)


class SubscriptionCheckView(ConsumerScopedMixin, AccountScopedMixin, generics.GenericAPIView):
    """Whether the consumer's active destinations in the bucket subscribe to ``event_type``;
    without it, every event type they subscribe to."""

    serializer_class = SubscriptionCheckSerializer
    write_level = "viewer"  # a POST that only reads

    @extend_schema(responses={200: SubscriptionSerializer})
    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_type = serializer.validated_data.get("event_type") or None
        bucket_key = kwargs.get("bucket_key") or serializer.validated_data["bucket_key"]
        event_types, destinations = selectors.consumer_subscription(
            consumer=self.consumer, bucket_key=bucket_key, event_type=event_type
        )
        body: dict = {"subscribed": bool(destinations), "event_types": event_types}
        if serializer.validated_data["include_destination_detail"]:
            body["destinations"] = DestinationSerializer(
                destinations, many=True, context=self.get_serializer_context()
            ).data
        return Response(body)


@extend_schema_view(post=extend_schema(operation_id="v1_accounts_applications_consumers_check_body"))
class ConsumerSubscriptionCheckView(SubscriptionCheckView):
    """``check`` with the bucket key in the body."""

    serializer_class = ConsumerSubscriptionCheckSerializer


class ConsumerSendView(ConsumerScopedMixin, AccountScopedMixin, generics.GenericAPIView):
    """Send a webhook to the consumer's bucket: the request (body, content type, headers but the
    credentials) becomes a message of the consumer's input for the application, delivered to its
    subscribed destinations; ``X-Webhooks-Event`` names its event type."""

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses={200: ACCEPTED})
    def post(self, request, *args, **kwargs):
        input = selectors.consumer_input_get(consumer=self.consumer, bucket_key=kwargs["bucket_key"])
        return ingest_request(request._request, input=input, trusted=True)


class ConsumerGatewayView(generics.GenericAPIView):
    """``POST /<application_id>/<consumer_id>/<bucket_key>/<target_url>``: send a webhook to a
    consumer's bucket for delivery to ``target_url``, with the delivery settings of its first
    subscribed destination (as a dynamic input does). Authenticated with the provider's token."""

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses={200: ACCEPTED})
    def post(self, request, application_id: str, consumer_id: str, bucket_key: str, target_url: str):
        if "\x00" in consumer_id + bucket_key:  # PostgreSQL text holds no NUL: such a name names nothing
            raise NotFound("Consumer not found.")
        application = selectors.application_get_visible(principal=request.user, application_id=application_id)
        consumer = selectors.consumer_get(application=application, consumer_id=consumer_id)
        input = selectors.consumer_input_get(consumer=consumer, bucket_key=bucket_key)
        try:
            url = target_url_of(target_url)
        except Refused as refused:
            return refused.response
        return ingest_request(request._request, input=input, target_url=url, trusted=True)
