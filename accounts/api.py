from __future__ import annotations

from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import UserKey
from accounts.serializers import (
    AccountFilterSerializer,
    AccountSerializer,
    ApiTokenScopesSerializer,
    ApiTokenSerializer,
    AuthenticateSerializer,
    ChangePasswordSerializer,
    HealthSerializer,
    PasswordChangeKeySerializer,
    PlanSerializer,
    RegisterSerializer,
    RegistrationSerializer,
    ResetPasswordSerializer,
    SessionSerializer,
    StatusSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from core.api import AccountScopedMixin, ScopedDetailView, ScopedListCreateView
from core.errors import NotFound
from core.permissions import AllowAny


# No token needed: registration, login, emailed links, utils. (A comment, not a docstring, so
# that it does not become every public operation's OpenAPI description.)
class PublicMixin:
    authentication_classes = []
    permission_classes = [AllowAny]


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Registration and login


class RegisterView(PublicMixin, APIView):
    @extend_schema(request=RegisterSerializer, responses={201: RegistrationSerializer})
    def post(self, request):
        account, user, token = services.account_register(**_validated(RegisterSerializer, request))
        body = RegistrationSerializer({"account": account, "user": user, "api_token": token}).data
        return Response(body, status=status.HTTP_201_CREATED)


class AuthenticateView(PublicMixin, APIView):
    @extend_schema(request=AuthenticateSerializer, responses=SessionSerializer)
    def put(self, request):
        user, token, expires_at = services.user_authenticate(**_validated(AuthenticateSerializer, request))
        session = {"user": user, "account": user.account, "session_token": token, "expires_at": expires_at}
        return Response(SessionSerializer(session).data)


# Accounts


def _account_key(request) -> str | None:
    serializer = AccountFilterSerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data.get("account_key")


class AccountListView(generics.ListAPIView):
    serializer_class = AccountSerializer

    def get_queryset(self):
        return selectors.account_list(principal=self.request.user, account_key=_account_key(self.request))


class SubAccountListView(ScopedListCreateView):
    serializer_class = AccountSerializer
    write_level = "admin"

    def get_queryset(self):
        return selectors.sub_account_list(account=self.account, account_key=_account_key(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.sub_account_create(parent=self.account, **serializer.validated_data)


class AccountDetailView(ScopedDetailView):
    serializer_class = AccountSerializer

    @property
    def write_level(self) -> str:
        return "owner" if self.request.method == "DELETE" else "admin"

    def get_object(self):
        return self.account

    def perform_update(self, serializer):
        services.account_update(account=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.account_delete(account=instance)


# Users


class UserListView(ScopedListCreateView):
    serializer_class = UserSerializer
    write_level = "admin"

    def get_queryset(self):
        return selectors.user_list(account=self.account)

    def perform_create(self, serializer):
        serializer.instance = services.user_create(
            principal=self.request.user, account=self.account, **serializer.validated_data
        )


class UserDetailView(ScopedDetailView):
    lookup_url_kwarg = "user_id"
    write_level = "admin"

    def get_queryset(self):
        return selectors.user_list(account=self.account)

    def get_serializer_class(self):
        return UserSerializer if self.request.method == "GET" else UserUpdateSerializer

    def perform_update(self, serializer):
        services.user_update(
            principal=self.request.user, user=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.user_delete(principal=self.request.user, user=instance)


class ChangePasswordView(APIView):
    """With a change key the request needs no token (the user followed an emailed link)."""

    permission_classes = [AllowAny]

    @extend_schema(request=ChangePasswordSerializer, responses=UserSerializer)
    def put(self, request, account_id: str, user_id: str):
        # Tenancy answers before validation: another tenant's user is 404 whatever the body.
        if request.user is not None:
            account = selectors.account_get_visible(principal=request.user, account_id=account_id)
            user = selectors.user_get(account=account, user_id=user_id)
        data = _validated(ChangePasswordSerializer, request)
        if request.user is None:
            if not data["change_key"]:
                raise exceptions.NotAuthenticated()
            user = selectors.user_get_by_change_key(
                account_id=account_id, user_id=user_id, change_key=data["change_key"]
            )
        services.password_change(user=user, principal=request.user, **data)
        return Response(UserSerializer(user).data)


class ApiTokenView(AccountScopedMixin, APIView):
    @extend_schema(parameters=[ApiTokenScopesSerializer], responses=ApiTokenSerializer)
    def get(self, request, account_id: str, user_id: str):
        user = selectors.user_get(account=self.account, user_id=user_id)
        query = ApiTokenScopesSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scopes = query.validated_data.get("scopes", [])
        token = services.user_api_token_issue(principal=request.user, user=user, scopes=scopes)
        return Response(ApiTokenSerializer({"api_token": token, "hint": token[:8], "scopes": scopes}).data)


class ResendVerificationView(AccountScopedMixin, APIView):
    @extend_schema(responses=StatusSerializer)
    def get(self, request, account_id: str, user_id: str):
        user = selectors.user_get(account=self.account, user_id=user_id)
        services.email_verification_send(principal=request.user, user=user)
        return Response({"status": "success"})


# Emailed links


class ResetPasswordView(PublicMixin, APIView):
    @extend_schema(request=ResetPasswordSerializer, responses=StatusSerializer)
    def post(self, request):
        services.password_reset_request(**_validated(ResetPasswordSerializer, request))
        # The same answer whether the address is known or not.
        return Response({"status": "success"})


class PasswordChangeKeyView(PublicMixin, APIView):
    @extend_schema(responses=PasswordChangeKeySerializer)
    def get(self, request, password_change_key: str):
        user_key = selectors.user_key_get_valid(
            key=password_change_key, purpose=UserKey.Purpose.PASSWORD_CHANGE
        )
        return Response(PasswordChangeKeySerializer(user_key).data)


class VerifyEmailView(PublicMixin, APIView):
    @extend_schema(
        responses={
            200: StatusSerializer,
            302: OpenApiResponse(description="To the callback URL with ?status=success|failure."),
        }
    )
    def get(self, request, email_verification_key: str):
        verified, callback_url = services.email_verify(key=email_verification_key)
        if callback_url:
            return HttpResponseRedirect(callback_url)
        if not verified:
            raise NotFound("Unknown or expired verification key.")
        return Response({"status": "success"})


# Utils


class HealthView(PublicMixin, APIView):
    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request):
        parts = selectors.health_check()
        healthy = all(state == "ok" for state in parts.values())
        return Response(
            {"status": "ok" if healthy else "error", **parts},
            status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


class PlanListView(PublicMixin, generics.ListAPIView):
    serializer_class = PlanSerializer

    def get_queryset(self):
        return selectors.plan_list()


class PlanDetailView(PublicMixin, generics.RetrieveAPIView):
    serializer_class = PlanSerializer

    def get_object(self):
        return selectors.plan_get(plan_id=self.kwargs["plan_id"])


class TimezoneListView(PublicMixin, APIView):
    @extend_schema(responses={200: {"type": "array", "items": {"type": "string"}}})
    def get(self, request):
        return Response(selectors.timezone_names())
