"""The sandbox page in headless Chromium: what an evaluator does in their first two minutes.

Needs Debian's chromium (/usr/bin/chromium) and the playwright package; never downloads a
browser. Saves a screenshot; `make screenshot` writes it to docs/sandbox.png for the README.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

from sandbox.run import Sandbox
from tests.sandbox.conftest import sandbox_settings

# Slow tier: a headless browser drives the sandbox page.
pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
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
# Set by `make screenshot` to refresh the README's picture; otherwise a temporary file.
SCREENSHOT_TO = os.environ.get("TANDEM_SCREENSHOT")

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is absent: apt-get install -y chromium to run the browser test",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is absent: pip install playwright"
)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def page_at(browser, url: str):
    """A fresh browser tab on ``url``; fails if the page raised a JavaScript error."""
    context = browser.new_context(viewport={"width": 1360, "height": 860}, locale="en-GB")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url)
    yield page
    context.close()
    assert problems == [], f"JavaScript errors on the page: {problems}"


@pytest.fixture
def tab(browser, sandbox):
    with page_at(browser, sandbox.url) as page:
        yield page


@pytest.fixture
def fresh_demo(kb_settings, tmp_path):
    """A demo workspace of its own, as `make run` starts it: what other tests did to the
    shared one (moving its clock, say) cannot change what this one shows."""
    settings = sandbox_settings(tmp_path / "demo", kb_settings)
    with Sandbox(settings, port=0, tick_seconds=None) as running:
        yield running


def theme_lines(text: str) -> list[tuple[str, str]]:
    """(theme, band) pairs as a digest shows them: "• Trust and relationships · 5–9 people"."""
    return re.findall(r"• (.+?) · (\S+) people", text)


def test_a_first_visit_asks_dms_rates_opens_home_and_runs_help(tab, tmp_path):
    expect = sync_api.expect
    tab.get_by_role("button", name="Amara Okafor").click()
    expect(tab.locator("#pane-header")).to_contain_text("Tandem")

    composer = tab.locator("#composer-text")
    composer.fill("How do I rebuild trust with a partner we let down?")
    composer.press("Enter")
    answer = tab.locator("#messages .msg", has_text="Something to sit with").last
    expect(answer).to_be_visible(timeout=30_000)
    expect(answer).to_contain_text("Sources")
    expect(answer).to_contain_text("[1]")
    expect(answer.get_by_role("button", name="View").first).to_be_visible()
    tab.mouse.move(0, 0)  # no hover highlight in the screenshot
    tab.wait_for_timeout(300)
    screenshot = Path(SCREENSHOT_TO) if SCREENSHOT_TO else tmp_path / "sandbox.png"
    tab.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000

    answer.get_by_role("button", name="View").first.click()
    document = tab.locator("#modal")
    expect(document).to_contain_text("What good looks like", timeout=15_000)
    expect(document).to_contain_text("Sources")
    document.get_by_role("button", name="Close", exact=True).last.click()
    expect(document).not_to_contain_text("What good looks like", timeout=15_000)

    answer.get_by_role("button", name="Helpful", exact=True).click()
    thanks = tab.locator("#messages .msg.ephemeral", has_text="Thank you")
    expect(thanks).to_be_visible(timeout=15_000)
    expect(thanks).to_contain_text("Only visible to you")

    tab.get_by_role("tab", name="Home").click()
    expect(tab.locator("#home")).to_contain_text("Welcome to Tandem", timeout=15_000)

    tab.get_by_role("tab", name="Messages").click()
    composer.fill("/tandem help")
    composer.press("Enter")
    help_message = tab.locator("#messages .msg.ephemeral", has_text="/tandem ask")
    expect(help_message).to_be_visible(timeout=15_000)
    expect(help_message).to_contain_text("Only visible to you")


def test_too_long_a_message_shows_slacks_error_and_keeps_the_text(tab):
    expect = sync_api.expect
    tab.get_by_role("button", name="Grace Mensah").click()
    composer = tab.locator("#composer-text")
    composer.fill("x" * 40_001)
    composer.press("Enter")
    expect(tab.locator("#composer-error")).to_contain_text("too long", timeout=15_000)
    expect(composer).to_have_value("x" * 40_001)


def test_an_admin_sets_up_a_digest_previews_it_and_sees_the_same_themes_posted(
    browser, fresh_demo, tmp_path
):
    expect = sync_api.expect
    with page_at(browser, fresh_demo.url) as tab:
        welcome = tab.locator("#welcome")
        expect(welcome).to_contain_text(
            "Sign in as Amara Okafor, a workspace admin, to try team digests."
        )
        welcome.get_by_role("button", name="Amara Okafor").click()
        expect(tab.locator("#tip-digests")).to_contain_text("/tandem digest setup")
        tab.locator("#nav").get_by_role("button", name="leadership-circle").click()
        expect(tab.locator("#pane-header")).to_contain_text("leadership-circle")

        composer = tab.locator("#composer-text")
        composer.fill("/")
        offered = tab.locator("#suggest button")
        expect(offered).to_have_count(len(fresh_demo.tandem_commands.help_entries()))
        for usage in ("/tandem digest setup | preview", "/tandem journal", "/tandem forget"):
            expect(tab.locator("#suggest")).to_contain_text(usage)
        composer.fill("/tandem digest setup")
        composer.press("Enter")
        modal = tab.locator("#modal")
        expect(modal).to_contain_text("How often", timeout=15_000)
        modal.get_by_role("button", name="Save").click()
        expect(modal).to_be_hidden(timeout=15_000)

        composer.fill("/tandem digest preview")
        composer.press("Enter")
        preview = tab.locator("#messages .msg.ephemeral", has_text="Preview, only for you")
        expect(preview).to_contain_text("Trust and relationships", timeout=30_000)
        expect(preview).to_contain_text("Only visible to you")
        previewed = theme_lines(preview.inner_text())
        assert ("Trust and relationships", "5–9") in previewed
        tab.screenshot(path=str(tmp_path / "digest-preview.png"))

        tab.locator("#ff-digest").click()
        expect(tab.locator("#toasts")).to_contain_text("1 digest", timeout=15_000)
        expect(tab.locator("#clock-time")).to_contain_text("15:00")
        posted = tab.locator("#messages .msg:not(.ephemeral)", has_text="reflection digest")
        expect(posted).to_contain_text("1 theme", timeout=15_000)
        posted.get_by_role("button", name=re.compile("1 reply")).click()
        thread = tab.locator("#thread-messages")
        expect(thread).to_contain_text("Trust and relationships", timeout=15_000)
        assert theme_lines(thread.inner_text()) == previewed
        tab.screenshot(path=str(tmp_path / "digest-posted.png"))
        assert (tmp_path / "digest-posted.png").stat().st_size > 10_000


def test_leaving_check_ins_asks_first_and_staying_changes_nothing(tab):
    expect = sync_api.expect
    tab.get_by_role("button", name="Ciarán Byrne").click()
    tab.get_by_role("tab", name="Home").click()
    home = tab.locator("#home")
    expect(home).to_contain_text("Weekly", timeout=15_000)
    home.get_by_role("button", name="Leave check-ins").click()
    dialog = tab.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Leave check-ins?")
    dialog.get_by_role("button", name="Stay").click()
    expect(dialog).to_be_hidden()
    tab.wait_for_timeout(500)
    expect(home.get_by_role("button", name="Leave check-ins")).to_be_visible()

    home.get_by_role("button", name="Leave check-ins").click()
    tab.get_by_role("alertdialog").get_by_role("button", name="Leave", exact=True).click()
    expect(home.get_by_role("button", name="Join check-ins")).to_be_visible(timeout=15_000)
