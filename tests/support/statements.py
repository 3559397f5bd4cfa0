"""Counting the SQL statements Tandem runs, on every engine it writes through."""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from bot.db.engine import get_engine, get_ephemeral_engine


@contextlib.contextmanager
def statements_run(settings):
    """Yields a list that collects each statement run meanwhile, whichever engine ran it (the
    ordinary one, or the one for ephemeral writes; on PostgreSQL they are the same)."""
    statements: list[str] = []
    engines = list(
        {id(e): e for e in (get_engine(settings), get_ephemeral_engine(settings))}.values()
    )

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listener)
