"""A checker for the reasons shown to families: every claim must be traceable to what the
service record or the family said.

:func:`check_reason` reads one reason sentence, works out what it claims, and checks the
claim against the service record (its fields, its words and the facts the reading step kept
with their quotes) or against the family's profile. It returns the problems found; a
sentence of a shape it does not know is a problem too, so a new kind of reason cannot slip
through unchecked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from matcher.engine.explain import AREA_LABELS, phrase_for
from matcher.geo.distance import haversine_km
from matcher.vocab import Vocabulary

_QUOTE = re.compile(r" \((?P<by>it|its organisation) says '(?P<q>[^']*(?:'[^']*)*?)'\)")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().casefold()


def _words_in(words: str, text: str) -> bool:
    """Every word of ``words`` occurs in ``text`` (case-insensitive, as whole words)."""
    toks = set(re.findall(r"[a-z0-9]+", _norm(text)))
    return all(w in toks for w in re.findall(r"[a-z0-9]+", _norm(words)))


class Context:
    """What one result's reasons may rest on."""

    def __init__(self, record: dict[str, Any], profile: Any, vocab: Vocabulary,
                 family_lat: float | None = None, family_lon: float | None = None):
        self.record = record
        self.profile = profile
        self.vocab = vocab
        self.family_lat, self.family_lon = family_lat, family_lon
        self.service_text = f"{record.get('name', '')}. {record.get('description', '')}"
        self.family_text = " ".join([*(profile.needs or []), profile.about or ""])
        # Name, description and the needs column as the record gives it (a feed's tags).
        self.listing_text = f"{self.service_text} {record.get('needs_raw') or ''}"
        found = vocab.find_in_text(self.service_text)
        self.service_needs = set(record.get("needs") or []) | set(found.mentioned)

    def quote_ok(self, quote: str, fields: tuple[str, ...]) -> bool:
        """The quote is the record's own words (or a feed tag, or its organisation's words
        about itself, which the record keeps only as the fact's quote), kept as a fact for
        one of ``fields``."""
        tags = [f.get("quote", "") for f in self.record.get("facts") or ()
                if f.get("source") in ("tags", "organisation")]
        return _norm(quote) in _norm(self.service_text + " " + " ".join(
            [*str(self.record.get("needs_raw") or "").split(";"), *tags])) and any(
            f.get("quote") == quote and f.get("field") in fields
            for f in self.record.get("facts") or ())


