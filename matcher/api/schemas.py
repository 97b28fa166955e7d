"""Request and response bodies of the HTTP API (pydantic v2).

``MatchRequest`` is the family's profile of contract section 2 plus ``explain``;
``MatchResponse.results`` is fixed by contract section 3. Other fields may be added, never
renamed or dropped.

Error bodies (every route):

- 401, 403, 404, 503: ``{"detail": "<one plain-English sentence>"}`` (:class:`Message`);
  a 404 for a postcode adds ``"suggestions"``;
- 413: ``{"detail": "The request body is too large: ..."}``;
- 422: ``{"detail": [{"field": "age", "message": "age must be between 0 and 25",
  "type": "less_than_equal"}]}`` (:class:`ValidationProblem`): one item per problem,
  ``field`` a dotted path into the body or the name of the query/path parameter
  (``travel.max_minutes``, ``needs[2]``, ``size``), ``message`` plain English starting with
  the field, ``type`` a stable machine-readable code (pydantic's error type, or
  ``postcode_format``/``postcode_not_found``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from matcher.engine.profile import Profile
from matcher.plans import Plan, PlanContent
from matcher.store.feedback import FeedbackKind

__all__ = [
    "Message",
    "FieldProblem",
    "ValidationProblem",
    "PostcodeNotFound",
    "MatchRequest",
    "Contribution",
    "Explanation",
    "MatchResult",
    "UnderstoodNeed",
    "NotSuggested",
    "GuidanceLink",
    "MatchResponse",
    "ServiceSummary",
    "ServiceDetail",
    "ServicePage",
    "PostcodeAnswer",
    "NeedInfo",
    "Vocabularies",
    "NormaliseRequest",
    "NeedMatchOut",
    "NormaliseResponse",
    "FeedbackRequest",
    "FeedbackReceipt",
    "FeedbackCounts",
    "FeedbackSummary",
    "ImportProblem",
    "ImportResult",
    "ImportRefused",
    "PlanContent",
    "Plan",
    "PlanList",
    "Health",
    "VersionInfo",
]


# --------------------------------------------------------------------------- errors
class Message(BaseModel):
    """A plain-English error (401, 403, 404, 413, 503)."""

    detail: str = Field(..., examples=["No service with id 'S-999'."])


class FieldProblem(BaseModel):
    """One thing wrong with a request."""

    field: str = Field(..., description="dotted path into the body, or a parameter's name",
                       examples=["age"])
    message: str = Field(..., description="what is wrong, in plain English",
                         examples=["age must be between 0 and 25"])
    type: str = Field(..., description="stable machine-readable code", examples=["less_than_equal"])
    suggestions: list[str] | None = Field(None, description="for a postcode that was not "
                                                            "found: close real postcodes")


class ValidationProblem(BaseModel):
    """The 422 answer: every problem of the request at once."""

    detail: list[FieldProblem]


class PostcodeNotFound(BaseModel):
    """The 404 answer of ``GET /postcodes/{postcode}``."""

    detail: str
    suggestions: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- match
_MATCH_EXAMPLE = {
    "age": 10,
    "needs": ["autism", "anxiety"],
    "about": "He finds noisy places hard and is starting secondary school in September.",
    "postcode": "N7 8JN",
    "travel": {"mode": "public_transport", "max_minutes": 30},
    "transition": "primary_to_secondary",
    "has_ehcp": False,
    "preferences": {"free_only": True, "categories": ["leisure"], "when": ["weekends"],
                    "accessibility": ["sensory_friendly"]},
    "limit": 10,
    "explain": "brief",
}


class MatchRequest(Profile):
    """A family's profile (contract section 2) and how much explanation to return."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_MATCH_EXAMPLE]})

    explain: Literal["brief", "full"] = Field(
        "brief", description="'full' adds each result's numeric contributions and the services "
                             "not suggested, with the reasons why")


class Contribution(BaseModel):
    """One component's part of a score: ``points = weight * value``."""

    component: str
    value: float
    weight: float
    points: float
    label: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class Explanation(BaseModel):
    """The waterfall: ``base`` plus the contributions' points gives ``total``."""

    base: float
    contributions: list[Contribution]
    total: float


class MatchResult(BaseModel):
    """One suggested service (contract section 3: service_id, name, score, reasons)."""

    service_id: str
    name: str
    score: float
    reasons: list[str]
    organisation: str = ""
    categories: list[str] = Field(default_factory=list)
    travel_minutes: float | None = None
    distance_km: float | None = None
    min_age: int | None = None
    max_age: int | None = None
    cost: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    last_reviewed: str | None = None
    explanation: Explanation | None = Field(None, description="only with explain=full")


