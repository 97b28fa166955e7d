"""End to end in a real browser: a parent completes the questionnaire and gets suggestions with
reasons; the SENCo and key-worker pages open and work; axe-core checks each page.

Run with ``pytest -m e2e tests/e2e`` (or ``bash .ci/e2e``). Screenshots of each page go to a
temporary folder (or ``$MATCHER_SCREENSHOTS``), with ``accessibility.md`` listing what axe-core
found.

axe-core is the copy shipped inside the PyPI package ``axe-playwright-python`` (its
``axe.min.js``); the package's Python API is not used. Violations are split in two:

- **our content**: inside the text we write (Markdown, headings, captions, alerts) or the
  page title;
- **Streamlit's own widgets and page shell**: inside the widgets, the navigation and the
  app frame.

Any violation of any impact, in either part, fails the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.e2e

OURS = ('[data-testid="stMarkdownContainer"], [data-testid="stHeading"], '
        '[data-testid="stCaptionContainer"], [data-testid="stAlertContainer"]')
_REPORT: dict[str, dict] = {}


def _axe_source() -> str | None:
    spec = find_spec("axe_playwright_python")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "axe.min.js"
    return path.read_text(encoding="utf-8") if path.is_file() else None


@pytest.fixture(scope="session", autouse=True)
def accessibility_report(screenshots: Path) -> Iterator[None]:
    """Write what axe-core found on every page to docs/screenshots/accessibility.md."""
    yield
    if not _REPORT:
        return
    lines = ["# Accessibility check (axe-core, WCAG 2.x A and AA rules)", "",
             "Written by `tests/e2e/test_browser.py`. *Our content* is the text the app writes "
             "(Markdown, headings, captions, alerts, page title). *Streamlit's widgets and "
             "shell* are the parts Streamlit draws itself (inputs, buttons, navigation, map, "
             "app frame). Any violation of any impact, in either part, fails the test.", ""]
    for name, found in _REPORT.items():
        lines.append(f"## {name}")
        if found.get("skipped"):
            lines += ["", f"Not checked: {found['skipped']}", ""]
            continue
        for part in ("ours", "streamlit"):
            title = "Our content" if part == "ours" else "Streamlit's widgets and shell"
            items = found[part]
            lines.append(f"\n**{title}**: {len(items) or 'no'} violation(s)\n")
            lines += [f"- `{v['id']}` ({v['impact']}, {v['nodes']} element(s)): {v['help']}"
                      for v in items]
        lines.append("")
    (screenshots / "accessibility.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


_BUSY = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"], "
         "[data-stale=\"true\"]')")
_SIZE = "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).innerHTML.length"


def idle(page) -> None:
    """Wait until Streamlit has finished re-running the script: no "running" sign, no element
    left over from the previous run, and the page unchanged for a moment (on a busy machine
    the "running" sign can come late)."""
    page.wait_for_timeout(250)
    for _ in range(40):
        page.wait_for_function(_BUSY, timeout=60_000)
        size = page.evaluate(_SIZE)
        page.wait_for_timeout(250)
        if page.evaluate(_SIZE) == size and page.evaluate(_BUSY):
            return


def shot(page, path: Path) -> None:
    """A screenshot of the whole page at desktop width (Streamlit scrolls inside its main
    panel); the page then goes back to the size it had."""
    before = page.viewport_size
    if before["width"] != 1280:  # the page's height at desktop width
        page.set_viewport_size({"width": 1280, "height": 900})
        idle(page)
    height = page.evaluate(
        "() => Math.max(document.body.scrollHeight, "
        "...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stAppViewContainer\"], [data-testid=\"stMainBlockContainer\"]')]"
        ".map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1280, "height": min(max(900, int(height) + 40), 12_000)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path))
    page.set_viewport_size(before)
    page.wait_for_timeout(400)


def check_axe(page, name: str) -> None:
    """Run axe-core in the page; fail on any violation, of any impact."""
    source = _axe_source()
    if source is None:
        _REPORT[name] = {"skipped": "axe-playwright-python (which ships axe.min.js) is not "
                                    "installed"}
        return
    page.add_script_tag(content=source)
    result = page.evaluate(
        """async (ours) => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
                resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => {
                    let el = null;
                    try { el = document.querySelector(n.target[0]); } catch (e) {}
                    return {target: n.target.join(' '),
                            ours: v.id === 'document-title' || !!(el && el.closest(ours))};
                })}));
        }""", OURS)
    found: dict[str, list] = {"ours": [], "streamlit": []}
    for v in result:
        for part in ("ours", "streamlit"):
            nodes = [n for n in v["nodes"] if n["ours"] == (part == "ours")]
            if nodes:
                found[part].append({"id": v["id"], "impact": v["impact"], "help": v["help"],
                                    "nodes": len(nodes),
                                    "targets": [n["target"] for n in nodes][:5]})
    _REPORT[name] = found
    bad = found["ours"] + found["streamlit"]
    assert not bad, f"axe-core found problems on {name}:\n" + json.dumps(bad, indent=2)


def test_the_accessibility_check_finds_a_known_problem(page, servers):
    """The axe-core harness itself can fail: an unlabelled input and an image without
    alternative text are found, and counted as ours when inside our Markdown."""
    if _axe_source() is None:
        pytest.skip("axe-playwright-python (which ships axe.min.js) is not installed")
    page.set_content('<html lang="en"><head><title>t</title></head><body><main>'
                     '<div data-testid="stMarkdownContainer"><img src="data:,"></div>'
                     '<input type="text"></main></body></html>')
    with pytest.raises(AssertionError, match="image-alt"):
        check_axe(page, "Self-check (a page made to fail)")
    found = _REPORT.pop("Self-check (a page made to fail)")
    assert {v["id"] for v in found["ours"]} == {"image-alt"}
    assert "label" in {v["id"] for v in found["streamlit"]}


def tick(page, group: str, need: str) -> None:
    """Open a group of the needs picker and tick one need, from the keyboard."""
    summary = page.get_by_text(group, exact=True).first
    if page.get_by_role("checkbox", name=need, exact=True).count() == 0 or \
            not page.get_by_role("checkbox", name=need, exact=True).first.is_visible():
        summary.click()
        idle(page)
    box = page.get_by_role("checkbox", name=need, exact=True).first
    box.focus()
    page.keyboard.press("Space")
    idle(page)


def continue_to(page, step: int) -> None:
    page.get_by_role("button", name="Continue").click()
    page.get_by_text(f"Step {step} of 8", exact=True).wait_for()
    idle(page)


def test_parent_completes_the_questionnaire_and_sees_reasons(page, servers, screenshots):
    page.goto(servers.ui)
    page.get_by_role("heading", name="Find SEND support near you").wait_for()
    idle(page)
    shot(page, screenshots / "01-home.png")
    check_axe(page, "Home")

    page.get_by_role("link", name=re.compile("^Find support: answer")).click()
    page.get_by_text("Step 1 of 8", exact=True).wait_for()
    idle(page)
    # Continue without an answer: the error summary and the field's message say what to do.
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("There is a problem").wait_for()
    idle(page)
    assert page.get_by_text("Select who is asking").count() == 2  # summary and field
    shot(page, screenshots / "02-find-support-error-summary.png")
    check_axe(page, "Find support: a step with an error")

    page.get_by_text("A parent or carer", exact=True).click()
    idle(page)
    continue_to(page, 2)
    page.get_by_role("textbox", name="How old is your child?").fill("10")
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_text("No", exact=True).click()
    idle(page)
    continue_to(page, 3)

    # A partial word and Enter adds nothing: there is no list for Enter to pick from.
    words = page.get_by_role("textbox", name="Something else, in your own words (optional)")
    words.fill("autis")
    page.keyboard.press("Enter")
    idle(page)
    assert page.get_by_role("checkbox", checked=True).count() == 0
    assert page.get_by_text("You have chosen: nothing yet.").count() == 1
    tick(page, "Talking, understanding and getting on with others", "Autism (autistic)")
    assert page.get_by_text("You have chosen: Autism (autistic).").count() == 1
    assert page.get_by_role("checkbox", checked=True).count() == 1
    words.fill("anxity, zzqx")
    page.keyboard.press("Enter")
    page.get_by_text("What we understood from your words").wait_for()
    idle(page)
    assert page.get_by_text("Anxiety (from \u201canxity\u201d)", exact=False).count() == 1
    page.get_by_text("We did not recognise").wait_for()
    assert page.get_by_text("We did not recognise").count() == 1
    shot(page, screenshots / "03-find-support-needs.png")
    check_axe(page, "Find support: needs")
    continue_to(page, 4)

    postcode = page.get_by_role("textbox", name="What is your postcode? (optional)")
    postcode.fill("N7 9ZZ")
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("is not a current postcode").first.wait_for()
    idle(page)
    shot(page, screenshots / "04-find-support-postcode-error.png")
    postcode.fill("N7 8JN")
    page.keyboard.press("Enter")
    page.get_by_text("We found N7 8JN").wait_for()
    idle(page)
    continue_to(page, 5)

    page.get_by_text("Bus, train or Tube", exact=True).click()
    idle(page)
    page.get_by_role("combobox",
                     name="What is the longest journey that would work, each way?").click()
    page.get_by_role("option", name="Up to 30 minutes").click()
    idle(page)
    continue_to(page, 6)
    page.get_by_text("Moving to secondary school", exact=True).click()
    idle(page)
    continue_to(page, 7)
    continue_to(page, 8)
    page.get_by_role("heading", name="Check your answers").wait_for()
    assert page.get_by_text("N7 8JN", exact=True).count() == 1
    shot(page, screenshots / "05-find-support-check-answers.png")
    check_axe(page, "Find support: check your answers")

    page.get_by_role("button", name="Search for support").click()
    page.get_by_text("Why we suggest it").first.wait_for()
    page.get_by_text(re.compile(r"^Why not others\? \(\d+ services left out\)")).wait_for()
    idle(page)
    cards = page.locator('[class*="st-key-card_box_"]')
    n = page.get_by_text("Why we suggest it").count()
    assert n >= 5, f"only {n} suggestions"
    assert cards.count() == n
    for i in range(n):
        card = cards.nth(i)
        reasons = card.locator("li")
        assert reasons.count() >= 3  # reasons, facts and questions are lists
        assert card.get_by_text("Last checked").count() >= 1
    assert page.get_by_text("Free, impartial advice.").count() >= 1
    page.get_by_role("button", name="Add to shortlist").first.click()
    page.get_by_text("Your shortlist (1)").wait_for()
    idle(page)
    page.get_by_text("Was this helpful?").first.click()
    idle(page)
    page.get_by_role("button", name="Yes, helpful", exact=True).first.click()
    page.get_by_text("Thank you: we have noted that this was helpful.").wait_for()
    idle(page)
    page.get_by_text(re.compile(r"^Why not others\? \(\d+ services left out\)")).click()
    idle(page)
    shot(page, screenshots / "06-find-support-results.png")
    check_axe(page, "Find support: results")


def test_key_worker_saves_and_reopens_a_plan(page, servers, screenshots):
    page.goto(f"{servers.ui}/Transition_plan")
    page.get_by_text("enter a key worker API key", exact=False).wait_for()
    idle(page)
    page.get_by_label("Your API key (key worker)", exact=True).fill(servers.key_worker_key)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="About the plan").wait_for()
    idle(page)
    page.get_by_role("textbox", name=re.compile("^Label")).fill("E2E-01")
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_role("combobox", name="The move ahead").click()
    page.get_by_role("option", name=re.compile("^Year 11 to post-16")).click()
    idle(page)
    page.get_by_role("spinbutton", name="Age in years").fill("15")
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_text("Has an EHC plan", exact=True).click()
    idle(page)
    tick(page, "Talking, understanding and getting on with others", "Autism (autistic)")
    page.get_by_role("button", name="Find services for this plan").click()
    page.get_by_text("Grouped by need").first.wait_for()
    idle(page)
    page.get_by_role("button", name="Add to plan", exact=True).first.click()
    idle(page)
    page.get_by_role("button", name="Add these dates to the next steps").click()
    idle(page)
    assert page.get_by_text("31 March", exact=False).count() >= 1
    page.get_by_role("button", name="Save plan").click()
    page.get_by_text("Saved plan E2E-01").wait_for()
    idle(page)
    shot(page, screenshots / "09-transition-plan.png")
    check_axe(page, "Transition plan")
    # Start a new plan, then reopen the saved one.
    page.get_by_role("button", name="New plan").click()
    idle(page)
    from playwright.sync_api import expect

    expect(page.get_by_role("textbox", name=re.compile("^Label"))).to_have_value("")
    page.get_by_role("combobox", name="Open a saved plan").click()
    page.get_by_role("option", name=re.compile("^E2E-01")).click()
    idle(page)
    page.get_by_role("button", name="Open plan", exact=True).click()
    page.get_by_text("Opened plan E2E-01").wait_for()
    idle(page)
    assert page.get_by_role("textbox", name=re.compile("^Label")).input_value() == "E2E-01"


def results_link(servers, **answers: str) -> str:
    """The address of Find support's results for ``answers`` (the query a search puts in the
    address bar: who, age, ehcp, needs, words, postcode, travel, minutes, move, ...). Opening
    it skips the questions a test has no need to go through again."""
    return f"{servers.ui}/Find_support?{urlencode(answers)}"


def first_cards(page, n: int = 3) -> list[str]:
    page.get_by_text("Why we suggest it").first.wait_for()
    idle(page)
    return [h.inner_text() for h in page.locator('[class*="st-key-card_box_"] h3').all()[:n]]


def test_a_shared_results_link_gives_the_same_results_in_a_fresh_browser(browser, servers):
    """The answers live in the address: opening it in a new browser (no cookies, no session)
    shows the same suggestions, at desktop and at phone width, and a reload keeps them."""
    link = results_link(servers, who="parent", age="15", ehcp="yes", needs="autism,dyslexia",
                        postcode="N7 8JN", travel="public_transport", minutes="45",
                        move="secondary_to_post16")
    seen = []
    for width, height in ((1280, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="en-GB")
        tab = context.new_page()
        tab.goto(link)
        seen.append(first_cards(tab))
        check_axe(tab, f"Find support: results from a shared link ({width} px wide)")
        tab.reload()
        assert first_cards(tab) == seen[-1]
        # The results heading has the focus and is scrolled into view.
        assert tab.evaluate("() => document.activeElement.textContent.trim()") == \
            "Your suggestions"
        context.close()
    assert seen[0] == seen[1] and len(seen[0]) == 3


def test_staff_page_lists_keys_makes_one_and_needs_an_admin_key(page, servers, screenshots):
    page.goto(f"{servers.ui}/Staff")
    page.get_by_label("Your API key (admin)", exact=True).fill(servers.key_worker_key)
    page.keyboard.press("Enter")
    page.get_by_text("yours is for another role").wait_for()
    idle(page)
    page.get_by_label("Your API key (admin)", exact=True).fill(servers.admin_key)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="People with API keys").wait_for()
    idle(page)
    page.get_by_role("textbox", name="Name or team").fill("e2e-second-commissioner")
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_role("combobox", name="What the key lets them do").click()
    page.get_by_role("option", name=re.compile("^Commissioner")).click()
    idle(page)
    page.get_by_role("button", name="Make a key").click()
    page.get_by_text("it cannot be shown again").wait_for()
    idle(page)
    check_axe(page, "Staff: keys and imports")
    page.get_by_role("button", name="I have copied it: hide the key").click()
    idle(page)
    for width in (390,):
        page.set_viewport_size({"width": width, "height": 844})
        idle(page)
        check_axe(page, f"Staff: keys and imports ({width} px wide)")


def test_phone_width_results_start_at_the_heading_and_show_the_map(browser, servers,
                                                                    screenshots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    tab = context.new_page()
    tab.goto(results_link(servers, who="parent", age="10", ehcp="no", needs="autism",
                          postcode="N7 8JN", travel="public_transport", minutes="30",
                          move="primary_to_secondary"))
    first_cards(tab)
    # The view starts at the results heading, not far down the page.
    top = tab.evaluate("() => [...document.querySelectorAll('h2')].find(h => "
                       "h.textContent.trim() === 'Your suggestions').getBoundingClientRect().top")
    assert 0 <= top < 200, top
    assert tab.locator("figure").get_by_text("Home", exact=True).count() == 1  # home marker
    assert tab.locator('a[href^="tel:"]').count() >= 3  # tap to call
    tab.screenshot(path=str(screenshots / "11-find-support-results-phone.png"))
    check_axe(tab, "Find support: results (390 px wide)")
    context.close()


def _focused_name(page) -> str:
    return page.evaluate("""() => { const e = document.activeElement;
        if (!e || ['MAIN', 'BODY'].includes(e.tagName)) return '';
        const label = e.closest('label');
        return (e.getAttribute('aria-label') || (label && label.innerText) || e.innerText
                || '').trim(); }""")


def tab_to(page, name: str, most: int = 120) -> None:
    """Press Tab until the focused control's name starts with ``name`` (keyboard only)."""
    seen = []
    for _ in range(most):
        page.keyboard.press("Tab")
        # An expander's summary starts with its arrow icon: any line of the name counts.
        focused = _focused_name(page)
        if any(line.strip().startswith(name) for line in focused.splitlines()):
            return
        seen.append(focused[:40])
    raise AssertionError(f"could not reach {name!r} with the Tab key; the focus went to: "
                         + " | ".join(dict.fromkeys(seen)))


