"""The whole leader and admin journey, in order, in headless Chromium (issue #14).

A newcomer walks everything a leader and a team admin would do in the sandbox, and after each
step the test checks what is on the screen (text shown, buttons gone or offered), never only
that a request succeeded. A screenshot of each key step goes to a temporary folder; with
TANDEM_JOURNEY set (by `make screenshot`) they also become a labelled contact sheet there.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from pathlib import Path

import pytest

from tests.sandbox.test_sandbox_browser import (  # the browser, its tabs and a fresh demo
    browser,  # noqa: F401 - a fixture
    fresh_demo,  # noqa: F401 - a fixture
    page_at,
    sync_api,
    theme_lines,
)

# Slow tier: a headless browser walks every journey in the sandbox.
pytestmark = pytest.mark.slow

# Set by `make screenshot`: where the contact sheet of the journey's key steps is written.
CONTACT_SHEET_TO = os.environ.get("TANDEM_JOURNEY")
WAIT = 20_000  # ms: generous for a shared 2-core machine; explicit waits return at once
PRIYA, GRACE, AMARA = "Priya Shah", "Grace Mensah", "Amara Okafor"


class Journey:
    """One browser tab acting as a demo leader, with the few moves every step uses."""

    def __init__(self, tab, folder: Path):
        self.tab = tab
        self.folder = folder
        self.shots: list[tuple[str, Path]] = []
        self.expect = sync_api.expect

    def shot(self, label: str) -> None:
        """A screenshot of a key step, named in order, for the contact sheet."""
        self.tab.mouse.move(0, 0)  # no hover highlight
        path = self.folder / f"{len(self.shots) + 1:02d}.png"
        self.tab.screenshot(path=str(path))
        self.shots.append((label, path))

    def become(self, name: str) -> None:
        user = self.tab.locator("#who option", has_text=name).get_attribute("value")
        self.tab.locator("#who").select_option(user)
        self.expect(self.tab.locator("#pane-header")).to_contain_text("Tandem", timeout=WAIT)

    def open(self, conversation: str) -> None:
        self._open(
            lambda: self.tab.locator("#nav").get_by_role("button", name=conversation),
            self.tab.locator("#pane-header", has_text=conversation),
        )

    def _open(self, item, ready) -> None:
        """Click a sidebar entry until `ready` shows: just after a clock step the page can
        redraw the sidebar under the click, and the click is then lost."""
        for _ in range(3):
            item().click()
            try:
                self.expect(ready).to_be_visible(timeout=WAIT // 4)
                return
            except AssertionError:
                continue
        self.expect(ready).to_be_visible(timeout=WAIT)

    def open_item(self, text: str) -> None:
        """Open the conversation whose sidebar entry mentions `text`."""
        self._open(
            lambda: self.tab.locator("#nav .nav-item", has_text=text),
            self.tab.locator("#pane-header", has_text=text),
        )

    def dm(self) -> None:
        self._open(
            lambda: self.tab.locator("#nav .nav-item").filter(has_text="Tandem").first,
            self.tab.get_by_role("tab", name="Messages"),
        )
        self.tab.get_by_role("tab", name="Messages").click()
        self.expect(self.tab.locator("#composer")).to_be_visible()

    def home(self):
        self.dm()
        self.tab.get_by_role("tab", name="Home").click()
        home = self.tab.locator("#home")
        self.expect(home).to_contain_text("What Tandem holds about me", timeout=WAIT)
        return home

    def send(self, text: str, composer: str = "#composer-text") -> None:
        box = self.tab.locator(composer)
        box.fill(text)
        self.tab.locator("#suggest").evaluate("box => box.hidden = true")
        box.press("Enter")
        self.expect(box).to_have_value("", timeout=WAIT)

    def message(self, text: str, where: str = "#messages", ephemeral: bool | None = None):
        kind = {None: ".msg", True: ".msg.ephemeral", False: ".msg:not(.ephemeral)"}[ephemeral]
        found = self.tab.locator(f"{where} {kind}", has_text=text).last
        self.expect(found).to_be_visible(timeout=WAIT)
        # Pinned to this message, so it still finds it once an update changes its words.
        return self.tab.locator(f'{where} .msg[data-ts="{found.get_attribute("data-ts")}"]')

    def clock(self, button: str) -> str:
        """Press a clock control; returns what its toast said Tandem sent."""
        self.tab.locator("#toasts").evaluate("toasts => toasts.replaceChildren()")
        self.tab.locator(button).click()
        toast = self.tab.locator("#toasts .toast").first
        self.expect(toast).to_contain_text("It's now", timeout=WAIT)
        return toast.inner_text()

    def modal(self, title: str):
        dialog = self.tab.get_by_role("dialog", name=title)
        self.expect(dialog).to_be_visible(timeout=WAIT)
        return dialog

    def submit(self, dialog, button: str = "Save") -> None:
        dialog.get_by_role("button", name=button, exact=True).click()

    def confirm(self, title: str, button: str) -> None:
        dialog = self.tab.get_by_role("alertdialog")
        self.expect(dialog).to_contain_text(title)
        dialog.get_by_role("button", name=button, exact=True).click()
        self.expect(dialog).to_be_hidden()


def contact_sheet(browser, shots: list[tuple[str, Path]], to: Path) -> None:  # noqa: F811
    """The key steps as a labelled grid, composed and captured by the browser itself."""
    cells = "".join(
        f'<figure><img src="data:image/png;base64,{_base64(path)}">'
        f"<figcaption>{number}. {html.escape(label)}</figcaption></figure>"
        for number, (label, path) in enumerate(shots, start=1)
    )
    context = browser.new_context(viewport={"width": 1800, "height": 1000})
    sheet = context.new_page()
    sheet.set_content(
        "<style>body{margin:0;padding:16px;background:#f4ede4;font:15px system-ui,sans-serif}"
        "main{display:grid;grid-template-columns:repeat(4,1fr);gap:14px}"
        "figure{margin:0;background:#fff;border-radius:8px;padding:6px;"
        "box-shadow:0 1px 3px #0002}img{width:100%;display:block;border-radius:4px}"
        "figcaption{padding:6px 2px 2px;font-weight:600;color:#1d1c1d}</style>"
        f"<main>{cells}</main>"
    )
    sheet.wait_for_function("[...document.images].every(i => i.complete)")
    sheet.screenshot(path=str(to), full_page=True)
    context.close()


def _base64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture
def patient_assertions():
    """Every assertion in the walk waits as long as its explicit waits (WAIT), not Playwright's
    5 s: on a loaded 2-core machine a redraw can take longer, and a passing check returns at
    once either way. Playwright's default comes back afterwards for the other browser tests."""
    sync_api.expect.set_options(timeout=WAIT)
    yield
    sync_api.expect.set_options(timeout=5_000)


