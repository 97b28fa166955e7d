"""The reading step (matcher/understand.py): facts with provenance from a service's own words.

Every phrasing here is written for these tests (none is copied from a council's record).
Each rule is checked on at least three phrasings, plus the wordings it must NOT read.
"""

from __future__ import annotations

import pytest

from matcher.understand import FIELDS, Fact, effective_ages, read_service
from matcher.vocab import load_vocabulary


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def read(description: str, name: str = "", tags=(), vocab=None) -> list[Fact]:
    facts = read_service(name, description, tags, vocab)
    _check_provenance(facts, name, description, tags)
    return facts


def _check_provenance(facts, name, description, tags) -> None:
    """Every fact quotes its source verbatim, briefly, and says how sure it is."""
    for f in facts:
        assert f.field in FIELDS, f
        assert f.confidence in ("certain", "likely"), f
        assert f.source in ("name", "description", "tags"), f
        assert f.quote and len(f.quote) <= 120, f
        if f.source == "name":
            assert f.quote in name, f
        elif f.source == "description":
            assert f.quote in description, f
        else:
            assert any(f.quote in t for t in tags), f


def values(facts, field: str) -> list:
    return [f.value for f in facts if f.field == field]


def one(facts, field: str) -> Fact:
    found = [f for f in facts if f.field == field]
    assert found, f"no {field} fact in {facts}"
    return found[0]


def ages(description: str, name: str = "") -> tuple[int | None, int | None]:
    lo, hi, _ = effective_ages(read(description, name))
    return lo, hi


# ---------------------------------------------------------------------------------------------
# Ages
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("A club for young people aged 11 to 18 who enjoy drama.", (11, 18)),
    ("Open to ages 5-16 during the holidays.", (5, 16)),
    ("Our sessions welcome 11-19 year olds.", (11, 19)),
    ("Mentoring for 16 to 25 year olds leaving school.", (16, 25)),
    ("Children aged 0-5 and their carers can come along.", (0, 5)),
    ("Young people 16-25 can get help with work.", (16, 25)),
    ("Support for those aged between 8 and 14 years.", (8, 14)),
    ("Swimming for children aged five to eleven.", (5, 11)),
    ("A youth forum for 13-19s.", (13, 19)),
    ("Families of children from birth to 5 are welcome.", (0, 5)),
    ("Help from the age of 14 onwards.", (14, None)),
])
def test_age_ranges(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("For children and young people 0-19, or up to 25 with SEND.", (0, 25)),
    ("We support ages 0-18, or up to 25 if they have an EHC plan.", (0, 25)),
    ("Open to young people aged 14-19 (up to the age of 25 for those with SEND).", (14, 25)),
])
def test_age_range_extended_for_send(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Stay and play for under 5s.", (0, 4)),
    ("A drop-in for under-18s.", (0, 17)),
    ("Rhyme time for the under fives.", (0, 4)),
    ("A club for children under the age of 12.", (0, 11)),
    ("Walking group for over 50s.", (50, None)),
    ("Social evenings for over 18s.", (18, None)),
    ("Gym sessions for people aged 18 and over.", (18, None)),
    ("Courses for learners 18+.", (18, None)),
    ("Open to anyone over the age of 16.", (16, None)),
    ("Suitable for adults 19 years and older.", (19, None)),
])
def test_open_ended_ages(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("A homework club for Year 7 to Year 11.", (11, 16)),
    ("Reading support for pupils in Years 1-6.", (5, 11)),
    ("Transition groups for Y9-Y11 pupils.", (13, 16)),
    ("Maths catch-up for key stage 2.", (7, 11)),
    ("Revision for students in KS3 and KS4.", (11, 16)),
    ("Phonics from Reception to Year 2.", (4, 7)),
    ("A lunchtime club for primary school children.", (4, 11)),
    ("Open to primary-aged pupils.", (4, 11)),
    ("A mentoring scheme for secondary school pupils.", (11, 16)),
    ("Study skills for sixth form students.", (16, 18)),
    ("Settling-in sessions for reception children.", (4, 5)),
])
def test_school_years_and_stages(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected, confidence", [
    # An age-group word after "for" says who the service is for: certain.
    ("Messy play for babies.", (0, 1), "certain"),
    ("Music sessions for toddlers.", (1, 3), "certain"),
    ("A group for babies and toddlers.", (0, 3), "certain"),
    ("Drop in for teenagers on Fridays.", (13, 19), "certain"),
    # Elsewhere it is only likely.
    ("A space where teens can chat.", (13, 19), "likely"),
    ("Bring the babies along if you like.", (0, 1), "likely"),
])
def test_age_words(text, expected, confidence):
    facts = read(text)
    lo, hi, fact = effective_ages(facts)
    assert (lo, hi) == expected
    assert fact.confidence == confidence


@pytest.mark.parametrize("text", [
    "Sessions run 10-12pm every Tuesday.",
    "Open 9:30-11:30 on Saturdays.",
    "Tickets cost £5-10 per family.",
    "Call 01234 567890 or text 07700 900123.",
    "Our helpline is open 24/7.",
    "We offer 1 to 1 support for children.",
    "Each session lasts 2 hours.",
    "We are open 5 days a week and 7 days in the holidays.",
    "The service was set up in 2024.",
    "Holiday club runs 1-3 June for families.",
    "We have supported families for 10-15 years.",
    "Groups of up to 12 children.",
])
def test_numbers_that_are_not_ages(text):
    facts = read(text)
    assert not values(facts, "min_age") and not values(facts, "max_age"), facts
    assert effective_ages(facts) == (None, None, None)


@pytest.mark.parametrize("text, child_ages", [
    ("A course for parents of children aged 0-5.", (0, 5)),
    ("Workshops for parents and carers of young people aged 11 to 18.", (11, 18)),
    ("Support for carers of adults aged 18+.", (18, None)),
    ("A coffee morning for mums with children under 5s.", (0, 4)),
])
def test_ages_of_the_children_of_parents_are_not_the_services(text, child_ages):
    facts = read(text)
    assert not values(facts, "min_age") and not values(facts, "max_age"), facts
    assert values(facts, "child_ages") == [child_ages]
    assert one(facts, "for_parents").value is True
    assert "adults_only" not in {f.field for f in facts}


def test_ages_stay_the_services_when_the_children_come_too():
    facts = read("Stay and play for parents and their children aged 0-5.")
    assert effective_ages(facts)[:2] == (0, 5)
    assert not values(facts, "for_parents")


def test_cost_qualifiers_are_not_ages():
    facts = read("Entry £3, free for under 5s.")
    assert effective_ages(facts) == (None, None, None)
    assert "free_for_some" in values(facts, "cost")


def test_ages_from_the_name_and_fact_behind_them():
    facts = read("A weekly club.", name="Youth Club (11-18s)")
    lo, hi, fact = effective_ages(facts)
    assert (lo, hi) == (11, 18)
    assert fact.source == "name" and fact.quote == "11-18s"


def test_effective_ages_prefers_certain_over_likely():
    facts = read("A club for teenagers aged 12-16.")
    assert effective_ages(facts)[:2] == (12, 16)


