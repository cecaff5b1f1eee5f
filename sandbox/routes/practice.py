"""Who the practice is: practices, providers, payers, users, patients (coverage, visits), appointments."""

from fastapi import APIRouter, Response
from sqlalchemy import select

from sandbox.db import resources, user_practices
from sandbox.deps import ConnDep, equal_to
from sandbox.queries import PageDep, json_response, list_json, page_json, require_payload

router = APIRouter()
r = resources.c


@router.get("/practices")
def list_practices(conn: ConnDep, page: PageDep) -> Response:
    return json_response(page_json(conn, "practice", [], page))


@router.get("/practices/{practice_id}")
def get_practice(conn: ConnDep, practice_id: str) -> Response:
    return json_response(require_payload(conn, "practice", practice_id))


@router.get("/providers")
def list_providers(conn: ConnDep, page: PageDep, practice_id: str | None = None) -> Response:
    return json_response(page_json(conn, "provider", equal_to((r.practice_id, practice_id)), page))


@router.get("/payers")
def list_payers(conn: ConnDep, page: PageDep) -> Response:
    return json_response(page_json(conn, "payer", [], page))


@router.get("/payers/{payer_id}")
def get_payer(conn: ConnDep, payer_id: str) -> Response:
    return json_response(require_payload(conn, "payer", payer_id))


@router.get("/users")
def list_users(conn: ConnDep, page: PageDep, practice_id: str | None = None) -> Response:
    members = select(user_practices.c.user_id).where(user_practices.c.practice_id == practice_id)
    filters = [r.id.in_(members)] if practice_id is not None else []
    return json_response(page_json(conn, "user", filters, page))


@router.get("/patients")
def list_patients(conn: ConnDep, page: PageDep, practice_id: str | None = None) -> Response:
    return json_response(page_json(conn, "patient", equal_to((r.practice_id, practice_id)), page))


@router.get("/patients/{patient_id}")
def get_patient(conn: ConnDep, patient_id: str) -> Response:
    return json_response(require_payload(conn, "patient", patient_id))


@router.get("/patients/{patient_id}/coverage")
def list_patient_coverage(conn: ConnDep, patient_id: str) -> Response:
    require_payload(conn, "patient", patient_id)
    # Primary first: the status column holds the coverage priority.
    return json_response(list_json(conn, "coverage", [r.patient_id == patient_id], r.status))


@router.get("/patients/{patient_id}/encounters")
def list_patient_encounters(conn: ConnDep, patient_id: str) -> Response:
    require_payload(conn, "patient", patient_id)
    return json_response(list_json(conn, "encounter", [r.patient_id == patient_id], r.on_date))


@router.get("/appointments")
def list_appointments(conn: ConnDep, page: PageDep, practice_id: str | None = None) -> Response:
    return json_response(page_json(conn, "appointment", equal_to((r.practice_id, practice_id)), page))
