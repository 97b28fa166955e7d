"""The words of the guidance pages: the EHC needs assessment route (for parents and carers, and
for young people) and how to complain, go to mediation or appeal; the council's own contacts
come from ``GET /council``. Also the quality and out-of-area lines of a result card.

Pure functions (no Streamlit calls). Each legal fact names its source; the pages say they are
general information, not legal advice, and point to SENDIASS for help with a family's own case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

__all__ = [
    "EHC_PARENT_PAGE",
    "EHC_YOUNG_PERSON_PAGE",
    "COMPLAIN_PAGE",
    "NOT_ADVICE",
    "contact_block",
    "ehc_sections",
    "complain_sections",
    "quality_lines",
    "quality_facts",
    "guidance_page_for",
    "Section",
    "section_titles",
]

EHC_PARENT_PAGE = "pages/6_EHC_needs_assessment.py"
EHC_YOUNG_PERSON_PAGE = "pages/7_EHC_assessment_for_young_people.py"
COMPLAIN_PAGE = "pages/8_Complain_or_appeal.py"

NOT_ADVICE = ("This page explains the general law in England: the Children and Families Act "
              "2014 (Part 3), the SEND Regulations 2014 and the SEND Code of Practice (2015). "
              "It is not legal advice. Your local SENDIASS can help with your own situation, "
              "for free.")

#: A section is (heading, Markdown text).
Section = tuple[str, str]


def contact_block(contact: Mapping | None, fallback: str) -> str:
    """A team's name and how to reach it, as Markdown lines; ``fallback`` when not known."""
    if not contact:
        return fallback
    lines = [f"**{contact['name']}**"]
    if contact.get("phone"):
        lines.append(f"Phone: {contact['phone']}")
    if contact.get("email"):
        lines.append(f"E-mail: [{contact['email']}](mailto:{contact['email']})")
    if contact.get("url"):
        lines.append(f"Website: [{contact['url']}]({contact['url']})")
    if contact.get("hours"):
        lines.append(f"Open: {contact['hours']}")
    return "  \n".join(lines)


def _council_name(council: Mapping | None) -> str:
    return council["name"] if council else "your council"


