"""The web UI's pages under /ui: sign-in, the review queue, an item page, the dashboard, feature switches.

Every page declares its permission like the JSON API does, and decides through the same ReviewService.
`install_web(app)` adds the router, the static files, `/` -> `/ui/` and HTML error pages for /ui paths.
"""

from datetime import timedelta
from http import HTTPStatus
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import SessionDep, SettingsDep
from api.problems import ProblemError
from api.reviews import (
    Decision,
    ReviewConflict,
    ReviewItemDetail,
    ReviewNotFound,
    ReviewService,
    WorkflowUnavailable,
)
from api.routes import admin_features
from api.routes.auth import safe_next
from api.routes.metrics import dashboard
from api.routes.reviews import DECISION_PERMISSIONS, ReviewsDep
from api.security.audit import audit_security
from api.security.deps import ClockDep, Principal, ensure_practice_access, require, visible_practice_ids
from api.security.lockout import LockoutPolicy
from api.security.permissions import Permission
from api.security.sessions import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SessionPolicy,
    clear_session_cookie,
    end_session,
    issue_login_csrf,
    login_csrf_matches,
    session_id_from_cookie,
    set_session_cookie,
)
from api.security.signin import SignInLocked, SignInRefused, sign_in
from api.storage.features import Feature, FeatureChange, all_flags
from api.storage.models import ReviewStatus, utc_now
from api.storage.reviews import ReviewFilter, list_review_items
from api.web.dashboard import dashboard_charts
from api.web.edit_form import EditedCharge, EditProblem, edit_from_form
from api.web.templating import STATIC_DIR, build_templates, humanize
from billing.findings import Finding, Severity
from billing.settings import Settings

PREFIX = "/ui"
LOGIN_PATH = f"{PREFIX}/login"
# The workflow and its feature share a name.
CHARGE_CODING = Feature.CHARGE_CODING.value
QUEUE_LIMIT = 200

router = APIRouter(prefix=PREFIX, include_in_schema=False)
templates = build_templates()

QueueViewer = Annotated[Principal, Depends(require(Permission.QUEUE_VIEW))]
ChargeReviewer = Annotated[Principal, Depends(require(Permission.CHARGES_REVIEW))]
MetricsViewer = Annotated[Principal, Depends(require(Permission.METRICS_VIEW))]
FeatureAdmin = Annotated[Principal, Depends(require(Permission.ADMIN_FEATURES))]
Account = Annotated[Principal, Depends(require(Permission.ACCOUNT_SELF))]

NAV: tuple[tuple[str, str, Permission], ...] = (
    ("Review queue", f"{PREFIX}/", Permission.QUEUE_VIEW),
    ("Dashboard", f"{PREFIX}/dashboard", Permission.METRICS_VIEW),
    ("Features", f"{PREFIX}/admin/features", Permission.ADMIN_FEATURES),
)
CONFIDENCE_BANDS: dict[str, tuple[float | None, float | None, str]] = {
    "low": (None, 0.7, "Below 70%"),
    "mid": (0.7, 0.9, "70% to 90%"),
    "high": (0.9, None, "90% and above"),
}
AGES: dict[str, tuple[timedelta, str]] = {
    "1h": (timedelta(hours=1), "Older than 1 hour"),
    "1d": (timedelta(days=1), "Older than 1 day"),
    "7d": (timedelta(days=7), "Older than 1 week"),
}


def page(
    request: Request, template: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    nav = [
        {"label": label, "href": href, "current": request.url.path == href}
        for label, href, permission in NAV
        if principal is not None and principal.can(permission)
    ]
    return templates.TemplateResponse(
        request, template, {"principal": principal, "nav": nav, **context}, status_code=status_code
    )


# Sign-in


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, settings: SettingsDep, next: str = f"{PREFIX}/") -> HTMLResponse:
    """The sign-in form, with a double-submit CSRF token (cookie + hidden field)."""
    return _login_form(request, settings, next_path=next)