class UnderstoodNeed(BaseModel):
    """A need read from the family's words."""

    model_config = ConfigDict(populate_by_name=True)

    words: str = Field(..., description="the family's own words")
    need: str = Field(..., description="canonical need id, or a broad area 'area:ci'")
    label: str
    source: str = Field(..., alias="from",
                        description="'needs' (the needs list) or 'about' (the free text)")


class UnderstoodWords(BaseModel):
    """Some of the family's words, and what they were read as (so that they can correct it)."""

    words: str = Field(..., description="the family's own words, as written")
    as_: str = Field(..., alias="as", description="what they were read as, in plain English")
    kind: str = Field(..., description="'need' (a need of the child), 'ask' (a kind of help "
                                       "they ask for), 'help' (a kind of help their words point "
                                       "to without asking) or 'situation' (when or where things "
                                       "happen, not a request)")
    id: str = Field("", description="the need id (kind 'need') or the service category")

    model_config = ConfigDict(populate_by_name=True)


class NotSuggested(BaseModel):
    """A service left out, and why (only with explain=full)."""

    service_id: str
    name: str
    status: str = Field(..., description="'near_miss' (fails exactly one hard rule) or "
                                         "'excluded' (fails two or more)")
    reasons: list[str]
    score_if_eligible: float


class GuidanceLink(BaseModel):
    """A guidance page to show beside the results, and why (:mod:`matcher.guidance`)."""

    page: Literal["ehc_assessment", "complain_or_appeal"]
    reason: str


class MatchResponse(BaseModel):
    """The answer to ``POST /match``; ``results`` is in rank order, best first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "results": [{
            "service_id": "S-001", "name": "Saturday Sensory Swim", "score": 0.87,
            "reasons": ["Supports autistic children: you mentioned autism",
                        "About 12 minutes by public transport",
                        "For ages 5 to 16; your child is 10"],
            "organisation": "Islington Leisure", "categories": ["leisure"],
            "travel_minutes": 12.0, "distance_km": 1.8, "min_age": 5, "max_age": 16,
            "cost": "free", "postcode": "N7 7EL", "latitude": 51.55, "longitude": -0.11,
            "last_reviewed": "2025-03-01", "explanation": None}],
        "understood_needs": [{"words": "autism", "need": "autism", "label": "Autism",
                              "from": "needs"}],
        "unrecognised_needs": [],
        "understood": [{"words": "autism", "as": "Autism", "kind": "need", "id": "autism"},
                       {"words": "after school", "kind": "situation", "id": "education",
                        "as": "when or where things happen, not a request for a school, "
                              "nursery or college place"}],
        "candidates": 120, "excluded": 28, "not_suggested": None,
        "data_version": "3f2a9c01d4e5b6a7",
    }]})

    results: list[MatchResult]
    understood_needs: list[UnderstoodNeed] = Field(default_factory=list)
    unrecognised_needs: list[str] = Field(
        default_factory=list, description="needs words we did not recognise (kept, not errors)")
    candidates: int = Field(0, description="services that passed every hard rule")
    excluded: int = Field(0, description="services that failed at least one hard rule")
    excluded_by_rule: dict[str, int] = Field(
        default_factory=dict, description="how many services each hard rule excluded")
    not_suggested: list[NotSuggested] | None = Field(None, description="only with explain=full")
    data_version: str = Field("", description="the directory version the answer was computed on")
    understood: list[UnderstoodWords] = Field(
        default_factory=list, description="each of the family's words (needs list and free text) "
        "that was understood, and as what, in the order written")
    guidance: list[GuidanceLink] = Field(
        default_factory=list,
        description="guidance pages the family's own words call for (EHC needs assessment; "
                    "complain or appeal), each with the reason")


# --------------------------------------------------------------------------- services
class ServiceSummary(BaseModel):
    """A service as listed by ``GET /services``."""

    id: str
    name: str
    organisation: str = ""
    categories: list[str]
    needs: list[str] = Field(default_factory=list)
    min_age: int | None = None
    max_age: int | None = None
    postcode: str | None = None
    delivery: list[str] = Field(default_factory=list)
    cost: str | None = None
    url: str = ""


class ServiceFact(BaseModel):
    """One thing the reading step found in the record's own words."""

    field: str = Field(..., description="what it is about: min_age, max_age, audience, "
                                         "adults_only, excludes, threshold, ehcp_required, ...")
    value: Any
    quote: str = Field(..., description="the record's words, verbatim")
    source: str = Field(..., description="where the words are: name, description, tags or "
                                           "organisation (the provider's description of "
                                           "itself)")
    confidence: Literal["certain", "likely"]
    used: bool = Field(False, description="true when it filled a field the record left unknown")
    conflict: bool = Field(False, description="true when it disagrees with a stated field")
    listing: dict[str, int | None] | None = Field(
        None, description="for ages the words narrowed (a listing's broad band against the "
                          "record's own numbers, inside it): what the listing said, "
                          "{min_age, max_age}")


