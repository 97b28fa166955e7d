"""Which guidance a family's words call for (matcher.guidance), each rule on several phrasings,
and the council file (matcher.council) checked with every problem listed."""

from __future__ import annotations

import pytest

from matcher.council import load_council, parse_council
from matcher.errors import ConfigError
from matcher.guidance import assessment_stage, guidance_for, mentions_disagreement


@pytest.mark.parametrize("text", [
    "The council refused our request for an EHC needs assessment last month.",
    "we got turned down for an EHCNA in March",
    "Our EHCP request was rejected by the local authority",
    "the LA said no to the EHC assessment, school is shocked",
    "The local authority decided not to assess her",
    "they declined his education, health and care needs assessment",
    "Statutory assessment has been refused twice",
])
def test_a_refused_assessment_is_read_as_refused(text):
    assert assessment_stage(text) == "refused"


@pytest.mark.parametrize("text", [
    "We are still waiting for the EHCNA decision",
    "waiting to hear about his EHC plan, applied in June",
    "she is on the waiting list for an EHC needs assessment",
    "Our EHCP application is still in progress",
    "the statutory assessment is pending",
    "We're in the middle of an EHC assessment for him",
])
def test_a_pending_assessment_is_read_as_waiting(text):
    assert assessment_stage(text) == "waiting"


@pytest.mark.parametrize("text", [
    "school applied for an EHCP in May",
    "I have requested an EHC needs assessment",
    "We put in a request for an education health and care plan",
    "how do I get an EHCP for my son?",
    "thinking of asking for an EHC needs assessment",
])
def test_asking_for_an_assessment_is_read_as_asked(text):
    assert assessment_stage(text) == "asked"


@pytest.mark.parametrize("text", [
    "he is waiting for an autism assessment",
    "diagnosed with ADHD after an assessment last year",
    "we have not asked for an EHCP yet",
    "She has an EHCP and loves her school",
    "We haven't applied for an EHC plan",
    "CAMHS refused to assess him for ADHD",
    "we are waiting for his EHCP annual review",
    "still waiting for the annual review of her EHC plan",
    "asked for an EHCP review meeting after the move",
    "",
])
def test_other_assessments_plans_and_negations_are_not_read(text):
    assert assessment_stage(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("We want to appeal to the tribunal", True),
    ("I made a complaint to the school about his support", True),
    ("we disagree with the council about the placement", True),
    ("mediation was offered but we are not sure", True),
    ("no complaints, he loves his club", False),
    ("She is happy at school and the plan works", False),
    ("we have never needed to appeal anything", False),
])
def test_disagreement_mentions(text, expected):
    assert mentions_disagreement(text) is expected


def test_links_come_in_order_with_plain_reasons():
    refused = guidance_for(["autism", "The council turned down our EHCNA request"])
    assert [g.page for g in refused] == ["ehc_assessment", "complain_or_appeal"]
    assert all(g.reason.endswith(".") for g in refused)
    waiting = guidance_for(["we are waiting for the EHCNA decision"])
    assert [g.page for g in waiting] == ["ehc_assessment"]
    assert "how long it should take" in waiting[0].reason
    assert [g.page for g in guidance_for(["we want to complain about the school"])] == \
        ["complain_or_appeal"]
    assert guidance_for(["autism", "loves swimming"]) == []


def test_the_demo_council_file_is_valid():
    council = load_council()
    assert council.name == "Islington" and "N7" in council.districts
    for contact in (council.send_team, council.complaints, council.sendiass, council.mediation):
        assert contact.phone.startswith("020 7946 0")          # Ofcom drama range
        assert contact.email.endswith(".example") and contact.url.endswith(".example") \
            or ".example/" in contact.url


def test_a_bad_council_file_lists_every_problem(tmp_path):
    with pytest.raises(ConfigError) as info:
        parse_council({"name": "X", "districts": ["N7", "zz 1"], "local_offer_url": "www",
                       "send_team": {"name": "SEND team"},
                       "complaints": {"name": "Complaints", "email": "not an email"},
                       "sendiass": {"name": "Advice", "url": "https://advice.example"},
                       "colour": "blue"}, source="council.toml")
    message = str(info.value)
    for words in ("name is blank or too short", "full_name is missing",
                  "ZZ 1 is not a postcode district", "local_offer_url is not a full web address",
                  "send_team needs at least one of phone, email or url",
                  "complaints.email is not one e-mail address", "mediation is missing",
                  "colour is not a setting of this file"):
        assert words in message, words
    assert message.startswith("council.toml has 8 problem(s)")
    missing = tmp_path / "none.toml"
    with pytest.raises(ConfigError, match="was not found"):
        load_council(missing)