def choose(page, first: str, option: str) -> None:
    """Tab into a group of radio buttons (at its first option), then arrow to ``option``
    and select it with Space."""
    tab_to(page, first)
    for _ in range(12):
        if _focused_name(page) == option:
            break
        page.keyboard.press("ArrowDown")
        idle(page)
    assert _focused_name(page) == option
    page.keyboard.press("Space")
    idle(page)


def test_a_parent_can_search_with_the_keyboard_alone(browser, servers):
    """From the first question to the results with Tab, Space, arrows, typing and Enter."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{servers.ui}/Find_support")
    page.get_by_text("Step 1 of 8", exact=True).wait_for()
    idle(page)
    choose(page, "A parent or carer", "A parent or carer")
    tab_to(page, "Continue")
    page.keyboard.press("Enter")
    page.get_by_text("Step 2 of 8", exact=True).wait_for()
    idle(page)
    tab_to(page, "How old is your child?")
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    idle(page)
    choose(page, "Yes", "No")
    tab_to(page, "Continue")
    page.keyboard.press("Enter")
    page.get_by_text("Step 3 of 8", exact=True).wait_for()
    idle(page)
    tab_to(page, "Talking, understanding")
    page.keyboard.press("Enter")  # opens the group
    idle(page)
    tab_to(page, "Autism (autistic)")
    page.keyboard.press("Space")
    idle(page)
    assert page.get_by_text("You have chosen: Autism (autistic).").count() == 1
    for step in range(4, 9):  # on step - 1, then Continue to step
        if step == 6:  # travel: choose online only, no journey time needed
            choose(page, "Walking", "Online or phone only")
        if step == 7:
            choose(page, "No move coming up", "Moving to secondary school")
        tab_to(page, "Continue")
        page.keyboard.press("Enter")
        page.get_by_text(f"Step {step} of 8", exact=True).wait_for()
        idle(page)
    tab_to(page, "Search for support")
    page.keyboard.press("Enter")
    page.get_by_text("Why we suggest it").first.wait_for()
    idle(page)
    assert _focused_name(page) == "Your suggestions"
    context.close()
