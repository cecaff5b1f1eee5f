"""The web UI's pages over HTTP: sign-in with CSRF, redirects, escaping of notes and edits, live re-validation."""

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security.passwords import hash_password
from api.storage.users import create_user
from api.worker import default_registry
from billing.practice import Role
from billing.settings import Settings
from tests.web.conftest import CODER, EDITED_ENCOUNTER, HOSTILE_ENCOUNTER, HOSTILE_TEXT, LiveService

HTML = {"accept": "text/html,application/xhtml+xml"}
IMG_ATTACK = '"><img src=x onerror=alert(1)>'


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def session_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries no session CSRF token"
    return match.group(1)


def sign_in(client: httpx.Client | TestClient, username: str, password: str) -> httpx.Response:
    token = form_token(client.get("/ui/login").text)
    return client.post(
        "/ui/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/ui/"},
        follow_redirects=False,
    )


@pytest.fixture
def web_client(settings: Settings) -> Iterator[TestClient]:
    """The app in-process (ASGI), without worker or graph stack, with one Coder who can sign in."""
    app = create_app(settings, start_worker=False, handlers=default_registry())
    with TestClient(app, base_url="http://127.0.0.1") as client:
        with app.state.sessions() as db:
            create_user(
                db,
                username=CODER[0],
                roles=[Role.CODER],
                practice_ids=["PRA-1"],
                password_hash=hash_password(CODER[1]),
            )
        yield client


@pytest.fixture
def coder(live_service: LiveService) -> Iterator[httpx.Client]:
    """A signed-in Coder talking to the live service over loopback HTTP."""
    with httpx.Client(base_url=live_service.url, timeout=30) as client:
        assert sign_in(client, *CODER).status_code == 303
        yield client