# ---------------------------------------------------------------------------------------------
# Audience, adults only, for parents
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, audience", [
    ("A befriending service for adults with learning disabilities.", "adults"),
    ("Advice for parents and carers.", "parents_carers"),
    ("Workshops aimed at parent carers of disabled children.", "parents_carers"),
    ("Training for professionals working with autistic pupils.", "professionals"),
    ("Resources for practitioners and SENCOs.", "professionals"),
    ("Activities for the whole family.", "families"),
    ("A safe space for young people.", "children_young_people"),
    ("A walking group for men.", "adults"),
    ("Yoga for women who care for someone.", "adults"),
])
def test_audience_from_the_description(text, audience):
    assert audience in values(read(text), "audience")


def test_audience_from_tags_and_name(vocab):
    facts = read("A group.", name="Parent Carer Forum", tags=["Parents", "Young people"],
                 vocab=vocab)
    tag_values = [f.value for f in facts if f.field == "audience" and f.source == "tags"]
    assert tag_values == ["parents_carers", "children_young_people"]
    assert all(f.confidence == "certain" for f in facts if f.source == "tags"
               and f.field == "audience")
    name_fact = [f for f in facts if f.field == "for_parents" and f.source == "name"]
    assert name_fact and name_fact[0].confidence == "certain"


@pytest.mark.parametrize("text", [
    "Adults only.",
    "A social club for adults aged 18+.",
    "Open to people over 18.",
    "Bingo nights for over 18s.",
    "18+ only, please.",
    "Support for adults with a physical disability.",
])
def test_adults_only_certain(text):
    fact = one(read(text), "adults_only")
    assert fact.value is True and fact.confidence == "certain"


@pytest.mark.parametrize("text", [
    "Our adult day centre offers activities.",
    "Games for grown-ups.",
    "An adult learning course.",
    # "adult social care" names a council department, whose teams also work with families.
    "Part of adult social care.",
    "Referrals come through Adult Social Care.",
    "Run by the adult social care team.",
])
def test_adults_only_likely(text):
    fact = one(read(text), "adults_only")
    assert fact.confidence == "likely"


@pytest.mark.parametrize("text", [
    "For adults and children with autism.",
    "Adults and young people welcome.",
    "A group for adults, families and children.",
    "Open to men and their families.",
])
def test_not_adults_only_when_children_or_families_too(text):
    assert not values(read(text), "adults_only")


@pytest.mark.parametrize("text", [
    "A walking group for men.",
    "Yoga for women.",
    "A drop-in for men on Tuesdays.",
])
def test_men_and_women_are_adults_but_not_adults_only_certain(text):
    facts = read(text)
    assert "adults" in values(facts, "audience")
    assert all(f.confidence == "likely" for f in facts if f.field == "adults_only")


@pytest.mark.parametrize("text, confidence", [
    ("A course for parents of children with ADHD.", "certain"),
    ("Support for parents and carers.", "certain"),
    ("Our parent carer forum meets monthly.", "certain"),
    ("A carers' support group.", "certain"),
    ("Parents of autistic children can ask for advice.", "likely"),
])
def test_for_parents(text, confidence):
    fact = one(read(text), "for_parents")
    assert fact.value is True and fact.confidence == confidence


@pytest.mark.parametrize("text", [
    "A play scheme for children. Parents are welcome to stay.",
    "Sessions for children and their parents.",
    "Young carers' group for children who look after a parent.",
])
def test_not_for_parents(text):
    assert not values(read(text), "for_parents")


# ---------------------------------------------------------------------------------------------
# Exclusions with a negation scope
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, excluded", [
    ("This group is not suitable for children with PMLD.", ["pmld"]),
    ("We are unable to support people with a visual impairment.", ["vision_impairment"]),
    ("We do not accept referrals for ADHD assessment.", ["adhd"]),
    ("We cannot offer tube feeding support to children with epilepsy.", ["epilepsy"]),
    ("The clinic does not provide speech therapy for stammering.", ["slcn"]),
    ("Open to all SEND excluding PMLD.", ["pmld"]),
    ("The service is not for people with a hearing impairment.", ["hearing_impairment"]),
])
def test_exclusions_of_needs(text, excluded, vocab):
    facts = read(text, vocab=vocab)
    got = [n for v in values(facts, "excludes") for n in v]
    for need in excluded:
        assert need in got, facts
        assert need not in [n for v in values(facts, "needs") for n in v]


@pytest.mark.parametrize("text, group, min_age", [
    ("Not suitable for children under 8.", "under_8", 8),
    ("We cannot accept anyone under the age of 16.", "under_16", 16),
    ("The course is unsuitable for under 5s.", "under_5", 5),
])
def test_exclusions_of_young_children(text, group, min_age):
    facts = read(text)
    assert group in one(facts, "excludes").value
    assert effective_ages(facts)[0] == min_age
    assert not values(facts, "max_age")


@pytest.mark.parametrize("text, group", [
    ("We are unable to support families who do not live in the borough.", "non_residents"),
    ("We cannot accept referrals from outside the county.", "non_residents"),
    ("Sorry, we do not accept non-residents.", "non_residents"),
    ("This club is not suitable for over 18s.", "over_18"),
    ("We do not support adults.", "over_18"),
])
def test_exclusions_of_groups(text, group):
    assert group in one(read(text), "excludes").value


@pytest.mark.parametrize("text", [
    "Our groups are not just for swallowing difficulties: they are for people who are blind.",
    "We help not only autistic children but also their siblings.",
    "You do not need a diagnosis of ADHD to come along.",
    "Whether or not your child has dyslexia, you are welcome.",
    "If not, do not hesitate to call us about autism support.",
    "Not sure if we can help with your child's epilepsy? Don't worry, just ask.",
    "You are not alone: many parents of deaf children feel the same.",
    "A diagnosis of autism is not necessarily needed.",
])
def test_benign_negations_are_not_exclusions(text):
    facts = read(text)
    assert not values(facts, "excludes"), facts
    assert values(facts, "needs")


@pytest.mark.parametrize("text, group", [
    ("We are unable to support people who are still drinking heavily.",
     "people_who_are_still_drinking_heavily"),
    ("The scheme does not apply to anyone already living in supported housing.",
     "anyone_already_living_in_supported_housing"),
    ("We cannot take referrals for patients in hospital.", "patients_in_hospital"),
    ("The forum is not open to members of the public.", "members_of_the_public"),
    ("Board meetings are not open meetings to members of the public.", "members_of_the_public"),
    ("Our rehearsals are not open sessions to visitors.", "visitors"),
    ("Sadly we do not accept young people with a current prison sentence.",
     "young_people_with_a_current_prison_sentence"),
])
def test_exclusions_of_groups_named_in_plain_words(text, group):
    fact = one(read(text), "excludes")
    assert fact.value == [group] and fact.confidence == "certain"


@pytest.mark.parametrize("text, what", [
    ("The course is not suitable if you are in the first weeks after surgery.",
     "you_are_in_the_first_weeks_after_surgery"),
    ("These breaks are not intended to be used where someone needs nursing care overnight.",
     "someone_needs_nursing_care_overnight"),
    ("Not appropriate when a child is in immediate danger: call 999.",
     "a_child_is_in_immediate_danger"),
])
def test_exclusions_of_circumstances(text, what):
    assert one(read(text), "excludes").value == [what]


