"""Database helpers shared by the services."""

from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction

from core.errors import Conflict


def save_unique(instance: models.Model, *, field: str, message: str) -> models.Model:
    """Save ``instance``; a unique constraint violated on ``field`` answers 409 with ``message``.

    The savepoint keeps an enclosing transaction usable (and lets it roll back as a whole)."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(message, fields={field: ["Already in use."]}) from exc
    return instance


def tune_session(sender, connection, **kwargs) -> None:
    """Each new PostgreSQL connection's planner settings. ``random_page_cost`` 1.1 rather than 4
    (the usual setting for data in memory or on SSDs): with the default, the dispatcher's claim of
    the oldest unprocessed messages (``deliveries.dispatcher``) is a bitmap scan, which reads every
    index entry the processed messages left behind, up to vacuum (0.6 ms per claim, its heap pages
    each time, at 50 messages/s here); an index scan in order marks them dead as it passes them,
    and the next claims skip them (0.02 ms)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET random_page_cost = 1.1")


# The hot paths (ingest, delivery attempts) write rows with these instead of create/bulk_create/
# bulk_update, whose query compilation per field and row costs more CPU than the database's work
# (bulk_update's CASE per field and row most of all). Values are adapted by their fields exactly as
# the ORM adapts them.


def row_params(instance: models.Model) -> list:
    """The INSERT parameters of ``instance``: every concrete column, in insert_sql's order."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # the thread's own: each attribute of the proxy is a lookup
    return [
        field.get_db_prep_save(getattr(instance, field.attname), wrapper)
        for field in instance._meta.concrete_fields
    ]


@cache
def insert_sql(model: type[models.Model], skip_conflicts: bool = False) -> str:
    """``INSERT`` of one row of every concrete column of ``model``, to be executed for many rows at
    once (executemany: one round trip and one transaction with psycopg's pipeline). A multi-row
    VALUES is longer than psycopg caches the parsing of, and parsing it again for each execution
    cost twice the CPU. With ``skip_conflicts``, rows violating a unique constraint are left out
    (PostgreSQL and SQLite share the syntax)."""
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from the model, values as parameters)
        quote(model._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )
    return sql + " ON CONFLICT DO NOTHING" if skip_conflicts else sql


def insert_rows(instances: list[models.Model], *, skip_conflicts: bool = False) -> list[models.Model]:
    """INSERT new instances of one model (primary keys set, new). Returns those inserted: all of
    them, or with ``skip_conflicts`` those violating no unique constraint."""
    if not instances:
        return []
    model = type(instances[0])
    with connection.cursor() as cursor:
        cursor.executemany(
            insert_sql(model, skip_conflicts), [row_params(instance) for instance in instances]
        )
        inserted = cursor.rowcount
    if inserted < len(instances):  # some were left out: the new primary keys found are the rows inserted
        found = set(
            model._base_manager.filter(pk__in=[instance.pk for instance in instances]).values_list(
                "pk", flat=True
            )
        )
        instances = [instance for instance in instances if instance.pk in found]
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias
    return instances


@cache
def model_sql(model: type[models.Model], template: str, **literals: str) -> str:
    """Plain SQL for the hot paths (the ORM's compilation costs more than the query), built once:
    ``template`` with ``{table}`` and each concrete field's name (``{destination}``) quoted as
    the model's table and columns, ``{for_update}`` and ``{skip_locked}`` as `` FOR UPDATE`` and
    `` FOR UPDATE SKIP LOCKED`` where the database has them (SQLite has no row locks: its
    transactions take the whole database, BEGIN IMMEDIATE, which serializes them), and
    ``literals`` as they are (values go as parameters)."""
    quote = connection.ops.quote_name
    columns = {field.name: quote(field.column) for field in model._meta.concrete_fields}
    features = connection.features
    return template.format(
        table=quote(model._meta.db_table),
        for_update=" FOR UPDATE" if features.has_select_for_update else "",
        skip_locked=" FOR UPDATE SKIP LOCKED" if features.has_select_for_update_skip_locked else "",
        **columns,
        **literals,
    )


def placeholders(count: int) -> str:
    """``%s, %s, ...``: ``count`` parameters, for an ``IN (...)`` in plain SQL."""
    return ", ".join(["%s"] * count)


def db_value(model: type[models.Model], field: str, value):
    """``value`` adapted for plain SQL as ``model``'s ``field`` adapts it in the ORM."""
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def update_rows(instances: list[models.Model], fields: list[str]) -> None:
    """UPDATE ``fields`` of these instances of one model by primary key: one statement executed
    for every row (executemany: one round trip with psycopg's pipeline)."""
    if not instances:
        return
    meta = instances[0]._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 (names from the model, values as parameters)
        quote(meta.db_table),
        ", ".join(f"{quote(field.column)} = %s" for field in columns),
        quote(meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                [field.get_db_prep_save(getattr(instance, field.attname), connection) for field in columns]
                + [instance.pk]
                for instance in instances
            ],
        )
