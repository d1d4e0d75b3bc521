from __future__ import annotations

from rest_framework import serializers

from accounts import selectors
from accounts.models import Account, ApiToken, Plan, User
from core.fields import CommaListField


class EmailAddressField(serializers.EmailField):
    """Email addresses are compared and stored in lower case."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).lower()


class TimezoneField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in selectors.timezone_names():
            raise serializers.ValidationError(f"Unknown timezone '{value}'; see /v1/util/timezones.")
        return value


class AccountFilterSerializer(serializers.Serializer):
    account_key = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "price_cents",
            "messages_per_month",
            "max_rate_limit",
            "max_sub_accounts",
            "log_retention_days",
            "max_body_bytes",
        ]


class AccountSerializer(serializers.ModelSerializer):
    parent_id = serializers.CharField(read_only=True, allow_null=True)
    plan_id = serializers.CharField(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "name", "account_key", "parent_id", "plan_id", "status", "created", "updated"]
        read_only_fields = ["id", "status", "created", "updated"]


class UserSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(read_only=True)
    email_address = EmailAddressField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    timezone = TimezoneField(default="Etc/GMT")
    notify = serializers.BooleanField(write_only=True, default=False)

    class Meta:
        model = User
        fields = [
            "id",
            "account_id",
            "first_name",
            "last_name",
            "email_address",
            "password",
            "permission_level",
            "timezone",
            "notify",
            "email_verified",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "email_verified", "created", "updated"]
        extra_kwargs = {"permission_level": {"default": User.PermissionLevel.DEVELOPER}}


class UserUpdateSerializer(UserSerializer):
    """A PUT body: every field optional, the password included, and no ``notify``."""

    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False, required=False)

    class Meta(UserSerializer.Meta):
        fields = [name for name in UserSerializer.Meta.fields if name != "notify"]


class RegisterSerializer(serializers.Serializer):
    """Billing fields of the reference (card, coupon, invite code) are accepted and ignored."""

    name = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    email_address = EmailAddressField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    password_confirm = serializers.CharField(max_length=128, trim_whitespace=False)
    plan_id = serializers.SlugRelatedField(
        slug_field="id",
        queryset=selectors.plan_list(),
        source="plan",
        error_messages={"does_not_exist": "Unknown plan '{value}'; see /v1/plans."},
    )
    referrer = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    email_verification_callback_url = serializers.URLField(
        max_length=2048, required=False, default="", allow_blank=True
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["password"] != attrs.pop("password_confirm"):
            raise serializers.ValidationError({"password_confirm": ["The passwords do not match."]})
        return attrs


class RegistrationSerializer(serializers.Serializer):
    """The answer to a registration; the plain API token is shown only here."""

    account = AccountSerializer()
    user = UserSerializer()
    api_token = serializers.CharField()


class AuthenticateSerializer(serializers.Serializer):
    email_address = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class SessionSerializer(serializers.Serializer):
    user = UserSerializer()
    account = AccountSerializer()
    session_token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ChangePasswordSerializer(serializers.Serializer):
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_confirm_password = serializers.CharField(max_length=128, trim_whitespace=False)
    existing_password = serializers.CharField(
        max_length=128, trim_whitespace=False, required=False, default="", allow_blank=True
    )
    change_key = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        if attrs["new_password"] != attrs.pop("new_confirm_password"):
            raise serializers.ValidationError({"new_confirm_password": ["The passwords do not match."]})
        return attrs


class ResetPasswordSerializer(serializers.Serializer):
    email_address = EmailAddressField(max_length=254)


class PasswordChangeKeySerializer(serializers.Serializer):
    user_id = serializers.CharField(source="user.pk")
    account_id = serializers.CharField(source="user.account_id")
    email_address = serializers.EmailField(source="user.email_address")
    expires_at = serializers.DateTimeField()


class ApiTokenSerializer(serializers.Serializer):
    api_token = serializers.CharField()
    hint = serializers.CharField()
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiToken.Scope.choices), help_text="Empty: full access."
    )


class ApiTokenScopesSerializer(serializers.Serializer):
    scopes = CommaListField(
        child=serializers.ChoiceField(choices=ApiToken.Scope.choices),
        required=False,
        help_text="Limit the new token to these scopes (comma list); none: full access.",
    )


class StatusSerializer(serializers.Serializer):
    status = serializers.CharField()


class HealthSerializer(StatusSerializer):
    database = serializers.CharField()
    broker = serializers.CharField()
