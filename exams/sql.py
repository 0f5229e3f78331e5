"""The exam loop's hottest writes, in SQL written out by hand.

Every answer save and every move between questions runs these. Built with the ORM
(a filter across the attempt join turned into a subquery, CASE expressions) they took
up to 0.7 ms of Python each to compile, against a few hundredths of a millisecond to run:
more than the rest of an answer save together. They are plain SQL that SQLite and
PostgreSQL both accept (the suite runs on both); values go through the model fields'
own preparation, so JSON, datetimes and UUIDs are stored exactly as the ORM stores them.
Everything else stays in the ORM.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from exams.models import Attempt, AttemptItem


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _prep(model, name: str, value):
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def item_answer_if_open(
    *,
    item_id: int,
    revision: int,
    selected: list[int],
    answered_at: datetime | None,
    open_after: datetime,
) -> int:
    """Store `selected` (choice ids) and `answered_at` on the item and raise its revision
    by one, only while the item's revision is still `revision`, it is not revealed, and
    its attempt is in progress with no deadline or a deadline after `open_after` (the
    grace for answers in flight already taken off). One UPDATE; returns the rows changed
    (1, or 0 when a guard failed)."""
    q = connection.ops.quote_name
    item_table, attempt_table = q(AttemptItem._meta.db_table), q(Attempt._meta.db_table)
    sql = (
        f"UPDATE {item_table} SET {_column(AttemptItem, 'selected')} = %s, "
        f"{_column(AttemptItem, 'answered_at')} = %s, "
        f"{_column(AttemptItem, 'revision')} = {_column(AttemptItem, 'revision')} + 1 "
        f"WHERE {_column(AttemptItem, 'id')} = %s AND {_column(AttemptItem, 'revision')} = %s "
        f"AND NOT {_column(AttemptItem, 'revealed')} AND EXISTS ("
        f"SELECT 1 FROM {attempt_table} a WHERE a.{_column(Attempt, 'id')} = "
        f"{item_table}.{_column(AttemptItem, 'attempt')} "
        f"AND a.{_column(Attempt, 'status')} = %s AND (a.{_column(Attempt, 'deadline')} IS NULL "
        f"OR a.{_column(Attempt, 'deadline')} > %s))"
    )
    params = [
        _prep(AttemptItem, "selected", selected),
        _prep(AttemptItem, "answered_at", answered_at),
        item_id,
        revision,
        Attempt.Status.IN_PROGRESS.value,
        _prep(Attempt, "deadline", open_after),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def items_add_visit(*, attempt_id, leaving: int | None, spent: int, arriving: int | None) -> None:
    """Add `spent` seconds to the time on the item at position `leaving` and one visit to
    the item at `arriving` (either may be None), in the attempt `attempt_id`: one UPDATE
    of at most two rows, none when there is nothing to add."""
    positions = [p for p in dict.fromkeys((leaving, arriving)) if p is not None]
    if not positions or (arriving is None and spent == 0):
        return
    q = connection.ops.quote_name
    position, spent_col, visits = (
        _column(AttemptItem, n) for n in ("position", "time_spent_seconds", "visits")
    )
    placeholders = ", ".join(["%s"] * len(positions))
    sql = (
        f"UPDATE {q(AttemptItem._meta.db_table)} SET "
        f"{spent_col} = {spent_col} + CASE WHEN {position} = %s THEN %s ELSE 0 END, "
        f"{visits} = {visits} + CASE WHEN {position} = %s THEN 1 ELSE 0 END "
        f"WHERE {_column(AttemptItem, 'attempt')} = %s AND {position} IN ({placeholders})"
    )
    # A None position matches no row: -1 stands for it (positions start at 1).
    params = [
        leaving if leaving is not None else -1,
        spent,
        arriving if arriving is not None else -1,
        Attempt._meta.pk.get_db_prep_value(attempt_id, connection),
        *positions,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def attempt_move_if_unchanged(
    *,
    attempt_id,
    position: int,
    since: datetime | None,
    to_position: int,
    arrived: datetime | None,
) -> int:
    """Move the attempt in progress from `position` (arrived at `since`, None when at no
    question) to `to_position` (arrived at `arrived`), only while it is still in progress
    at that position since that time: a compare-and-set, so two tabs racing cannot both
    count the same visit. One UPDATE; returns the rows changed (1, or 0)."""
    q = connection.ops.quote_name
    current, since_col = _column(Attempt, "current_position"), _column(Attempt, "position_since")
    since_test = f"{since_col} IS NULL" if since is None else f"{since_col} = %s"
    sql = (
        f"UPDATE {q(Attempt._meta.db_table)} SET {current} = %s, {since_col} = %s "
        f"WHERE {_column(Attempt, 'id')} = %s AND {_column(Attempt, 'status')} = %s "
        f"AND {current} = %s AND {since_test}"
    )
    params = [
        to_position,
        _prep(Attempt, "position_since", arrived),
        Attempt._meta.pk.get_db_prep_value(attempt_id, connection),
        Attempt.Status.IN_PROGRESS.value,
        position,
    ]
    if since is not None:
        params.append(_prep(Attempt, "position_since", since))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
