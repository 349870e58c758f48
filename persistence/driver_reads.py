"""Column reads run on asyncpg itself, for the statements that nearly every request
runs: a read-only unit of work on PostgreSQL sends them without SQLAlchemy's
per-execution machinery (execution context, cursor adaptation, result metadata),
which costs about as much as the round trip to the server: 150 µs against 80 µs
per statement, measured in-process (bench/README.md).

Only statements marked with `on_the_driver` qualify: built once, compiled once here
by SQLAlchemy for the engine's dialect, and run with SQLAlchemy's own bind and
result processors, so that their rows are the ones SQLAlchemy would return. The
engine's before/after_cursor_execute listeners (statement counts in tests and
bench/probe.py) still see each statement and its parameters, with no cursor or
execution context. The connections are asyncpg's own (persistence/driver_pool.py).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Dialect, Engine, Executable, Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

log = logging.getLogger(__name__)
S = TypeVar("S", bound=Executable)
Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class DriverRead:
    compiled: SQLCompiler
    sql: str
    names: Sequence[str]
    binds: dict[str, Processor]
    metadata: SimpleResultMetaData

    async def run(
        self, engine: Engine, driver: Any, params: dict[str, Any] | None
    ) -> Result[Any]:
        values = self.compiled.construct_params(params, escape_names=False)
        binds = self.binds
        args = [
            binds[name](values[name]) if name in binds else values[name]
            for name in self.names
        ]
        dispatch = engine.dispatch
        if not (dispatch.before_cursor_execute or dispatch.after_cursor_execute):
            records = await driver.fetch(self.sql, *args)
        else:
            # The listeners get the engine where SQLAlchemy passes a Connection:
            # the statement runs on none of its connections.
            cursor = object()  # what a listener may key a statement's timing by
            dispatch.before_cursor_execute(engine, cursor, self.sql, args, None, False)
            records = await driver.fetch(self.sql, *args)
            dispatch.after_cursor_execute(engine, cursor, self.sql, args, None, False)
        # The metadata carries the result processors: SQLAlchemy applies them as
        # it makes each Row, in compiled code.
        return IteratorResult(self.metadata, iter(records))


# Marked statements, and their compiled form once a PostgreSQL read has used them.
# Weak: a statement dropped from its builder's cache leaves with its compiled form.
_marked: weakref.WeakKeyDictionary[Executable, DriverRead | None] = (
    weakref.WeakKeyDictionary()
)


def on_the_driver(statement: S) -> S:
    """Mark a statement that is built once and run often: PostgreSQL reads of a
    read-only unit of work then send it straight to asyncpg."""
    _marked.setdefault(statement, None)
    return statement


def driver_read(statement: Executable, dialect: Dialect) -> DriverRead | None:
    """The compiled form of a marked statement; None for any other."""
    try:
        read = _marked[statement]
    except (KeyError, TypeError):
        return None
    if read is None:
        read = _compile(statement, dialect)
        if read is None:
            del _marked[statement]
            log.warning("not a driver read, left to SQLAlchemy: %s", statement)
            return None
        _marked[statement] = read
    return read


def _compile(statement: Executable, dialect: Dialect) -> DriverRead | None:
    """None when the statement needs what only SQLAlchemy's execution does:
    parameters rendered at execution (expanding IN) or bound as sequences."""
    if not isinstance(statement, ClauseElement):
        return None
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler):
        return None
    names, columns = compiled.positiontup, compiled._result_columns
    if names is None or columns is None or "POSTCOMPILE" in compiled.string:
        return None
    binds: dict[str, Processor] = {}
    for name, process in compiled._bind_processors.items():
        if not callable(process):
            return None
        binds[name] = process
    results = tuple(
        column[3]._cached_result_processor(dialect, None) for column in columns
    )
    return DriverRead(
        compiled=compiled,
        sql=compiled.string,
        names=tuple(names),
        binds=binds,
        metadata=SimpleResultMetaData(
            [column[0] for column in columns],
            _processors=list(results) if any(results) else None,
        ),
    )
