"""``matcher bench import``: import a large synthetic ORUK feed end to end; time and memory.

The feed is made up, deterministically from a seed, in the shapes real feeds publish:

* **ORUK 3.0 full records** (``/services/{id}``): an organisation, one to three
  ``service_at_locations`` on *real* GB postcodes drawn at random from the offline gazetteer
  (some with the postcode's coordinates, some virtual), ``schedules`` (``byday``, opening
  times, notes), ``cost_options``, taxonomy ``attributes`` (service types and SEND needs),
  ages, ``service_areas`` (the venue's postcode district, or national), languages, contacts;
* **ORUK version 1 (Open Place) list records**: an HTML description (``<p>``,
  ``<ul><li>``, ``&amp;``, ``&nbsp;``), ``pc_targetAudience`` tags ("Autism", "Sensory
  Impaired>Visually Impaired ", "Parents>Grandparents", "Carers "), ``attending_type`` (Venue,
  Phone, Online or blank), ``attending_access``, ``deliverable_type`` and ``pc_metadata``.

Names and descriptions are put together from this module's own word lists and sentence
templates. ``--format mixed`` (the default) interleaves the two shapes in one feed, which
the ORUK v1 reader reads (it reads the nested ORUK 3.0 fields too); ``oruk`` and ``oruk1``
give a feed of one shape.

The feed is written to a temporary JSON file, then ``run_import(path, fmt=...)`` imports it
into a new SQLite database in a temporary folder, in a **child process**, so that the peak
resident set size (``ru_maxrss``) reported is the import's own: reading and parsing the file,
mapping every record, the gazetteer (loaded cold, as ``matcher import`` does) and the one
store transaction. The child also reports its resident set just before the import
(interpreter and libraries) and the time spent in each phase.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError

__all__ = ["BENCH_FORMATS", "DEFAULT_RECORDS", "ImportBenchReport", "add_bench_import_parser",
           "run_import_bench", "synthetic_feed", "write_synthetic_feed"]

#: ``--format`` choices: both shapes interleaved, ORUK 3.0 full records only, ORUK v1 only.
BENCH_FORMATS = ("mixed", "oruk", "oruk1")
#: Records imported by default.
DEFAULT_RECORDS = 100_000
#: The budget the benchmark is judged against (seconds, MiB of peak RSS).
BUDGET_SECONDS = 60.0
BUDGET_MIB = 1024.0
#: Format passed to ``run_import`` for each kind of synthetic feed.
_IMPORT_FORMAT = {"mixed": "auto", "oruk": "oruk", "oruk1": "oruk1"}
_MIB = 1024 * 1024

# --------------------------------------------------------------------------- word lists
# Invented for this benchmark: place names that are not real towns, activities, sentences.
_PLACES = ["Ashcombe", "Brackenfold", "Cinderbrook", "Dunmarsh", "Elderleigh", "Foxmoor",
           "Greystead", "Hallowmere", "Ironbridge Lane", "Juniper Vale", "Kestrel Heath",
           "Larchwood", "Millbeck", "Northolme", "Oakhanger", "Pennyfield", "Quarry Bank",
           "Rookham", "Saltergate", "Thornbury Green", "Underhill", "Westcroft", "Yarrowby"]
_ADJECTIVES = ["Inclusive", "Friendly", "Family", "Community", "Young People's", "Saturday",
               "After-school", "Parent-led", "Accessible", "Relaxed", "Neighbourhood",
               "Little", "Open Door", "Together", "Bright Start"]
# (activity in a name, taxonomy terms that say what kind of service it is)
_ACTIVITIES: list[tuple[str, tuple[str, ...]]] = [
    ("Swimming", ("Sports and fitness", "Swimming")),
    ("Football", ("Sports and fitness", "Clubs and groups")),
    ("Drama", ("Arts and crafts", "Things to do")),
    ("Music", ("Music", "Clubs and groups")),
    ("Play", ("Play and leisure", "Holiday activities")),
    ("Homework", ("Tuition", "Education support")),
    ("Short Breaks", ("Short breaks", "Respite care")),
    ("Parent Advice", ("Advice and support", "Parenting support")),
    ("Speech and Language", ("Therapy services", "Health services")),
    ("Youth", ("Youth clubs", "Things to do")),
    ("Cycling", ("Sports and fitness", "Outdoor activities")),
    ("Cooking", ("Life skills", "Preparing for adulthood")),
    ("Travel Training", ("Travel training", "Independent travel")),
    ("Nursery", ("Early years", "Childcare")),
    ("Job Club", ("Employment support", "Training and work")),
    ("Wellbeing", ("Emotional wellbeing", "Health services")),
    ("Gardening", ("Outdoor activities", "Volunteering")),
    ("Gaming", ("Gaming", "Youth clubs")),
]
_KINDS = ["Club", "Group", "Sessions", "Service", "Project", "Hub", "Drop-in", "Programme",
          "Network", "Workshop"]
# Terms a feed uses that the matcher has no rule for (reported, never rejected).
_ODD_TERMS = ["Miscellaneous", "General", "Universal offer", "Tier 2"]
_NEED_TERMS = ["Autism", "ADHD", "Dyslexia", "Dyspraxia", "Hearing impairment",
               "Visual impairment", "Speech, language and communication needs",
               "Learning disabilities", "Physical disabilities",
               "Social, emotional and mental health", "Down's syndrome", "Epilepsy",
               "Cerebral palsy", "Anxiety", "All SEND"]
_NEED_TAXONOMIES = ["SEND needs", "Special educational needs", "Conditions"]
_ACCESS = ["Wheelchair accessible entrance", "Step-free access", "Quiet room available",
           "Hearing loop", "BSL interpreter on request", "Changing Places toilet",
           "Sensory room", "Lift to all floors", "Accessible toilet", "Partially accessible"]
_OPENS = ["08:30", "09:00", "09:30", "10:00", "13:00", "15:30", "16:00", "17:30", "18:00"]
_BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU", "MO,WE", "TU,TH", "MO,WE,FR", "SA,SU",
          "MO,TU,WE,TH,FR", "1SA", "FR,SA"]
_SCHEDULE_NOTES = ["", "", "", "Term time only", "Runs in the school holidays",
                   "Not on bank holidays", "Every other week", "Half-term sessions too",
                   "Evenings by arrangement", "Closed in August"]
_ATTENDING = ["", "", "in person", "venue", "online", "phone", "in person or online"]
_LANGUAGES = ["English", "English", "English", "Polish", "Urdu", "Welsh", "BSL", "Arabic",
              "Romanian", "Punjabi"]
_LANGUAGE_CODES = ["pl", "ur", "cy", "ro", "so"]

_OPENERS = [
    "{name} is a {adj} {thing} for {who} in and around {place}.",
    "We run {adj} {thing}s for {who}, with {staff} who know {need_text}.",
    "Come along to {place} for {activity_l} sessions that go at your own pace.",
    "{name} gives {who} a chance to try {activity_l} with {staff}.",
    "Our {thing} supports {who} and their families across {place}.",
]
_MIDDLES = [
    "Sessions are small, so everyone gets time with {staff}.",
    "There is a quiet space for anyone who needs a break.",
    "Brothers and sisters are welcome too.",
    "Parents and carers can stay, or have a cup of tea next door.",
    "We can adapt activities for children with {need_text}.",
    "No experience is needed and equipment is provided.",
    "Families tell us the relaxed atmosphere makes all the difference.",
    "We work closely with schools and the local SENCO network.",
    "You do not need a diagnosis to take part.",
    "Transport can sometimes be arranged; ask when you book.",
    "Young people help plan what we do each term.",
]
_CLOSERS = [
    "Call us or send an e-mail to book a place.",
    "Places are limited, so please get in touch first.",
    "Just turn up: there is no need to book.",
    "Ask your school or key worker to refer you.",
    "Find out more on our website.",
]
_WHO = ["children aged 5 to 11", "young people aged 11 to 18", "disabled children",
        "children with additional needs", "teenagers", "families with young children",
        "young adults up to 25", "under-fives and their parents"]
_STAFF = ["trained volunteers", "qualified coaches", "experienced youth workers",
          "specialist staff", "therapists", "friendly staff"]
_NEED_TEXT = ["autism", "ADHD", "learning disabilities", "sensory needs",
              "physical disabilities", "speech and language needs", "anxiety",
              "a hearing impairment", "social, emotional and mental health needs"]
_LIST_ITEMS = ["Small groups of no more than eight", "Quiet room & sensory toys",
               "Changing facilities on site", "Free parking", "Healthy snacks provided",
               "Trips out in the holidays", "One-to-one support when needed",
               "Certificates & awards", "Step-free access throughout", "Fully trained first aiders"]
_FEES = ["", "", "", "£2 per session", "Free", "£4.50 a week, free for siblings",
         "Some sessions carry a small charge", "Concessions available"]
# ORUK v1 (Open Place) field values, as the platform publishes them.
_AUDIENCE = ["Autism", "Autism ", "Sensory Impaired>Visually Impaired ",
             "Sensory Impaired>Hearing Impaired", "Parents>Grandparents", "Parents ", "Carers",
             "Carers ", "Learning Disabilities ", "Wheelchair Users ", "Mental Health",
             "Young People", "Families", "Students ", "Women ", "Men ", "Dementia ",
             "Long Term Health Conditions ", "Low Income>Unemployed ", "Culturally Specific"]
_ATTENDING_TYPE = ["", "", "", "Venue", "Venue", "Phone", "Online", "Home visit"]
_ATTENDING_ACCESS = ["", "", "Drop-in", "Appointment", "Self referral", "Membership",
                     "Referral"]
_DELIVERABLE = ["", "", "Social activity", "Physical activity", "1 to 1 support",
                "Specialist-led group", "1 to 1 assessment / advice",
                "Other (check description)", "Community asset"]
_ORG_KINDS = ["Trust", "Charity", "CIC", "Council", "Partnership", "Foundation"]
_STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue",
            "Victoria Road", "The Green", "School Lane", "Queens Road", "Market Place"]
_VENUES = ["Community Centre", "Leisure Centre", "Library", "Primary School", "Church Hall",
           "Family Hub", "Youth Centre", "Sports Hall", "Children's Centre", "Village Hall"]


# --------------------------------------------------------------------------- the feed
class _Maker:
    """Makes records from one seeded random generator and a pool of real postcodes."""

    def __init__(self, rng: random.Random, postcodes: list[str], lat: list[float],
                 lon: list[float]):
        self.rng = rng
        self.postcodes, self.lat, self.lon = postcodes, lat, lon
        self.next_postcode = 0

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def pick(self, seq: list[Any]) -> Any:
        return seq[self.rng.randrange(len(seq))]

    def postcode(self) -> tuple[str, float, float]:
        i = self.next_postcode % len(self.postcodes)
        self.next_postcode += 1
        return self.postcodes[i], self.lat[i], self.lon[i]

    def date(self, year_from: int = 2022, year_to: int = 2025) -> str:
        r = self.rng
        return f"{r.randint(year_from, year_to)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"

    def naming(self) -> dict[str, Any]:
        r = self.rng
        place, adj = self.pick(_PLACES), self.pick(_ADJECTIVES)
        activity, terms = self.pick(_ACTIVITIES)
        kind = self.pick(_KINDS)
        name = f"{place} {adj} {activity} {kind}" if r.random() < 0.7 else \
            f"{adj} {activity} {kind} ({place})"
        slug = "".join(ch for ch in f"{place}{activity}{kind}".lower() if ch.isalnum())
        return {"name": name, "place": place, "adj": adj.lower(), "activity": activity,
                "activity_l": activity.lower(), "terms": terms, "thing": kind.lower(),
                "slug": f"{slug}{r.randrange(1000)}", "who": self.pick(_WHO),
                "staff": self.pick(_STAFF), "need_text": self.pick(_NEED_TEXT)}

    def sentences(self, n: dict[str, Any], middle: int) -> list[str]:
        out = [self.pick(_OPENERS).format(**n)]
        out += [s.format(**n) for s in self.rng.sample(_MIDDLES, middle)]
        out.append(self.pick(_CLOSERS))
        return out

    def organisation(self, n: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.uid(), "name": f"{n['place']} {self.pick(_ORG_KINDS)}",
                "description": f"A local organisation working with families in {n['place']}.",
                "website": f"https://www.{n['slug']}.org.uk", "email": f"info@{n['slug']}.org.uk"}

    # -- ORUK 3.0 full record ------------------------------------------------------------------
    def oruk3(self) -> dict[str, Any]:
        r = self.rng
        n = self.naming()
        low = self.pick([0, 0, 2, 4, 5, 8, 11, 13, 14, 16, 18])
        high = min(low + r.randint(3, 12), 25) if r.random() < 0.9 else 99
        locations = []
        districts: list[str] = []
        for _ in range(self.pick([1, 1, 1, 1, 2, 2, 3])):
            if r.random() < 0.08:
                locations.append({"id": self.uid(), "location": {
                    "id": self.uid(), "location_type": "virtual", "name": "Online",
                    "url": f"https://meet.{n['slug']}.org.uk"}})
                continue
            pc, lat, lon = self.postcode()
            districts.append(pc.split(" ")[0])
            loc: dict[str, Any] = {
                "id": self.uid(), "location_type": "physical",
                "name": f"{n['place']} {self.pick(_VENUES)}",
                "addresses": [{"id": self.uid(), "address_1": f"{r.randint(1, 180)} "
                                                              f"{self.pick(_STREETS)}",
                               "city": n["place"], "state_province": "", "country": "GB",
                               "postal_code": pc if r.random() < 0.8 else pc.replace(" ", "")
                               .lower(), "address_type": "physical"}],
                "accessibility": [{"id": self.uid(), "description": a}
                                  for a in r.sample(_ACCESS, self.pick([0, 1, 1, 2, 3]))],
            }
            if r.random() < 0.6:
                loc["latitude"] = round(lat + r.uniform(-0.002, 0.002), 6)
                loc["longitude"] = round(lon + r.uniform(-0.002, 0.002), 6)
            locations.append({"id": self.uid(), "location": loc})
        schedules = []
        for _ in range(self.pick([0, 1, 1, 2, 3])):
            opens = self.pick(_OPENS)
            hour = int(opens[:2]) + r.randint(1, 4)
            schedules.append({"id": self.uid(), "freq": "WEEKLY", "interval": 1,
                              "byday": self.pick(_BYDAY), "opens_at": opens,
                              "closes_at": f"{min(hour, 22):02d}:{opens[3:]}",
                              "description": self.pick(_SCHEDULE_NOTES),
                              "attending_type": self.pick(_ATTENDING)})
        costs = []
        roll = r.random()
        if roll < 0.35:
            costs.append({"id": self.uid(), "option": "Free", "amount": 0})
        elif roll < 0.75:
            costs.append({"id": self.uid(), "option": self.pick(["Per session", "Per week",
                                                                  "Per term", ""]),
                          "amount": self.pick([1, 2, 2.5, 3.5, 5, 7.5, 12, 40]),
                          "currency": "GBP",
                          "amount_description": self.pick(["", "", "siblings half price",
                                                           "includes a snack"])})
            if r.random() < 0.3:
                costs.append({"id": self.uid(), "option": "Free for under 5s", "amount": 0})
        attributes = []
        for term in r.sample(n["terms"], r.randint(1, len(n["terms"]))):
            attributes.append({"id": self.uid(), "link_type": "service",
                               "taxonomy_term": {"id": self.uid(), "name": term,
                                                 "taxonomy": "Service types",
                                                 "term": term.lower().replace(" ", "_")}})
        # Terms come in the taxonomy's own order, as directories list them.
        for need in sorted(r.sample(_NEED_TERMS, self.pick([0, 1, 1, 2, 3, 4])),
                           key=_NEED_TERMS.index):
            attributes.append({"id": self.uid(), "link_type": "service",
                               "taxonomy_term": {"id": self.uid(), "name": need,
                                                 "taxonomy": self.pick(_NEED_TAXONOMIES)}})
        if r.random() < 0.04:
            attributes.append({"id": self.uid(), "link_type": "service",
                               "taxonomy_term": {"id": self.uid(), "name": self.pick(_ODD_TERMS),
                                                 "taxonomy": "Local categories"}})
        areas = []
        if r.random() < 0.05:
            areas.append({"id": self.uid(), "name": "National", "extent_type": "text",
                          "service_area": "national"})
        elif districts and r.random() < 0.7:
            areas.append({"id": self.uid(), "name": f"{n['place']} area",
                          "service_area": ", ".join(dict.fromkeys(districts))})
        languages: list[Any] = [{"id": self.uid(), "name": self.pick(_LANGUAGES)}]
        if r.random() < 0.15:
            languages.append({"id": self.uid(), "code": self.pick(_LANGUAGE_CODES)})
        record = {
            "id": self.uid(),
            "name": n["name"],
            "description": " ".join(self.sentences(n, r.randint(1, 4))),
            "url": f"https://www.{n['slug']}.org.uk" if r.random() < 0.9 else
                   f"www.{n['slug']}.org.uk",
            "email": f"hello@{n['slug']}.org.uk",
            "status": "active" if r.random() < 0.97 else "inactive",
            "fees": self.pick(_FEES),
            "accreditations": "",
            "minimum_age": low,
            "maximum_age": high,
            "assured_date": self.date(),
            "last_modified": f"{self.date(2024, 2025)}T{r.randint(7, 19):02d}:"
                             f"{r.randint(0, 59):02d}:00Z",
            "organization": self.organisation(n),
            "service_at_locations": locations,
            "schedules": schedules,
            "cost_options": costs,
            "attributes": attributes,
            "service_areas": areas,
            "languages": languages,
            "contacts": [{"id": self.uid(), "name": "Bookings", "title": "Coordinator",
                          "phones": [{"id": self.uid(),
                                      "number": f"01632 {r.randint(960000, 960999)}"}]}],
        }
        if r.random() < 0.2:
            del record["assured_date"]
        return record

    # -- ORUK v1 (Open Place) list record --------------------------------------------------------
    def oruk1(self) -> dict[str, Any]:
        r = self.rng
        n = self.naming()
        paras = self.sentences(n, r.randint(1, 3))
        body = "".join(f"<p>{s.replace('&', '&amp;').replace(' and ', ' &amp; ', 1)}</p>"
                       for s in paras[:-1])
        if r.random() < 0.6:
            items = r.sample(_LIST_ITEMS, r.randint(2, 5))
            body += "<ul>" + "".join(f"<li>{i.replace('&', '&amp;')}</li>" for i in items) \
                + "</ul>"
        body += f"<p>{paras[-1]}&nbsp;</p>"
        created = self.date(2021, 2024)
        return {
            "id": self.uid(),
            "name": n["name"],
            "description": body,
            "url": f"https://www.{n['slug']}.org.uk" if r.random() < 0.8 else "",
            "email": f"{n['slug']}@example.org.uk" if r.random() < 0.7 else "",
            "status": "active",
            "fees": "",
            "accreditations": "",
            "deliverable_type": self.pick(_DELIVERABLE),
            "attending_type": self.pick(_ATTENDING_TYPE),
            "attending_access": self.pick(_ATTENDING_ACCESS),
            "pc_attendingAccess_additionalInfo": "",
            "assured_date": self.date(2023, 2025) if r.random() < 0.5 else "",
            "organization": {"id": self.uid(), "name": self.organisation(n)["name"],
                             "description": "", "url": f"https://www.{n['slug']}.org.uk",
                             "logo": "", "uri": ""},
            "pc_metadata": {"date_created": created, "date_modified": self.date(2024, 2025),
                            "date_assured": "", "assured_by": "[removed]"},
            "pc_targetAudience": [{"id": self.uid(), "audienceType": a}
                                  for a in r.sample(_AUDIENCE, self.pick([0, 1, 1, 2, 3]))],
        }


def _sample_postcodes(n: int, seed: int) -> tuple[list[str], list[float], list[float]]:
    """``n`` distinct real GB postcodes from the offline gazetteer, with their coordinates."""
    import numpy as np

    from matcher.geo.postcodes import get_postcode_index

    index = get_postcode_index()
    keys = index._keys  # sorted fixed-width keys: outward padded to 4, then inward
    n = max(1, min(n, len(keys)))
    chosen = np.random.default_rng(seed).choice(len(keys), size=n, replace=False)
    texts = [f"{k[:4].decode('ascii').strip()} {k[4:].decode('ascii')}"
             for k in (bytes(keys[i]) for i in chosen)]
    lat, lon, found = index.lookup_many(texts)
    if not found.all():  # pragma: no cover - every key comes from the index itself
        raise MatcherError("Some sampled postcodes did not resolve; rebuild the postcode cache.")
    return texts, lat.tolist(), lon.tolist()


def synthetic_feed(records: int, fmt: str = "mixed", seed: int = 0) -> list[dict[str, Any]]:
    """``records`` made-up services in ORUK shapes (see the module notes), the same for the
    same ``records``, ``fmt`` and ``seed``."""
    if fmt not in BENCH_FORMATS:
        raise MatcherError(f"Unknown synthetic feed format '{fmt}'. Use one of: "
                           + ", ".join(BENCH_FORMATS) + ".")
    if records < 1:
        raise MatcherError("The synthetic feed needs at least one record.")
    rng = random.Random(seed)
    # About 1.5 venues per full record; each venue gets its own postcode.
    wanted = records * 2 if fmt != "oruk1" else 1
    maker = _Maker(rng, *_sample_postcodes(wanted, seed))
    out = []
    for _ in range(records):
        full = fmt == "oruk" or (fmt == "mixed" and rng.random() < 0.5)
        out.append(maker.oruk3() if full else maker.oruk1())
    return out


def write_synthetic_feed(path: str | os.PathLike[str], records: int, fmt: str = "mixed",
                         seed: int = 0) -> int:
    """Write :func:`synthetic_feed` to ``path`` as one JSON list (compact, UTF-8, as a feed
    sends it); return the file's size in bytes."""
    feed = synthetic_feed(records, fmt, seed)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(feed, fh, ensure_ascii=False, separators=(",", ":"))
    return Path(path).stat().st_size