def ehc_sections(council: Mapping | None, *, young_person: bool = False) -> list[Section]:
    """The EHC route, step by step. ``young_person``: written to a young person aged 16-25."""
    you = "you" if young_person else "your child"
    your = "your" if young_person else "your child's"
    name = _council_name(council)
    team = contact_block(council and council.get("send_team"),
                         f"Write to {name}'s SEND team: its details are on the council's "
                         "website.")
    who_asks = (
        "**You can ask yourself.** Once you are over compulsory school age (after the last "
        "Friday in June of Year 11), the law calls you a *young person* and you can ask for "
        "an assessment on your own behalf, up to age 25 (Children and Families Act 2014 "
        "s.36(1) and s.83(2)). A parent, your school or college can also ask."
        if young_person else
        "**You can ask yourself**: a parent does not need the school's agreement. A school, "
        "nursery or college can also ask, and a young person aged 16 to 25 can ask on their "
        "own behalf (Children and Families Act 2014 s.36(1)).")
    return [
        ("1. Noticing special educational needs", (
            f"Most special educational needs are noticed by {your} nursery, school or "
            f"college, or by {'you' if young_person else 'you as a parent'}. "
            "If you are worried, talk to the SENCo (the special educational needs "
            "co-ordinator) or a teacher first. Support follows what is needed: the legal "
            "test for an assessment (step 3) does not ask for a diagnosis.")),
        ("2. SEN support in school or college", (
            f"The setting should first give {you} **SEN support**: it works out what is "
            "needed, plans the help, gives it and reviews it with you, in a cycle often "
            "called *assess, plan, do, review* (SEND Code of Practice 6.44 to 6.56). It is "
            "paid from the setting's own budget. In January 2024, 13.6% of pupils in England "
            "had SEN support and 4.8% had an EHC plan (Department for Education, 2024).")),
        ("3. When to ask for an EHC needs assessment", (
            "An Education, Health and Care (EHC) needs assessment is the council's detailed "
            f"look at {your} needs. The council must carry one out if {you} "
            f"{'have' if young_person else 'has'} or may have special educational needs and "
            "may need support to be set out in an EHC plan (Children and Families Act 2014 "
            "s.36(8)). Ask when SEN support has not been enough, or clearly will not be.\n\n"
            + who_asks)),
        ("4. How to ask", (
            "Write to the council (an e-mail is fine). Say that you are asking for an **EHC "
            "needs assessment**, why, and what help has been tried. Keep a copy and note the "
            "date you sent it: the time limits start from that day. SENDIASS can help you "
            f"write it.\n\n{team}")),
        ("5. How long each step should take", (
            "| Step | Time limit from the request |\n|---|---|\n"
            "| The council says whether it will assess | 6 weeks (SEND Regulations 2014 "
            "reg.4) |\n"
            "| The council says whether it will issue a plan (and sends a draft) | 16 weeks "
            "(reg.10) |\n"
            "| You comment on the draft plan and ask for a school or college | at least 15 "
            "days from receiving it (Code of Practice, chapter 9) |\n"
            "| The final EHC plan is issued | 20 weeks (reg.13) |\n\n"
            "In practice many plans are late: of new plans made in 2023, 50.3% were issued "
            "within 20 weeks (Department for Education, 2024). If a time limit passes, ask "
            "the council why in writing; SENDIASS can help.")),
        ("6. Moving school or college with an EHC plan", (
            "When a child with an EHC plan moves between school phases, the plan must be "
            "reviewed and amended, naming the new school, by **15 February** of the year of "
            "the move (SEND Regulations 2014 reg.18). For a move to post-16 education the "
            "date is **31 March**; for a move between two post-16 settings it is at least "
            "**5 months** before the move (reg.18).")),
        ("7. If the answer is no", (
            f"If {name} refuses to assess, or decides not to issue a plan, you can appeal to "
            "the SEND Tribunal. Before appealing, you must first contact the mediation "
            "service for information and get a certificate (Children and Families Act 2014 "
            "s.55), unless the appeal is only about the school or college named. See "
            "**Complain, appeal or get advice** for how, and by when.")),
    ]


def complain_sections(council: Mapping | None) -> list[Section]:
    """Who to talk to first, then the council, SENDIASS, mediation and the Tribunal."""
    name = _council_name(council)
    get = (lambda key: council.get(key)) if council else (lambda key: None)
    return [
        ("Talk to someone first", (
            "Most worries are sorted out by talking. Start with the person closest to the "
            "problem: a teacher, the SENCo, or the head of the service. If that does not "
            "work, use the school's, college's or service's own complaints procedure: every "
            "school must have one and publish it.")),
        (f"Complain to {name}", (
            f"If the problem is with something {name} did or did not do (for example, it "
            "missed a time limit or did not deliver what an EHC plan says), use the council's "
            "complaints procedure. If you are still unhappy at the end of it, you can ask the "
            "Local Government and Social Care Ombudsman to look at it; for the NHS, the "
            "Parliamentary and Health Service Ombudsman.\n\n"
            + contact_block(get("complaints"),
                            f"{name}'s complaints procedure is on the council's website."))),
        ("Free, independent advice: SENDIASS", (
            "SENDIASS (SEND Information, Advice and Support Service) is free, confidential "
            "and impartial, and works at arm's length from the council. It advises parents, "
            "carers and young people up to 25, can help you write letters, and can come to "
            "meetings (Children and Families Act 2014 s.32; SEND Code of Practice 2.1).\n\n"
            + contact_block(get("sendiass"), "Search for \"SENDIASS\" and your council's "
                                             "name to find yours."))),
        ("Disagreement resolution and mediation", (
            "**Disagreement resolution** is an independent meeting to sort out a disagreement "
            "with the council, a school or a health body about SEN support or provision "
            "(Children and Families Act 2014 s.57). **Mediation** is for decisions about EHC "
            "needs assessments and plans. Before you can appeal to the SEND Tribunal you must "
            "contact the mediation service for information and get a certificate, unless the "
            "appeal is only about the school or college named in the plan (s.55). Going on "
            "to mediation itself is your choice.\n\n"
            + contact_block(get("mediation"), "The council's letter about its decision names "
                                              "the mediation service."))),
        ("Appeal to the SEND Tribunal", (
            "The First-tier Tribunal (Special Educational Needs and Disability) is "
            "independent of the council. You can appeal if the council refuses to assess, "
            "refuses to issue an EHC plan, or about what a plan says, the school or college "
            "it names, or a decision to end it (Children and Families Act 2014 s.51). Appeal "
            "within **2 months** of the council's decision letter, or **1 month** from the "
            "mediation certificate if that is later (Tribunal Procedure (First-tier Tribunal) "
            "(Health, Education and Social Care Chamber) Rules 2008, rule 20). Appealing is "
            "free; SENDIASS can help you prepare.")),
    ]


