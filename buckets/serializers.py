from __future__ import annotations

from rest_framework import serializers

from buckets.models import Bucket


class BucketSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(read_only=True)
    key = serializers.SlugField(max_length=128, required=False)

    class Meta:
        model = Bucket
        fields = ["id", "account_id", "name", "key", "created", "updated"]
        read_only_fields = ["id", "created", "updated"]


class ExpandedBucketSerializer(BucketSerializer):
    """A bucket with its inputs, each with its destinations (``expand=true``)."""

    inputs = serializers.SerializerMethodField()

    class Meta(BucketSerializer.Meta):
        fields = [*BucketSerializer.Meta.fields, "inputs"]

    def get_inputs(self, bucket: Bucket) -> list[dict]:
        from destinations.serializers import DestinationSerializer
        from inputs.serializers import InputSerializer

        return [
            {
                **InputSerializer(input_, context=self.context).data,
                "destinations": DestinationSerializer(
                    input_.destinations.all(), many=True, context=self.context
                ).data,
            }
            for input_ in bucket.inputs.all()
        ]