@pytest.mark.parametrize("text", [
    "If you do not see a session near you, give us a ring.",
    "If the team cannot see patients who are new to the area, they will refer them on.",
    "When we are unable to support families who move away, we pass on their details.",
    "When they are not able to help, the team will pass you on.",
    "Unless you cannot attend in person, come to the hall.",
    "Open every Saturday except bank holidays.",
    "Our volunteers do not provide medical advice.",
    "The grant does not cover travel costs.",
    "This guidance does not apply to help given by children in the home.",
])
def test_conditions_and_what_a_service_does_not_do_are_not_exclusions(text):
    assert not values(read(text), "excludes")


@pytest.mark.parametrize("text", [
    "The rights do not apply to people detained under the Mental Health Act.",
    "We cannot help anyone held under the Mental Capacity Act.",
    "Not for people subject to an order under the Mental Health Act.",
])
def test_a_law_named_in_a_refusal_is_not_a_need_refused(text):
    excluded = [v for f in read(text) if f.field == "excludes" for v in f.value]
    assert excluded and "semh" not in excluded and "mental_health" not in excluded


def test_negation_scope_ends_at_a_clause_break():
    facts = read("We cannot offer home visits, but we welcome children with autism.")
    assert not values(facts, "excludes")
    assert ["autism"] in values(facts, "needs")
    facts = read("We do not accept referrals for ADHD; we do support children with dyslexia.")
    assert values(facts, "excludes") == [["adhd"]]
    assert ["dyslexia"] in values(facts, "needs")
    facts = read("Not suitable for PMLD. Open to autistic children.")
    assert values(facts, "excludes") == [["pmld"]]
    assert ["autism"] in values(facts, "needs")


# ---------------------------------------------------------------------------------------------
# Thresholds, EHCP, residency
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value, confidence", [
    ("For children with severe and complex needs.", "severe_complex", "certain"),
    ("Short breaks for young people with profound and multiple learning disabilities.",
     "severe_complex", "certain"),
    ("For those with complex and severe physical disabilities.", "severe_complex", "certain"),
    ("Children must have a diagnosis to attend.", "diagnosis_required", "certain"),
    ("A formal diagnosis is required.", "diagnosis_required", "certain"),
    ("For young people with a diagnosis of autism.", "diagnosis_required", "certain"),
    ("Many of the children have a diagnosis of autism.", "diagnosis_required", "likely"),
    ("Only for children with cerebral palsy.", "only_for_named_need", "certain"),
    ("This group is exclusively for autistic girls.", "only_for_named_need", "certain"),
    ("The service is solely for people with sight loss.", "only_for_named_need", "certain"),
    ("Young people must be referred by a professional.", "referral_required", "certain"),
    ("Access is by referral only.", "referral_required", "certain"),
    ("Families must meet our eligibility criteria.", "referral_required", "likely"),
])
def test_thresholds(text, value, confidence):
    facts = [f for f in read(text) if f.field == "threshold" and f.value == value]
    assert facts, read(text)
    assert facts[0].confidence == confidence


@pytest.mark.parametrize("text", [
    "With or without a diagnosis of autism, all are welcome.",
    "You do not need a diagnosis.",
    "For children awaiting a diagnosis of ADHD.",
    "Whether or not your child has a diagnosis, come along.",
])
def test_no_diagnosis_threshold(text):
    assert "diagnosis_required" not in values(read(text), "threshold")


def test_exclusively_for_a_place_is_not_a_named_need():
    assert "only_for_named_need" not in values(read("Exclusively for Leeds families."),
                                               "threshold")


@pytest.mark.parametrize("text, value, confidence", [
    ("Pupils must have an EHC plan.", True, "certain"),
    ("A unit for pupils with an Education, Health and Care Plan.", True, "certain"),
    ("An EHCP is required for a place.", True, "certain"),
    ("Supports children with an EHCP.", True, "likely"),
    ("Open to children with or without an EHCP.", False, "certain"),
    ("You do not need an EHC plan to join.", False, "certain"),
    ("Young people without an EHCP can also apply.", False, "certain"),
])
def test_ehcp(text, value, confidence):
    fact = one(read(text), "ehcp_required")
    assert (fact.value, fact.confidence) == (value, confidence)


@pytest.mark.parametrize("text, place", [
    ("This service is for Bristol residents.", "Bristol"),
    ("For young people living in North Lincolnshire.", "North Lincolnshire"),
    ("You must live in Stoke-on-Trent to use it.", "Stoke-on-Trent"),
    ("Open to residents of Brighton and Hove.", "Brighton and Hove"),
    ("Families who live in the borough can apply.", "the borough"),
])
def test_residency(text, place):
    assert values(read(text), "residency") == [place]


@pytest.mark.parametrize("text", [
    "For children living in temporary accommodation.",
    "Support for people living in poverty.",
    "Local residents are welcome.",
])
def test_not_residency(text):
    assert not values(read(text), "residency")


# ---------------------------------------------------------------------------------------------
# Referral, cost, delivery, needs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("Self-referrals are welcome.", "self"),
    ("You can refer yourself by phone.", "self"),
    ("Just drop in on a Thursday.", "self"),
    ("Access is through a GP referral.", "gp"),
    ("Ask your GP to refer you.", "gp"),
    ("Children need a referral from their doctor.", "gp"),
    ("We take referrals from a health visitor or social worker.", "professional"),
    ("A referral from a professional is needed.", "professional"),
    ("Young people must be referred by their key worker.", "professional"),
    ("Places are requested via school.", "school"),
    ("Referrals come from the child's school SENCO.", "school"),
    ("Schools can refer pupils directly.", "school"),
])
def test_referral(text, value):
    assert value in values(read(text), "referral")


def test_refused_self_referral_is_not_self():
    assert "self" not in values(read("We do not accept self-referrals."), "referral")


@pytest.mark.parametrize("text, value", [
    ("The group is free.", "free"),
    ("There is no charge for sessions.", "free"),
    ("All activities are free of charge.", "free"),
    ("Sessions cost £5 per session.", "paid"),
    ("It costs £12 a week.", "paid"),
    ("There is a small charge for materials.", "paid"),
    ("Free for children under 2, £4 for others.", "free_for_some"),
    ("Concessions available for carers.", "free_for_some"),
    ("Subsidised places for families on low incomes.", "free_for_some"),
])
def test_cost(text, value):
    assert value in values(read(text), "cost")


def test_free_and_paid_together_is_free_for_some():
    facts = read("Groups are free. Some trips have a small cost.")
    assert set(values(facts, "cost")) == {"free", "paid", "free_for_some"}
    assert one(facts, "cost").confidence == "certain"
    assert [f.confidence for f in facts if f.value == "free_for_some"] == ["likely"]


@pytest.mark.parametrize("text", [
    "There is free parking on site.",
    "Free wifi is available.",
    "Please feel free to bring a friend.",
    "Young people can use their free time to volunteer.",
    "A gluten-free lunch is provided.",
])
def test_free_that_is_not_a_cost(text):
    assert not values(read(text), "cost")