# --------------------------------------------------------------------------- the measurement
@dataclass
class ImportBenchReport:
    """Everything ``matcher bench import`` prints (seconds, MiB of resident memory)."""

    records: int
    format: str
    seed: int
    feed_mib: float
    generate_s: float
    detected_format: str = ""
    seconds: float = 0.0
    records_per_s: float = 0.0
    peak_rss_mib: float = 0.0
    main_peak_rss_mib: float = 0.0
    peak_pss_mib: float = 0.0
    workers: int = 1
    cpu_s: float = 0.0
    load_average: list[float] = field(default_factory=list)
    start_rss_mib: float = 0.0
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: int = 0
    added: int = 0
    stored: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    cpu_count: int = 0
    python: str = ""

    @property
    def within_budget(self) -> bool:
        return self.seconds <= BUDGET_SECONDS and self.peak_rss_mib <= BUDGET_MIB

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["within_budget"] = self.within_budget
        out["budget"] = {"seconds": BUDGET_SECONDS, "peak_rss_mib": BUDGET_MIB}
        out["memory"] = ("peak_rss_mib: the peak, sampled every 0.1 s, of the resident set "
                         "of the process that ran the import plus its worker processes, each "
                         "counted whole (pages they share counted once per process: an upper "
                         "bound), and never below main_peak_rss_mib (that process's own "
                         "VmHWM; interpreter and libraries included); peak_pss_mib: the same "
                         "with shared pages split between the processes sharing them; "
                         "start_rss_mib: the process's peak before the import began")
        out["phases_note"] = ("time of the process running the import: parse: read the "
                              "file and parse the JSON; gazetteer: load the postcode index "
                              "(cold); write: store the records (one transaction, SQLite in a "
                              "temporary folder; with workers, batch by batch while they read "
                              "the next); read: the rest of the wall time (mapping each record "
                              "to a service, venues checked against the gazetteer, the "
                              "reading step; with workers, waiting for them)")
        return out

    def format_text(self) -> str:
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items())
        verdict = "within" if self.within_budget else "OVER"
        return "\n".join([
            f"matcher bench import: {self.records:,} synthetic records ({self.format}, "
            f"read as {self.detected_format}; seed {self.seed}; {self.feed_mib:.0f} MiB of "
            f"JSON, made in {self.generate_s:.1f} s)",
            f"  imported end to end in {self.seconds:.1f} s = {self.records_per_s:,.0f} "
            f"records/s with {self.workers} worker process(es); peak RSS "
            f"{self.peak_rss_mib:.0f} MiB, all processes (PSS {self.peak_pss_mib:.0f} MiB; "
            f"main process {self.main_peak_rss_mib:.0f} MiB, {self.start_rss_mib:.0f} MiB at "
            "start)",
            f"  CPU time {self.cpu_s:.1f} s (all processes, user and system); machine load "
            f"average {', then '.join(f'{x:.1f}' for x in self.load_average)} (other work "
            "on the machine lengthens the wall time)",
            f"  phases: {phases}",
            f"  read {self.rows_read:,}, accepted {self.accepted:,}, rejected "
            f"{self.rejected:,}, warnings {self.warnings:,}; stored {self.stored:,} "
            f"(added {self.added:,})",
            f"  {verdict} the budget of {BUDGET_SECONDS:.0f} s and {BUDGET_MIB:.0f} MiB "
            f"({self.cpu_count} CPU cores, Python {self.python})",
        ])


