"""Group commit: rows that the threads of one process insert at the same moment are written together
(one round trip) and committed once, and each caller returns only once its own row is committed.

It serves the ingest gateway, where one process (gunicorn's gthread worker) answers many webhooks
at once and each answer must wait for its row's commit. One commit per row costs PostgreSQL a
transaction and a WAL flush each, and the process a round trip each; grouped, those costs are
shared by every row of the group.

There is no writer thread and no delay: the first caller that finds nobody writing becomes the
leader, takes every row waiting (its own included), writes them on its own database connection
and wakes their callers; rows arriving meanwhile wait for the next leader. A lone caller therefore
writes its row at once, exactly as a plain INSERT would. A caller inside a transaction writes its
row in that transaction (nobody else's rows may commit or roll back with it).

A leader's connection is not health-checked: Django's check (CONN_HEALTH_CHECKS) costs a round trip
(SELECT 1) before each request's first query, and a gateway request has only this one. A connection
found broken instead is replaced and the group written again, skipping rows the lost commit may
have written (their ids were made by the caller, so writing them again is idempotent)."""

from __future__ import annotations

import threading
from functools import cache

from django.db import DatabaseError, InterfaceError, OperationalError, connection, models

from core.db import insert_sql, row_params

# Rows written together at most.
MAX_ROWS = 50


class _Row:
    __slots__ = ("done", "error", "params")

    def __init__(self, params: list) -> None:
        self.params = params
        self.done = False
        self.error: BaseException | None = None


class GroupCommit:
    """The rows of one model waiting to be inserted by this process."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.waiting: list[_Row] = []
        self.leading = False
        self.changed = threading.Condition()

    def insert(self, instance: models.Model) -> bool:
        """INSERT ``instance`` (every column, values adapted by their fields as the ORM does);
        committed when this returns, unless the caller is inside a transaction. True when this
        caller wrote and committed the group its row went in (one caller per commit)."""
        row = _Row(row_params(instance))
        group = []
        if connection.in_atomic_block:
            self._execute([row])
        else:
            group = self._wait_for_commit_or_lead(row)
            if group:
                self._lead(group)
        instance._state.adding, instance._state.db = False, connection.alias
        if row.error is not None:
            raise row.error
        return bool(group)

    def _wait_for_commit_or_lead(self, row: _Row) -> list[_Row]:
        """Queue ``row``; return once another leader wrote it (``[]``), or with the group this
        caller is to write, ``row`` first."""
        with self.changed:
            self.waiting.append(row)
            while self.leading and not row.done:
                self.changed.wait()
            if row.done:
                return []
            self.leading = True
            self.waiting.remove(row)
            group, self.waiting = [row, *self.waiting[: MAX_ROWS - 1]], self.waiting[MAX_ROWS - 1 :]
            return group

    def _lead(self, group: list[_Row]) -> None:
        try:
            try:
                self._write(group)
            except DatabaseError:
                if len(group) == 1:
                    raise
                # One bad row must not fail the others: each row alone, with its own outcome.
                for row in group:
                    try:
                        self._execute([row])
                    except DatabaseError as error:
                        row.error = error
        except BaseException as error:
            for row in group:
                row.error = row.error or error
        finally:
            with self.changed:
                for row in group:
                    row.done = True
                self.leading = False
                self.changed.notify_all()

    def _write(self, rows: list[_Row]) -> None:
        connection.health_check_done = True
        try:
            self._execute(rows)
        except (InterfaceError, OperationalError):
            if connection.connection is not None and connection.is_usable():
                raise
            connection.close()
            self._execute(rows, skip_conflicts=True)

    def _execute(self, rows: list[_Row], skip_conflicts: bool = False) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(insert_sql(self.model, skip_conflicts), [row.params for row in rows])


@cache
def group_commit(model: type[models.Model]) -> GroupCommit:
    """The process's one GroupCommit of ``model``."""
    return GroupCommit(model)