Origin = Literal["stated", "read", "suggested", "unknown"]


class BelievedAges(BaseModel):
    min_age: int | None = None
    max_age: int | None = None
    from_: Origin = Field(..., alias="from", description="stated: a field; read: filled from "
                          "the record's words (quote); suggested: the words suggest it and it "
                          "only moves the score; unknown")
    quote: str | None = None
    model_config = ConfigDict(populate_by_name=True)


class BelievedValues(BaseModel):
    values: list[str] = Field(default_factory=list)
    from_: Origin = Field(..., alias="from")
    model_config = ConfigDict(populate_by_name=True)


class BelievedValue(BaseModel):
    value: Any = None
    from_: Origin = Field(..., alias="from")
    model_config = ConfigDict(populate_by_name=True)


class BelievedNeeds(BaseModel):
    stated: list[str] = Field(default_factory=list)
    from_words: list[str] = Field(default_factory=list, description="needs its name and "
                                  "description mention, which also count (with less weight)")
    ruled_out: list[str] = Field(default_factory=list, description="needs its words say it "
                                 "does not support")


class ServiceBeliefs(BaseModel):
    """What the engine works with when it matches this service, and where each comes from."""

    ages: BelievedAges
    audience: BelievedValues
    needs: BelievedNeeds
    open_to_any_send: bool
    threshold: str | None = Field(None, description="the words saying it is only for severe "
                                  "or complex needs, a diagnosis or named needs")
    delivery: BelievedValues
    cost: BelievedValue
    ehcp_required: BelievedValue
    conflicts: list[ServiceFact] = Field(default_factory=list)
class Rating(BaseModel):
    """An inspection or regulator judgement, as the record gives it."""

    body: str = Field(..., description="who gave it, e.g. Ofsted or CQC")
    rating: str
    date: str = Field("", description="YYYY-MM-DD, or empty when not given")
    url: str = ""


class Outcome(BaseModel):
    """Outcomes or destinations in the provider's own words."""

    text: str
    year: int | None = None


class ServiceDetail(BaseModel):
    """Everything stored about one service (the normalised record), the facts read from its
    own words, and what the engine believes about it (``beliefs``)."""

    id: str
    name: str
    description: str
    categories: list[str]
    organisation: str = ""
    needs_raw: str = ""
    needs: list[str] = Field(default_factory=list)
    needs_unrecognised: list[str] = Field(default_factory=list)
    min_age: int | None = None
    max_age: int | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    service_area: list[str] = Field(default_factory=list)
    delivery: list[str] = Field(default_factory=list)
    cost: str | None = None
    cost_details: str = ""
    when: list[str] = Field(default_factory=list)
    accessibility: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    referral: list[str] = Field(default_factory=list)
    ehcp_required: bool = False
    transitions: list[str] = Field(default_factory=list)
    url: str = ""
    phone: str = ""
    email: str = ""
    last_reviewed: dt.date | None = None
    source: str = "csv"
    audience: list[str] = Field(default_factory=list)
    status: str = "active"
    facts: list[ServiceFact] = Field(default_factory=list)
    beliefs: ServiceBeliefs | None = None
    ratings: list[Rating] = Field(
        default_factory=list, description="inspection or regulator ratings, each with its date")
    accreditations: list[str] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(
        default_factory=list, description="outcomes or destinations in the provider's words")
    outside_area: bool = Field(False, description="the service lies outside the council's area")
    used_by_local_families: bool = Field(
        False, description="the council expects its families to use it")


class ServicePage(BaseModel):
    """One page of services, ordered by id."""

    total: int = Field(..., description="services matching the filters, on all pages")
    page: int
    size: int
    items: list[ServiceSummary]


# --------------------------------------------------------------------------- postcodes
class PostcodeAnswer(BaseModel):
    """Where a postcode, sector or district is."""

    query: str
    postcode: str = Field(..., description='formatted: "N7 8JN", sector "N7 8", district "N7"')
    kind: Literal["postcode", "sector", "district"]
    district: str
    latitude: float
    longitude: float
    count: int = Field(..., description="postcodes behind a centroid (1 for a full postcode)")