def test_a_leader_and_an_admin_walk_every_journey_without_a_dead_end(
    browser,  # noqa: F811
    fresh_demo,  # noqa: F811
    tmp_path,
    patient_assertions,
):
    expect = sync_api.expect
    with page_at(browser, fresh_demo.url) as tab:
        walk = Journey(tab, tmp_path)  # screenshots go to a temporary folder
        tab.locator("#welcome").get_by_role("button", name=PRIYA).click()

        # 1. Ask in a DM: the answer replaces "Thinking about that…", with its sources.
        walk.send("How do I rebuild trust with a partner we let down?")
        answer = walk.message("Something to sit with")
        expect(answer).to_contain_text("Sources")
        expect(tab.locator("#messages")).not_to_contain_text("Thinking about that")
        walk.shot("Ask in a DM")

        # 2. Mention Tandem in a channel; it answers in a thread, and answers a follow-up there.
        walk.open("leadership-circle")
        walk.send("@Tandem how can our partnership board stop circling the same issues?")
        asked = walk.message("partnership board stop circling")
        asked.get_by_role("button", name=re.compile("1 reply")).click()
        thread = tab.locator("#thread-messages")
        expect(thread.locator(".msg", has_text="Sources")).to_have_count(1, timeout=WAIT)
        walk.send("And what if the chair disagrees?", "#thread textarea")
        expect(thread.locator(".msg", has_text="Sources")).to_have_count(2, timeout=WAIT)
        expect(asked).to_contain_text("3 replies", timeout=WAIT)
        walk.shot("Mention, and follow up in a thread")
        tab.locator("#thread-close").click()
        expect(tab.locator("#thread")).to_be_hidden()

        # 3. /tandem help lists every subcommand, only for the person who asked.
        walk.send("/tandem help")
        help_reply = walk.message("/tandem ask", ephemeral=True)
        expect(help_reply).to_contain_text("Only visible to you")
        for usage in ("/tandem journal", "/tandem peers", "/tandem export", "/tandem forget"):
            expect(help_reply).to_contain_text(usage)

        # 4. Ask privately, then share the answer with the channel.
        walk.send("/tandem ask How do we build trust across organisations?")
        private = walk.message("Share in channel", ephemeral=True)
        private.get_by_role("button", name="Share in channel").click()
        shared = walk.message("shared an answer to", ephemeral=False)
        expect(shared).to_contain_text("How do we build trust across organisations?")
        expect(shared).to_contain_text("Sources")
        expect(tab.locator("#messages .msg.ephemeral", has_text="Share in channel")).to_have_count(
            0, timeout=WAIT
        )

        # 5. Feedback: "Not helpful" asks what was missing and thanks for the reason.
        walk.dm()
        answer = walk.message("Something to sit with")
        answer.get_by_role("button", name="Not helpful").click()
        feedback = walk.modal("Not helpful")
        expect(feedback).to_contain_text("What would have helped?")
        expect(feedback).not_to_contain_text("(optional) (optional)")
        feedback.locator("textarea, input[type=text]").first.fill("An example from social care.")
        walk.submit(feedback, "Send")
        expect(walk.modal("Not helpful")).to_contain_text("Thank you", timeout=WAIT)
        walk.shot("Feedback, with a reason, thanked")
        tab.get_by_role("dialog", name="Not helpful").get_by_role(
            "button", name="Close"
        ).first.click()
        expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)

        # 6. App Home: a welcome, and an invitation to check-ins.
        home = walk.home()
        expect(home).to_contain_text("Welcome to Tandem")
        expect(home).to_contain_text("Meet a peer")
        expect(home.get_by_role("button", name="Join check-ins")).to_be_visible()

        # 7. Join check-ins and set a schedule: Weekly, Monday at 09:00, in her own zone.
        home.get_by_role("button", name="Join check-ins").click()
        expect(home.get_by_role("button", name="Change schedule")).to_be_visible(timeout=WAIT)
        expect(home.get_by_role("button", name="Join check-ins")).to_have_count(0)
        home.get_by_role("button", name="Change schedule").click()
        schedule = walk.modal("Check-in settings")
        expect(schedule).not_to_contain_text("(optional) (optional)")
        schedule.locator('[data-block="day"] select').select_option("mon")
        schedule.locator('[data-block="time"] select').select_option("09:00")
        walk.submit(schedule)
        expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)
        expect(home).to_contain_text("Weekly on Monday at 09:00", timeout=WAIT)
        expect(home).to_contain_text("Next: Monday")

        # 8. Advance the clock to Monday 09:00: her check-in arrives.
        said = walk.clock("#ff-monday")
        assert re.search(r"Tandem sent \d+ check-ins?", said), said
        walk.dm()
        checkin = walk.message("Reflect now")
        expect(checkin.get_by_role("button", name="Not this time")).to_be_visible()
        walk.shot("The clock reaches Monday 09:00: a check-in")

        # 9. Reflect by modal: the check-in loses its buttons and says it is saved.
        checkin.get_by_role("button", name="Reflect now").click()
        reflect = walk.modal("Reflect")
        expect(reflect).to_contain_text("What may Tandem do with this?")
        reflect.locator("textarea").fill(
            "I rang the council's lead before the board, just to listen. It eased the tension."
        )
        walk.submit(reflect)
        expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)
        expect(checkin.get_by_role("button", name="Reflect now")).to_have_count(0, timeout=WAIT)
        expect(checkin.get_by_role("button", name="Not this time")).to_have_count(0)
        expect(checkin).to_contain_text("Saved privately in your journal")
        walk.shot("Reflect by modal: the check-in updates")

        # 10. Reflect by thread reply: it joins the same entry, and Tandem says so there.
        checkin.hover()  # as in Slack, "Reply in thread" shows on hover
        checkin.get_by_role("button", name="Reply in thread").click()
        expect(tab.locator("#thread")).to_be_visible(timeout=WAIT)
        walk.send("Next time I'll ask the chair for ten minutes first.", "#thread textarea")
        expect(tab.locator("#thread-messages")).to_contain_text("ten minutes first")
        thread_thanks = tab.locator("#thread-messages .msg", has_text="journal").last
        expect(thread_thanks).to_be_visible(timeout=WAIT)
        tab.locator("#thread-close").click()

        # 11. Change sharing from the journal: the choice shown is the new one, and it says so.
        walk.send("/tandem journal")
        # "Opening your journal…" comes first and is replaced in place: wait for the listing.
        journal = walk.message("Your journal", ephemeral=True)
        expect(journal).to_contain_text("I rang the council's lead", timeout=WAIT)
        sharing = journal.locator("select").first
        team_choice = sharing.locator("option", has_text="team").first.get_attribute("value")
        sharing.select_option(team_choice)
        journal = walk.message("Done: that entry is now", ephemeral=True)
        expect(journal.locator("select").first).to_have_value(team_choice)
        walk.shot("Journal: sharing changed, shown at once")

        # 12. Edit: the modal holds the words; saving redraws the journal, saying so.
        journal.get_by_role("button", name="Edit").first.click()
        edit = walk.modal("Edit reflection")
        expect(edit.locator("textarea")).to_have_value(re.compile("I rang the council's lead"))
        edit.locator("textarea").fill("I rang the council's lead first. It changed the tone.")
        walk.submit(edit)
        expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)
        journal = walk.message("Saved: your edited reflection", ephemeral=True)
        expect(journal).to_contain_text("It changed the tone.")

        # 13. Delete, with a confirmation first; "Keep it" keeps it, "Delete" removes it.
        journal.get_by_role("button", name="Delete").first.click()
        walk.confirm("Delete this reflection?", "Keep it")
        expect(journal).to_contain_text("It changed the tone.")
        journal.get_by_role("button", name="Delete").first.click()
        walk.confirm("Delete this reflection?", "Delete")
        journal = walk.message("Deleted.", ephemeral=True)
        expect(journal).not_to_contain_text("It changed the tone.")
        walk.shot("Delete, after a confirmation")

        # 14. Pause: the date reads the British way; Home says until when, and offers Resume.
        home = walk.home()
        home.get_by_role("button", name="Pause", exact=True).click()
        pause = walk.modal("Pause check-ins")
        until = pause.locator('[data-block="until"] input').first
        expect(until).to_have_value(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
        walk.shot("Pause: a British date")
        walk.submit(pause, "Pause")
        expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)
        expect(home).to_contain_text("Paused until", timeout=WAIT)
        home.get_by_role("button", name="Resume").click()
        expect(home).not_to_contain_text("Paused until", timeout=WAIT)

        # 15. Skip the next one: Home names the one skipped and the one that will come.
        home.get_by_role("button", name="Skip next").click()
        expect(home).to_contain_text("You're skipping the one on", timeout=WAIT)
        expect(home.get_by_role("button", name="Don't skip")).to_be_visible()
        home.get_by_role("button", name="Don't skip").click()
        expect(home.get_by_role("button", name="Skip next")).to_be_visible(timeout=WAIT)

        # 16. Snooze an hour: Home says until when, and offers to end it.
        home.get_by_role("button", name="Snooze an hour").click()
        expect(home).to_contain_text("Snoozed until", timeout=WAIT)
        walk.shot("Skip and snooze on App Home")
        home.get_by_role("button", name="End snooze").click()
        expect(home.get_by_role("button", name="Snooze an hour")).to_be_visible(timeout=WAIT)

        # 17. Opt into peers (Priya, then Grace); the round introduces them; a week later,
        # each is asked privately what they took away.
        for name in (PRIYA, GRACE):
            walk.become(name)
            walk.dm()
            walk.send("/tandem peers")
            invitation = walk.message("Meet a peer", ephemeral=True)
            expect(invitation).to_contain_text("every other Monday")
            invitation.get_by_role("button", name="I'd like that").click()
            walk.submit(walk.modal("Meet a peer"))
            expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)
            walk.message("you're in", ephemeral=True)
            expect(tab.locator("#messages")).to_contain_text("the next round is on")
        walk.become(PRIYA)
        introduced = ""
        for _ in range(3):  # rounds are every other Monday at 10:00
            said = walk.clock("#ff-monday")
            said = walk.clock("#ff-hour")
            if "peer introduction" in said:
                introduced = said
                break
        assert "1 peer introduction" in introduced, introduced
        walk.open_item("Grace")
        intro = walk.message("I'd like to introduce you")
        expect(intro).to_contain_text(f"@{PRIYA} and @{GRACE}")
        expect(intro).to_contain_text("Only the two of you can see this conversation")
        intro.get_by_role("button", name="We've arranged to meet").click()
        walk.message("I hope it's a good conversation", ephemeral=True)
        walk.shot("A peer introduction")
        walk.clock("#ff-monday")
        said = walk.clock("#ff-hour")
        assert re.search(r"\d peer follow-ups?", said), said
        walk.dm()
        followup = walk.message("About a week ago I introduced you to")
        expect(followup).to_contain_text(GRACE)
        expect(followup.get_by_role("button", name="Note what I took away")).to_be_visible()

        # 18. The admin sets up a digest, previews it, and sees it posted with its themes.
        walk.become(AMARA)
        walk.open("leadership-circle")
        walk.send("/tandem digest setup")
        walk.submit(walk.modal("Reflection digest"))
        expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)
        walk.send("/tandem digest preview")
        preview = walk.message("Preview, only for you", ephemeral=True)
        expect(preview).to_contain_text("Trust and relationships")
        previewed = theme_lines(preview.inner_text())
        assert ("Trust and relationships", "5–9") in previewed
        said = walk.clock("#ff-digest")
        assert "1 digest" in said, said
        posted = walk.message("reflection digest", ephemeral=False)
        expect(posted).to_contain_text("1 theme")
        # Clicks again if the list was redrawn under the click (the pane kept an old thread).
        walk._open(
            lambda: posted.get_by_role("button", name=re.compile("1 reply")),
            tab.locator("#thread-messages", has_text="Trust and relationships"),
        )
        assert theme_lines(tab.locator("#thread-messages").inner_text()) == previewed
        walk.shot("A digest, posted with its themes")
        tab.locator("#thread-close").click()

        # 19. Export: a file of everything Tandem holds, in her DM, that downloads as JSON.
        walk.become(PRIYA)
        home = walk.home()
        home.get_by_role("button", name="Export my data").click()
        walk.dm()
        export = walk.message("Everything Tandem holds about you")
        with tab.expect_download() as download:
            export.locator("a.file").click()
        exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert "ten minutes first" not in json.dumps(exported)  # that entry was deleted
        assert exported

        # 20. Forget: a confirmation, then everything goes, and old controls say so plainly.
        walk.send("/tandem forget")
        forget = walk.modal("Erase my data")
        walk.submit(forget, "Erase everything")
        expect(tab.locator("#modal")).to_be_hidden(timeout=WAIT)
        walk.message("erased", ephemeral=None)
        home = walk.home()
        expect(home.get_by_role("button", name="Join check-ins")).to_be_visible(timeout=WAIT)
        expect(home).to_contain_text("Nothing about you personally")
        walk.shot("Forget: everything erased")

    assert len(walk.shots) == 12  # the contact sheet: three rows of four
    for _label, path in walk.shots:
        assert path.stat().st_size > 10_000
    sheet = Path(CONTACT_SHEET_TO) if CONTACT_SHEET_TO else tmp_path / "journey.png"
    contact_sheet(browser, walk.shots, sheet)
    assert sheet.stat().st_size > 50_000