def _known(value: Any) -> int | None:
    """A record's number, or None when it is missing (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _age_claim(reason: str, c: Context) -> list[str]:
    out: list[str] = []
    m = _QUOTE.search(reason)
    used = [f for f in c.record.get("facts") or () if f.get("used") and f.get("field") in
            ("min_age", "max_age", "child_ages", "adults_only")]
    if m:
        if not c.quote_ok(m.group("q"), ("min_age", "max_age", "child_ages", "adults_only")):
            out.append(f"quote '{m.group('q')}' is not an age fact of the record")
        elif (m.group("by") == "its organisation") != any(
                f.get("quote") == m.group("q") and f.get("used")
                and f.get("source") == "organisation" for f in c.record.get("facts") or ()):
            out.append(f"quote '{m.group('q')}' is said to be {m.group('by')}'s words, "
                       "and the fact says otherwise")
        reason = reason[:m.start()] + reason[m.end():]
    elif used:
        out.append("ages read from the record's words, but the reason does not quote them")
    lo, hi = _known(c.record.get("min_age")), _known(c.record.get("max_age"))
    span = re.match(r"For ages? (?:(\d+) to (\d+)|(\d+) and over|up to (\d+)|(\d+))", reason)
    if span is None:
        return [*out, f"age span not understood: {reason}"]
    a, b, over, upto, one = span.groups()
    claimed = ((int(a), int(b)) if a else (int(over), None) if over else
               (None, int(upto)) if upto else (int(one), int(one)))
    if claimed != (lo, hi):
        out.append(f"claims ages {claimed}, the record has {(lo, hi)}")
    said = re.search(r"(?:your child is|you are) (\d+)", reason)
    if said and int(said.group(1)) != c.profile.age:
        out.append(f"claims the child is {said.group(1)}, the profile says {c.profile.age}")
    return out


def _age_hint_claim(reason: str, c: Context) -> list[str]:
    m = re.match(r"Age range not stated, but the description suggests ages (?:(\d+) to (\d+)|"
                 r"(\d+) and over|up to (\d+))(?: \(it says '(?P<q>.*)'\))?(?:; |, but )"
                 r"(?:your child is|you are) (?P<age>\d+)", reason)
    if m is None:
        return [f"age suggestion not understood: {reason}"]
    out = []
    if _known(c.record.get("min_age")) is not None or _known(c.record.get("max_age")) is not None:
        out.append("says no ages are stated, the record has them")
    likely = [f for f in c.record.get("facts") or () if f.get("confidence") == "likely"
              and f.get("field") in ("min_age", "max_age", "adults_only")]
    values = {f["value"] for f in likely if f["field"] != "adults_only"} | (
        {18} if any(f["field"] == "adults_only" for f in likely) else set())
    claimed = {int(x) for x in m.groups()[:4] if x is not None}
    if not claimed <= values:
        out.append(f"suggests ages {sorted(claimed)}, the record's words suggest {sorted(values)}")
    if m.group("q") is not None and not c.quote_ok(m.group("q"),
                                                   ("min_age", "max_age", "adults_only")):
        out.append(f"quote '{m.group('q')}' is not an age fact of the record")
    if int(m.group("age")) != c.profile.age:
        out.append("the age given is not the profile's")
    return out


def _need_claim(reason: str, c: Context) -> list[str]:
    m = re.match(r"Supports (?P<what>.+?): you (?:mentioned |told us about |wrote ')(?P<w>.+?)'?"
                 r"(?:, but it is mainly for .+)?$", reason)
    if m is None:
        return [f"need reason not understood: {reason}"]
    out = []
    if not _words_in(m.group("w"), c.family_text):
        out.append(f"the family did not say '{m.group('w')}'")
    what = m.group("what")
    needs = [nid for nid, n in c.vocab.needs.items() if n.phrase == what]
    areas = [a for a, label in AREA_LABELS.items() if what == f"{label} needs"]
    if needs and not (set(needs) & c.service_needs):
        out.append(f"the record does not say it supports {what}")
    if areas and not any(f"area:{a}" in c.service_needs or
                         any(a in c.vocab.areas_of(n) for n in c.service_needs if
                             n in c.vocab.needs) for a in areas):
        out.append(f"the record does not say it supports {what}")
    if not needs and not areas:
        out.append(f"'{what}' is not a need the vocabulary knows")
    return out


def _cost_claim(reason: str, c: Context) -> list[str]:
    cost = c.record.get("cost")
    details = str(c.record.get("cost_details") or "").strip()
    if reason == "Free":
        return [] if cost == "free" else [f"says free, the record's cost is {cost}"]
    want, _, rest = reason.partition(": ")
    expected = {"There is a charge": "paid", "Free for some families": "free_for_some"}[want]
    out = [] if cost == expected else [f"says {want}, the record's cost is {cost}"]
    if rest and rest != details:
        out.append("the cost details are not the record's")
    return out


def _travel_claim(reason: str, c: Context) -> list[str]:
    out = []
    delivery = set(c.record.get("delivery") or [])
    if ("online" in reason or "by phone" in reason or "no travel needed" in reason) and not (
            delivery & {"online", "phone", "home_visit"}):
        out.append("says it can be used remotely, the record does not say so")
    if ("at home" in reason or "Comes to your home" in reason) and not (
            delivery & {"home_visit", "online", "phone"}):
        out.append("says it comes to your home, the record does not say so")
    km = re.search(r"\(([\d.]+) km\)", reason)
    if km:
        lat, lon = c.record.get("latitude"), c.record.get("longitude")
        if lat is None or c.family_lat is None or (isinstance(lat, float) and math.isnan(lat)):
            out.append("gives a distance without both places known")
        else:
            real = float(haversine_km(c.family_lat, c.family_lon, lat, lon))
            if abs(real - float(km.group(1))) > max(0.15, 0.05 * real):
                out.append(f"says {km.group(1)} km, it is {real:.1f} km")
    return out


def _pref_claims(reason: str, c: Context) -> list[str]:
    out = []
    p = c.profile.preferences
    for part in reason.split("; "):
        m = re.match(r"It is (.+), as you asked$", part)
        if m:
            cats = [k for k in p.categories if phrase_for("categories", k, c.vocab) == m.group(1)]
            if not cats or not set(cats) & set(c.record.get("categories") or []):
                out.append(f"'{part}' is not both asked for and in the record's categories")
            continue
        m = re.match(r"Runs (.+), as you asked$", part)
        if m:
            asked = [w for w in p.when if phrase_for("when", w, c.vocab) in m.group(1)]
            if not asked or not set(asked) <= set(c.record.get("when") or []):
                out.append(f"'{part}' is not in the record's times")
            continue
        m = re.match(r"Has (.+), as you asked$", part)
        if m:
            asked = [a for a in p.accessibility
                     if phrase_for("accessibility", a, c.vocab) in m.group(1)]
            if not asked or not set(asked) <= set(c.record.get("accessibility") or []):
                out.append(f"'{part}' is not in the record's accessibility")
            continue
        if part == "Delivered the way you asked":
            if not set(p.delivery) & set(c.record.get("delivery") or []):
                out.append("delivery asked for is not the record's")
            continue
        if part == "Times not stated: check with the provider":
            if c.record.get("when"):
                out.append("says times not stated, the record states them")
            continue
        if re.match(r"(Not |Does not list )", part):
            continue    # says what is missing: nothing is claimed about the service
        out.append(f"preference reason not understood: {part}")
    return out


def _said_words(reason: str, c: Context) -> list[str]:
    inside = reason.rsplit(" (", 1)[1].rstrip(")")
    words = [w.strip("'") for w in re.split(r"', '", inside)]
    return [f"the family did not say '{w}'" for w in words if _norm(w) not in _norm(c.family_text)]


def _excluded_claim(reason: str, c: Context) -> list[str]:
    words = reason[len("Says it does not support "):]
    said = c.vocab.normalise(words).needs
    found = c.vocab.find_in_text(c.service_text).excluded
    facts = {str(v) for f in c.record.get("facts") or () if f.get("field") == "excludes"
             for v in (f["value"] if isinstance(f["value"], list) else [f["value"]])}
    if not (set(said) & (set(found) | facts)):
        return [f"the record does not say it excludes {words}"]
    return []


def _specialises_claim(reason: str, c: Context) -> list[str]:
    names = _norm(reason[len("Specialises in "):].rsplit(", which you", 1)[0])
    # Labels may hold commas ("speech, language and communication needs"): take away each
    # label the record states, longest first; anything left is a claim the record lacks.
    stated = sorted({_norm(c.vocab.needs[n].label) for n in c.record.get("needs") or []
                     if n in c.vocab.needs}, key=len, reverse=True)
    for label in stated:
        names = re.sub(rf"(?:^|(?<=, )){re.escape(label)}(?=, |$)", "", names)
    left = [n for n in names.split(", ") if n.strip()]
    return [f"the record does not state {n}" for n in left]


# (pattern, check) pairs, tried in order; the first that matches checks the reason.
_CHECKS: list[tuple[re.Pattern[str], Callable[[str, Context], list[str]]]] = [
    (re.compile(r"^For ages? "), _age_claim),
    (re.compile(r"^Age range not stated, but the description suggests "), _age_hint_claim),
    (re.compile(r"^Age range not stated"), lambda r, c: [] if _known(c.record.get("min_age"))
     is None and _known(c.record.get("max_age")) is None
     else ["says no ages, the record has them"]),
    (re.compile(r"^Supports related needs of the same type as (.+)$"),
     lambda r, c: [] if _words_in(r.rsplit(" as ", 1)[1], c.family_text)
     else ["the family did not say it"]),
    (re.compile(r"^Supports .+ needs, like (.+)$"),
     lambda r, c: [] if _words_in(r.rsplit(" like ", 1)[1], c.family_text)
     else ["the family did not say it"]),
    (re.compile(r"^Supports "), _need_claim),
    (re.compile(r"^It says '(.+)': check with them"),
     lambda r, c: [] if c.quote_ok(r.split("'", 1)[1].rsplit("':", 1)[0], ("threshold",))
     else ["the threshold quote is not the record's"]),
    (re.compile(r"^Open to children and young people with any SEND$"),
     lambda r, c: [] if "all_send" in c.service_needs else
     ["says any SEND, the record does not"]),
    (re.compile(r"^Does not say which needs it supports"),
     lambda r, c: [] if not c.record.get("needs") else ["the record states needs"]),
    (re.compile(r"^Does not mention "), lambda r, c: []),
    (re.compile(r"^Says it does not support (.+)$"), _excluded_claim),
    (re.compile(r"^Only for families living in (.+); you are in (\S+)$"),
     lambda r, c: [] if all(d.strip().rstrip(".") in {x.upper() for x in c.record.get(
         "service_area") or []} for d in r[len("Only for families living in "):].split(
         "; you are")[0].split(",") if d.strip() and d.strip() != "...")
     else ["the districts are not the record's service area"]),
    (re.compile(r"^Only for children and young people with an EHC plan"),
     lambda r, c: [] if c.record.get("ehcp_required") and (
         (m := _QUOTE.search(r)) is None or c.quote_ok(m.group("q"), ("ehcp_required",)))
     else ["EHC plan rule not backed by the record"]),
    (re.compile(r"^For parents and carers(?: \(it says '(?P<q>.+)'\))?, and you are looking"),
     lambda r, c: [] if "parents_carers" in (c.record.get("audience") or [])
     and c.profile.who == "young_person" and ((m := re.search(r"it says '(.+)'\)", r)) is None
                                              or c.quote_ok(m.group(1), ("for_parents",
                                                                          "audience")))
     else ["parents-only rule not backed by the record and the profile"]),
    (re.compile(r"^Only in person, and you asked for online or phone services$"),
     lambda r, c: [] if not set(c.record.get("delivery") or []) & {"online", "phone",
                                                                  "home_visit"}
     else ["the record says it can be used remotely"]),
    (re.compile(r"^There is a charge, and you asked for free services only$"),
     lambda r, c: [] if c.record.get("cost") in ("paid", "free_for_some")
     else ["the record does not say there is a charge"]),
    (re.compile(r"^Specialises in (.+), which you did not mention$"), _specialises_claim),
    (re.compile(r"^(Free|There is a charge|Free for some families)(: .*)?$"), _cost_claim),
    (re.compile(r"^(About \d+ minutes|Online|Comes to your home|Can be used online)"),
     _travel_claim),
    (re.compile(r"^(Travel time not estimated|Venue not given)"), lambda r, c: []),
    (re.compile(r"^(Last checked|Details checked) (\w+ \d{4})"),
     lambda r, c: [] if c.record.get("last_reviewed") and str(c.record["last_reviewed"])[:4]
     in r else ["the review date is not the record's"]),
    (re.compile(r"^No date for when it was last checked"),
     lambda r, c: [] if not c.record.get("last_reviewed") else ["the record has a date"]),
    (re.compile(r"^For children and young people with an EHC plan, which you have"),
     lambda r, c: [] if c.record.get("ehcp_required") and c.profile.has_ehcp and (
         (m := _QUOTE.search(r)) is None or c.quote_ok(m.group("q"), ("ehcp_required",)))
     else ["EHC plan claim not backed by the record and the profile"]),
    (re.compile(r"^For you as a parent or carer: it says '(.+)'$"),
     lambda r, c: [] if c.quote_ok(r.split("it says '", 1)[1][:-1], ("for_parents", "audience"))
     else ["parent-or-carer quote is not the record's"]),
    (re.compile(r"^Offers .+, which you asked about \("), _said_words),
    (re.compile(r"^Not the kind of help your words point to$"), lambda r, c: []),
    (re.compile(r"^Its description matches your words: (.+)$"),
     lambda r, c: [f"'{t}' is not in both texts" for t in r.split(": ", 1)[1].split(", ")
                   if not (_words_in(t, c.listing_text) and _words_in(t, c.family_text))]),
    (re.compile(r"^Its description has little in common"), lambda r, c: []),
    (re.compile(r"^(Helps with|A setting or service to consider for|Helps with moving on)"),
     lambda r, c: [] if c.profile.transition else ["no move ahead was given"]),
    (re.compile(r"^Not aimed at "), lambda r, c: []),
    (re.compile(r"^Offers support in (.+)$"),
     lambda r, c: [] if any(_norm(x) == _norm(r[len("Offers support in "):])
                            for x in c.record.get("languages") or [])
     or (_norm(r[len("Offers support in "):]) in ("bsl", "british sign language")
         and "bsl" in (c.record.get("accessibility") or []))
     else ["the language is not listed by the record"]),
    (re.compile(r"^Mentions (.+) in its description"),
     lambda r, c: [] if _norm(r.split(" in its")[0][len("Mentions "):]) in _norm(
         c.service_text) else ["the description does not mention it"]),
    (re.compile(r"^(Works in English|Does not list .+: ask whether)"), lambda r, c: []),
    (re.compile(r"^Mainly for (.+)-speaking families$"),
     lambda r, c: [] if _norm(r[len("Mainly for "):].split("-speaking")[0]) in _norm(
         c.service_text) else ["the community language is not in the record"]),
    (re.compile(r"^(A course or group for parents and carers|For young people themselves)$"),
     lambda r, c: []),
    (re.compile(r"^(It is |Runs |Has |Delivered |Not |Times not stated|Does not list )"),
     _pref_claims),
    (re.compile(r"^More than [\d.]+ miles away, so your child may get free travel"),
     lambda r, c: [] if "education" in (c.record.get("categories") or []) else
     ["not an education setting"]),
    (re.compile(r"^Does not say who can use it"),
     lambda r, c: [] if not c.record.get("service_area") else ["the record states its area"]),
    (re.compile(r"^You did not name any needs"),
     lambda r, c: [] if not c.profile.needs else ["the family named needs"]),
]


def check_reason(reason: str, context: Context) -> list[str]:
    """Problems with one reason (empty when every claim is backed)."""
    for pattern, check in _CHECKS:
        if pattern.search(reason):
            return check(reason, context)
    return [f"a reason of a shape the checker does not know: {reason}"]
