"""End to end in a real browser: a parent says something is missing, an editor takes out a
name, answers and records an action, and the public "You said, we did" page shows the redacted
comment with the answer; the annual export holds it; a script in the comment is shown as text
and never runs; axe-core finds no serious problem in our content on the three pages.

Run with ``pytest -m e2e tests/e2e`` (or ``bash .ci/e2e``).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

# test_browser sits in this folder, which pytest puts on sys.path.
from test_browser import check_axe, idle, shot

pytestmark = pytest.mark.e2e

NAME = "Maya Okafor"
SCRIPT = "<script>window.__pwned = 1</script>"
WORDS = (f"My daughter {NAME} is 15 and deaf. There is no after-school club for deaf "
         f"teenagers near N7. {SCRIPT}")


def test_comment_moderated_published_and_exported(page, servers, screenshots):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # A parent: something is missing.
    page.goto(f"{servers.ui}/Tell_us_what_you_think")
    page.get_by_role("heading", name="Tell us what you think").wait_for()
    page.get_by_text("Something is missing", exact=True).click()
    page.get_by_role("textbox", name="Your comment", exact=True).fill(WORDS)
    page.get_by_text("A parent or carer", exact=True).click()
    idle(page)
    page.get_by_role("button", name="Send comment").click()
    page.get_by_text("Thank you. The Local Offer team reads every comment").wait_for()
    shot(page, screenshots / "coprod-1-comment.png")
    check_axe(page, "Tell us what you think")

    # The editor: theme, take the name out, answer, action, publish.
    page.goto(f"{servers.ui}/Comments_to_review")
    page.get_by_role("heading", name="Comments to review").wait_for()
    page.get_by_label("Your API key (editor)", exact=True).fill(servers.editor_key)
    page.keyboard.press("Enter")
    page.get_by_text("They wrote:").wait_for()
    assert page.get_by_text(SCRIPT, exact=False).count() >= 1      # shown as text
    page.get_by_role("combobox", name="Theme").click()
    page.get_by_role("option", name="Leisure and activities").click()
    page.get_by_role("textbox", name=re.compile("^Take out these words")).fill(NAME)
    page.get_by_role("textbox", name="The council's answer", exact=True).fill(
        "Thank you. A club for deaf teenagers will start at the demo youth centre.")
    idle(page)
    page.get_by_role("button", name="Save and preview").click()
    page.get_by_text("What will be published:").wait_for()
    preview = page.get_by_text("What will be published:").locator("..").inner_text()
    assert "[removed]" in preview and NAME not in preview
    page.get_by_role("textbox", name="Action", exact=True).fill(
        "Deaf teen club on Thursdays from next term")
    idle(page)
    page.get_by_role("button", name="Record action").click()
    page.get_by_text("Action recorded for comment").wait_for()
    shot(page, screenshots / "coprod-2-review.png")
    check_axe(page, "Comments to review")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text(re.compile(r"Comment #\d+ is published\.")).wait_for()

    # The public page: the redacted comment with the answer and the action.
    page.goto(f"{servers.ui}/You_said_we_did")
    page.get_by_role("heading", name="You said, we did").wait_for()
    page.get_by_text("A club for deaf teenagers will start", exact=False).wait_for()
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert NAME not in body and "My daughter [removed] is 15" in body
    assert "Deaf teen club on Thursdays from next term" in body
    assert SCRIPT in body                                          # the characters typed
    assert page.evaluate("() => window.__pwned") is None and dialogs == []
    shot(page, screenshots / "coprod-3-you-said-we-did.png")
    check_axe(page, "You said, we did")

    # The annual export holds it.
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the annual review (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(got.value.path().read_text(encoding="utf-8"))))
    assert any("My daughter [removed] is 15" in r["comment"] and NAME not in r["comment"]
               and "Deaf teen club" in r["actions"] for r in rows)