def _max_rss_mib() -> float:
    """This process's own peak resident set (MiB): ``VmHWM`` on Linux. (``ru_maxrss`` is not
    used there: it keeps the peak of the process that started this one across ``exec``.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:   # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _load_average() -> float:
    """The machine's load average over the last minute (0 where it cannot be read)."""
    try:
        return os.getloadavg()[0]
    except OSError:   # pragma: no cover
        return 0.0


def _memory_kib(pid: int | str) -> tuple[int, int]:
    """(Rss, Pss) of one process in KiB, (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


def _children(pid: int) -> list[str]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields and int(fields[1]) == pid:
            out.append(entry)
    return out


class _MemorySampler:
    """Samples, every ``interval`` seconds, the resident set of this process plus its
    children (the import's worker processes, looked for every second): the peak of the sum of their RSS (pages
    shared after ``fork`` counted once per process, so an upper bound) and of their PSS
    (shared pages split between the processes sharing them)."""

    def __init__(self, interval: float = 0.1):
        import threading

        self.interval = interval
        self.peak_rss_kib = self.peak_pss_kib = 0
        self.most_workers = 0
        self._children: list[str] = []
        self._next_scan = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = os.getpid()
        now = time.monotonic()
        if now >= self._next_scan:      # finding the children reads all of /proc: each second
            self._children = _children(me)
            self._next_scan = now + 1.0
        children = self._children
        rss, pss = _memory_kib(me)
        for child in children:
            r, p = _memory_kib(child)
            rss, pss = rss + r, pss + p
        self.peak_rss_kib = max(self.peak_rss_kib, rss)
        self.peak_pss_kib = max(self.peak_pss_kib, pss)
        self.most_workers = max(self.most_workers, len(children))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> _MemorySampler:
        if os.path.exists("/proc/self/smaps_rollup"):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()


def _child_import(feed: str, fmt: str, database_url: str, workers: int) -> dict[str, Any]:
    """Run in the child process: time ``run_import`` and its phases; report peak RSS."""
    import matcher.geo.postcodes as postcodes
    import matcher.ingest.sources as sources
    from matcher.ingest import run_import
    from matcher.store import Store  # imported before timing: not part of the import's cost

    phases: dict[str, float] = {"parse": 0.0, "gazetteer": 0.0, "read": 0.0, "write": 0.0}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - t0
        return wrapper

    def timed_iter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            it = iter(fn(*args, **kwargs))
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    return
                finally:
                    phases[name] += time.perf_counter() - t0
                yield item
        return wrapper

    # The file is parsed while it is read (a JSON list is read one element at a time), and
    # with workers the records are stored batch by batch while the workers read the next.
    # The phases are this process's own time; "read" is the rest of the wall time (mapping
    # and the reading step here, or waiting for the workers doing them).
    sources.load_feed = timed("parse", sources.load_feed)
    sources.array_elements = timed_iter("parse", sources.array_elements)
    Store._write_batch = staticmethod(timed("write", Store._write_batch))  # type: ignore
    get_index = postcodes.get_postcode_index
    postcodes.get_postcode_index = timed("gazetteer", get_index)  # type: ignore[assignment]
    start_rss = _max_rss_mib()
    load_before = _load_average()
    with _MemorySampler() as sampler:
        cpu0 = os.times()
        t0 = time.perf_counter()
        summary = run_import(feed, fmt=fmt, database_url=database_url, workers=workers)
        seconds = time.perf_counter() - t0
        cpu1 = os.times()   # the workers have ended (and been waited for) by now
    cpu_s = sum(getattr(cpu1, k) - getattr(cpu0, k)
                for k in ("user", "system", "children_user", "children_system"))
    own_peak = _max_rss_mib()
    peak = max(own_peak, sampler.peak_rss_kib / 1024)
    phases["read"] = seconds - phases["gazetteer"] - phases["parse"] - phases["write"]

    with Store.open(database_url) as store:
        stored = store.count_services()
    report = summary.report
    return {"seconds": seconds, "peak_rss_mib": peak, "start_rss_mib": start_rss,
            "main_peak_rss_mib": own_peak, "peak_pss_mib": sampler.peak_pss_kib / 1024,
            "cpu_s": cpu_s, "load_average": [load_before, _load_average()],
            "workers": workers, "worker_processes": sampler.most_workers,
            "phases": phases, "rows_read": summary.rows_read, "accepted": len(report.accepted),
            "rejected": summary.rejected, "warnings": len(summary.warnings),
            "added": summary.added, "stored": stored, "detected_format": report.format}


def _child_main(argv: list[str]) -> None:
    feed, fmt, database_url, workers = argv
    result = _child_import(feed, fmt, database_url, int(workers))
    sys.stdout.write("\n" + json.dumps(result) + "\n")


def run_import_bench(records: int = DEFAULT_RECORDS, fmt: str = "mixed", *, seed: int = 0,
                     workers: int | None = None,
                     workdir: str | os.PathLike[str] | None = None,
                     progress: Callable[[str], None] | None = None) -> ImportBenchReport:
    """Make a synthetic feed of ``records`` services, import it in a child process and
    report its time, peak memory, counts and phases. ``workdir`` (default: a temporary
    folder, removed afterwards) holds the feed file and the SQLite database."""
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix="matcher-bench-import-",
                                     dir=workdir) as tmp:
        feed = Path(tmp) / "feed.json"
        say(f"making {records:,} synthetic records ({fmt}, seed {seed})")
        t0 = time.perf_counter()
        size = write_synthetic_feed(feed, records, fmt, seed)
        generate_s = time.perf_counter() - t0
        report = ImportBenchReport(records=records, format=fmt, seed=seed,
                                   feed_mib=round(size / _MIB, 1), generate_s=round(generate_s, 2),
                                   cpu_count=os.cpu_count() or 0,
                                   python=".".join(map(str, sys.version_info[:3])))
        database_url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        say(f"importing {feed} ({report.feed_mib:.0f} MiB) in a child process")
        code = "import sys; from matcher.ingest.bench import _child_main; _child_main(sys.argv[1:])"
        from matcher.ingest.parallel import default_workers

        n_workers = default_workers() if workers is None else workers
        proc = subprocess.run([sys.executable, "-c", code, str(feed), _IMPORT_FORMAT[fmt],
                               database_url, str(n_workers)], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            raise MatcherError(f"The benchmark import failed (exit {proc.returncode}): "
                               + proc.stderr.strip()[-2000:])
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    report.detected_format = result["detected_format"]
    report.seconds = round(result["seconds"], 2)
    report.records_per_s = round(records / max(result["seconds"], 1e-9), 1)
    report.peak_rss_mib = round(result["peak_rss_mib"], 1)
    report.main_peak_rss_mib = round(result["main_peak_rss_mib"], 1)
    report.peak_pss_mib = round(result["peak_pss_mib"], 1)
    report.workers = int(result["workers"])
    report.cpu_s = round(result["cpu_s"], 1)
    report.load_average = [round(x, 1) for x in result["load_average"]]
    report.start_rss_mib = round(result["start_rss_mib"], 1)
    report.phases = {k: round(v, 2) for k, v in result["phases"].items()}
    for name in ("rows_read", "accepted", "rejected", "warnings", "added", "stored"):
        setattr(report, name, int(result[name]))
    return report


# --------------------------------------------------------------------------- the command
def cmd_bench_import(args: argparse.Namespace) -> int:
    """``matcher bench import`` / ``matcher bench-import``."""
    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        report = run_import_bench(args.records, args.format, seed=args.seed,
                                  workers=args.workers,
                                  progress=None if args.json else say)
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format_text())
    return 0


def _records(text: str) -> int:
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of records") from None
    if n < 1:
        raise argparse.ArgumentTypeError("the number of records must be at least 1")
    return n


def add_bench_import_parser(sub: argparse._SubParsersAction, name: str = "bench-import"
                            ) -> argparse.ArgumentParser:
    """Add the import benchmark (``bench-import``, or ``import`` under a ``bench`` command)."""
    p = sub.add_parser(name, help="time importing a synthetic ORUK feed (default 100,000 "
                                  "records) end to end, with its peak memory",
                       description="Makes a synthetic feed of ORUK 3.0 full records and ORUK "
                                   "v1 (Open Place) list records on real GB postcodes, then "
                                   "imports it into a new SQLite store in a child process: "
                                   "time, records/s, peak RSS, accepted and rejected.")
    p.add_argument("--records", type=_records, default=DEFAULT_RECORDS,
                   help=f"records in the feed (default {DEFAULT_RECORDS})")
    p.add_argument("--format", choices=BENCH_FORMATS, default="mixed",
                   help="mixed (default): both shapes in one feed; oruk: ORUK 3.0 full "
                        "records; oruk1: ORUK v1 list records")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes reading the feed, as for matcher import (default: one per "
                        "CPU core, at most 4)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_bench_import)
    return p
