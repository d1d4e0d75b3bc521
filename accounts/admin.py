from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts import services
from accounts.models import Account, ApiToken, Plan, User, UserKey


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "price_cents",
        "messages_per_month",
        "max_rate_limit",
        "max_sub_accounts",
        "log_retention_days",
        "public",
        "sort_order",
    ]
    list_filter = ["public"]
    search_fields = ["id", "name"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "account_key", "plan", "status", "parent", "created"]
    list_select_related = ["plan", "parent"]
    list_filter = ["plan", "status"]
    search_fields = ["id", "name", "account_key"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path", "created", "updated"]


class LowercaseEmailMixin:
    """Email addresses are stored in lower case, as the API stores them, so that login matches."""

    def clean_email_address(self) -> str:
        return self.cleaned_data["email_address"].lower()


class UserCreationForm(LowercaseEmailMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email_address", "first_name", "last_name", "account", "permission_level"]


class UserAdminChangeForm(LowercaseEmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserCreationForm
    list_display = ["email_address", "first_name", "last_name", "account", "permission_level", "is_active"]
    list_select_related = ["account"]
    list_filter = ["permission_level", "is_active", "is_staff", "email_verified"]
    search_fields = ["id", "email_address", "first_name", "last_name", "account__id", "account__name"]
    ordering = ["email_address"]
    raw_id_fields = ["account"]
    readonly_fields = ["created", "updated", "last_login"]
    fieldsets = [
        (None, {"fields": ["email_address", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "timezone", "email_verified"]}),
        ("Account", {"fields": ["account", "permission_level"]}),
        ("Operator", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created", "updated"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email_address",
                    "first_name",
                    "last_name",
                    "account",
                    "permission_level",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        )
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["hint", "kind", "user", "name", "created", "expires_at", "last_used", "revoked_at"]
    list_select_related = ["user"]
    list_filter = ["kind", "revoked_at"]
    search_fields = ["hint", "name", "user__email_address", "user__account__id"]
    raw_id_fields = ["user"]
    readonly_fields = ["digest", "hint", "created", "last_used"]
    actions = ["revoke_tokens"]

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request, queryset) -> None:
        revoked = services.api_tokens_revoke(tokens=queryset)
        self.message_user(request, f"{revoked} token(s) revoked.")


@admin.register(UserKey)
class UserKeyAdmin(admin.ModelAdmin):
    list_display = ["purpose", "user", "created", "expires_at", "used_at"]
    list_select_related = ["user"]
    list_filter = ["purpose"]
    search_fields = ["user__email_address", "user__id"]
    raw_id_fields = ["user"]
    readonly_fields = ["digest", "created"]
