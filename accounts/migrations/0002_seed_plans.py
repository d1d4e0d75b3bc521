from __future__ import annotations

from django.db import migrations

PLANS = [
    # id, name, price (cents), messages/month, max rate_limit, sub-accounts, retention days, max body
    ("free", "Free", 0, 10_000, 5, 10, 3, 1024 * 1024),
    ("starter", "Starter", 2_900, 250_000, 25, 100, 14, 1024 * 1024),
    ("pro", "Pro", 9_900, 2_500_000, 100, 1_000, 30, 5 * 1024 * 1024),
    ("enterprise", "Enterprise", 49_900, 50_000_000, 1_000, 100_000, 90, 10 * 1024 * 1024),
]


def seed_plans(apps, schema_editor):
    Plan = apps.get_model("accounts", "Plan")
    Plan.objects.bulk_create(
        [
            Plan(
                id=plan_id,
                name=name,
                price_cents=price,
                messages_per_month=messages,
                max_rate_limit=rate,
                max_sub_accounts=sub_accounts,
                log_retention_days=retention,
                max_body_bytes=body,
                sort_order=order,
            )
            for order, (plan_id, name, price, messages, rate, sub_accounts, retention, body) in enumerate(PLANS)
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
