"""The pages for staff in a real browser: a commissioner's Gaps in provision and the directory
team's Directory health at desktop and phone width with axe-core, and keyboard-only runs of
Explore with a family (SENCo), the Transition plan (key worker: make, save and delete a plan)
and the Staff page (admin: make a key, import a CSV file and a live feed, each with its report).

The feed is a pair of saved Open Referral UK pages served on the loopback address by the test
itself (``tests/feed_server.py``): nothing reaches the internet. Neither import changes the
demo directory the other tests use (the file's good rows are already there; the feed is
imported in strict mode and refused).

Run with ``pytest -m e2e tests/e2e`` (or ``bash .ci/e2e``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from feed_server import serve_feed
from test_browser import _focused_name, check_axe, idle, shot, tab_to

pytestmark = pytest.mark.e2e

WIDTHS = {1280: 900, 390: 844}
DEMO = Path(__file__).resolve().parents[2] / "data" / "demo" / "islington_local_offer.csv"


def new_tab(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]},
                                  locale="en-GB")
    return context, context.new_page()


def sign_in(page, role: str, key: str) -> None:
    """Type the API key into the page's key field (one field per role, the same everywhere)."""
    field = page.get_by_label(f"Your API key ({role})", exact=True)
    field.fill(key)
    field.press("Enter")
    idle(page)


def no_sideways_scroll(page, width: int) -> None:
    wide = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stMarkdownContainer\"], "
        "[data-testid=\"stHeading\"], [data-testid=\"stAlertContainer\"]')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length")
    assert wide == 0, f"{wide} block(s) wider than the {width} px screen"


@pytest.mark.parametrize("width", [1280, 390])
def test_commissioner_sees_gaps_in_provision(browser, servers, screenshots, width):
    """With the keyboard alone: Tab, typing, Enter."""
    context, page = new_tab(browser, width)
    page.goto(f"{servers.ui}/Gaps_in_provision")
    page.get_by_role("heading", name="Gaps in provision").wait_for()
    idle(page)
    page.get_by_text("This page is for commissioners: enter a commissioner API key.").wait_for()
    # A key of another role is refused with a reason.
    retype(page, "Your API key (commissioner)", servers.key_worker_key)
    type_into(page, "Postcode districts, separated by commas", "N7")
    press(page, "Show gaps")
    page.get_by_text("Yours is for another role").wait_for()
    idle(page)
    retype(page, "Your API key (commissioner)", servers.commissioner_key)
    retype(page, "Postcode districts, separated by commas", "N1,N4,N5,N7,N19", enter=False)
    press(page, "Show gaps")
    heading = page.get_by_role("heading", name=re.compile(
        r"^\d+ gaps? and \d+ thin cells? in \d+ areas?$"))
    heading.wait_for()
    idle(page)
    # Counts of services, never of children; the table and its download are there when any
    # cell is a gap or thin, and the page says so when none is.
    assert page.get_by_text("counts of services, shown exactly", exact=False).count() == 1
    # The demo Local Offer has gaps and thin cells in these districts (services open to any
    # SEND are counted beside each cell, not in it).
    found = re.match(r"^(\d+) gaps? and (\d+) thin", heading.inner_text())
    assert found and int(found[1]) >= 1 and int(found[2]) >= 1, heading.inner_text()
    page.get_by_role("button", name="Download the table (CSV)").wait_for()
    # Demand beside the gaps.
    page.get_by_role("heading", name="Unmet demand: searches that found little").wait_for()
    idle(page)
    no_sideways_scroll(page, width)
    if width == 1280:
        shot(page, screenshots / "12-gaps-in-provision.png")
    check_axe(page, f"Gaps in provision ({width} px wide)")
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_directory_team_sees_directory_health(browser, servers, screenshots, width):
    """With the keyboard alone."""
    context, page = new_tab(browser, width)
    page.goto(f"{servers.ui}/Directory_health")
    page.get_by_role("heading", name="Directory health").wait_for()
    idle(page)
    page.get_by_text("This page is for the directory team: enter an admin API key.").wait_for()
    retype(page, "Your API key (admin)", servers.admin_key)
    page.get_by_role("heading", name="How complete each field is").wait_for()
    page.get_by_role("heading", name="Records to fix first").wait_for()
    idle(page)
    download = page.get_by_role("button", name="Download every record to fix (CSV for "
                                               "providers)")
    nothing = page.get_by_text("No record needs fixing.")
    download.or_(nothing).wait_for()
    idle(page)
    assert download.count() + nothing.count() == 1
    no_sideways_scroll(page, width)
    if width == 1280:
        shot(page, screenshots / "13-directory-health.png")
    check_axe(page, f"Directory health ({width} px wide)")
    context.close()


