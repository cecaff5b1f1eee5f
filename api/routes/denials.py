"""Remittances, the denial worklist and appeal drafts as JSON for the UI; the 835 upload."""

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import SettingsDep
from api.problems import ProblemError
from api.security.deps import Principal, ensure_practice_access, require, visible_practice_ids
from api.security.permissions import Permission

if TYPE_CHECKING:
    from api.remittance_runtime import AppealDraftView, RemittanceRuntime

router = APIRouter(tags=["remittances"])

UPLOAD_CHUNK = 64 * 1024
WORKLIST_LIMIT = 500
PDF = "application/pdf"


def remittance_runtime(request: Request) -> "RemittanceRuntime":
    """The app's runtime, built on first use (the graph stack is imported only when a route needs it)."""
    runtime = getattr(request.app.state, "remittance", None)
    if runtime is None:
        from api.remittance_runtime import RemittanceRuntime

        runtime = RemittanceRuntime(request.app.state.settings, request.app.state.sessions)
        request.app.state.remittance = runtime
    return runtime


def _not_found(what: str) -> ProblemError:
    return ProblemError(404, f"No {what} with this id among the practices you belong to.")


class UploadAccepted(BaseModel):
    remittance_id: str
    state: str
    denials: int
    appeals: int


class DraftEdit(BaseModel):
    text: str = Field(
        min_length=1, max_length=50_000, description="the letter's full text as it should be sent"
    )


@router.post("/remittances/upload", status_code=201)
async def upload_remittance(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require(Permission.REMITTANCES_UPLOAD))],
    file: Annotated[UploadFile, File(description="an X12 835 file")],
    practice_id: Annotated[str, Form(min_length=1)],
) -> UploadAccepted:
    """Parse an 835, then post it and triage its denials up to the review (same file twice: one run)."""
    from billing.x12_835 import X12Error

    ensure_practice_access(principal, practice_id)
    limit = settings.remittance_upload_max_bytes
    raw = bytearray()
    while chunk := await file.read(UPLOAD_CHUNK):
        raw += chunk
        if len(raw) > limit:
            raise ProblemError(
                413,
                f"The file exceeds {limit} bytes.",
                title="Payload too large",
                type_="/problems/payload-too-large",
            )
    runtime = remittance_runtime(request)
    try:
        status = await run_in_threadpool(runtime.upload, bytes(raw), practice_id)
    except X12Error as exc:
        raise ProblemError(
            422, f"{exc}. Upload the 835 file exactly as the clearinghouse sent it.", title="Not an 835"
        ) from None
    review = status.review or {}
    return UploadAccepted(
        remittance_id=status.thread_id.removeprefix("remit:"),
        state=status.state,
        denials=len(review.get("triage", [])),
        appeals=len(review.get("appeals", [])),
    )


@router.get("/remittances/{remittance_id}")
async def remittance_view(
    remittance_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.QUEUE_VIEW))],
) -> dict[str, Any]:
    """The remittance view model: payment, claims, posting result, triaged denials and appeal drafts."""
    view = await run_in_threadpool(remittance_runtime(request).view, remittance_id)
    if view is None or view.practice_id not in principal.practice_ids:
        raise _not_found("remittance")
    return view.model_dump(mode="json")


@router.get("/denials/worklist")
async def denial_worklist(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.QUEUE_VIEW))],
    practice_id: Annotated[
        str | None, Query(description="one of your practices; all of them when omitted")
    ] = None,
    queue: Annotated[str | None, Query(description="only this work queue, e.g. appeals")] = None,
    limit: Annotated[int, Query(ge=1, le=WORKLIST_LIMIT)] = 100,
) -> dict[str, Any]:
    """Triaged denials sorted by expected recoverable dollars (highest first)."""
    practices = visible_practice_ids(principal, practice_id)
    items = await run_in_threadpool(remittance_runtime(request).worklist, practices)
    items = [item for item in items if item.practice_id in principal.practice_ids]
    if queue:
        items = [item for item in items if item.triage.queue.split(":")[0] == queue.split(":")[0]]
    return {"items": [item.model_dump(mode="json") for item in items[:limit]], "total": len(items)}


async def _draft(request: Request, principal: Principal, appeal_id: str) -> "AppealDraftView":
    from api.remittance_runtime import UnknownAppeal

    try:
        view = await run_in_threadpool(remittance_runtime(request).appeal_draft, appeal_id)
    except UnknownAppeal:
        raise _not_found("appeal draft") from None
    if view.practice_id not in principal.practice_ids:
        raise _not_found("appeal draft")
    return view


@router.get("/appeals/{appeal_id}/draft", response_model=None)
async def get_appeal_draft(
    appeal_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.QUEUE_VIEW))],
    format: Annotated[
        Literal["json", "text", "pdf"], Query(description="json (default), text or pdf")
    ] = "json",
) -> dict[str, Any] | Response:
    """The appeal letter: its grounded statements, citations and attachments (JSON), or rendered text / PDF."""
    from api.remittance_runtime import letter_bytes

    view = await _draft(request, principal, appeal_id)
    if format == "json":
        return view.model_dump(mode="json")
    body = await run_in_threadpool(letter_bytes, view, format)
    media = PDF if format == "pdf" else "text/plain; charset=utf-8"
    filename = (
        f"appeal-{view.letter.claim_id}-{view.letter.line_number}.{'pdf' if format == 'pdf' else 'txt'}"
    )
    return Response(body, media_type=media, headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.put("/appeals/{appeal_id}/draft")
async def put_appeal_draft(
    appeal_id: str,
    edit: DraftEdit,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.APPEALS_REVIEW))],
) -> dict[str, Any]:
    """Replace the letter's text while its remittance waits for review (409 once decided)."""
    from api.remittance_runtime import ReviewNotPending

    await _draft(request, principal, appeal_id)
    try:
        view = await run_in_threadpool(
            remittance_runtime(request).update_appeal_draft, appeal_id, edit.text, principal.user_id
        )
    except ReviewNotPending as exc:
        raise ProblemError(409, f"{exc}.", title="Already decided") from None
    return view.model_dump(mode="json")
