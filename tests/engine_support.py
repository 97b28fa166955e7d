"""Shared helpers for the engine tests (tests/test_engine_*.py): synthetic directories built
from :class:`~matcher.services.ServiceRecord` lists on real postcodes, and an explicit config.

Not a test module itself; imported by the test files beside it.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from matcher.engine.config import MatchConfig, parse_config
from matcher.geo.postcodes import PostcodeIndex
from matcher.services import ServiceRecord
from matcher.vocab import Vocabulary

__all__ = [
    "TODAY",
    "POSTCODES",
    "EXPLICIT_CONFIG",
    "explicit_config",
    "make_record",
    "property_directory",
]

#: The fixed "today" of the golden and freshness tests.
TODAY = dt.date(2026, 11, 22)

#: Real postcodes (OS Code-Point Open) used for services and families. Distances from N7 8JN
#: in straight-line miles: N7 6PA 0.4, N7 0AE 1.0, N1 9GU 1.1, EC1V 1NB 1.4, EC1V 4PA 1.6,
#: N16 8JH 1.6, N19 3TS 1.7, E8 1DY 2.4, N22 6BH 2.9, E15 1AA 5.1, LS6 3HN ~170.
POSTCODES = (
    "N7 8JN", "N7 9DP", "N7 6PA", "N7 0AE", "N19 5JT", "N19 3TS", "N1 1QN", "N1 9GU",
    "N5 1XL", "N4 2DA", "N16 8JH", "E8 1DY", "EC1V 4PA", "EC1V 1NB", "EC1A 1BB", "N22 6BH",
    "N8 0AE", "E15 1AA", "W2 1HB", "LS6 3HN", "M1 1AE",
)

#: A complete configuration written out in full, so that golden explanations do not move
#: when the lead tunes data/match_config.toml.
EXPLICIT_CONFIG: dict[str, Any] = {
    "weights": {"need": 0.30, "intent": 0.10, "text": 0.25, "travel": 0.15, "transition": 0.15,
                "preferences": 0.15, "language": 0.10, "freshness": 0.02},
    "need": {"exact": 1.0, "same_code": 0.7, "same_area": 0.5, "all_send": 0.55,
             "unstated": 0.3, "from_text": 0.85, "from_text_when_stated": 0.5,
             "about_weight": 0.6, "max_share": 0.6, "exclude_other_needs": True,
             "no_needs_given": 0.5,
             "exclusive_groups": [["mld", "sld", "pmld"],
                                  ["hearing_impairment", "vision_impairment",
                                   "physical_disability", "sensory_processing"]],
             "topic_needs": ["behaviour", "sleep", "feeding", "continence",
                             "awaiting_diagnosis"]},
    "intent": {"ask_weight": 3.0, "max_count": 6.0},
    "text": {"cap": 0.30, "ngram_max": 2, "min_df": 1, "max_features": 50000},
    "travel": {
        "default_mode": "public_transport", "default_max_minutes": 30, "unknown": 0.5,
        "full_until": 0.5, "at_limit": 0.6, "beyond_scale": 0.15,
        "modes": {
            "walk": {"speed_kmh": 4.8, "route_factor": 1.3, "overhead_min": 0.0,
                     "label": "walk"},
            "public_transport": {"speed_kmh": 14.8, "route_factor": 1.3, "overhead_min": 8.0,
                                 "label": "public transport"},
            "car": {"speed_kmh": 20.0, "route_factor": 1.3, "overhead_min": 5.0,
                    "label": "car"},
            "travel_assistance": {"speed_kmh": 20.0, "route_factor": 1.3,
                                  "overhead_min": 10.0, "label": "council travel assistance"},
        },
        "statutory_walking": {"under_8_miles": 2.0, "from_8_miles": 3.0, "min_age": 5,
                              "max_age": 16},
    },
    "eligibility": {"lookahead_years": 1,
                    "lookahead_transitions": ["into_early_years", "early_years_to_primary",
                                              "primary_to_secondary", "secondary_to_post16"],
                    "free_for_some_is_free": True},
    "transition": {
        "same": 1.0, "other_transition": 0.2, "related_category": 0.5,
        "destination_min_age": {"into_early_years": 2, "early_years_to_primary": 5,
                                "primary_to_secondary": 11, "secondary_to_post16": 16,
                                "preparing_for_adulthood": 18},
        "related_categories": {"into_early_years": ["education"],
                               "early_years_to_primary": ["education"],
                               "primary_to_secondary": ["education"],
                               "secondary_to_post16": ["education", "training_employment"],
                               "preparing_for_adulthood": ["training_employment",
                                                           "social_care"]},
    },
    "language": {"mentioned": 0.7, "not_listed": 0.35, "other_community": 0.2},
    "freshness": {"stale_after_days": 365, "stale": 0.0, "unknown": 0.5},
    "rank": {"limit_default": 10, "limit_max": 50, "kind": "category_organisation",
             "same_kind_allowance": 2,
             "same_kind_penalty": 0.08, "min_score": 0.0},
    "explain": {"max_reasons": 5, "not_suggested_limit": 200},
}


def explicit_config(**overrides: Any) -> MatchConfig:
    """:data:`EXPLICIT_CONFIG` validated, with top-level sections updated by ``overrides``."""
    data = copy.deepcopy(EXPLICIT_CONFIG)
    for section, values in overrides.items():
        data[section].update(values)
    return parse_config(data, source="explicit test config")


def make_record(gazetteer: PostcodeIndex, vocab: Vocabulary, id: str, name: str,
                description: str, categories: list[str], needs_raw: str = "",
                postcode: str | None = None, **fields: Any) -> ServiceRecord:
    """A record as the importer would make it: needs normalised, postcode resolved, delivery
    defaulted (in person with a postcode, else online)."""
    lat = lon = None
    if postcode:
        loc = gazetteer.lookup(postcode)
        postcode, lat, lon = loc.postcode, loc.latitude, loc.longitude
    needs: list[str] = []
    unrecognised: list[str] = []
    if needs_raw:
        norm = vocab.normalise([w for w in needs_raw.split(";") if w.strip()])
        needs, unrecognised = norm.needs, norm.unrecognised
    fields.setdefault("delivery", ["in_person"] if postcode else ["online"])
    return ServiceRecord(
        id=id, name=name, description=description, categories=categories,
        needs_raw=needs_raw, needs=needs, needs_unrecognised=unrecognised,
        postcode=postcode, latitude=lat, longitude=lon, **fields,
    )


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def property_directory(gazetteer: PostcodeIndex, vocab: Vocabulary) -> list[ServiceRecord]:
    """Forty varied services around north London, plus a few far away: every rule and scorer
    has services on both sides of it."""
    def r(*args: Any, **kw: Any) -> ServiceRecord:
        return make_record(gazetteer, vocab, *args, **kw)

    return [
        r("P01", "Holloway Autism Youth Club", "Weekly club for autistic young people: games, "
          "art and a quiet room.", ["leisure"], "autism", "N7 9DP", min_age=8, max_age=14,
          cost="free", service_area=["N7", "N19"], when=["weekends"],
          accessibility=["sensory_friendly", "quiet_space"], last_reviewed=_d("2026-06-01")),
        r("P02", "ADHD Parent Group", "Peer support for parents of children with ADHD.",
          ["support_advice"], "ADHD", "N19 5JT", min_age=0, max_age=18, cost="free",
          when=["evenings"], last_reviewed=_d("2026-02-10")),
        r("P03", "Dyslexia Tutoring", "One-to-one literacy tutoring for dyslexic pupils.",
          ["education"], "dyslexia", "N1 1QN", min_age=6, max_age=16, cost="paid",
          cost_details="£25 an hour", last_reviewed=_d("2026-01-15")),
        r("P04", "SENDIASS Helpline", "Free, impartial information, advice and support about "
          "SEND for families.", ["support_advice"], "all SEND", None, min_age=0, max_age=25,
          cost="free", delivery=["phone", "online"], service_area=["national"],
          last_reviewed=_d("2026-09-01")),
        r("P05", "Elm Special School", "Special school for autistic pupils and pupils with "
          "speech and language needs.", ["education"], "autism; SLCN", "N7 0AE",
          min_age=4, max_age=19, ehcp_required=True, service_area=["N7"],
          last_reviewed=_d("2026-05-05")),
        r("P06", "Hornsey Road Resourced Provision", "Secondary autism base within a "
          "mainstream school.", ["education"], "autism", "N7 6PA", min_age=11, max_age=16,
          transitions=["primary_to_secondary"], cost="free", last_reviewed=_d("2026-03-03")),
        r("P07", "Moving Up Workshops", "Workshops to prepare Year 6 pupils for secondary "
          "school.", ["transition"], "all SEND", "N19 3TS", min_age=10, max_age=11,
          transitions=["primary_to_secondary"], cost="free", last_reviewed=_d("2026-07-01")),
        r("P08", "Hackney Post-16 College", "Foundation learning for students with learning "
          "disabilities and autism.", ["education"], "learning disability; autism", "E8 1DY",
          min_age=16, max_age=25, transitions=["secondary_to_post16"],
          service_area=["E8", "N16"], last_reviewed=_d("2026-04-04")),
        r("P09", "Supported Internships", "Year-long supported internships with a job coach.",
          ["training_employment"], "learning disability", "N1 9GU", min_age=16, max_age=24,
          ehcp_required=True, transitions=["preparing_for_adulthood"], cost="free",
          last_reviewed=_d("2026-08-08")),
        r("P10", "Speech and Language Therapy", "NHS speech and language therapy for "
          "children.", ["health"], "speech delay; SLCN", "N7 6PA", min_age=0, max_age=18,
          cost="free", referral=["gp"], last_reviewed=_d("2026-10-10")),
        r("P11", "Calm Minds Online", "An online course for teenagers with anxiety.",
          ["health"], "anxiety", None, min_age=11, max_age=18, cost="free",
          service_area=["national"], last_reviewed=_d("2026-02-02")),
        r("P12", "Deaf Swimming Club", "Swimming lessons for deaf children with BSL "
          "instructors.", ["leisure"], "hearing impairment", "N16 8JH", min_age=5,
          max_age=16, cost="paid", accessibility=["bsl"], languages=["English", "BSL"]),
        r("P13", "Habilitation Service", "Mobility and independence training at home for "
          "children with a visual impairment.", ["health"], "visual impairment", None,
          min_age=0, max_age=19, cost="free", delivery=["home_visit"],
          service_area=["N1", "N7", "N19"], last_reviewed=_d("2025-12-01")),
        r("P14", "Wheelchair Basketball", "Wheelchair basketball for young people with "
          "physical disabilities.", ["leisure"], "physical disability", "N22 6BH",
          min_age=8, max_age=25, cost="free_for_some", accessibility=["wheelchair"],
          last_reviewed=_d("2026-06-06")),
        r("P15", "Holiday Play Scheme", "Short breaks in the school holidays for children "
          "with autism and learning disabilities.", ["short_breaks"], "", "N8 0AE",
          min_age=5, max_age=17, cost="free", when=["school_holidays"],
          last_reviewed=_d("2026-05-20")),
        r("P16", "Little Acorns Nursery", "Inclusive nursery with SEN support.",
          ["education"], "all SEND", "N7 9DP", min_age=2, max_age=4,
          transitions=["into_early_years", "early_years_to_primary"],
          last_reviewed=_d("2026-09-09")),
        r("P17", "Grove Primary School", "Mainstream primary school with a SENCo.",
          ["education"], "", "N5 1XL", min_age=4, max_age=11,
          transitions=["early_years_to_primary"], cost="free"),
        r("P18", "Children's Wellbeing Clinic", "Assessment and therapy for anxiety, low mood "
          "and self-harm.", ["health"], "anxiety; depression; self harm", "N19 5JT",
          min_age=0, max_age=18, cost="free", referral=["professional"],
          last_reviewed=_d("2026-03-30")),
        r("P19", "Tic Talk", "Online support group for young people with Tourette's.",
          ["support_advice"], "Tourette's", None, min_age=8, max_age=18, cost="free",
          last_reviewed=_d("2026-01-01")),
        r("P20", "Relaxed Cinema", "Relaxed screenings for autistic and sensory sensitive "
          "audiences.", ["leisure"], "", "N7 6PA", accessibility=["sensory_friendly"]),
        r("P21", "Clerkenwell Youth Club", "Inclusive youth club.", ["leisure"], "all SEND",
          "EC1V 4PA", min_age=11, max_age=19, cost="free", service_area=["EC1"],
          when=["evenings"], last_reviewed=_d("2026-04-01")),
        r("P22", "City Road Youth Club", "Inclusive youth club on City Road.", ["leisure"],
          "all SEND", "EC1V 1NB", min_age=11, max_age=19, cost="free",
          service_area=["EC1V"], last_reviewed=_d("2026-04-02")),
        r("P23", "Parent Carer Forum", "Parents of disabled children working with the council.",
          ["support_advice"], "all SEND", "N1 1QN", cost="free",
          service_area=["N1", "N4", "N5", "N7", "N19", "EC1V"], last_reviewed=_d("2026-10-01")),
        r("P24", "Kick About Football", "Inclusive football. Not suitable for children with "
          "ADHD.", ["leisure"], "", "N7 0AE", min_age=6, max_age=14, cost="paid",
          when=["weekends"], last_reviewed=_d("2026-02-20")),
        r("P25", "Move Well OT", "Occupational therapy for children with dyspraxia.",
          ["health"], "dyspraxia", "N4 2DA", min_age=4, max_age=16, cost="paid",
          delivery=["in_person", "home_visit"], last_reviewed=_d("2026-06-15")),
        r("P26", "Up Together", "Family group for children with Down syndrome.",
          ["support_advice"], "Down's syndrome", "N16 8JH", min_age=0, max_age=25,
          cost="free", last_reviewed=_d("2026-07-07")),
        r("P27", "Epilepsy Nurse Line", "Advice line from specialist epilepsy nurses.",
          ["health"], "epilepsy", None, min_age=0, max_age=19, cost="free",
          delivery=["phone"], service_area=["national"], last_reviewed=_d("2026-05-01")),
        r("P28", "Travel Training", "Independent travel training for young people.",
          ["travel"], "all SEND", "N7 9DP", min_age=11, max_age=25, cost="free",
          transitions=["secondary_to_post16", "preparing_for_adulthood"],
          last_reviewed=_d("2026-08-01")),
        r("P29", "Headingley Autism School", "Independent special school for autistic pupils.",
          ["education"], "autism", "LS6 3HN", min_age=5, max_age=19, service_area=["LS6"],
          cost="paid", last_reviewed=_d("2026-01-20")),
        r("P30", "Manchester Day Service", "Day opportunities for adults with learning "
          "disabilities.", ["social_care"], "learning disability", "M1 1AE", min_age=18,
          max_age=25, cost="paid", last_reviewed=_d("2026-03-15")),
        r("P31", "Sleep Clinic", "Help for children who sleep badly.", ["health"],
          "sleep problems", "N19 3TS", min_age=2, max_age=12, cost="free",
          last_reviewed=_d("2026-02-14")),
        r("P32", "Positive Behaviour Team", "Behaviour support for autistic children and their "
          "families.", ["health"], "autism; behaviour", "N7 6PA", min_age=4, max_age=16,
          cost="free", last_reviewed=_d("2026-09-19")),
        r("P33", "Stage Door Drama", "Saturday drama club for everyone.", ["leisure"], "",
          "N5 1XL", min_age=7, max_age=15, cost="paid", when=["weekends"],
          last_reviewed=_d("2023-01-10")),
        r("P34", "Numbers and Letters Online", "Online homework help for dyslexia and "
          "dyscalculia.", ["education"], "dyslexia; dyscalculia", None, min_age=8,
          max_age=14, cost="free", last_reviewed=_d("2026-04-15")),
        r("P35", "Brook Alternative Provision", "Alternative provision for pupils with social, "
          "emotional and mental health needs.", ["education"], "SEMH", "E8 1DY", min_age=11,
          max_age=16, ehcp_required=True, service_area=["E8", "N16", "N7"],
          last_reviewed=_d("2026-06-30")),
        r("P36", "Sensory Room Sessions", "Sensory room for children with profound and "
          "multiple learning difficulties.", ["short_breaks"], "PMLD", "N7 0AE", min_age=0,
          max_age=19, cost="free_for_some", accessibility=["changing_places"],
          last_reviewed=_d("2026-08-20")),
        r("P37", "Sibling Support Online", "Online groups for brothers and sisters of disabled "
          "children.", ["support_advice"], "all SEND", None, min_age=8, max_age=17,
          cost="free", last_reviewed=_d("2026-10-20")),
        r("P38", "Careers Adviser", "Careers guidance for young people with SEND.",
          ["training_employment"], "all SEND", "N1 9GU", min_age=14, max_age=25, cost="free",
          delivery=["in_person", "phone"], transitions=["preparing_for_adulthood"],
          last_reviewed=_d("2026-05-25")),
        r("P39", "Music Therapy", "Music therapy for autistic children and children with "
          "learning disabilities.", ["health"], "autism; learning disabilities", "W2 1HB",
          min_age=3, max_age=18, cost="paid", last_reviewed=_d("2026-07-17")),
        r("P40", "Turkish Families Group", "Support for Turkish-speaking families of "
          "children with SEND.", ["support_advice"], "all SEND", "N16 8JH", min_age=0,
          max_age=25, cost="free", languages=["English", "Turkish"],
          last_reviewed=_d("2026-09-30")),
    ]
