"""``/v1/webhooks`` (the token's own account; seeds 000 and 003) and
``/v1/accounts/:account_id/trigger-webhooks`` (seed 004)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from core.api import AccountScopedMixin
from core.errors import ValidationFailed
from core.ids import ID_PATTERN
from inputs.gateway import source_ip
from webhooks import selectors, services, triggers
from webhooks.serializers import (
    TriggerCallSerializer,
    TriggerInvocationSerializer,
    TriggerResultSerializer,
    TriggerWebhookInputSerializer,
    TriggerWebhookSerializer,
    WebhookInputSerializer,
    WebhookSerializer,
    WebhookTestResultSerializer,
    WebhookWithSecretSerializer,
)


def _validated(serializer_class, request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Simple webhooks


class WebhookViewMixin:
    """The token's own account; API tokens limited to scopes need the route's scope."""

    token_scopes = {
        "GET": "WEBHOOKS:VIEW",
        "POST": "WEBHOOKS:ADD",
        "PUT": "WEBHOOKS:EDIT",
        "DELETE": "WEBHOOKS:REMOVE",
    }
    account = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.account = request.user.account

    def get_queryset(self):
        return selectors.webhook_list(account=self.account)

    def get_object(self):
        webhook_id = self.kwargs["webhook_id"]
        if not ID_PATTERN.fullmatch(webhook_id) or not webhook_id.startswith("WH"):
            raise ValidationFailed(
                "A webhook id (WH followed by 32 hex digits) is required.", code="ERROR_NO_WEBHOOK_ID"
            )
        return selectors.webhook_get(account=self.account, webhook_id=webhook_id)


class WebhookListView(WebhookViewMixin, generics.ListAPIView):
    serializer_class = WebhookSerializer

    @extend_schema(request=WebhookInputSerializer, responses={201: WebhookWithSecretSerializer})
    def post(self, request):
        webhook = services.webhook_create(account=self.account, **_validated(WebhookInputSerializer, request))
        return Response(WebhookWithSecretSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(WebhookViewMixin, generics.RetrieveDestroyAPIView):
    serializer_class = WebhookSerializer

    @extend_schema(request=WebhookInputSerializer, responses=WebhookSerializer)
    def put(self, request, webhook_id: str):
        webhook = self.get_object()
        services.webhook_update(webhook=webhook, **_validated(WebhookInputSerializer, request, partial=True))
        return Response(WebhookSerializer(webhook).data)

    def perform_destroy(self, instance):
        services.webhook_delete(webhook=instance)


class WebhookTestView(WebhookViewMixin, generics.GenericAPIView):
    token_scopes = {"POST": "WEBHOOKS:EDIT"}  # seed 003

    @extend_schema(request=None, responses=WebhookTestResultSerializer)
    def post(self, request, webhook_id: str):
        attempt = services.webhook_test(
            webhook=self.get_object(), path=request.path, source_ip=source_ip(request)
        )
        return Response(WebhookTestResultSerializer(attempt).data)


# Trigger webhooks


class TriggerWebhookViewMixin(AccountScopedMixin):
    def get_queryset(self):
        return selectors.trigger_webhook_list(account=self.account)

    def get_object(self):
        return selectors.trigger_webhook_get(account=self.account, name=self.kwargs["trigger_webhook_id"])


class TriggerWebhookListView(TriggerWebhookViewMixin, generics.ListAPIView):
    serializer_class = TriggerWebhookSerializer

    @extend_schema(request=TriggerWebhookInputSerializer, responses={201: TriggerWebhookSerializer})
    def post(self, request, account_id: str):
        trigger = triggers.trigger_webhook_create(
            account=self.account, **_validated(TriggerWebhookInputSerializer, request)
        )
        return Response(TriggerWebhookSerializer(trigger).data, status=status.HTTP_201_CREATED)


class TriggerWebhookDetailView(TriggerWebhookViewMixin, generics.RetrieveDestroyAPIView):
    serializer_class = TriggerWebhookSerializer

    @extend_schema(request=TriggerWebhookInputSerializer, responses=TriggerWebhookSerializer)
    def put(self, request, account_id: str, trigger_webhook_id: str):
        trigger = self.get_object()
        triggers.trigger_webhook_update(
            trigger=trigger, **_validated(TriggerWebhookInputSerializer, request, partial=True)
        )
        return Response(TriggerWebhookSerializer(trigger).data)

    def perform_destroy(self, instance):
        triggers.trigger_webhook_delete(trigger=instance)


class TriggerCallView(TriggerWebhookViewMixin, generics.GenericAPIView):
    @extend_schema(request=TriggerCallSerializer, responses=TriggerResultSerializer)
    def post(self, request, account_id: str, trigger_webhook_id: str):
        trigger = self.get_object()
        attempt = triggers.trigger_call(
            trigger=trigger,
            **_validated(TriggerCallSerializer, request),
            path=request.path,
            source_ip=source_ip(request),
        )
        return Response(TriggerResultSerializer(triggers.invocation_result(attempt)).data)


class TriggerInvocationDetailView(AccountScopedMixin, generics.GenericAPIView):
    serializer_class = TriggerInvocationSerializer

    def get(self, request, account_id: str, reference_id: str):
        invocation = selectors.trigger_invocation_get(account=self.account, reference_id=reference_id)
        attempt = invocation.attempts.all()[0]
        body = {
            **triggers.invocation_result(attempt),
            "trigger_webhook_id": invocation.destination.trigger_webhook.name,
            "incoming_message_id": invocation.incoming_id,
            "created": invocation.created,
            "attempt": attempt,
        }
        return Response(TriggerInvocationSerializer(body).data)