def guidance_page_for(page: str, who: str | None) -> tuple[str, str]:
    """``(page file, link label)`` for a guidance link of ``POST /match``."""
    if page == "complain_or_appeal":
        return COMPLAIN_PAGE, "Complain, appeal or get advice"
    if who == "young_person":
        return EHC_YOUNG_PERSON_PAGE, "Getting an EHC needs assessment: for young people"
    return EHC_PARENT_PAGE, "Asking for an EHC needs assessment: the steps and time limits"


def _long_date(iso: str) -> str:
    try:
        d = dt.date.fromisoformat(iso)
    except (TypeError, ValueError):
        return "date not given"
    return f"{d.day} {d:%B %Y}"


def quality_lines(detail: Mapping | None, council_name: str | None) -> list[str]:
    """The card's lines about ratings (with source and date), accreditations, outcomes (with
    their year) and where the service lies, as Markdown list items; empty when there are none.

    >>> quality_lines({"ratings": [{"body": "Ofsted", "rating": "Good", "date": "2024-03-12",
    ...                             "url": ""}], "outside_area": True,
    ...                "used_by_local_families": True}, "Islington")
    ['**Inspection:** Ofsted: Good (12 March 2024)', '**Where:** Outside Islington: used by Islington families']
    """
    d = detail or {}
    lines = []
    for r in d.get("ratings") or []:
        text = f"{r['body']}: {r['rating']} ({_long_date(r.get('date') or '')})"
        if r.get("url"):
            text += f", [read the report]({r['url']})"
        lines.append(f"**Inspection:** {text}")
    if d.get("accreditations"):
        lines.append("**Accreditations:** " + "; ".join(d["accreditations"]))
    for o in d.get("outcomes") or []:
        year = o.get("year") or "year not given"
        lines.append(f"**Outcomes ({year}), in the provider's words:** {o['text']}")
    if d.get("outside_area"):
        where = council_name or "the council's area"
        note = f"Outside {where}"
        if d.get("used_by_local_families"):
            note += f": used by {where} families" if council_name else \
                ": the council expects its families to use it"
        lines.append(f"**Where:** {note}")
    return lines


def quality_facts(detail: Mapping | None, council_name: str | None = None) -> dict[str, str]:
    """The same facts as plain table cells (for a side-by-side comparison).

    >>> quality_facts({"ratings": [{"body": "CQC", "rating": "Good", "date": "2023-09-20"}]})
    {'Inspection': 'CQC: Good (20 September 2023)', 'Outcomes': 'Not given', 'Where': 'In the area'}
    """
    d = detail or {}
    ratings = [f"{r['body']}: {r['rating']} ({_long_date(r.get('date') or '')})"
               for r in d.get("ratings") or []]
    outcomes = [f"{o['text']} ({o.get('year') or 'year not given'})"
                for o in d.get("outcomes") or []]
    where = "In the area"
    if d.get("outside_area"):
        place = council_name or "the council's area"
        where = f"Outside {place}" + (": used by local families"
                                      if d.get("used_by_local_families") else "")
    return {"Inspection": "; ".join(ratings) or "None given",
            "Outcomes": "; ".join(outcomes) or "Not given", "Where": where}


def section_titles(sections: Sequence[Section]) -> list[str]:
    """The headings, in order (for tests and a page's contents list)."""
    return [title for title, _ in sections]
