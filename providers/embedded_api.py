"""The embedded view's endpoints, ``/v1/embedded/...``: client tokens only, and everything scoped
to the token's account and bucket (another bucket's or account's id answers 404)."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.generic import TemplateView
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from buckets.models import Bucket
from core.errors import Conflict, NotFound
from deliveries.serializers import OutgoingMessageSerializer
from deliveries.services import outgoing_resend
from destinations.serializers import DestinationSerializer, DestinationWithSecretSerializer
from destinations.services import destination_create, destination_update
from providers import selectors, services
from providers.authentication import ClientPrincipal
from providers.embedded import TABS, introduction_html
from providers.serializers import (
    ConsumerDestinationCreateSerializer,
    ConsumerDestinationSerializer,
    EmbeddedContextSerializer,
    EmbeddedLogDetailSerializer,
    EmbeddedLogEntrySerializer,
    EmbeddedStatsSerializer,
)


class ClientTokenOnly(BasePermission):
    message = "The embedded view takes a client token (Authorization: client-token-bearer <token>)."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, ClientPrincipal)


class EmbeddedMixin:
    """Sets ``self.client_token`` and ``self.bucket``, the token's bucket (404 once deleted)."""

    permission_classes = [ClientTokenOnly]
    bucket = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound("Not found.")
        self.client_token = request.auth
        self.bucket = (
            Bucket.objects.select_related("account__plan")
            .filter(account=self.client_token.account_id, key=self.client_token.bucket_key)
            .first()
        )
        if self.bucket is None:
            raise NotFound("Bucket not found.")

    @property
    def consumer(self):
        token = getattr(self, "client_token", None)  # None while the OpenAPI document is built
        return token.consumer if token is not None else None


class EmbeddedContextView(EmbeddedMixin, generics.GenericAPIView):
    serializer_class = EmbeddedContextSerializer

    def get(self, request, *args, **kwargs) -> Response:
        options = self.client_token.options
        shown = options.get("show_introduction", "always")
        if shown == "no-destinations":
            shown = "never" if selectors.bucket_destinations(bucket=self.bucket).exists() else "always"
        tabs = [tab for tab in TABS if tab != "introduction" or shown == "always"]
        default_tab = options.get("default_tab") if options.get("default_tab") in tabs else tabs[0]
        consumer = self.consumer
        body = {
            "account_id": self.client_token.account_id,
            "consumer_name": consumer.name if consumer else None,
            "bucket_key": self.bucket.key,
            "event_types": selectors.application_event_types(application=consumer.application)
            if consumer
            else [],
            "tabs": tabs,
            "default_tab": default_tab,
            "css_url": options.get("css_url", ""),
            "introduction_html": introduction_html(self.client_token) if "introduction" in tabs else "",
        }
        return Response(self.get_serializer(body).data)


class EmbeddedStatsView(EmbeddedMixin, generics.GenericAPIView):
    serializer_class = EmbeddedStatsSerializer

    def get(self, request, *args, **kwargs) -> Response:
        return Response(self.get_serializer(selectors.bucket_delivery_counts(bucket=self.bucket)).data)


class EmbeddedDestinationMixin(EmbeddedMixin):
    """A consumer's destinations are checked against its application's event types."""

    lookup_url_kwarg = "destination_id"

    def get_queryset(self):
        return selectors.bucket_destinations(bucket=self.bucket)

    def get_serializer_context(self) -> dict:
        context = {**super().get_serializer_context(), "account": self.client_token.account}
        if self.consumer is not None:
            context["event_types"] = selectors.application_event_types(application=self.consumer.application)
        return context


class EmbeddedDestinationListView(EmbeddedDestinationMixin, generics.ListCreateAPIView):
    def get_serializer_class(self):
        consumer = self.consumer
        if self.request.method == "POST":  # only the answer to a creation shows the secret
            return ConsumerDestinationCreateSerializer if consumer else DestinationWithSecretSerializer
        return ConsumerDestinationSerializer if consumer else DestinationSerializer

    def perform_create(self, serializer):
        fields = {**serializer.validated_data}
        if self.consumer is not None:
            fields.pop("bucket_key", None)  # the token's bucket, whatever the body says
            serializer.instance = services.consumer_destination_create(
                consumer=self.consumer, bucket_key=self.bucket.key, **fields
            )
            return
        input = self.bucket.inputs.order_by("created", "id").first()
        if input is None:
            raise Conflict("This bucket has no input to add a destination to.")
        serializer.instance = destination_create(account=self.client_token.account, input=input, **fields)


class EmbeddedDestinationDetailView(EmbeddedDestinationMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete", "head", "options"]

    def get_serializer_class(self):
        return ConsumerDestinationSerializer if self.consumer is not None else DestinationSerializer

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer):
        destination_update(destination=serializer.instance, **serializer.validated_data)


class EmbeddedLogView(EmbeddedMixin, generics.ListAPIView):
    """Deliveries to the bucket's destinations, newest first."""

    serializer_class = EmbeddedLogEntrySerializer

    def get_queryset(self):
        return selectors.bucket_deliveries(bucket=self.bucket)


class EmbeddedLogDetailView(EmbeddedMixin, generics.RetrieveAPIView):
    """One delivery with its attempts and the message's body."""

    serializer_class = EmbeddedLogDetailSerializer

    def get_object(self):
        return selectors.bucket_delivery_get(
            bucket=self.bucket, outgoing_message_id=self.kwargs["outgoing_message_id"]
        )


class EmbeddedResendView(EmbeddedMixin, generics.GenericAPIView):
    """Send a delivery again (the account's resend: a new outgoing message linked to it)."""

    serializer_class = OutgoingMessageSerializer

    @extend_schema(request=None, responses={201: OutgoingMessageSerializer})
    def post(self, request, *args, **kwargs) -> Response:
        original = selectors.bucket_delivery_get(
            bucket=self.bucket, outgoing_message_id=kwargs["outgoing_message_id"]
        )
        (resend,) = outgoing_resend(originals=[original])
        return Response(self.get_serializer(resend).data, status=status.HTTP_201_CREATED)


@method_decorator(xframe_options_exempt, name="dispatch")
class EmbeddedPageView(TemplateView):
    """The iframe's page. Framed by any site (the provider's), so it carries no secret: the
    client token arrives in the URL fragment and its scripts call the endpoints above."""

    template_name = "providers/embedded.html"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = (
            "frame-ancestors *; script-src 'self'; object-src 'none'; base-uri 'none'"
        )
        return response
