"""Visits: encounters (with the unbilled filter), their clinical notes, and each practice's fee schedule."""

from datetime import date

from fastapi import APIRouter, Response
from sqlalchemy import ColumnElement, exists, select

from sandbox.db import resources
from sandbox.deps import ConnDep, equal_to
from sandbox.problems import not_found
from sandbox.queries import PageDep, get_payload, json_response, page_json, require_payload

router = APIRouter()
r = resources.c


def _has_charge() -> ColumnElement[bool]:
    """The encounter has a charge that is not void (a draft counts: it is already being billed)."""
    charges = resources.alias("charges")
    return exists(
        select(charges.c.id).where(
            charges.c.kind == "charge", charges.c.encounter_id == r.id, charges.c.status != "void"
        )
    )


@router.get("/encounters")
def list_encounters(
    conn: ConnDep,
    page: PageDep,
    practice_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
    unbilled: bool | None = None,
) -> Response:
    """Encounters by id; since/until bound the date of service; `unbilled=true` keeps those with no charge."""
    filters = equal_to((r.practice_id, practice_id))
    if since is not None:
        filters.append(r.on_date >= since.isoformat())
    if until is not None:
        filters.append(r.on_date <= until.isoformat())
    if unbilled is not None:
        filters.append(~_has_charge() if unbilled else _has_charge())
    return json_response(page_json(conn, "encounter", filters, page))


@router.get("/encounters/{encounter_id}")
def get_encounter(conn: ConnDep, encounter_id: str) -> Response:
    return json_response(require_payload(conn, "encounter", encounter_id))


@router.get("/encounters/{encounter_id}/note")
def get_encounter_note(conn: ConnDep, encounter_id: str) -> Response:
    require_payload(conn, "encounter", encounter_id)
    note = conn.scalar(
        select(r.payload).where(r.kind == "note", r.encounter_id == encounter_id).order_by(r.id)
    )
    if note is None:
        raise not_found("note for the encounter", encounter_id)
    return json_response(note)


@router.get("/fee-schedules/{practice_id}")
def get_fee_schedule(conn: ConnDep, practice_id: str) -> Response:
    require_payload(conn, "practice", practice_id)
    return json_response(get_payload(conn, "fee_schedule", practice_id) or "[]")
