"""Serializer fields shared by the resources."""

from __future__ import annotations

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