def _login_form(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    error: str = "",
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    # The token's cookie is issued on a scratch response, then carried over to the rendered form.
    scratch = Response()
    token = issue_login_csrf(scratch, SessionPolicy.from_settings(settings), path=LOGIN_PATH)
    response = page(
        request,
        "login.html",
        None,
        status_code,
        next=safe_next(next_path),
        error=error,
        username=username,
        csrf_token=token,
    )
    response.raw_headers += [header for header in scratch.raw_headers if header[0] == b"set-cookie"]
    return response


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next: Annotated[str, Form()] = f"{PREFIX}/",
) -> Response:
    """Check the form's CSRF token and the password; a session cookie and a redirect, or the form again."""
    policy = SessionPolicy.from_settings(settings)
    if not login_csrf_matches(policy, request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_form(
            request,
            settings,
            next_path=next,
            username=username,
            status_code=403,
            error="The sign-in form expired. Please sign in again.",
        )
    if not username or not password or len(username) > 128 or len(password) > 1024:
        return _login_form(
            request,
            settings,
            next_path=next,
            username=username,
            status_code=422,
            error="Enter your username and password.",
        )
    now = clock()
    try:
        signed = await run_in_threadpool(
            sign_in, db, username, password, LockoutPolicy.from_settings(settings), now
        )
    except SignInLocked as locked:
        minutes = -(-locked.retry_after_seconds // 60)
        return _login_form(
            request,
            settings,
            next_path=next,
            username=username,
            status_code=429,
            error=f"Too many failed sign-ins. Try again in {minutes} minute(s) or ask an admin.",
        )
    except SignInRefused:
        return _login_form(
            request,
            settings,
            next_path=next,
            username=username,
            status_code=401,
            error="The username or password is wrong.",
        )
    # A fresh session id at every sign-in (no session fixation).
    previous = session_id_from_cookie(policy, request.cookies.get(SESSION_COOKIE))
    if previous is not None:
        await run_in_threadpool(end_session, db, previous, now)
    response = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, policy, signed.session_id)
    return response


@router.post("/logout")
def logout(principal: Account, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """End this session (the form carries the session's CSRF token) and go back to the sign-in page."""
    response = RedirectResponse(LOGIN_PATH, status.HTTP_303_SEE_OTHER)
    if principal.session_id is not None:
        now = clock()
        end_session(db, principal.session_id, now)
        audit_security(
            db, actor=principal.actor, action="auth.logout", now=now, detail={"username": principal.username}
        )
        clear_session_cookie(response, SessionPolicy.from_settings(settings))
    return response


# The queue


class QueueFilters(BaseModel):
    workflow: str = ""
    confidence: str = ""
    age: str = ""
    payer: str = ""

    def review_filter(self, practice_ids: list[str]) -> ReviewFilter:
        low, high, _label = CONFIDENCE_BANDS.get(self.confidence, (None, None, ""))
        older = AGES.get(self.age)
        return ReviewFilter(
            practice_ids=practice_ids,
            workflow=self.workflow or None,
            min_confidence=low,
            # The bands meet at 0.7 and 0.9: an item at exactly 0.9 belongs to the upper band only.
            max_confidence=high - 1e-9 if high is not None else None,
            older_than=utc_now() - older[0] if older else None,
            payer=self.payer or None,
            limit=QUEUE_LIMIT,
        )


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    principal: QueueViewer,
    db: SessionDep,
    reviews: ReviewsDep,
    filters: Annotated[QueueFilters, Depends()],
    decided: str | None = None,
) -> HTMLResponse:
    """Pending review items of the caller's practices, oldest first; j/k move, Enter opens."""
    practice_ids = visible_practice_ids(principal)
    pending = list_review_items(db, ReviewFilter(practice_ids=practice_ids, limit=QUEUE_LIMIT * 5))
    items = list_review_items(db, filters.review_filter(practice_ids))
    return page(
        request,
        "queue.html",
        principal,
        items=items,
        filters=filters,
        workflows=sorted({item.workflow for item in pending} | ({filters.workflow} - {""})),
        payers=sorted({item.payer for item in pending if item.payer} | ({filters.payer} - {""})),
        confidence_bands={key: label for key, (_low, _high, label) in CONFIDENCE_BANDS.items()},
        ages={key: label for key, (_delta, label) in AGES.items()},
        decided=_decided_notice(reviews, principal, decided) if decided else None,
    )


def _decided_notice(reviews: ReviewService, principal: Principal, item_id: str) -> dict[str, Any] | None:
    """What just happened to the item the reviewer decided, for the notice above the queue."""
    try:
        item = reviews.get(item_id)
    except ReviewNotFound:
        return None
    if item.practice_id not in principal.practice_ids or item.status != ReviewStatus.DECIDED.value:
        return None
    result = item.result or {}
    return {
        "item": item,
        "charge_id": result.get("charge_id"),
        "applied": item.applied_at is not None,
        "apply_error": item.apply_error,
    }


# An item


def _visible_item(reviews: ReviewService, principal: Principal, item_id: str) -> ReviewItemDetail:
    try:
        item = reviews.get(item_id)
    except ReviewNotFound:
        raise ProblemError(404, "There is no review item with this id among your practices.") from None
    ensure_practice_access(principal, item.practice_id)
    return item


def _item_page(
    request: Request,
    principal: Principal,
    item: ReviewItemDetail,
    *,
    status_code: int = 200,
    error: str = "",
    notice: str = "",
    edit: EditedCharge | None = None,
) -> HTMLResponse:
    settings = request.app.state.settings
    needed = DECISION_PERMISSIONS.get(item.workflow)
    view = None
    note_missing = False
    if item.workflow == CHARGE_CODING:
        # Imported here, as in create_app: the graph stack is loaded when a charge is first shown, not at import.
        from api.web.item_view import charge_item_view
        from api.web.visits import load_visit

        visit = load_visit(settings, item.thread_id)
        note_missing = visit is None
        view = charge_item_view(item.payload, visit.note if visit is not None else None, edit)
    return page(
        request,
        "item.html",
        principal,
        status_code,
        item=item,
        view=view,
        note_missing=note_missing,
        generic_findings=[Finding.model_validate(f) for f in item.payload.get("findings", [])],
        can_decide=needed is not None and principal.can(needed) and item.status == ReviewStatus.PENDING.value,
        decision_permission=needed.value if needed else "",
        error=error,
        notice=notice,
        edit_open=edit is not None,
    )


@router.get("/reviews/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: str, principal: QueueViewer, reviews: ReviewsDep) -> HTMLResponse:
    """The note with each code's evidence marked, the code lines with confidence and findings, the decision."""
    item = _visible_item(reviews, principal, item_id)
    reviews.audit(
        actor=principal.actor,
        action="phi.view",
        practice_id=item.practice_id,
        patient_id=item.patient_id or "",
        claim_id=item.claim_id or "",
        thread_id=item.thread_id,
        detail={"review_item_id": item.id, "workflow": item.workflow, "via": "web"},
    )
    return _item_page(request, principal, item)


def _edit_decision(settings: Settings, item: ReviewItemDetail, edit: EditedCharge) -> Decision:
    """The edit as a decision; EditProblem when it cannot be read or holds a code no claim can carry."""
    from api.web.editing import coding_from_edit
    from api.web.visits import load_visit, revalidate, unbillable
    from knowledge.base import load_knowledge

    coding = coding_from_edit(edit)
    visit = load_visit(settings, item.thread_id)
    if visit is not None:
        refused = unbillable(revalidate(visit, coding, load_knowledge(settings)))
        if refused:
            raise EditProblem(" ".join(finding.message for finding in refused))
    return Decision(decision="edit", edited=coding.model_dump(mode="json"))


@router.post("/reviews/{item_id}/decision", response_class=HTMLResponse)
async def decide_item(
    request: Request, item_id: str, principal: QueueViewer, reviews: ReviewsDep
) -> Response:
    """Approve, approve with edits, or reject with a reason, through the review queue's decision service."""
    item = await run_in_threadpool(_visible_item, reviews, principal, item_id)
    needed = DECISION_PERMISSIONS.get(item.workflow)
    if needed is None or not principal.can(needed):
        raise ProblemError(
            403,
            f"Deciding {humanize(item.workflow).lower()} items needs the "
            f"`{needed.value if needed else 'none'}` permission, which your roles do not grant.",
            title="Forbidden",
        )
    form = await request.form()
    choice = str(form.get("decision", ""))
    edit: EditedCharge | None = None
    try:
        version = int(str(form.get("version", "")))
        if choice == "edit" and item.workflow != CHARGE_CODING:
            raise EditProblem("Only charge coding items can be edited here; approve or reject this one.")
        if choice == "edit":
            edit = edit_from_form(form, form.getlist)
            decision = await run_in_threadpool(_edit_decision, request.app.state.settings, item, edit)
        else:
            decision = Decision.model_validate({"decision": choice, "reason": str(form.get("reason", ""))})
    except EditProblem as problem:
        return await run_in_threadpool(
            _item_page, request, principal, item, status_code=422, error=str(problem), edit=edit
        )
    except ValueError:
        message = (
            "Give a reason for the rejection."
            if choice == "reject"
            else "The decision could not be read; reload the page and try again."
        )
        return await run_in_threadpool(_item_page, request, principal, item, status_code=422, error=message)
    try:
        await run_in_threadpool(
            lambda: reviews.decide(item_id, decision, decided_by=principal.user_id, expected_version=version)
        )
    except ReviewConflict:
        current = await run_in_threadpool(_visible_item, reviews, principal, item_id)
        message = (
            "Another reviewer decided this item first"
            + (f" ({current.decision})" if current.decision else "")
            + ", or it changed since you opened it. Nothing was written for your decision."
        )
        return await run_in_threadpool(
            _item_page, request, principal, current, status_code=409, error=message
        )
    except WorkflowUnavailable:
        raise ProblemError(
            503, "The workflow that applies this decision is not running; try again shortly."
        ) from None
    except ValueError as exc:
        return await run_in_threadpool(
            _item_page, request, principal, item, status_code=422, error=str(exc), edit=edit
        )
    return RedirectResponse(f"{PREFIX}/?decided={item_id}", status.HTTP_303_SEE_OTHER)


class ValidateRequest(BaseModel):
    review_id: str
    edit: EditedCharge


class ValidateAnswer(BaseModel):
    findings: list[Finding]


@router.post("/api/validate")
def validate_edit(
    body: ValidateRequest, request: Request, principal: ChargeReviewer, reviews: ReviewsDep
) -> ValidateAnswer:
    """Live re-validation: the validator's findings on the edited codes, in the item's visit context."""
    from api.web.editing import coding_from_edit
    from api.web.visits import load_visit, revalidate
    from knowledge.base import load_knowledge

    item = _visible_item(reviews, principal, body.review_id)
    visit = load_visit(request.app.state.settings, item.thread_id) if item.workflow == CHARGE_CODING else None
    if visit is None:
        raise ProblemError(
            409, "This item has no charge coding visit to validate against; decide it without edits."
        )
    try:
        coding = coding_from_edit(body.edit)
    except EditProblem as problem:
        return ValidateAnswer(
            findings=[Finding(code="EDIT_INVALID", severity=Severity.ERROR, message=str(problem))]
        )
    return ValidateAnswer(findings=revalidate(visit, coding, load_knowledge(request.app.state.settings)))


# The dashboard


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request, principal: MetricsViewer, db: SessionDep, since_days: int = 90
) -> HTMLResponse:
    """Acceptance, time to decision, edits by code, shadow comparison and the time-saved estimate."""
    metrics = dashboard(db, visible_practice_ids(principal), max(1, min(since_days, 3650)))
    decided = sum(row.decided for row in metrics.acceptance)
    approved = sum(row.approved for row in metrics.acceptance)
    return page(
        request,
        "dashboard.html",
        principal,
        metrics=metrics,
        charts=dashboard_charts(metrics),
        decided=decided,
        overall_acceptance=approved / decided if decided else None,
        baselines=[flags for flags in all_flags(db)],
    )


# Feature switches


@router.get("/admin/features", response_class=HTMLResponse)
def features_page(
    request: Request, principal: FeatureAdmin, db: SessionDep, changed: str | None = None
) -> HTMLResponse:
    """Each feature's kill switch and autopilot policy."""
    return page(
        request,
        "features.html",
        principal,
        features=all_flags(db),
        changed=changed,
        can_change_policies=principal.can(Permission.ADMIN_POLICIES),
    )


@router.post("/admin/features/{feature}")
async def change_feature(
    feature: Feature,
    principal: FeatureAdmin,
    db: SessionDep,
    action: Annotated[Literal["enable", "disable", "autopilot_on", "autopilot_off", "policy"], Form()],
    autopilot_threshold: Annotated[float | None, Form(ge=0.0, le=1.0)] = None,
    manual_baseline_minutes: Annotated[float | None, Form(gt=0.0)] = None,
) -> Response:
    """Flip a kill switch or the autopilot, or set its threshold and manual baseline; audited like the API."""
    changes = {
        "enable": FeatureChange(enabled=True),
        "disable": FeatureChange(enabled=False),
        "autopilot_on": FeatureChange(autopilot_enabled=True),
        "autopilot_off": FeatureChange(autopilot_enabled=False),
        "policy": FeatureChange(
            autopilot_threshold=autopilot_threshold, manual_baseline_minutes=manual_baseline_minutes
        ),
    }
    await admin_features.change_feature(feature, changes[action], principal, db)
    return RedirectResponse(f"{PREFIX}/admin/features?changed={feature.value}", status.HTTP_303_SEE_OTHER)


# Wiring


def _is_page(request: Request) -> bool:
    """A /ui page (HTML errors, sign-in redirects), not the UI's JSON endpoint."""
    path = request.url.path
    return (path == PREFIX or path.startswith(f"{PREFIX}/")) and not path.startswith(f"{PREFIX}/api/")


def install_web(app: FastAPI) -> None:
    """Mount the UI: its router, its static files, `/` -> `/ui/`, and HTML errors for its pages.

    Call after install_problem_handlers: the page handlers wrap the JSON ones, which still answer the API.
    """
    app.include_router(router)
    app.add_api_route("/", lambda: RedirectResponse(f"{PREFIX}/"), include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    json_problem = app.exception_handlers[ProblemError]
    json_http = app.exception_handlers[StarletteHTTPException]

    async def problem_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        if not _is_page(request):
            return await json_problem(request, exc)
        # A browser navigating gets the sign-in form; a script (no text/html in Accept) keeps its 401.
        if exc.problem.status == 401 and "text/html" in request.headers.get("accept", ""):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='/')}", status.HTTP_303_SEE_OTHER)
        response = page(
            request,
            "error.html",
            None,
            exc.problem.status,
            title=exc.problem.title,
            detail=exc.problem.detail,
            sign_in=f"{LOGIN_PATH}?next={quote(request.url.path, safe='/')}"
            if exc.problem.status == 401
            else "",
        )
        response.headers.update(exc.headers or {})
        return response

    async def http_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not _is_page(request):
            return await json_http(request, exc)
        detail = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        title = HTTPStatus(exc.status_code).phrase
        return page(request, "error.html", None, exc.status_code, title=title, detail=detail)

    app.add_exception_handler(ProblemError, problem_page)
    app.add_exception_handler(StarletteHTTPException, http_page)
