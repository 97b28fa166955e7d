"""The guidance pages in a real browser, at desktop width and on a 390 px phone screen, with
axe-core; and a family whose words say an assessment was refused sees the EHC guidance link on
their results (real API and UI on the demo data)."""

from __future__ import annotations

import pytest
from test_browser import check_axe, idle, results_link, shot

pytestmark = pytest.mark.e2e

PAGES = [
    ("EHC_needs_assessment", "Asking for an EHC needs assessment", "5. How long each step"),
    ("EHC_assessment_for_young_people", "Getting an EHC needs assessment: for young people",
     "3. When to ask for an EHC needs assessment"),
    ("Complain_or_appeal", "Complain, appeal or get advice", "Appeal to the SEND Tribunal"),
]

SHOTS = {"EHC_needs_assessment": "10-ehc-needs-assessment.png",
         "Complain_or_appeal": "11-complain-or-appeal.png"}


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize(("path", "title", "section"), PAGES)
def test_guidance_page_reads_and_passes_axe(page, servers, screenshots, path, title, section,
                                            width):
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.goto(f"{servers.ui}/{path}")
    page.get_by_role("heading", name=title).wait_for()
    page.get_by_role("heading", name=section).wait_for()
    idle(page)
    # The council's own contacts come from the API's council file (fictional demo values).
    contact = ("Waymark SENDIASS Islington" if path == "Complain_or_appeal"
               else "Local authority SEND Service (Islington)")
    assert page.get_by_text(contact).count() >= 1
    assert page.get_by_text("not legal advice", exact=False).count() == 1
    # Nothing is cut off or needs sideways scrolling on a phone.
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stMarkdownContainer\"]')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length")
    assert overflow == 0, f"{overflow} block(s) wider than the {width} px screen"
    check_axe(page, f"{title} ({width} px)")
    if width == 1280 and path in SHOTS:
        shot(page, screenshots / SHOTS[path])


def test_a_family_refused_an_assessment_sees_the_ehc_guidance_link(page, servers):
    # The answers as a results link (the questions themselves are gone through in
    # test_browser.py): a parent of a 9-year-old, no plan, in their own words, online only.
    page.goto(results_link(servers, who="parent", age="9", ehcp="no",
                           words="autistic; the council refused to assess him for an EHCP",
                           travel="online_only", move="none"))
    page.get_by_text("Why we suggest it").first.wait_for()
    idle(page)
    assert page.get_by_text("What we understood from your words").count() == 1
    assert page.get_by_text("was turned down", exact=False).count() == 1
    link = page.get_by_role("link", name="Asking for an EHC needs assessment: the steps and "
                                         "time limits")
    link.first.wait_for()
    assert link.count() == 1
    link.click()
    page.get_by_role("heading", name="Asking for an EHC needs assessment").wait_for()
