"""``GET /vocabularies`` and ``POST /needs/normalise``."""

from __future__ import annotations

from fastapi import APIRouter

from matcher.api.schemas import NormaliseRequest, NormaliseResponse, Vocabularies

__all__ = ["router"]

router = APIRouter(tags=["vocabularies"])


@router.get(
    "/vocabularies",
    operation_id="list_vocabularies",
    summary="The needs taxonomy and the template's closed vocabularies",
    response_model=Vocabularies,
)
def list_vocabularies() -> dict:
    """Canonical needs (with labels, broad areas, DfE codes and every accepted synonym), the
    broad areas, and the closed vocabularies of contract section 1, each value with its label."""
    from matcher.vocab import load_vocabulary

    v = load_vocabulary()
    return {
        "needs": [{"id": n.id, "label": n.label, "areas": list(n.areas), "code": n.code,
                   "phrase": n.phrase, "synonyms": list(n.synonyms)} for n in v.needs.values()],
        "areas": dict(v.areas),
        "categories": dict(v.categories),
        "delivery": dict(v.delivery),
        "when": dict(v.when),
        "accessibility": dict(v.accessibility),
        "referral": dict(v.referral),
        "transitions": dict(v.transitions),
        "travel_modes": dict(v.travel_modes),
        "cost": dict(v.cost),
    }


@router.post(
    "/needs/normalise",
    operation_id="normalise_needs",
    summary="Turn needs words into canonical needs",
    response_model=NormaliseResponse,
)
def normalise_needs(body: NormaliseRequest) -> dict:
    """Each piece of text becomes zero or more canonical needs (exact synonym, phrase or fuzzy
    match, with a confidence). Words not recognised are returned in ``unrecognised``, never
    dropped and never an error."""
    from matcher.vocab import load_vocabulary

    v = load_vocabulary()
    result = v.normalise([w.strip() for w in body.words if w.strip()])

    return {
        "needs": list(result.needs),
        "matches": [{"text": m.text, "need": m.need, "label": v.label_of(m.need),
                     "confidence": round(float(m.confidence), 4), "method": m.method}
                    for m in result.matches],
        "unrecognised": list(result.unrecognised),
    }
