"""FastAPI dependencies shared by the sandbox routers: a database connection and optional equality filters."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Column, ColumnElement, Connection


def connection(request: Request) -> Iterator[Connection]:
    with request.app.state.engine.connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(connection)]


def equal_to(*filters: tuple[Column[Any], Any]) -> list[ColumnElement[bool]]:
    """`column == value` for each (column, value) the caller actually sent (None means not filtered)."""
    return [column == str(value) for column, value in filters if value is not None]