@pytest.mark.parametrize("text, value", [
    ("Sessions are delivered online.", "online"),
    ("We meet via Zoom every week.", "online"),
    ("Join our online support group.", "online"),
    ("Advice is given by phone.", "phone"),
    ("Call our helpline for advice.", "phone"),
    ("We offer telephone support in the evenings.", "phone"),
    ("Our workers make home visits.", "home_visit"),
    ("We can visit you in your own home.", "home_visit"),
    ("Sessions are held in person.", "in_person"),
    ("Face to face appointments at the clinic.", "in_person"),
    ("A weekly drop-in for parents.", "in_person"),
])
def test_delivery(text, value):
    assert value in values(read(text), "delivery")


@pytest.mark.parametrize("text", [
    "We do not offer home visits.",
    "Our sessions are not online.",
    "Book online or apply using our online form.",
])
def test_not_delivery(text):
    facts = read(text)
    assert not [v for v in values(facts, "delivery") if v in ("home_visit", "online")], facts


def test_needs_from_name_description_and_tags(vocab):
    facts = read("Support for children with dyslexia and speech and language needs. Our staff "
                 "also know a lot about epilepsy.", name="Autism Outreach", tags=["ADHD"],
                 vocab=vocab)
    by_source = {(tuple(f.value), f.source, f.confidence, f.kind) for f in facts
                 if f.field == "needs"}
    assert (("autism",), "name", "certain", "") in by_source
    # Named as who the service is for: the needs it serves.
    assert (("dyslexia",), "description", "certain", "served") in by_source
    assert (("slcn",), "description", "certain", "served") in by_source
    # Mentioned elsewhere: only likely.
    assert (("epilepsy",), "description", "likely", "") in by_source
    assert (("adhd",), "tags", "certain", "") in by_source


@pytest.mark.parametrize("text, need", [
    ("A club for autistic young people.", "autism"),
    ("Help for children on the spectrum.", "autism"),
    ("Support for deaf children and their families.", "hearing_impairment"),
])
def test_needs_everyday_words(text, need):
    assert [need] in values(read(text), "needs")


def test_codes_only_in_capitals():
    facts = read("Our mascot likes asc and hi fives.")
    assert not values(facts, "needs")


# ---------------------------------------------------------------------------------------------
# The whole record
# ---------------------------------------------------------------------------------------------


def test_a_whole_record_every_quote_verbatim(vocab):
    name = "Sunflower Parent Carer Group"
    description = (
        "A friendly group for parents and carers of children aged 4-11 with autism or ADHD. "
        "We meet at the community centre on Tuesdays 10-12pm and sessions cost £2. "
        "We are not able to support families living outside the borough. "
        "Self-referrals welcome; call 01234 567890. Free parking.\n"
        "Online sessions via Zoom are also available."
    )
    facts = read(description, name=name, tags=["Parents", "Carers"], vocab=vocab)
    fields = {f.field for f in facts}
    assert {"audience", "for_parents", "child_ages", "excludes", "referral", "cost",
            "delivery", "needs"} <= fields
    assert not values(facts, "min_age")
    assert values(facts, "child_ages") == [(4, 11)]
    assert "non_residents" in one(facts, "excludes").value
    assert values(facts, "cost") == ["paid"]
    assert set(values(facts, "delivery")) >= {"online", "in_person"}


def test_empty_record():
    assert read_service("", "") == []
    assert effective_ages([]) == (None, None, None)


def test_facts_are_frozen():
    fact = read("For under 5s.")[0]
    with pytest.raises(AttributeError):
        fact.value = 3  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Ages: more ways of saying them
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("Swimming for people of all ages.", (0, None)),
    ("Dance classes for all age groups.", (0, None)),
    ("A friendly club for young and old.", (0, None)),
    ("Everyone welcome, any age.", (0, None)),
])
def test_all_ages(text, expected):
    assert ages(text) == expected
    assert one(read(text), "min_age").kind == "all_ages"


@pytest.mark.parametrize("text", [
    "Games for children of all ages.",
    "Support for young people of all ages and abilities.",
    "Pupils of all ages learn together.",
])
def test_children_of_all_ages_is_not_all_ages(text):
    assert all(f.kind != "all_ages" for f in read(text))


def test_stated_numbers_win_over_all_ages_and_age_words():
    assert ages("A soft play corner for under 5s, and toddler toys.") == (0, 4)
    assert ages("A club for teenagers aged 12 to 15.") == (12, 15)
    assert ages("Suitable for toddlers. Ages 2 to 4.") == (2, 4)


@pytest.mark.parametrize("text, expected", [
    ("From 11 years of age and up. Under 16s must be accompanied by an adult.", (11, None)),
    ("Open to anyone. Children under 12 need adult supervision.", (None, None)),
    ("Swim sessions for all. Under 8s are to be accompanied by a parent.", (None, None)),
])
def test_supervision_rules_are_not_who_it_is_for(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Open to riders 14 years of age and over.", (14, None)),
    ("From 9 years of age, all welcome.", (9, None)),
    ("Players 16 years of age or older can join.", (16, None)),
])
def test_years_of_age(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("We are an 11-16 secondary school.", (11, 16)),
    ("A 4-11 primary academy in the town.", (4, 11)),
    ("An 11 to 19 special school for pupils with SLD.", (11, 19)),
])
def test_ages_of_a_school(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Support for Year 6s and Year 7s moving school.", (10, 12)),
    ("Clubs for pupils in Years 5 and 6.", (9, 11)),
    ("Workshops for Y10s and Y11s.", (14, 16)),
])
def test_school_years_plural(text, expected):
    assert ages(text) == expected


def test_school_years_of_the_children_of_parents():
    facts = read("A talk for parents of children in Years 5 and 6 about moving up.")
    assert values(facts, "child_ages") == [(9, 11)]
    assert effective_ages(facts)[:2] == (None, None)


@pytest.mark.parametrize("text, expected", [
    ("Caring for children aged six weeks to five years.", (0, 5)),
    ("Sessions for little ones from 6 months to 3 years.", (0, 3)),
    ("A nursery taking babies from 3 months - 4 years.", (0, 4)),
])
def test_months_to_years(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Juniors (8 to 10 years), youths (11 to 17 years) and seniors (over 18s).", (8, None)),
    ("Sections for children aged 5 to 10 and for adults 18+.", (5, None)),
    ("Teams for under 12s, under 16s, and adults aged 18 and over.", (0, None)),
])
def test_open_upper_bound_when_adults_join_too(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Age guidance: 14+", (14, None)),
    ("A dance group for disabled adults (16+).", (16, None)),
    ("Ages: 12+ only.", (12, None)),
])
def test_age_labels_before_a_plus(text, expected):
    lo, hi, fact = effective_ages(read(text))
    assert (lo, hi) == expected and fact.confidence == "certain"


@pytest.mark.parametrize("text, expected", [
    ("Stay and play for babies and toddlers under the age of five.", (0, 4)),
    ("Advice line for anyone under the age of 25.", (0, 24)),
    ("Support for young people below the age of 19.", (0, 18)),
])
def test_under_the_age_of_starts_at_birth(text, expected):
    assert ages(text) == expected


def test_under_the_age_of_with_a_lower_age_keeps_it():
    assert ages("For young people over 11 and under the age of 16.") == (11, 15)


