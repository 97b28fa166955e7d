"""A small fake of the matcher API for the UI's AppTest tests (httpx.MockTransport).

It answers with the same shapes as ``matcher/api/schemas.py`` on six synthetic services, keeps
every request it receives (``calls``) and stores plans and feedback in memory, so the tests can
check what the UI sent. It has no matching logic of its own: ``/match`` returns the services
whose fake ``age`` range fits, in a fixed order, with fixed reasons.

Importing this module puts ``ui/`` on ``sys.path`` (as Streamlit does), so tests import the
UI's modules by the same names the pages use.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from streamlit.testing.v1 import AppTest

UI_DIR = Path(__file__).resolve().parents[1] / "ui"
# Street tiles are fetched by the family's browser; in these tests the map is off unless a
# test turns it on with its own tile address.
os.environ.setdefault("MATCHER_MAP_TILES", "off")
if str(UI_DIR) not in sys.path:
    sys.path.insert(0, str(UI_DIR))

from client import SESSION_KEY, ApiClient  # noqa: E402

__all__ = ["UI_DIR", "HOME", "KEY_WORKER_KEY", "COMMISSIONER_KEY", "ADMIN_KEY", "FakeApi",
           "VOCAB", "SERVICES", "COUNCIL", "GAP_CELLS", "DATA_HEALTH", "DATA_HEALTH_CSV", "install"]

HOME = str(UI_DIR / "Home.py")
KEY_WORKER_KEY = "mk_test_key_worker"
COMMISSIONER_KEY = "mk_test_commissioner"
ADMIN_KEY = "mk_test_admin"

VOCAB: dict[str, Any] = {
    "needs": [
        {"id": "autism", "label": "Autism", "areas": ["ci"], "code": "ASD",
         "phrase": "autistic children", "synonyms": ["autism", "autisim", "ASD"]},
        {"id": "adhd", "label": "ADHD", "areas": ["semh"], "code": None,
         "phrase": "children with ADHD", "synonyms": ["ADHD"]},
        {"id": "anxiety", "label": "Anxiety", "areas": ["semh"], "code": None,
         "phrase": "anxious children", "synonyms": ["anxiety", "anxity"]},
        {"id": "hearing_impairment", "label": "Hearing impairment (deaf)", "areas": ["sp"],
         "code": "HI", "phrase": "deaf children", "synonyms": ["deaf"]},
        {"id": "awaiting_diagnosis", "label": "Awaiting assessment or diagnosis", "areas": [],
         "code": None, "phrase": "", "synonyms": ["awaiting diagnosis"]},
    ],
    "areas": {"ci": "Communication and interaction", "cl": "Cognition and learning",
              "semh": "Social, emotional and mental health", "sp": "Sensory and/or physical"},
    "categories": {"education": "Education", "health": "Health", "leisure":
                   "Leisure and activities", "support_advice": "Information, advice and support",
                   "training_employment": "Training and work", "transition":
                   "Moving on to the next stage", "travel": "Travel and transport"},
    "delivery": {"in_person": "In person", "online": "Online", "phone": "By phone",
                 "home_visit": "Home visits"},
    "when": {"weekdays": "Weekdays", "evenings": "Evenings", "weekends": "Weekends",
             "school_holidays": "School holidays", "term_time": "Term time only"},
    "accessibility": {"wheelchair": "Wheelchair accessible", "sensory_friendly":
                      "Sensory-friendly", "quiet_space": "Quiet space to take a break"},
    "referral": {"self": "You can contact them yourself", "professional":
                 "A professional needs to refer you", "gp": "Your GP needs to refer you",
                 "school": "Your school needs to refer you", "ehcp": "Through an EHC plan"},
    "transitions": {"early_years_to_primary": "Starting primary school",
                    "primary_to_secondary": "Moving to secondary school",
                    "secondary_to_post16": "Moving on after Year 11",
                    "preparing_for_adulthood": "Preparing for adulthood"},
    "travel_modes": {"walk": "Walking", "public_transport": "Bus, train or Tube",
                     "car": "By car", "online_only": "Online or phone only"},
    "cost": {"free": "Free", "paid": "Paid", "free_for_some": "Free for some families"},
}


def _service(sid: str, name: str, categories: list[str], needs: list[str], ages: tuple, **kw):
    base = {"id": sid, "name": name, "description": f"{name}: a synthetic test service.",
            "categories": categories, "organisation": kw.pop("organisation", "Test Org"),
            "needs_raw": ";".join(needs), "needs": needs, "needs_unrecognised": [],
            "min_age": ages[0], "max_age": ages[1], "postcode": "N7 8JN", "latitude": 51.55,
            "longitude": -0.113, "address": "1 Test Road, London", "service_area": [],
            "delivery": ["in_person"], "cost": "free", "cost_details": "", "when": ["weekends"],
            "accessibility": [], "languages": ["English"], "referral": ["self"],
            "ehcp_required": False, "transitions": [], "url": f"https://{sid.lower()}.example",
            "phone": "020 7946 0001", "email": "", "last_reviewed": "2026-06-01",
            "source": "csv"}
    base.update(kw)
    return base


SERVICES: dict[str, dict] = {s["id"]: s for s in (
    _service("T-1", "Saturday Sensory Swim", ["leisure"], ["autism"], (5, 16),
             accessibility=["sensory_friendly"], cost_details="Carers go free"),
    _service("T-2", "Moving Up Club", ["transition", "education"], ["all_send"], (10, 11),
             when=["school_holidays"], referral=["school"],
             ratings=[{"body": "Ofsted", "rating": "Good", "date": "2024-03-12",
                       "url": "https://reports.example/t-2"}],
             outcomes=[{"text": "All 12 members started secondary school.", "year": 2025}],
             outside_area=True, used_by_local_families=True),
    _service("T-3", "Calm Minds Group", ["health"], ["anxiety"], (8, 18), referral=["gp"],
             latitude=None, longitude=None, postcode=None, delivery=["online"]),
    _service("T-4", "Deaf Youth Club", ["leisure"], ["hearing_impairment"], (11, 19)),
    _service("T-5", "Supported Internship Scheme", ["training_employment"], ["all_send"],
             (16, 24), ehcp_required=True, referral=["ehcp"]),
    _service("T-6", "Waymark SENDIASS", ["support_advice"], ["all_send"], (0, 25),
             phone="020 7946 0400", email="advice@waymark.example"),
)}


#: The fake ``GET /council`` (fictional, like the demo council's file).
COUNCIL: dict[str, Any] = {
    "name": "Islington", "full_name": "Test council", "districts": ["N7", "N19"],
    "local_offer_url": "https://localoffer.example",
    "send_team": {"name": "Test SEND Team", "phone": "020 7946 0310", "email": "send@c.example",
                  "url": "https://c.example/ehc", "hours": ""},
    "complaints": {"name": "Test Complaints", "phone": "", "email": "complaints@c.example",
                   "url": "", "hours": ""},
    "sendiass": {"name": "Waymark SENDIASS", "phone": "020 7946 0400", "email": "",
                 "url": "", "hours": ""},
    "mediation": {"name": "Test Mediation", "phone": "020 7946 0519", "email": "",
                  "url": "", "hours": ""},
}


#: The fake ``GET /gaps`` cells: three sectors of N1 and N7, two needs, two age bands.
GAP_CELLS: list[dict] = [
    {"area": "N7 8", "district": "N7", "need": "autism", "need_label": "Autism",
     "band": "primary", "max_minutes": 45.0, "services": 0, "status": "gap",
     "near_misses": [{"service_id": "T-1", "name": "Saturday Sensory Swim", "criterion": "time",
                      "minutes": 52.0, "min_age": 5, "max_age": 16}]},
    {"area": "N7 8", "district": "N7", "need": "autism", "need_label": "Autism",
     "band": "secondary", "max_minutes": 75.0, "services": 0, "status": "gap",
     "near_misses": []},
    {"area": "N1 1", "district": "N1", "need": "adhd", "need_label": "ADHD",
     "band": "primary", "max_minutes": 45.0, "services": 0, "status": "gap",
     "near_misses": [{"service_id": "T-2", "name": "Moving Up Club", "criterion": "age",
                      "minutes": 20.0, "min_age": 10, "max_age": 11}]},
    {"area": "N7 9", "district": "N7", "need": "adhd", "need_label": "ADHD",
     "band": "secondary", "max_minutes": 75.0, "services": 1, "status": "thin",
     "near_misses": []},
]
def _field_health(field: str, label: str, structured: int, from_text: int) -> dict:
    unknown = 6 - structured - from_text
    return {"field": field, "label": label, "structured": structured, "from_text": from_text,
            "unknown": unknown, "structured_share": round(structured / 6, 4),
            "from_text_share": round(from_text / 6, 4), "unknown_share": round(unknown / 6, 4)}


_AGES_CONFLICT = {"id": "T-1", "name": "Saturday Sensory Swim", "field": "ages",
                  "label": "Ages", "structured": "5 to 16", "text": "5 to 11",
                  "quote": "children aged 5 to 11", "source": "description"}
#: The fake ``GET /admin/data-health`` answer (six active records, one inactive).
DATA_HEALTH: dict[str, Any] = {
    "records": 7, "active": 6, "inactive": 1, "today": "2026-11-01",
    "fields": [_field_health("min_age", "Youngest age", 4, 1),
               _field_health("needs", "Needs supported", 3, 0),
               _field_health("location", "Place on a map (postcode)", 5, 0)],
    "no_age_no_needs": [{"id": "T-9", "name": "Mystery Drop-in", "organisation": "Unknown Org"}],
    "conflicts": [_AGES_CONFLICT],
    "to_fix_total": 2,
    "to_fix": [
        {"id": "T-9", "name": "Mystery Drop-in", "organisation": "Unknown Org", "email": "",
         "phone": "", "url": "", "score": 65,
         "what_to_add": ["Say which ages the service is for (for example 5 to 11, or 0 to 25)",
                         "Say which needs or conditions the service supports, for example "
                         "autism, ADHD or hearing impairment"],
         "items": [], "conflicts": []},
        {"id": "T-1", "name": "Saturday Sensory Swim", "organisation": "Test Org", "email": "",
         "phone": "020 7946 0001", "url": "https://t-1.example", "score": 15,
         "what_to_add": ["Check the ages: your listing says 5 to 16 but your description says "
                         "5 to 11 (\"children aged 5 to 11\")"],
         "items": [], "conflicts": [_AGES_CONFLICT]},
    ],
    "weights": {"no_ages": 40, "no_needs": 25, "conflict": 15},
    "stale_after_days": 365,
}
DATA_HEALTH_CSV = ("id,name,organisation,email,phone,url,priority_score,what_to_add,conflicts\r\n"
                   "T-9,Mystery Drop-in,Unknown Org,,,,65,1. Say which ages,\r\n")

#: Where the fake's sectors are (answered by ``GET /postcodes/{sector}``).
_SECTORS = {"N78": (51.551, -0.115), "N79": (51.556, -0.118), "N11": (51.538, -0.099)}


def _contributions(need: str | None, level: str, minutes: float | None) -> dict:
    items = []
    if need:
        items.append({"component": "need", "value": 1.0, "weight": 0.3, "points": 0.3,
                      "label": f"Supports {need}", "inputs": {"need": need, "level": level}})
    items.append({"component": "travel", "value": 0.8, "weight": 0.2, "points": 0.16,
                  "label": f"About {minutes or 0:.0f} minutes", "inputs": {}})
    items.append({"component": "freshness", "value": 1.0, "weight": 0.1, "points": 0.1,
                  "label": "Details checked June 2026", "inputs": {}})
    return {"base": 0.0, "contributions": items, "total": sum(i["points"] for i in items)}


@dataclass
class FakeApi:
    """The fake; call it with an ``httpx.Request``. ``down`` makes every call fail."""

    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    plans: dict[str, dict] = field(default_factory=dict)
    feedback: list[dict] = field(default_factory=list)
    down: bool = False
    empty: bool = False
    gap_queries: list[dict] = field(default_factory=list)
    #: Added to each match answer's ``understood`` after the needs the fake recognised.
    extra_understood: list[dict] = field(default_factory=list)
    guidance: list[dict] = field(default_factory=list)   # POST /match's guidance links
    users: dict[str, dict] = field(default_factory=lambda: {
        "ada": {"name": "ada", "role": "admin", "created_at": "2026-10-01T09:00:00Z"},
        "kim": {"name": "kim", "role": "key_worker", "created_at": "2026-10-02T09:00:00Z"}})
    uploads: list[tuple[str, bytes, str]] = field(default_factory=list)
    #: GET /demand's answer (commissioners): nothing to show unless a test sets it.
    demand: dict = field(default_factory=lambda: {"cells": [], "missing_by_theme": [],
                                                  "notes": []})

    def requests(self, method: str, path: str) -> list[Any]:
        """Bodies (or None) of the requests received for ``method path``."""
        return [body for m, p, body in self.calls if m == method and p == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = unquote(request.url.path)
        request.read()
        is_json = request.headers.get("content-type", "").startswith("application/json")
        body = json.loads(request.content) if request.content and is_json else None
        self.calls.append((request.method, path, body))
        if path.startswith("/admin/users") or path in ("/import", "/import/feed"):
            return self._admin(request, path, body)
        route = (request.method, path.split("/")[1] if "/" in path else path)
        if route == ("GET", "health"):
            return httpx.Response(200, json={"status": "ok", "services": len(SERVICES)})
        if route == ("GET", "vocabularies"):
            return httpx.Response(200, json=VOCAB)
        if route == ("GET", "council"):
            return httpx.Response(200, json=COUNCIL)
        if request.method == "POST" and path == "/needs/normalise":
            return self._normalise(body)
        if route == ("GET", "postcodes"):
            return self._postcode(path.split("/", 2)[2])
        if request.method == "POST" and path == "/match":
            return self._match(body)
        if route == ("GET", "services"):
            return self._services(path, request)
        if request.method == "POST" and path == "/feedback":
            if body["service_id"] not in SERVICES:
                return httpx.Response(404, json={"detail": f"No service with id "
                                                           f"'{body['service_id']}'."})
            self.feedback.append(body)
            return httpx.Response(201, json={**body, "recorded_at": "2026-11-01T10:00:00Z"})
        if path.startswith("/plans"):
            return self._plans(request, path, body)
        if route == ("GET", "gaps"):
            return self._gaps(request)
        if route == ("GET", "demand"):
            if request.headers.get("x-api-key") != COMMISSIONER_KEY:
                return httpx.Response(403, json={"detail": "This needs a commissioner's key."})
            return httpx.Response(200, json=self.demand)
        if request.method == "GET" and path.startswith("/admin/data-health"):
            return self._data_health(request, path)
        return httpx.Response(404, json={"detail": "Not Found"})

    # ------------------------------------------------------------------ routes
    @staticmethod
    def _normalise(body: dict) -> httpx.Response:
        matches, unrecognised, needs = [], [], []
        for text in body["words"]:
            hit = next((n for n in VOCAB["needs"] if text.lower() in
                        [s.lower() for s in n["synonyms"]] + [n["label"].lower()]), None)
            if hit is None:
                unrecognised.append(text)
                continue
            matches.append({"text": text, "need": hit["id"], "label": hit["label"],
                            "confidence": 1.0, "method": "exact"})
            if hit["id"] not in needs:
                needs.append(hit["id"])
        return httpx.Response(200, json={"needs": needs, "matches": matches,
                                         "unrecognised": unrecognised})

    @staticmethod
    def _postcode(text: str) -> httpx.Response:
        compact = text.replace(" ", "").upper()
        if compact in _SECTORS:
            lat, lon = _SECTORS[compact]
            return httpx.Response(200, json={"query": text, "postcode": text, "kind": "sector",
                                             "district": compact[:-1], "latitude": lat,
                                             "longitude": lon, "count": 300})
        if compact == "N78JN":
            return httpx.Response(200, json={"query": text, "postcode": "N7 8JN",
                                             "kind": "postcode", "district": "N7",
                                             "latitude": 51.55, "longitude": -0.113, "count": 1})
        if compact == "N7":
            return httpx.Response(200, json={"query": text, "postcode": "N7", "kind": "district",
                                             "district": "N7", "latitude": 51.55,
                                             "longitude": -0.12, "count": 900})
        if compact == "N79ZZ":
            return httpx.Response(404, json={
                "detail": "'N7 9ZZ' is not a current postcode. Check it on a letter or bill, or "
                          "use just the first part (N7). Did you mean N7 9BZ?",
                "suggestions": ["N7 9BZ"]})
        return httpx.Response(422, json={"detail": [{
            "field": "postcode", "type": "postcode_format",
            "message": f"postcode: '{text}' is not a postcode. A UK postcode looks like N7 8JN."}]})

    def _match(self, body: dict) -> httpx.Response:
        if self.empty:
            return httpx.Response(503, json={"detail": "The directory is empty: import a Local "
                                                       "Offer first."})
        age = body.get("age")
        if not isinstance(age, int) or not 0 <= age <= 25:
            return httpx.Response(422, json={"detail": [{
                "field": "age", "message": "age must be between 0 and 25",
                "type": "less_than_equal"}]})
        if body.get("postcode") and body["postcode"].replace(" ", "").upper() == "XX":
            return httpx.Response(422, json={"detail": [{
                "field": "postcode", "type": "postcode_format",
                "message": "postcode: 'XX' is not a postcode. A UK postcode looks like N7 8JN."}]})
        words = [w.lower() for w in body.get("needs") or []]
        understood, unrecognised = [], []
        for w in words:
            hit = next((n for n in VOCAB["needs"] if w in [s.lower() for s in n["synonyms"]]
                        + [n["label"].lower()]), None)
            if hit:
                understood.append({"words": w, "need": hit["id"], "label": hit["label"],
                                   "from": "needs"})
            else:
                unrecognised.append(w)
        wanted = {u["need"] for u in understood}
        results, left_out = [], []
        for i, s in enumerate(SERVICES.values()):
            fits = s["min_age"] <= age <= s["max_age"]
            if not fits:
                left_out.append({"service_id": s["id"], "name": s["name"], "status": "near_miss",
                                 "reasons": [f"For ages {s['min_age']} to {s['max_age']}, but "
                                             f"your child is {age}"],
                                 "score_if_eligible": 0.5})
                continue
            need = next((n for n in s["needs"] if n in wanted), None)
            level = "exact" if need else ("all_send" if "all_send" in s["needs"] else "")
            need_id = need or (next(iter(wanted), None) if level == "all_send" else None)
            minutes = None if s["latitude"] is None else 10.0 + i
            reasons = ([f"Supports {need}: you mentioned {need}"] if need else []) + [
                f"For ages {s['min_age']} to {s['max_age']}; your child is {age}",
                f"About {minutes:.0f} minutes by bus" if minutes else "Online, so no travel",
                "Free"]
            results.append({
                "service_id": s["id"], "name": s["name"], "score": round(0.9 - i * 0.05, 3),
                "reasons": reasons, "organisation": s["organisation"],
                "categories": s["categories"], "travel_minutes": minutes,
                "distance_km": None if minutes is None else round(minutes / 10, 1),
                "min_age": s["min_age"], "max_age": s["max_age"], "cost": s["cost"],
                "postcode": s["postcode"], "latitude": s["latitude"],
                "longitude": s["longitude"], "last_reviewed": s["last_reviewed"],
                "explanation": (_contributions(need_id, level, minutes)
                                if body.get("explain") == "full" else None)})
        results = results[:body.get("limit", 10)]
        return httpx.Response(200, json={
            "results": results, "understood_needs": understood,
            "understood": [{"words": u["words"], "as": u["label"], "kind": "need",
                            "id": u["need"]} for u in understood] + self.extra_understood,
            "unrecognised_needs": unrecognised, "candidates": len(results),
            "excluded": len(left_out),
            "not_suggested": left_out if body.get("explain") == "full" else None,
            "data_version": "test", "guidance": self.guidance})

    @staticmethod
    def _services(path: str, request: httpx.Request) -> httpx.Response:
        parts = path.split("/")
        if len(parts) == 3 and parts[2]:
            s = SERVICES.get(parts[2])
            if s is None:
                return httpx.Response(404, json={"detail": f"No service with id '{parts[2]}'."})
            return httpx.Response(200, json=s)
        q = (request.url.params.get("q") or "").lower()
        items = [s for s in SERVICES.values() if q in s["name"].lower()]
        return httpx.Response(200, json={"total": len(items), "page": 1, "size": 20,
                                         "items": items[:int(request.url.params.get("size",
                                                                                     20))]})

    def _plans(self, request: httpx.Request, path: str, body: dict | None) -> httpx.Response:
        key = request.headers.get("X-API-Key")
        if key == COMMISSIONER_KEY:
            return httpx.Response(403, json={"detail": "This needs the key_worker role."})
        if key != KEY_WORKER_KEY:
            return httpx.Response(401, json={"detail": "Missing or unknown API key."})
        plan_id = path.split("/")[2] if path.count("/") >= 2 else None
        now = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC).isoformat()
        if request.method == "GET" and plan_id is None:
            return httpx.Response(200, json={"plans": list(reversed(self.plans.values()))})
        if request.method == "POST" and plan_id is None:
            if "@" in body["label"]:
                return httpx.Response(422, json={"detail": [{
                    "field": "label", "type": "value_error",
                    "message": "label must not contain an e-mail address: use initials or your "
                               "case reference"}]})
            new_id = f"P-{len(self.plans) + 1}"
            self.plans[new_id] = {**body, "id": new_id, "owner": "kim", "created_at": now,
                                  "updated_at": now, "retain_until": "2027-11-01"}
            return httpx.Response(201, json=self.plans[new_id])
        if plan_id not in self.plans:
            return httpx.Response(404, json={"detail": f"No plan with id '{plan_id}'."})
        if request.method == "GET":
            return httpx.Response(200, json=self.plans[plan_id])
        if request.method == "PUT":
            self.plans[plan_id] = {**self.plans[plan_id], **body, "updated_at": now}
            return httpx.Response(200, json=self.plans[plan_id])
        if request.method == "DELETE":
            del self.plans[plan_id]
            return httpx.Response(204)
        return httpx.Response(405, json={"detail": "Method not allowed"})

    def _gaps(self, request: httpx.Request) -> httpx.Response:
        """``GET /gaps``: commissioner keys only; districts N1 and N7 (or around N7 8JN) known."""
        key = request.headers.get("X-API-Key")
        if key == KEY_WORKER_KEY:
            return httpx.Response(403, json={"detail": "This needs the commissioner or admin role."})
        if key != COMMISSIONER_KEY:
            return httpx.Response(401, json={"detail": "Missing or unknown API key."})
        params = dict(request.url.params)
        self.gap_queries.append(params)
        districts = [d for d in params.get("districts", "").split(",") if d]
        unknown = [d for d in districts if d not in ("N1", "N7")]
        if unknown:
            return httpx.Response(422, json={"detail": [{
                "field": "districts", "type": "postcode_not_found",
                "message": f"districts: '{unknown[0]}' is not a postcode district. Give districts "
                           "such as N7 or EC1V."}]})
        if not districts and params.get("around", "").replace(" ", "").upper() != "N78JN":
            return httpx.Response(422, json={"detail": [{
                "field": "around", "type": "postcode_format",
                "message": f"around: '{params.get('around')}' is not a postcode. A UK postcode "
                           "looks like N7 8JN."}]})
        cells = [c for c in GAP_CELLS if (not districts or c["district"] in districts)
                 and c["need"] == params.get("need", c["need"])
                 and c["band"] == params.get("band", c["band"])]
        return httpx.Response(200, json={
            "level": params.get("level", "sector"), "mode": params.get("mode", "public_transport"),
            "areas": 3, "cells": 30, "gaps": sum(c["status"] == "gap" for c in cells),
            "thin": sum(c["status"] == "thin" for c in cells), "total": len(cells),
            "results": cells, "notes": []})

    def _import_feed(self, body: dict) -> httpx.Response:
        """``POST /import/feed``: an address that is not http(s) is a field problem; one with
        "offline" in it cannot be reached; any other answers a report with one problem."""
        url = str(body.get("url") or "")
        self.uploads.append((url, b"", str(body.get("strict", False)).lower()))
        if not url.startswith(("http://", "https://")):
            return httpx.Response(422, json={"detail": [{
                "field": "url", "type": "url_scheme",
                "message": f"'{url}' is not a web address: give the feed's address starting "
                           "with https:// (or http://)."}]})
        if "offline" in url:
            return httpx.Response(422, json={"detail": f"Could not reach {url}: connection "
                                                       "refused.", "report": None})
        problem = {"row": 2, "column": "age", "value": "12-99", "problem": "adults only",
                   "fix": "Check the service is for children or young people", "line": None}
        return httpx.Response(200, json={
            "source": url, "rows_read": 4, "accepted": 3, "added": 3, "updated": 0,
            "unchanged": 0, "rejected": 1, "problems": [problem], "warnings": [],
            "imported": True, "data_version": "v3", "services": 10})

    def _admin(self, request: httpx.Request, path: str, body: dict | None) -> httpx.Response:
        """``/admin/users`` and ``POST /import``: admin keys only."""
        key = request.headers.get("X-API-Key")
        if key in (KEY_WORKER_KEY, COMMISSIONER_KEY):
            return httpx.Response(403, json={"detail": "This needs the admin role."})
        if key != ADMIN_KEY:
            return httpx.Response(401, json={"detail": "Missing or unknown API key."})
        if path == "/import/feed":
            return self._import_feed(body or {})
        if path == "/import":
            text = request.content.decode("utf-8", "replace")
            name = text.split('filename="', 1)[1].split('"', 1)[0]
            self.uploads.append((name, request.content, request.url.params.get("strict", "")))
            bad = [{"row": 3, "column": "min_age", "value": "ten", "problem": "not a number",
                    "fix": "Write the age in figures, for example 10", "line": 3}]
            if "unusable" in text:
                return httpx.Response(422, json={
                    "detail": f"Nothing was imported from {name}: it has no header row.",
                    "report": {"rows_read": 0, "accepted": 0, "rejected": 0, "fatal": True,
                               "problems": [], "warnings": []}})
            problems = bad if "ten" in text else []
            return httpx.Response(200, json={
                "source": name, "rows_read": 3, "accepted": 3 - len(problems), "added": 1,
                "updated": 1 - len(problems), "unchanged": 1, "rejected": len(problems),
                "problems": problems, "warnings": [], "imported": True,
                "data_version": "v2", "services": 7})
        name = path.split("/")[3] if path.count("/") >= 3 else None
        if request.method == "GET":
            return httpx.Response(200, json={"users": sorted(self.users.values(),
                                                             key=lambda u: u["name"])})
        if request.method == "POST":
            if body["name"] in self.users:
                return httpx.Response(409, json={"detail": f"There is already a user called "
                                                           f"'{body['name']}'."})
            self.users[body["name"]] = {**body, "created_at": "2026-11-01T10:00:00Z"}
            return httpx.Response(201, json={**self.users[body["name"]],
                                             "api_key": f"mk_new_{body['name']}"})
        if name == "ada":
            return httpx.Response(409, json={"detail": "You cannot remove your own key here."})
        if name not in self.users:
            return httpx.Response(404, json={"detail": f"There is no user called '{name}'."})
        del self.users[name]
        return httpx.Response(204)

    @staticmethod
    def _data_health(request: httpx.Request, path: str) -> httpx.Response:
        """``GET /admin/data-health`` (JSON) and ``/admin/data-health.csv``: admin keys only."""
        key = request.headers.get("X-API-Key")
        if key in (KEY_WORKER_KEY, COMMISSIONER_KEY):
            return httpx.Response(403, json={"detail": "This needs the admin role."})
        if key != ADMIN_KEY:
            return httpx.Response(401, json={"detail": "Missing or unknown API key."})
        if path == "/admin/data-health.csv":
            return httpx.Response(200, text=DATA_HEALTH_CSV,
                                  headers={"content-type": "text/csv; charset=utf-8"})
        return httpx.Response(200, json=DATA_HEALTH)


def install(at, fake: FakeApi | None = None) -> FakeApi:
    """Give an AppTest session a client that talks to ``fake`` (a new one by default)."""
    fake = fake or FakeApi()
    at.session_state[SESSION_KEY] = ApiClient("http://api.test",
                                              transport=httpx.MockTransport(fake))
    return fake


def open_page(page: str, fake: FakeApi | None = None) -> tuple[AppTest, FakeApi]:
    """Start the app on the home page with ``fake`` (a new one by default) behind it, then go
    to ``page``; the page must run without an exception."""
    at = AppTest.from_file(HOME, default_timeout=30)
    fake = install(at, fake)
    at.run()
    at.switch_page(page)
    return run(at), fake


def run(at: AppTest) -> AppTest:
    """Run the page again; it must run without an exception."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
