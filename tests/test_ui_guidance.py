"""The guidance pages (EHC needs assessment for parents and for young people; complain, appeal
or get advice), the guidance block on results, and the quality lines of a result card
(AppTest, API faked)."""

# ruff: noqa: I001  (ui_fake_api must be imported first: it puts ui/ on sys.path)
from __future__ import annotations

import pytest
from test_ui_find_support import answer_all
from ui_fake_api import COUNCIL, FakeApi, open_page

import guidance as g

PAGES = [g.EHC_PARENT_PAGE, g.EHC_YOUNG_PERSON_PAGE, g.COMPLAIN_PAGE]


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [s.value for s in at.subheader]
                     + [c.value for c in at.caption])


def _links(at) -> list[tuple[str, str]]:
    """(page file, label) of every page link; AppTest knows a page by its name."""
    files = {path.split("/")[-1][2:-3]: path for path in PAGES}
    return [(files.get(p.proto.page, p.proto.page), p.proto.label) for p in at.get("page_link")]


@pytest.mark.parametrize("page", PAGES)
def test_each_guidance_page_shows_the_councils_own_contacts(page):
    at, fake = open_page(page)
    text = _text(at)
    assert fake.requests("GET", "/council")
    assert "not legal advice" in text
    if page == g.COMPLAIN_PAGE:
        for contact in ("complaints", "sendiass", "mediation"):
            assert COUNCIL[contact]["name"] in text, contact
        assert "2 months" in text and "s.55" in text and "Ombudsman" in text
    else:
        assert COUNCIL["send_team"]["name"] in text and "020 7946 0310" in text
        for limit in ("6 weeks", "16 weeks", "20 weeks", "15 February", "31 March"):
            assert limit in text, limit


def test_young_peoples_page_speaks_to_them():
    at, _ = open_page(g.EHC_YOUNG_PERSON_PAGE)
    text = _text(at)
    assert "You can ask yourself" in text and "s.83(2)" in text
    assert "your child" not in text


def test_pages_still_read_when_the_council_cannot_be_loaded():
    fake = FakeApi()
    at, _ = open_page(g.COMPLAIN_PAGE, fake)
    fake.down = True
    at.session_state["_council"] = None
    del at.session_state["_council"]
    at.run()
    assert not at.exception
    assert "SEND Tribunal" in _text(at)
    assert any("could not be loaded" in w.value for w in at.warning)


def test_results_link_the_ehc_guidance_when_the_api_says_so():
    fake = FakeApi(guidance=[{"page": "ehc_assessment",
                              "reason": "You said you are waiting for an EHC needs assessment."}])
    at, _ = open_page("pages/1_Find_support.py", fake)
    answer_all(at, words="we are still waiting for the EHCNA")
    at.button(key="fs_search").click().run()
    assert not at.exception
    assert "You said you are waiting for an EHC needs assessment." in _text(at)
    assert (g.EHC_PARENT_PAGE, "Asking for an EHC needs assessment: the steps and time limits") \
        in _links(at)
    assert any(page == g.COMPLAIN_PAGE for page, _ in _links(at))


def test_results_without_guidance_still_offer_complaints_and_the_ehc_route():
    at, _ = open_page("pages/1_Find_support.py")
    answer_all(at)
    at.button(key="fs_search").click().run()
    pages = [page for page, _ in _links(at)]
    assert g.COMPLAIN_PAGE in pages and g.EHC_PARENT_PAGE in pages


def test_a_card_shows_the_rating_with_its_date_outcomes_and_the_out_of_area_note():
    at, _ = open_page("pages/1_Find_support.py")
    answer_all(at)
    at.button(key="fs_search").click().run()
    text = _text(at)
    assert "**Inspection:** Ofsted: Good (12 March 2024), [read the report]" in text
    assert "**Outcomes (2025), in the provider's words:** All 12 members" in text
    assert "**Where:** Outside Islington: used by Islington families" in text


def test_quality_lines_without_a_council_name_and_without_dates():
    lines = g.quality_lines({"ratings": [{"body": "CQC", "rating": "Good", "date": ""}],
                             "accreditations": ["Mark A"], "outside_area": True,
                             "used_by_local_families": True,
                             "outcomes": [{"text": "All stayed.", "year": None}]}, None)
    assert lines == ["**Inspection:** CQC: Good (date not given)", "**Accreditations:** Mark A",
                     "**Outcomes (year not given), in the provider's words:** All stayed.",
                     "**Where:** Outside the council's area: the council expects its families "
                     "to use it"]
    assert g.quality_lines({}, "Islington") == []


def test_the_comparison_table_has_inspection_outcomes_and_where():
    import facts
    from content import Labels
    from ui_fake_api import SERVICES, VOCAB

    chosen = [{"service_id": sid, "name": SERVICES[sid]["name"], "score": 0.5, "reasons": []}
              for sid in ("T-1", "T-2")]
    frame = facts.comparison_frame(chosen, SERVICES, Labels(VOCAB))
    assert frame.loc["Inspection", "Moving Up Club"] == "Ofsted: Good (12 March 2024)"
    assert frame.loc["Outcomes", "Moving Up Club"].endswith("(2025)")
    assert frame.loc["Where", "Moving Up Club"] == "Outside the council's area: used by local " \
        "families"
    assert frame.loc["Inspection", "Saturday Sensory Swim"] == "None given"
    assert frame.loc["Where", "Saturday Sensory Swim"] == "In the area"


def test_the_printable_shortlist_carries_the_rating_and_the_out_of_area_note():
    import export
    from content import Labels
    from ui_fake_api import SERVICES, VOCAB

    items = [{"result": {"service_id": sid, "name": SERVICES[sid]["name"], "reasons": [],
                         "cost": "free", "min_age": 5, "max_age": 16},
              "detail": SERVICES[sid], "questions": []} for sid in ("T-1", "T-2")]
    html = export.shortlist_html(items, Labels(VOCAB), "Ask SENDIASS.")
    assert html.count("<dt>Inspection</dt><dd>Ofsted: Good (12 March 2024)</dd>") == 1
    assert "<dt>Where</dt><dd>Outside the council&#x27;s area: used by local families</dd>" \
        in html
    assert "None given" not in html and "In the area" not in html