@pytest.mark.parametrize("name, text, expected", [
    ("Baby and Toddler Group", "Come along for play and a cuppa.", (0, 3)),
    ("Toddler Time", "Songs and stories every week.", (1, 3)),
    ("Oak Primary Academy", "A friendly school.", (4, 11)),
])
def test_age_words_in_the_name_are_certain(name, text, expected):
    lo, hi, fact = effective_ages(read(text, name))
    assert (lo, hi) == expected and fact.confidence == "certain"


# ---------------------------------------------------------------------------------------------
# Services for parents, carers and parents-to-be
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, name", [
    ("Drop in with any questions.", "Antenatal Clinic"),
    ("Meet other mums.", "Breastfeeding Support Group"),
    ("A healthy eating course for mums-to-be.", ""),
    ("Classes for expectant parents.", ""),
    ("Learn to paint.", "Carers' Art Class"),
    ("Meet monthly.", "Carer Peer Support Group"),
    ("A coffee morning for mum and baby.", ""),
])
def test_for_parents_to_be_and_carers(text, name):
    assert one(read(text, name), "for_parents").confidence == "certain"


@pytest.mark.parametrize("text", [
    "Young carers' group for children who care for someone.",
    "A baby sensory class full of bubbles.",
    "Dads and kids play football together.",
])
def test_not_parents_to_be(text):
    assert all(f.confidence != "certain" for f in read(text) if f.field == "for_parents")


# ---------------------------------------------------------------------------------------------
# Needs served, read from who the service is for
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, need", [
    ("A school for pupils with SLD and PMLD.", "sld"),
    ("A school for pupils with SLD and PMLD.", "pmld"),
    ("A youth club for autistic young people.", "autism"),
    ("A unit for children whose primary need is SEMH.", "semh"),
    ("Group therapy for children who stammer.", "slcn"),
    ("Mobility lessons for students with a vision impairment.", "vision_impairment"),
    ("Deaf children and their families meet monthly.", "hearing_impairment"),
])
def test_needs_served_from_the_audience(text, need):
    served = [f for f in read(text) if f.field == "needs" and f.kind == "served"]
    assert any(need in f.value for f in served), served
    assert all(f.confidence == "certain" for f in served)


@pytest.mark.parametrize("text", [
    "We cannot support children with ADHD.",
    "Our staff are trained in autism awareness.",
    "Mental health can affect anyone.",
])
def test_needs_not_served(text):
    assert not [f for f in read(text) if f.field == "needs" and f.kind == "served"]


@pytest.mark.parametrize("text", [
    "Great for children and adults with physical disabilities.",
    "Ideal for young people with autism, and everyone else too.",
    "Everyone is welcome, including children with Down syndrome.",
])
def test_needs_a_service_only_suits_are_likely(text):
    served = [f for f in read(text) if f.field == "needs" and f.kind == "served"]
    assert served and all(f.confidence == "likely" for f in served)


# ---------------------------------------------------------------------------------------------
# EHC plans: more phrasings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Places are via EHCP only.",
    "Entry is only through an EHC plan.",
    "All pupils have an EHCP.",
    "All of our students hold an Education, Health and Care Plan.",
    "Your child needs an EHCP to attend.",
    "A young person needs to have an EHC plan for a place.",
    "Places are funded through the local authority via an EHCP.",
    "Each placement is funded by the council through the EHCP.",
    "Admission is through the EHCP process.",
    "Places are allocated via the EHC plan route.",
])
def test_ehcp_required_phrasings(text):
    fact = one(read(text), "ehcp_required")
    assert (fact.value, fact.confidence) == (True, "certain")


@pytest.mark.parametrize("text", [
    "If your child needs an EHCP, we can help you ask for one.",
    "Advice for families going through the EHCP process.",
    "We support parents who think their child may need an EHC plan.",
])
def test_ehcp_mentioned_but_not_required(text):
    assert all(f.confidence != "certain" or f.value is False
               for f in read(text) if f.field == "ehcp_required")


# ---------------------------------------------------------------------------------------------
# At import: what the facts fill (matcher.ingest.reading.apply_reading)
# ---------------------------------------------------------------------------------------------


def _imported(description: str, name: str = "A service", **fields):
    from matcher.ingest.reading import apply_reading
    from matcher.services import ServiceRecord

    record = ServiceRecord(id="t1", name=name, description=description, categories=[], **fields)
    return apply_reading(record, (), load_vocabulary())


@pytest.mark.parametrize("text, expected", [
    ("A course for parents of children aged 5 to 11.", (5, 11)),
    ("Workshops for parents of children in Years 5 and 6.", (9, 11)),
    ("Support for parents and carers of teenagers aged 13-17.", (13, 17)),
])
def test_children_ages_are_a_parents_service_ages(text, expected):
    r = _imported(text)
    assert (r.min_age, r.max_age) == expected
    used = [f for f in r.facts if f["used"] and f["field"] == "child_ages"]
    assert used and used[0]["quote"] in text


def test_parents_service_without_children_ages_keeps_no_age():
    r = _imported("A support group for parents and carers. Adults 18+ only.")
    assert (r.min_age, r.max_age) == (None, None)
    assert "parents_carers" in r.audience
    assert any(f["used"] and f["field"] == "for_parents" for f in r.facts)


@pytest.mark.parametrize("text, needs", [
    ("A school for pupils with SLD and PMLD.", ["sld", "pmld"]),
    ("A youth club for autistic young people.", ["autism"]),
    ("Group therapy for children who stammer.", ["slcn"]),
])
def test_needs_served_fill_a_record_with_none(text, needs):
    r = _imported(text)
    assert r.needs == needs
    assert all(f["quote"] in text for f in r.facts
                               if f["used"] and f["field"] == "needs")


def test_needs_served_never_replace_the_records_own():
    r = _imported("A youth club for autistic young people.", needs=["adhd"])
    assert r.needs == ["adhd"]


def test_likely_needs_fill_nothing():
    assert _imported("Our staff know about epilepsy and autism.").needs == []


@pytest.mark.parametrize("text, expected", [
    ("Stay and play for babies and toddlers under the age of five.", (0, 4)),
    ("A walking football session for people of all ages.", (0, None)),
    ("Club nights for teenagers.", (13, 19)),
])
def test_certain_ages_of_every_kind_fill_the_record(text, expected):
    r = _imported(text)
    assert (r.min_age, r.max_age) == expected


def test_likely_ages_fill_nothing():
    r = _imported("A space where teens can chat.")
    assert (r.min_age, r.max_age) == (None, None)


# ---------------------------------------------------------------------------------------------
# matcher evaluate-labels: the comparison's convention
# ---------------------------------------------------------------------------------------------


