"""Factories for inputs, destinations and the recipes they use. Pass ``account``."""

from __future__ import annotations

import factory

from destinations.models import Destination
from inputs.authentication_options import new_signing_secret
from inputs.models import Input
from recipes.models import Recipe
from tests.factories import BucketFactory


class InputFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Input

    bucket = factory.SubFactory(BucketFactory, account=factory.SelfAttribute("..account"))
    name = factory.Sequence(lambda n: f"Input {n}")
    key = factory.Sequence(lambda n: f"input-{n}")


class DestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Destination

    input = factory.SubFactory(InputFactory, account=factory.SelfAttribute("..account"))
    name = factory.Sequence(lambda n: f"Destination {n}")
    key = factory.Sequence(lambda n: f"destination-{n}")
    endpoint_url = "https://receiver.example.com/hook"
    secret = factory.LazyFunction(new_signing_secret)
    rate_limit = 5


class RecipeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipe

    name = factory.Sequence(lambda n: f"Recipe {n}")
    type = Recipe.Type.INPUT
    recipe_draft = "exit(result);"
