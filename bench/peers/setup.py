"""``python -m bench.peers.setup SINK``: create the peer's tables (``migrate --run-syncdb``: its
``Event`` model has no migrations) and three webhooks to SINK/peer-a, -b and -c subscribed to
``peers.Event/create``, each with a signing secret."""

from __future__ import annotations

import secrets
import sys

import django
from django.core.management import call_command


def main(sink: str) -> None:
    django.setup()
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    from django_webhook.models import Webhook, WebhookSecret, WebhookTopic

    topic, _ = WebhookTopic.objects.get_or_create(name="peers.Event/create")
    for path in ("peer-a", "peer-b", "peer-c"):
        webhook = Webhook.objects.create(url=f"{sink}/{path}")
        webhook.topics.add(topic)
        WebhookSecret.objects.create(webhook=webhook, token=secrets.token_urlsafe(32))


if __name__ == "__main__":
    main(sys.argv[1])
