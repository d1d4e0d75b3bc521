"""Create (once) the demo account used by ``make run`` and print a fresh API token for it."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Plan, User
from accounts.services import account_create, api_token_issue

DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = "Create the demo account if missing and print a new API token for its owner."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        user = User.objects.filter(email_address=DEMO_EMAIL).first()
        if user is None:
            account = account_create(name="Demo Company", plan=Plan.objects.get(pk="pro"))
            user = User.objects.create_user(
                DEMO_EMAIL,
                "demo-password-change-me",
                account=account,
                first_name="Demo",
                last_name="Owner",
                permission_level=User.PermissionLevel.OWNER,
            )
        token = api_token_issue(user=user, name="make run")
        self.stdout.write(f"Demo account: {user.account_id}  user: {DEMO_EMAIL} / demo-password-change-me")
        self.stdout.write(f"API token:    {token}")