def test_the_sign_in_page_carries_a_csrf_token_matching_its_cookie(web_client: TestClient) -> None:
    page = web_client.get("/ui/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'autocomplete="current-password"' in page.text
    assert web_client.cookies.get("fovea_login_csrf") == form_token(page.text)


def test_sign_in_refuses_a_missing_token_and_a_wrong_password_then_opens_a_session(
    web_client: TestClient,
) -> None:
    web_client.get("/ui/login")
    forged = web_client.post(
        "/ui/login", data={"username": CODER[0], "password": CODER[1], "csrf_token": "x"}
    )
    assert forged.status_code == 403 and "fovea_session" not in web_client.cookies
    wrong = sign_in(web_client, CODER[0], "not-the-password")
    assert wrong.status_code == 401 and "wrong" in wrong.text
    signed = sign_in(web_client, *CODER)
    assert signed.status_code == 303 and signed.headers["location"] == "/ui/"
    assert web_client.get("/ui/").status_code == 200


def test_pages_send_a_browser_to_sign_in_and_keep_401_for_scripts(web_client: TestClient) -> None:
    browser = web_client.get("/ui/dashboard?since_days=30", headers=HTML, follow_redirects=False)
    assert browser.status_code == 303
    assert browser.headers["location"] == "/ui/login?next=/ui/dashboard%3Fsince_days%3D30"
    assert web_client.get("/ui/", follow_redirects=False).status_code == 401
    api = web_client.post("/ui/api/validate", json={}, headers=HTML)
    assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"
    assert web_client.get("/", follow_redirects=False).headers["location"] == "/ui/"


def test_a_coder_sees_no_admin_link_and_cannot_open_the_feature_switches(web_client: TestClient) -> None:
    sign_in(web_client, *CODER)
    queue = web_client.get("/ui/")
    assert 'href="/ui/dashboard"' in queue.text and "/ui/admin/features" not in queue.text
    refused = web_client.get("/ui/admin/features")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")


def test_the_queue_lists_pending_items_and_filters_them(coder: httpx.Client) -> None:
    queue = coder.get("/ui/")
    assert queue.status_code == 200
    assert f"Encounter {EDITED_ENCOUNTER}" in queue.text or f"Encounter {HOSTILE_ENCOUNTER}" in queue.text
    assert "Nothing to review" in coder.get("/ui/", params={"workflow": "claim_scrub"}).text


def test_the_item_page_escapes_the_note_and_marks_evidence(
    coder: httpx.Client, live_service: LiveService
) -> None:
    page = coder.get(f"/ui/reviews/{live_service.items[HOSTILE_ENCOUNTER]}")
    assert page.status_code == 200
    assert HOSTILE_TEXT not in page.text
    assert "<script>alert(1)</script>" not in page.text and "<b>bold</b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in page.text
    marked = re.findall(r'<mark data-codes="([^"]+)"[^>]*>([^<]*)</mark>', page.text)
    assert marked, "no evidence is highlighted"
    assert all(code.strip() and text.strip() for code, text in marked)


def test_an_edit_carrying_markup_is_refused_and_shown_escaped(
    coder: httpx.Client, live_service: LiveService
) -> None:
    item_id = live_service.items[HOSTILE_ENCOUNTER]
    page = coder.get(f"/ui/reviews/{item_id}").text
    answer = coder.post(
        f"/ui/reviews/{item_id}/decision",
        data={
            "csrf_token": session_token(page),
            "version": re.search(r'name="version" value="(\d+)"', page).group(1),
            "decision": "edit",
            "dx": ["H04.123", ""],
            "line-1-code": IMG_ATTACK,
            "line-1-modifiers": IMG_ATTACK,
            "line-1-units": "1",
            "line-1-pointers": "A",
        },
    )
    assert answer.status_code == 422
    assert "<img src=x onerror=alert(1)>" not in answer.text.lower()
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in answer.text
    assert live_service.app.state.reviews.get(item_id).status == "pending"


def test_live_revalidation_reports_what_a_bad_edit_breaks(
    coder: httpx.Client, live_service: LiveService
) -> None:
    item_id = live_service.items[EDITED_ENCOUNTER]
    token = session_token(coder.get(f"/ui/reviews/{item_id}").text)

    def findings(modifiers: str) -> set[tuple[str, tuple[int, ...]]]:
        edit = {
            "diagnoses": ["H40.1131"],
            "lines": [
                {"code": "92012", "modifiers": "", "units": "1", "pointers": "A"},
                {"code": "92133", "modifiers": modifiers, "units": "1", "pointers": "A"},
            ],
        }
        answer = coder.post(
            "/ui/api/validate", json={"review_id": item_id, "edit": edit}, headers={"X-CSRF-Token": token}
        )
        assert answer.status_code == 200, answer.text
        return {(finding["code"], tuple(finding["lines"])) for finding in answer.json()["findings"]}

    added = findings("RT") - findings("")
    assert added and all(2 in lines for _code, lines in added), added
    unreadable = coder.post(
        "/ui/api/validate",
        json={
            "review_id": item_id,
            "edit": {"diagnoses": ["H40.1131"], "lines": [{"code": "92133", "pointers": "Q"}]},
        },
        headers={"X-CSRF-Token": token},
    ).json()["findings"]
    assert [finding["code"] for finding in unreadable] == ["EDIT_INVALID"]
    forged = coder.post("/ui/api/validate", json={"review_id": item_id, "edit": {}})
    assert forged.status_code == 403


def test_a_second_decision_on_the_same_version_gets_409_with_a_clear_message(
    coder: httpx.Client, live_service: LiveService
) -> None:
    item_id = live_service.items[HOSTILE_ENCOUNTER]
    page = coder.get(f"/ui/reviews/{item_id}").text
    fields = {
        "csrf_token": session_token(page),
        "version": re.search(r'name="version" value="(\d+)"', page).group(1),
    }
    first = coder.post(
        f"/ui/reviews/{item_id}/decision", data={**fields, "decision": "reject", "reason": "test"}
    )
    assert first.status_code == 303 and first.headers["location"] == f"/ui/?decided={item_id}"
    assert "Rejected" in coder.get(first.headers["location"]).text
    second = coder.post(f"/ui/reviews/{item_id}/decision", data={**fields, "decision": "approve"})
    assert second.status_code == 409
    assert "Another reviewer decided this item first (reject)" in second.text
    assert live_service.charges(HOSTILE_ENCOUNTER) == []
