"""The review queue in real headless Chromium: sign in, open an item, edit a code, approve by keyboard.

Needs Debian's chromium (.ci/run installs it); skipped with a message where /usr/bin/chromium is absent.
Screenshots of the queue, the item and the dashboard go to test-artifacts/screenshots/.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.web.conftest import CODER, EDITED_ENCOUNTER, LiveService

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NEW_CODE = "92014"

if not CHROMIUM.exists():
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)", pytrace=False)
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's chromium and chromium-driver to run the browser tests",
        allow_module_level=True,
    )

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator["sync_api.Browser"]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(page: "sync_api.Page", name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path


def test_a_coder_edits_a_code_and_approves_by_keyboard(
    browser: "sync_api.Browser", live_service: LiveService
) -> None:
    item_id = live_service.items[EDITED_ENCOUNTER]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_service.url}/ui/")
        assert "/ui/login" in page.url
        page.fill("#username", CODER[0])
        page.fill("#password", CODER[1])
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_service.url}/ui/")
        screenshot(page, "queue")

        # j/k move the selection; Enter opens the selected item.
        rows = page.locator("table.queue-table tbody tr")
        hrefs = [rows.nth(index).get_attribute("data-href") for index in range(rows.count())]
        target = hrefs.index(f"/ui/reviews/{item_id}")
        page.locator("body").click(position={"x": 5, "y": 5})
        for _ in range(target):
            page.keyboard.press("j")
        assert page.locator("tr.is-selected").get_attribute("data-href") == f"/ui/reviews/{item_id}"
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/ui/reviews/{item_id}")
        assert page.locator("mark[data-codes]").count() > 0
        page.locator("tr.code-line[data-code='92133']").first.focus()
        assert page.locator("mark.is-active").count() > 0
        screenshot(page, "item")

        # e opens the editor; a bad modifier is flagged live, then the exam code is changed.
        page.locator("h1").click()
        page.keyboard.press("e")
        assert page.locator("#edit-panel").get_attribute("open") is not None
        codes = page.locator("#edit-panel tr[data-line] input[name$='-code']")
        line = next(n for n in range(codes.count()) if codes.nth(n).input_value() == "92133") + 1
        page.fill(f"input[name='line-{line}-modifiers']", "RT")
        page.wait_for_selector("#validation-results .findings li")
        page.fill(f"input[name='line-{line}-modifiers']", "")
        # the visit line, whichever exam or E/M code the coder chose for this follow-up
        exam = (
            next(n for n in range(codes.count()) if codes.nth(n).input_value().startswith(("920", "992"))) + 1
        )
        suggested = codes.nth(exam - 1).input_value()
        assert suggested != NEW_CODE
        page.fill(f"input[name='line-{exam}-code']", NEW_CODE)
        page.wait_for_function(
            "document.querySelector('#validation-results .status')?.textContent"
            " === 'Re-validated: no findings on the edited codes.'"
        )
        # What the reviewer sees while editing: the note stays in view beside the editor.
        screenshot(page, "item-editing", full_page=False)
        page.keyboard.press("Escape")
        page.keyboard.press("a")
        # The first approval after start-up also loads the embedding model (the learn step): allow for it.
        page.wait_for_url(f"**/ui/?decided={item_id}", timeout=90_000)
        assert "draft charge" in page.locator(".notice").inner_text()

        page.goto(f"{live_service.url}/ui/dashboard")
        assert page.locator("svg[role='img']").count() >= 1
        screenshot(page, "dashboard")
    finally:
        context.close()

    (charge,) = live_service.charges(EDITED_ENCOUNTER)
    assert NEW_CODE in [line.code for line in charge.lines]
    assert suggested not in [line.code for line in charge.lines]
    assert charge.source == "ai_suggested"
