"""Wake the outbox dispatcher when incoming messages are inserted (PostgreSQL only): one NOTIFY
per INSERT statement, sent on commit, so the gateway makes no extra round trip."""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION deliveries_notify_incoming() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('incoming_messages', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER deliveries_incoming_inserted
    AFTER INSERT ON deliveries_incomingmessage
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify_incoming();
"""

DROP = """
DROP TRIGGER IF EXISTS deliveries_incoming_inserted ON deliveries_incomingmessage;
DROP FUNCTION IF EXISTS deliveries_notify_incoming();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("deliveries", "0002_in_flight_index")]

    operations = [migrations.RunPython(create, drop)]