# --------------------------------------------------------------------------- vocabularies
class NeedInfo(BaseModel):
    """One canonical need."""

    id: str
    label: str
    areas: list[str]
    code: str | None = None
    phrase: str = ""
    synonyms: list[str] = Field(default_factory=list)


class Vocabularies(BaseModel):
    """The needs taxonomy and the closed vocabularies of the service template."""

    needs: list[NeedInfo]
    areas: dict[str, str]
    categories: dict[str, str]
    delivery: dict[str, str]
    when: dict[str, str]
    accessibility: dict[str, str]
    referral: dict[str, str]
    transitions: dict[str, str]
    travel_modes: dict[str, str]
    cost: dict[str, str]


class NormaliseRequest(BaseModel):
    """Needs words to normalise."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"words": ["autisim", "ADHD", "finds school hard"]}]})

    words: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        ..., min_length=1, max_length=30,
                             description="needs in anyone's words, misspellings welcome")


class NeedMatchOut(BaseModel):
    """How one piece of text was understood."""

    text: str
    need: str
    label: str
    confidence: float
    method: str


class NormaliseResponse(BaseModel):
    """Canonical needs (in order of first mention) and the words not recognised."""

    needs: list[str]
    matches: list[NeedMatchOut]
    unrecognised: list[str]


# --------------------------------------------------------------------------- feedback
class FeedbackRequest(BaseModel):
    """Anonymous feedback about one service. Nothing else is accepted or stored."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"service_id": "S-001", "kind": "out_of_date"}]})

    service_id: str = Field(..., min_length=1, max_length=200)
    kind: FeedbackKind = Field(..., description="helpful, not_helpful or out_of_date")
    session: str | None = Field(None, min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$",
                                description="a random token of the browser session: one "
                                            "session's feedback on a service counts once")


class FeedbackReceipt(BaseModel):
    """What was stored: the service, the kind and the hour (``counted`` false and no hour when
    this session had already given feedback on this service)."""

    service_id: str
    kind: FeedbackKind
    recorded_at: dt.datetime | None = Field(..., description="to the hour only")
    counted: bool = True


class FeedbackCounts(BaseModel):
    """Counts per kind for one service."""

    service_id: str
    helpful: int = 0
    not_helpful: int = 0
    out_of_date: int = 0


class FeedbackSummary(BaseModel):
    """Feedback counts per service (commissioners)."""

    services: list[FeedbackCounts]


# --------------------------------------------------------------------------- import
class ImportProblem(BaseModel):
    """One problem or warning of an import, located as a spreadsheet shows it."""

    row: int
    column: str
    value: str
    problem: str
    fix: str
    line: int | None = None


class ImportResult(BaseModel):
    """What ``POST /import`` did: counts and the validation report."""

    source: str
    rows_read: int
    accepted: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    problems: list[ImportProblem]
    warnings: list[ImportProblem]
    imported: bool = True
    data_version: str
    services: int = Field(..., description="services in the directory after the import")


class ImportRefused(BaseModel):
    """The 422 answer of ``POST /import``: nothing was imported. ``detail`` is a sentence and
    ``report`` the full validation report when the file was unusable or refused in strict
    mode; ``detail`` is the usual list of field problems when the request itself was wrong
    (no ``file`` part)."""

    detail: str | list[FieldProblem]
    report: dict[str, Any] | None = None


# --------------------------------------------------------------------------- plans
class PlanList(BaseModel):
    """The caller's plans, most recently changed first."""

    plans: list[Plan]


# --------------------------------------------------------------------------- meta
class Health(BaseModel):
    """Liveness and readiness."""

    status: Literal["ok", "unavailable"]
    services: int | None = None
    detail: str | None = None


class Readiness(BaseModel):
    """Whether this server can take requests and keep what they write."""

    status: Literal["ready", "unavailable"]
    detail: str | None = Field(None, description="why not, in plain English (when unavailable)")
    problems: list[str] = Field(default_factory=list,
                                description="every reason the server is not ready")
    schema_revision: str | None = Field(None, description="the store's schema revision")


class VersionInfo(BaseModel):
    """What is running: code, data and configuration versions."""

    code: str = Field(..., description="send-matcher package version")
    data: str = Field(..., description="directory data version ('empty' when empty)")
    config: str = Field(..., description="hash of the match configuration in use")
    schema_version: int = Field(..., description="database schema version")
    api: str = "1"