# --------------------------------------------------------------------------- keyboard only
def type_into(page, name: str, text: str, enter: bool = False) -> None:
    """Tab to a field, type into it (and press Enter to send it)."""
    tab_to(page, name)
    page.keyboard.type(text)
    if enter:
        page.keyboard.press("Enter")
    else:
        page.keyboard.press("Tab")
    idle(page)


def retype(page, name: str, text: str, enter: bool = True) -> None:
    """Tab to a field, select what it holds, type over it (and press Enter)."""
    tab_to(page, name)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter" if enter else "Tab")
    idle(page)


def choose_option(page, name: str, words: str) -> None:
    """Tab to a drop-down list, type words of an option and press Enter to take it."""
    tab_to(page, name)
    page.keyboard.type(words)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    idle(page)


def press(page, name: str) -> None:
    """Tab to a button (or a group of the needs picker) and press Enter."""
    tab_to(page, name)
    page.keyboard.press("Enter")
    idle(page)


def tick_with_keyboard(page, group: str, need: str) -> None:
    press(page, group)  # opens the group
    tab_to(page, need)
    page.keyboard.press("Space")
    idle(page)


def test_a_senco_explores_and_compares_with_the_keyboard_alone(browser, servers, screenshots):
    """At phone width (the screenshots are taken at desktop width)."""
    context, page = new_tab(browser, 390)
    page.goto(f"{servers.ui}/Explore_with_a_family")
    page.get_by_role("heading", name="Explore with a family").wait_for()
    idle(page)
    type_into(page, "Age in years (0 to 25)", "15")
    type_into(page, "Postcode or district", "N7")
    tick_with_keyboard(page, "Feelings, behaviour and mental health", "ADHD")
    press(page, "Find services")
    page.get_by_text("services shown").wait_for()
    idle(page)
    # Tabs are one tab stop: the arrow keys move between them.
    tab_to(page, "Results and scores")
    page.keyboard.press("ArrowRight")
    idle(page)
    assert _focused_name(page) == "Compare side by side"
    page.keyboard.press("Enter")
    idle(page)
    tab_to(page, "Services to compare (2 to 4)")
    for _ in range(2):
        page.keyboard.press("ArrowDown")  # opens the list at its first option (or moves on)
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")      # takes that one option (there is no "Select all")
        idle(page)
    page.keyboard.press("Escape")
    page.get_by_text("Why suggested", exact=True).wait_for()
    idle(page)
    chosen = page.locator('[data-testid="stMultiSelect"]').filter(
        has_text="Services to compare (2 to 4)").locator(
        ':not(template) > [data-testid="stMultiSelectTagsContainer"] [data-tag]')
    assert chosen.count() == 2
    check_axe(page, "Explore with a family: comparison (390 px wide)")
    shot(page, screenshots / "07-explore-compare.png")
    # Back to the results: open the first one's score breakdown.
    tab_to(page, "Compare side by side")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    idle(page)
    press(page, "1. ")
    page.get_by_text("What it means", exact=True).first.wait_for()
    idle(page)
    shot(page, screenshots / "08-explore-breakdown.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    idle(page)
    check_axe(page, "Explore with a family: score breakdown (1280 px wide)")
    context.close()


def test_a_key_worker_makes_and_deletes_a_plan_with_the_keyboard_alone(browser, servers):
    """At phone width."""
    context, page = new_tab(browser, 390)
    page.goto(f"{servers.ui}/Transition_plan")
    page.get_by_text("This page is for key workers: enter a key worker API key.").wait_for()
    idle(page)
    type_into(page, "Your API key (key worker)", servers.key_worker_key, enter=True)
    page.get_by_role("heading", name="About the plan").wait_for()
    idle(page)
    type_into(page, "Label", "KB-07")
    choose_option(page, "The move ahead", "Year 11")
    type_into(page, "Age in years", "16")
    tab_to(page, "Has an EHC plan")
    page.keyboard.press("Space")
    idle(page)
    tick_with_keyboard(page, "Talking, understanding and getting on with others",
                       "Autism (autistic)")
    press(page, "Find services for this plan")
    page.get_by_text("Grouped by need").first.wait_for()
    idle(page)
    press(page, "Add to plan")
    press(page, "Save plan")
    page.get_by_text("Saved plan KB-07").wait_for()
    idle(page)
    check_axe(page, "Transition plan (390 px wide)")
    press(page, "Delete this plan")
    page.get_by_text("Delete plan KB-07?").wait_for()
    idle(page)
    press(page, "No, keep it")  # the first answer keeps it
    assert page.get_by_text("Delete plan KB-07?").count() == 0
    press(page, "Delete this plan")
    press(page, "Yes, delete plan KB-07")
    page.get_by_text("Deleted plan KB-07. It cannot be opened again.").wait_for()
    idle(page)
    page.get_by_role("combobox", name="Open a saved plan").click()
    assert page.get_by_role("option", name=re.compile("^KB-07")).count() == 0
    context.close()


def _small_csv(folder: Path) -> Path:
    """Two rows of the demo directory as they are, and one with an impossible age."""
    with DEMO.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    bad = {**rows[2], "id": "E2E-BAD-AGE", "max_age": "40"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows([rows[0], rows[1], bad])
    path = folder / "three-rows.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_an_admin_makes_a_key_and_imports_with_the_keyboard_alone(browser, servers,
                                                                     screenshots, tmp_path):
    context, page = new_tab(browser, 1280)
    page.goto(f"{servers.ui}/Staff")
    page.get_by_role("heading", name="Staff: keys and imports").wait_for()
    idle(page)
    type_into(page, "Your API key (admin)", servers.admin_key, enter=True)
    page.get_by_role("heading", name="People with API keys").wait_for()
    idle(page)
    type_into(page, "Name or team", "kb-commissioner")
    choose_option(page, "What the key lets them do", "Commissioner")
    press(page, "Make a key")
    page.get_by_text("it cannot be shown again").wait_for()
    assert page.get_by_text("Made a key for kb-commissioner (Commissioner)",
                            exact=False).count() == 1
    made = page.locator('[data-testid="stCode"]').inner_text().strip()
    assert made.startswith("mk_") and made not in (servers.admin_key, servers.key_worker_key)
    idle(page)
    press(page, "I have copied it: hide the key")
    assert page.locator('[data-testid="stCode"]').count() == 0

    # A CSV file: the good rows are already there, the bad one is listed with how to fix it.
    idle(page)
    tab_to(page, "Upload")
    assert page.evaluate("() => !!document.activeElement.closest("
                         "'[data-testid=\"stFileUploader\"]')")
    with page.expect_file_chooser(timeout=10_000) as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(_small_csv(tmp_path)))
    idle(page)
    press(page, "Import the file")
    page.get_by_text("Read 3 rows: 2 imported (0 new, 0 changed, 2 unchanged), 1 rejected."
                     ).wait_for()
    idle(page)
    page.get_by_text("Rows rejected: 1 problems").wait_for()

    # A live feed by its address, strict: refused, with the report of what to fix.
    with serve_feed("page1", "page2") as feed:
        type_into(page, "The feed's address", feed.url)
        tab_to(page, "Import nothing if any service has a problem")
        page.keyboard.press("Space")
        idle(page)
        press(page, "Import from the feed")
        page.get_by_text("nothing was imported (strict mode)", exact=False).first.wait_for()
        idle(page)
        asked = list(feed.asked)
    assert asked == ["/api/services?page=1&per_page=100", "/api/services?page=2&per_page=100"]
    assert page.get_by_text(re.compile(r"^Nothing was imported\. Read 12 rows")).count() == 1
    assert page.get_by_text(re.compile(r"^Rows rejected: \d+ problems")).count() == 1
    # The message names the page's tick box, not the command line's option.
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "--strict" not in body and 'with "Import nothing if any service has a problem" ' \
        "unticked" in body
    shot(page, screenshots / "10-staff.png")
    check_axe(page, "Staff: keys and imports, after an import")
    context.close()