def test_label_scoring_convention():
    from matcher.evaluation.labels import _score

    parents = _imported("A course for parents of children aged 5 to 11.")
    adults = _imported("A social club for adults aged 18+.")
    child = _imported("A youth club for young people aged 11 to 18.")
    pairs = [
        # Labelled with the parent's own age: not compared with the children's ages given.
        ({"min_age": 18, "max_age": None, "adults_only": True, "for_parents": True}, parents),
        ({"min_age": 18, "max_age": None, "adults_only": True, "for_parents": False}, adults),
        ({"min_age": 11, "max_age": 17, "adults_only": False, "for_parents": False}, child),
    ]
    result = _score(pairs)
    assert result["parents_age_bounds_not_compared"] == 1
    assert (result["ages"]["given"], result["ages"]["labelled"], result["ages"]["correct"]) \
        == (3, 3, 2)
    # A parents' service is kept from the child as a service for the child: adults only.
    assert (result["adults_only"]["correct"], result["adults_only"]["given"]) == (2, 2)
    assert result["for_parents"]["correct"] == 1


@pytest.mark.parametrize("text, expected", [
    ("Sessions for babies (0-4 months) and crawlers (6-24 months).", (0, 2)),
    ("Baby massage for babies aged 0 to 12 months.", (0, 1)),
    ("A music class for little ones 18-36 months old.", (1, 3)),
])
def test_ages_in_months(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text", [
    "A 6-12 month course of sessions.",
    "Membership lasts 3-6 months.",
    "We are open 10-12 months of the year.",
])
def test_months_that_are_not_ages(text):
    assert ages(text) == (None, None)


@pytest.mark.parametrize("text, expected", [
    ("For young people aged 8 to 18 years old (or age 25 for those with a disability).", (8, 25)),
    ("Youth club for ages 11-19, or up to 25 for those with SEND.", (11, 25)),
    ("Open to young people aged 13 to 19 or to 25 if they have a disability.", (13, 25)),
])
def test_or_age_for_some_extends_the_range(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, need", [
    ("An online group for 11-18 year olds who stammer.", "slcn"),
    ("Day care for adults (18+) with profound and multiple learning disabilities.", "pmld"),
    ("Swimming for Hackney residents aged 5 to 16 with autism.", "autism"),
])
def test_needs_served_after_ages_and_brackets(text, need):
    served = [f for f in read(text) if f.field == "needs" and f.kind == "served"]
    assert any(need in f.value and f.confidence == "certain" for f in served), served


@pytest.mark.parametrize("text", [
    "Supported internship for Hackney residents aged 17-24 with an EHCP.",
    "Internships for young people aged 18-24 with SEND and an EHCP.",
    "Provision for deaf children aged 3-11 with an EHCP.",
])
def test_ehcp_required_after_a_longer_audience(text):
    fact = one(read(text), "ehcp_required")
    assert (fact.value, fact.confidence) == (True, "certain")


@pytest.mark.parametrize("text", [
    "A keyworker for families of babies (0-3) with complex needs or a new diagnosis.",
    "For children with autism or other additional needs.",
    "Sessions for young people with ADHD, dyslexia or similar difficulties.",
])
def test_an_open_list_of_needs_is_likely(text):
    served = [f for f in read(text) if f.field == "needs" and f.kind == "served"]
    assert served and all(f.confidence == "likely" for f in served)


@pytest.mark.parametrize("text", [
    "Exhibitions and events for all ages. Families can also visit our under 5s play space.",
    "Our clinic is for people of all ages. The Thursday session is for 15-24 year olds.",
    "Open to all ages. A youth section for ages 11 to 16 meets on Mondays.",
])
def test_all_ages_with_a_part_for_some_ages(text):
    assert ages(text) == (0, None)


def test_age_words_in_a_name_are_not_widened_by_all_ages():
    assert ages("Plenty of play equipment for all ages.", "Baby and Toddler Group") == (0, 3)


@pytest.mark.parametrize("text", [
    "A service for children with a diagnosis.",
    "For children with a confirmed diagnosis of autism.",
    "Open to young people who have a formal diagnosis of ADHD.",
    "This service is for people who are diagnosed with cancer or heart failure.",
    "A group for children diagnosed with epilepsy.",
    "Open to young people who have been formally diagnosed with autism.",
])
def test_for_people_with_a_diagnosis_is_a_threshold(text):
    fact = one(read(text), "threshold")
    assert (fact.value, fact.confidence) == ("diagnosis_required", "certain")


@pytest.mark.parametrize("text", [
    "Open to children with or without a diagnosis.",
    "Support for children with a diagnosis of autism or awaiting assessment.",
    "Help for families, whether or not the child has a diagnosis.",
])
def test_diagnosis_not_required(text):
    assert "diagnosis_required" not in values(read(text), "threshold")


@pytest.mark.parametrize("text", [
    "Members offer discounts for foster carers.",
    "Half-price tickets for children on Sundays.",
    "A fostering friendly policy for all foster carers in their employment.",
])
def test_a_price_for_someone_is_not_who_a_service_is_for(text):
    assert not values(read(text), "audience") and not values(read(text), "for_parents")


@pytest.mark.parametrize("text", [
    "Peer support for adults who are caring for older relatives.",
    "A group for people looking after a disabled family member.",
    "Support for anyone caring for a loved one.",
])
def test_unpaid_carers_named_by_what_they_do(text):
    assert one(read(text), "for_parents").confidence == "certain"


@pytest.mark.parametrize("text", [
    "We provide support for carers, family members and friends of our residents.",
    "Support for family members of people in hospital.",
    "Groups for family members and carers of people with dementia.",
    "A drop-in for any family member of someone in prison.",
])
def test_family_members_are_relatives_of_those_served_not_a_family_audience(text):
    # "family members" are the relatives of the person served (often an adult), not
    # "families" as an audience with their children
    assert "families" not in values(read(text), "audience")


@pytest.mark.parametrize("text", [
    "Fun days out for families with disabled children.",
    "A stay and play group for the whole family.",
    "Open to every family in the borough.",
])
def test_families_and_family_are_still_a_family_audience(text):
    assert "families" in values(read(text), "audience")


@pytest.mark.parametrize("text", [
    "Most places are funded by local authorities through an EHC plan; a few families pay.",
    "Many pupils have an EHCP, and some do not.",
    "Places are usually funded through an EHCP.",
])
def test_ehcp_for_most_is_not_required(text):
    assert all(f.confidence != "certain" for f in read(text) if f.field == "ehcp_required")


@pytest.mark.parametrize("text", [
    "Places funded through EHC plans and adult social care.",
    "Placements are funded via an EHCP or privately by families.",
    "Places are funded through an EHCP, a personal budget or fees.",
])
def test_ehcp_one_funding_route_of_several_is_not_required(text):
    assert all(f.confidence != "certain" for f in read(text) if f.field == "ehcp_required")


@pytest.mark.parametrize("text", [
    "Gain confidence and skills to support your parenting.",
    "Workshops that help mums and dads build their parenting skills.",
    "A friendly space to reflect on our own parenting, with a cuppa.",
])
def test_parenting_words_say_it_is_for_parents(text):
    facts = read_service("Family workshop", text)
    assert any(f.field == "for_parents" and f.value for f in facts)


def test_parenting_of_a_topic_is_not_a_parents_audience_by_itself():
    # Words about parenting as a subject of a children's activity are not read this way.
    facts = read_service("Kids art club", "Painting and crafts for children aged 5 to 11.")
    assert not any(f.field == "for_parents" for f in facts)


