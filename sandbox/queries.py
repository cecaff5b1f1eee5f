"""Reading resources: one by id, unpaginated lists, and keyset pages answered as raw JSON payloads."""

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from sqlalchemy import ColumnElement, Connection, Integer, Row, Table, func, select

from sandbox.db import resources
from sandbox.problems import ProblemError, not_found


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after_id: str | None


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ProblemError(
            400, "The cursor is not one this server issued; start again without it.", kind="bad-cursor"
        ) from exc


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def page_request(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size, 1 to 500")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor from the previous page")] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after_id=_decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageRequest, Depends(page_request)]


def json_response(body: str, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status_code, headers=headers, media_type="application/json")


def page_rows(
    conn: Connection, table: Table, where: list[ColumnElement[bool]], page: PageRequest
) -> tuple[list[Row[Any]], str | None, int]:
    """One keyset page of `table` in `id` order: the rows, the next cursor (or None) and the total."""
    total = conn.scalar(select(func.count()).select_from(table).where(*where)) or 0
    query = select(table).where(*where)
    if page.after_id is not None:
        after: Any = page.after_id
        if isinstance(table.c.id.type, Integer):
            if not after.isdigit():
                raise ProblemError(400, "The cursor is not one this server issued.", kind="bad-cursor")
            after = int(after)
        query = query.where(table.c.id > after)
    rows = list(conn.execute(query.order_by(table.c.id).limit(page.limit + 1)).all())
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return rows, encode_cursor(str(rows[-1].id)) if more else None, total


def page_json(conn: Connection, kind: str, filters: list[ColumnElement[bool]], page: PageRequest) -> str:
    """A `{"items", "next_cursor", "total"}` page of one kind, ordered by id, stitched from stored JSON."""
    rows, next_cursor, total = page_rows(conn, resources, [resources.c.kind == kind, *filters], page)
    items = ",".join(row.payload for row in rows)
    cursor = f'"{next_cursor}"' if next_cursor else "null"
    return f'{{"items":[{items}],"next_cursor":{cursor},"total":{total}}}'


def list_json(
    conn: Connection, kind: str, filters: list[ColumnElement[bool]], *order_by: ColumnElement
) -> str:
    """Every matching payload of one kind as a JSON array (for the contract's unpaginated lists)."""
    query = select(resources.c.payload).where(resources.c.kind == kind, *filters)
    rows = conn.scalars(query.order_by(*order_by, resources.c.id)).all()
    return "[" + ",".join(rows) + "]"


def get_payload(conn: Connection, kind: str, id: str) -> str | None:
    return conn.scalar(select(resources.c.payload).where(resources.c.kind == kind, resources.c.id == id))


def require_payload(conn: Connection, kind: str, id: str) -> str:
    payload = get_payload(conn, kind, id)
    if payload is None:
        raise not_found(kind.replace("_", " "), id)
    return payload