# --------------------------------------------------------------------------- every other page
#: Pages whose journeys are tested at desktop width elsewhere, checked here at phone width (and
#: Unmet demand at both): (address, heading, role of the key it needs).
PAGES = [("", "Find SEND support near you", None, 390),
         ("Find_support", "Find support", None, 390),
         ("Tell_us_what_you_think", "Tell us what you think", None, 390),
         ("You_said_we_did", "You said, we did", None, 390),
         ("Comments_to_review", "Comments to review", "editor", 390),
         ("Unmet_demand", "Unmet demand", "commissioner", 390),
         ("Unmet_demand", "Unmet demand", "commissioner", 1280)]


@pytest.mark.parametrize(("path", "title", "role", "width"), PAGES,
                         ids=[f"{p[0] or 'Home'}-{p[3]}" for p in PAGES])
def test_every_other_page_passes_axe(browser, servers, path, title, role, width):
    context, page = new_tab(browser, width)
    page.goto(f"{servers.ui}/{path}")
    page.get_by_role("heading", name=title).first.wait_for()
    idle(page)
    if role == "editor":
        sign_in(page, "editor", servers.editor_key)
        page.get_by_role("tab", name=re.compile(r"^New comments")).wait_for()
    elif role == "commissioner":
        sign_in(page, "commissioner", servers.commissioner_key)
        page.get_by_role("heading", name="Unmet demand: searches that found little").wait_for()
    idle(page)
    no_sideways_scroll(page, width)
    check_axe(page, f"{title} ({width} px wide)")
    context.close()