@pytest.mark.parametrize("text, expected", [
    ("Drop-in sessions for 9 year olds and upwards.", (9, None)),
    ("Open to 12-year-olds and over who like making films.", (12, None)),
    ("A chess club for 7 yr olds or older.", (7, None)),
])
def test_year_olds_and_upwards(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Counselling for young people up to 19 with low mood. Those aged 16+ can self-refer.",
     (None, 19)),
    ("A clinic for ages 0 to 18; anyone over 13 may refer themselves.", (0, 18)),
    ("For children aged 6-15. Over 11s can attend without an adult.", (6, 15)),
])
def test_an_age_for_a_way_in_is_not_who_it_is_for(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Mentoring for pupils in Years 7 to 11 (11-16).", (11, 16)),
    ("A lunchtime club for Years 5-6 (9 to 11).", (9, 11)),
    ("Careers help for Years 12-13 (ages 16-19) with SEND.", (16, 19)),
])
def test_ages_in_brackets_after_school_years(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, fields, expected", [
    # The listing's broad band, narrowed by the provider's own numbers: the words win.
    ("A drama group for girls aged 8 to 12.", (5, 16), (8, 12)),
    ("Weekend football for 10 year olds and upwards.", (6, None), (10, None)),
    ("Reading support for children aged 6 to 9.", (0, 99), (6, 9)),
    # Words outside the listing's range, or only age-group words: the listing stands.
    ("A drama group for young people aged 14 to 21.", (5, 16), (5, 16)),
    ("Club nights for teenagers.", (0, 25), (0, 25)),
    ("A course for parents of children aged 5 to 11.", (0, 18), (0, 18)),
    # Ages said of a part of the service, an example, a usual case or one of several parties.
    ("Family days out, plus a film club for 12-16s.", (0, 25), (0, 25)),
    ("Advice on grants, including for children under 4 with medical needs.", (0, 25), (0, 25)),
    ("Teachers, young people aged 14-19 and parents can all ask us for help.", (0, 25),
     (0, 25)),
    ("Planning for adult care, usually from age 17 onwards.", (14, 25), (14, 25)),
    ("Drama for young people. The Thursday evening session is for over 16s.", (11, 18),
     (11, 18)),
    ("Swimming for all. Our junior section is for children aged 8 to 12.", (5, 18), (5, 18)),
])
def test_words_narrowing_the_listings_ages_are_believed(text, fields, expected):
    r = _imported(text, min_age=fields[0], max_age=fields[1])
    assert (r.min_age, r.max_age) == expected
    age_facts = [f for f in r.facts if f["field"] in ("min_age", "max_age", "child_ages")]
    if expected != fields:
        used = [f for f in age_facts if f["used"]]
        assert used and used[0]["conflict"]
        assert used[0]["listing"] == {"min_age": fields[0], "max_age": fields[1]}
    else:
        assert not any(f["used"] for f in age_facts)


@pytest.mark.parametrize("text, expected", [
    ("Short breaks for disabled children. We also run a youth club for teens on Fridays.",
     (None, None)),
    ("A toy library for families. The centre also offers holiday clubs for 8-12 year olds.",
     (None, None)),
    ("Swimming for children aged 5-11. We additionally host a squad for 12-16s.", (5, 11)),
])
def test_ages_of_another_offer_named_with_also_are_only_likely(text, expected):
    after_also = text[text.index("also" if "also" in text else "additionally"):]
    facts = [f for f in read(text) if f.field in ("min_age", "max_age")]
    assert facts and all(f.confidence == "likely" for f in facts if f.quote in after_also)
    r = _imported(text)
    assert (r.min_age, r.max_age) == expected


@pytest.mark.parametrize("text, expected", [
    ("Rhyme time for little ones.\nAge: four months (sitting up) to 18 months\nBring a blanket.",
     (0, 1)),
    ("Messy play.\nBirth to 10 months\nBook a place.", (0, 0)),
    ("Baby yoga.\nAges: 2/3 months up to 11/14 months (crawling).", (0, 1)),
])
def test_ages_in_months_at_both_ends(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    # A line holding only ages (or "Age:" and ages) is the record's own statement, as a form
    # gives it: it outranks ages in the running text.
    ("Dance classes for under 8s.\n\nAge: 4 to 6 years\n\nWednesdays in the hall.", (4, 6)),
    ("Music groups for the under 5s.\nThursday 10am, Town Hall\n18 months - 3 years old\n",
     (1, 3)),
    ("Sports camps for children aged 5 to 14.\n- Ages: 8-11\nBring a packed lunch.", (8, 11)),
    # Not a line of its own: joined with the rest as before.
    ("Dance classes for under 8s. Wednesday's group is 4 to 6 years old.", (0, 7)),
])
def test_ages_on_a_line_of_their_own_win(text, expected):
    assert ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("The forum is for everyone in the borough - adults, young people and children.", (0, None)),
    ("A community choir open to children, young people and adults.", (0, None)),
    ("The farm welcomes adults and kids of every ability.", (0, None)),
])
def test_children_and_adults_named_together_are_all_ages(text, expected):
    assert ages(text) == expected
    assert _imported(text).min_age == 0


@pytest.mark.parametrize("text", [
    "Support for parents and children.",
    "Sessions for adults with autism and their children.",
    "Children must be accompanied by adults.",
])
def test_children_and_adults_not_named_as_the_audience_together(text):
    assert not [f for f in read(text) if f.kind == "all_ages"]


@pytest.mark.parametrize("name, text, expected", [
    ("Little Oaks Pre-School", "Learning through play in a village hall.", (None, 4)),
    ("Riverside Nursery School", "A friendly setting with a big garden.", (None, 4)),
    ("Hilltop Preschool", "Sessions for children aged 2 to 5.", (2, 5)),
])
def test_a_pre_school_or_nursery_school_takes_children_to_4(name, text, expected):
    assert ages(text, name) == expected


def test_pre_schools_named_as_places_say_no_age():
    assert ages("Our team visits pre-schools and nursery schools to train staff.") == \
        (None, None)


@pytest.mark.parametrize("text, need", [
    ("We support children with ADHD at home and school. We do not offer ADHD assessments.",
     "adhd"),
    ("Counselling for mild eating disorders (not anorexia).", "eating_disorder"),
    ("Help for families through a cancer diagnosis. Our therapists do not treat cancer.",
     "medical"),
])
def test_a_refusal_naming_a_need_the_record_serves_does_not_exclude_it(text, need, vocab):
    facts = read(text, vocab=vocab)
    assert need not in [v for f in facts if f.field == "excludes" for v in f.value]
    found = vocab.find_in_text(text)
    assert need in found.mentioned and need not in found.excluded


@pytest.mark.parametrize("text, need", [
    ("A club for autistic teenagers. Not suitable for children with PMLD.", "pmld"),
    ("Drama for young people. We are unable to support children with epilepsy.", "epilepsy"),
    ("We do not accept referrals for ADHD.", "adhd"),
])
def test_a_refusal_of_a_need_named_nowhere_else_still_excludes_it(text, need, vocab):
    if need not in vocab.needs:
        pytest.skip(f"{need} is not in this vocabulary")
    assert need in [v for f in read(text, vocab=vocab) if f.field == "excludes" for v in f.value]
    assert need in vocab.find_in_text(text).excluded


