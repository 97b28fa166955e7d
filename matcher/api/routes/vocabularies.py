"""``GET /vocabularies`` and ``POST /needs/normalise``."""

from __future__ import annotations

from fastapi import APIRouter

from matcher.allowed import closed_values
from matcher.api.deps import VocabularyDep
from matcher.api.schemas import NormaliseRequest, NormaliseResponse, Vocabularies

__all__ = ["router"]

router = APIRouter(tags=["vocabularies"])


@router.get(
    "/vocabularies",
    operation_id="list_vocabularies",
    summary="The needs taxonomy and the template's closed vocabularies",
    response_model=Vocabularies,
)
def list_vocabularies(v: VocabularyDep) -> dict:
    """Canonical needs (with labels, broad areas, DfE codes and every accepted synonym), the
    broad areas, and every closed list (categories, delivery, when, accessibility, referral,
    transitions, travel modes, cost), each value with its label: the allowed values, read from
    the vocabulary file the API was started with."""
    return {
        "needs": [{"id": n.id, "label": n.label, "areas": list(n.areas), "code": n.code,
                   "phrase": n.phrase, "synonyms": list(n.synonyms)} for n in v.needs.values()],
        "areas": dict(v.areas),
        **{name: dict(getattr(v, name)) for name in closed_values(v)},
    }


@router.post(
    "/needs/normalise",
    operation_id="normalise_needs",
    summary="Turn needs words into canonical needs",
    response_model=NormaliseResponse,
)
def normalise_needs(body: NormaliseRequest, v: VocabularyDep) -> dict:
    """Each piece of text becomes zero or more canonical needs (exact synonym, phrase or fuzzy
    match, with a confidence). Words not recognised are returned in ``unrecognised``, never
    dropped and never an error."""
    result = v.normalise([w.strip() for w in body.words if w.strip()])

    return {
        "needs": list(result.needs),
        "matches": [{"text": m.text, "need": m.need, "label": v.label_of(m.need),
                     "confidence": round(float(m.confidence), 4), "method": m.method}
                    for m in result.matches],
        "unrecognised": list(result.unrecognised),
    }
