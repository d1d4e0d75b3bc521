"""Serializer fields shared by the resources."""

from __future__ import annotations

import json

from rest_framework import serializers


class CommaListField(serializers.ListField):
    """A list given as a comma-delimited string (``"a,b"``) or a JSON array (``["a", "b"]``).

    Always rendered as a JSON array. Blank items are dropped and duplicates removed, keeping order.
    """

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.split(",")
        elif not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if any(not isinstance(item, str) for item in data):
            raise serializers.ValidationError("Each item must be a string.")
        items = list(dict.fromkeys(item.strip() for item in data if item.strip()))
        return super().to_internal_value(items)

    def get_value(self, dictionary):
        # Form bodies repeat a key for a list; a single value is still a comma string.
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            values = dictionary.getlist(self.field_name)
            return values[0] if len(values) == 1 else values
        return super().get_value(dictionary)


class JSONDocumentField(serializers.JSONField):
    """A JSON value of the ``allowed`` types, sent as JSON or as a string holding JSON (the
    form-encoded bodies of the embedded view and old clients)."""

    def __init__(self, *, allowed: tuple[type, ...] = (dict,), **kwargs):
        self.allowed = allowed
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, self.allowed):
            kinds = " or ".join("object" if kind is dict else "array" for kind in self.allowed)
            raise serializers.ValidationError(f"Must be a JSON {kinds}.")
        return super().to_internal_value(data)