def test_label_lines_read_for_exclusions_only_score_exclusions_only():
    from matcher.evaluation.labels import _score

    refuses = _imported("A club for autistic teenagers. Not suitable for children with PMLD.")
    limits = _imported("Counselling for mild eating disorders (not anorexia).")
    pairs = [({"excludes": ["pmld"]}, refuses),
             # Read by a person as turning away anorexia only: no value of the reading step
             # names it, so it counts against recall, never as a need the engine should refuse.
             ({"excludes": ["anorexia"]}, limits)]
    result = _score(pairs)
    assert (result["records"], result["exclusions_only"], result["read_for_exclusions"]) == \
        (0, 2, 2)
    assert result["ages"]["labelled"] == 0 and result["adults_only"]["labelled"] == 0
    assert result["needs"]["labelled"] == 0
    ex, engine = result["excludes"], result["excludes_engine"]
    assert (ex["correct"], ex["given"], ex["labelled"]) == (1, 1, 2)
    assert (engine["correct"], engine["given"], engine["labelled"]) == (1, 1, 1)


# ---------------------------------------------------------------------------------------------
# Adults only: the users' families, the organisation's ages and the organisation's own words
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Day opportunities for adults with learning disabilities; families are kept informed.",
    "Memory support for adults living with dementia. Their families can ask us questions too.",
    "A befriending scheme for people over 18. A family member can make the referral.",
])
def test_families_beside_certain_adult_users_are_those_adults_families(text):
    facts = [f for f in read(text) if f.field == "adults_only"]
    assert facts and all(f.confidence == "certain" for f in facts)


@pytest.mark.parametrize("text", [
    "Support for adults with autism and their children.",
    "A family day out for adults with a disability, their kids and grandparents.",
    "Our adult learning courses; family members welcome.",      # only likely: families stop it
    "Sessions for adults with hearing loss and young people who sign.",
])
def test_children_named_or_only_likely_adults_with_families_is_not_adults_only(text):
    assert not values(read(text), "adults_only")


def _read_org(description: str, organisation: str, name: str = "A group") -> list[Fact]:
    facts = read_service(name, description, (), None, organisation=organisation)
    _check_provenance(facts, name, description, ())
    return facts


@pytest.mark.parametrize("organisation, text, expected", [
    ("Harbour Music", "Harbour Music runs sessions for people aged 14 and over. Our choir is "
                      "for adults aged 18 and over.", (18, None)),
    ("Oak Trust", "The Oak Trust offers activities for children aged 5 to 16. This club is for "
                  "ages 8 to 11.", (8, 11)),
    ("Riverside Arts", "Riverside Arts is a charity for people aged 11 to 25. Our film club "
                       "welcomes 16 to 25 year olds.", (16, 25)),
])
def test_a_groups_own_ages_beat_its_organisations(organisation, text, expected):
    lo, hi, fact = effective_ages(_read_org(text, organisation))
    assert (lo, hi) == expected and fact is not None and fact.confidence == "certain"
    assert not fact.quote.startswith(organisation)


@pytest.mark.parametrize("organisation, text, expected", [
    # The organisation's ages are all the record states: they stand.
    ("Harbour Music", "Harbour Music provides lessons for ages 14 and over. Come and sing "
                      "with us.", (14, None)),
    # The organisation is not the sentence's subject: both ages are the service's, the lower
    # one kept as before.
    ("Harbour Music", "Sessions at Harbour Music are for ages 14 and over. Our choir is for "
                      "adults aged 18 and over.", (14, None)),
    # No organisation named: the lower of two stated minimums.
    ("", "Harbour Music runs sessions for people aged 14 and over. Our choir is for adults "
         "aged 18 and over.", (14, None)),
])
def test_organisation_ages_stand_when_nothing_else_is_said_of_the_group(organisation, text,
                                                                         expected):
    lo, hi, _ = effective_ages(_read_org(text, organisation))
    assert (lo, hi) == expected


def _read_with_org(name: str, description: str, org_words: str, tags=()) -> list[Fact]:
    facts = read_service(name, description, tags, None, organisation_description=org_words)
    own = [f for f in facts if f.source != "organisation"]
    _check_provenance(own, name, description, tags)
    for f in facts:
        if f.source == "organisation":
            assert f.quote and f.quote in org_words and len(f.quote) <= 120, f
    return facts


@pytest.mark.parametrize("name, text, org_words", [
    ("Memory Cafe", "Tea, cake and company every Tuesday afternoon.",
     "The Elm Trust supports adults with dementia across the county."),
    ("Garden project", "Come and grow vegetables with us; all tools provided.",
     "We are a charity for people over 18 living with mental ill health."),
    ("Craft afternoons", "Drop in for crafts and a chat. Open to all.",
     "A community space for adults only, run by volunteers."),
])
def test_an_organisation_serving_adults_only_makes_its_quiet_service_adults_only(
        name, text, org_words):
    facts = _read_with_org(name, text, org_words)
    adults = [f for f in facts if f.field == "adults_only"]
    assert adults and adults[0].source == "organisation" and adults[0].confidence == "certain"


@pytest.mark.parametrize("name, text, org_words, tags", [
    # The service names children, states ages of its own, or is tagged for parents.
    ("Family fun day", "Bring the children along for games and a picnic.",
     "The Elm Trust supports adults with dementia across the county.", ()),
    ("Youth drop-in", "A drop-in for ages 13 to 19.",
     "We are a charity for people over 18 living with mental ill health.", ()),
    ("Advice line", "Call us for advice and a listening ear.",
     "The Elm Trust supports adults with dementia across the county.", ("Parents",)),
    ("Carers' cafe", "A monthly cafe for parents and carers.",
     "The Elm Trust supports adults with dementia across the county.", ()),
    # The organisation only suggests adults ("adult education"), or names no adults at all:
    # housing advice tagged Men and Women is open to anyone.
    ("Evening classes", "Courses in pottery and Spanish.",
     "Our adult education service runs courses across the town.", ()),
    ("Housing advice", "Help to find a home and keep it.",
     "We give free housing advice to anyone who needs it.", ("Men", "Women")),
    # The organisation serves adults and children.
    ("Swimming", "Lessons on Saturday mornings.",
     "The club welcomes adults and children of every ability.", ()),
])
def test_an_organisation_is_not_read_as_adults_only_where_its_words_or_the_service_say_otherwise(
        name, text, org_words, tags):
    facts = _read_with_org(name, text, org_words, tags)
    assert not [f for f in facts if f.field == "adults_only" and f.confidence == "certain"]


def test_an_organisations_adults_only_makes_18_the_services_minimum_at_import():
    from matcher.ingest.reading import apply_reading
    from matcher.services import ServiceRecord

    words = "The Elm Trust is a charity supporting anyone aged 18+ in the valley, by phone."
    record = apply_reading(ServiceRecord(id="t1", name="Walking group", categories=[],
                                         description="A gentle walk and a chat each week."),
                           (), load_vocabulary(), organisation_description=words)
    assert (record.min_age, record.max_age) == (18, None)
    used = [f for f in record.facts if f["used"] and f["field"] == "adults_only"]
    assert used and used[0]["source"] == "organisation"
    assert used[0]["quote"] == "is a charity supporting anyone aged 18+ in the valley"
