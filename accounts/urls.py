from __future__ import annotations

from django.urls import path

from accounts import api

_user = "accounts/<str:account_id>/users/<str:user_id>"

urlpatterns = [
    path("register", api.RegisterView.as_view(), name="register"),
    path("authenticate", api.AuthenticateView.as_view(), name="authenticate"),
    path("reset_password", api.ResetPasswordView.as_view(), name="reset-password"),
    path(
        "password_change_key/<str:password_change_key>",
        api.PasswordChangeKeyView.as_view(),
        name="password-change-key",
    ),
    path("verify/<str:email_verification_key>", api.VerifyEmailView.as_view(), name="verify-email"),
    path("accounts", api.AccountListView.as_view(), name="account-list"),
    path("accounts/<str:account_id>", api.AccountDetailView.as_view(), name="account-detail"),
    path("accounts/<str:account_id>/subaccounts", api.SubAccountListView.as_view(), name="sub-account-list"),
    path("accounts/<str:account_id>/users", api.UserListView.as_view(), name="user-list"),
    path(_user, api.UserDetailView.as_view(), name="user-detail"),
    path(f"{_user}/change_password", api.ChangePasswordView.as_view(), name="user-change-password"),
    path(f"{_user}/api-token", api.ApiTokenView.as_view(), name="user-api-token"),
    path(
        f"{_user}/resend_verification",
        api.ResendVerificationView.as_view(),
        name="user-resend-verification",
    ),
    path("health", api.HealthView.as_view(), name="health"),
    path("plans", api.PlanListView.as_view(), name="plan-list"),
    path("plans/<str:plan_id>", api.PlanDetailView.as_view(), name="plan-detail"),
    path("util/timezones", api.TimezoneListView.as_view(), name="timezones"),
]
