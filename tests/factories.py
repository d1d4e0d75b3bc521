"""Factories for the shared cast. Accounts go through the service so their path is right."""

from __future__ import annotations

import factory

from accounts.models import Plan, User
from accounts.services import account_create
from buckets.models import Bucket


def make_account(*, name: str = "Acme", plan_id: str = "pro", parent=None, account_key: str = ""):
    return account_create(
        name=name, plan=Plan.objects.get(pk=plan_id), parent=parent, account_key=account_key
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    first_name = "Bob"
    last_name = "Smith"
    email_address = factory.Sequence(lambda n: f"user{n}@example.com")
    permission_level = User.PermissionLevel.OWNER
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class BucketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bucket

    name = factory.Sequence(lambda n: f"Bucket {n}")
    key = factory.Sequence(lambda n: f"bucket-{n}")
