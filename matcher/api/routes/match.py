"""``POST /match``: rank the directory's services for one family (contract sections 2-3)."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import fields
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request

from matcher.api.deps import DirectoryDep, MatcherDep, get_api_config
from matcher.api.metrics import observe_match, set_index_version
from matcher.api.routes.coprod import count_demand
from matcher.api.schemas import MatchRequest, MatchResponse, Message
from matcher.engine.pipeline import MatchOutcome, MatchResult
from matcher.guidance import guidance_for

__all__ = ["router", "brief_answer"]

log = logging.getLogger("matcher.api")

router = APIRouter(tags=["match"])

_BRIEF_RESULT_FIELDS = tuple(f.name for f in fields(MatchResult) if f.name != "explanation")


_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def _match_slots(limit: int | None) -> threading.BoundedSemaphore:
    """The semaphore that lets at most ``limit`` (default: the CPU count) matches run at
    once in this process: each holds working arrays the size of the directory, so twenty
    requests in flight would hold twenty sets of them for no gain in throughput."""
    n = limit or max(os.cpu_count() or 1, 1)
    slots = _SLOTS.get(n)
    if slots is None:
        with _SLOTS_LOCK:
            slots = _SLOTS.setdefault(n, threading.BoundedSemaphore(n))
    return slots


def brief_answer(outcome: MatchOutcome) -> dict[str, Any]:
    """``outcome.to_dict(full=False)`` without its cost: that deep-copies every result's
    explanation only to drop it (about 1 ms of a match over 10,000 services, against 0.05 ms
    here). Lists are shared with ``outcome``, not copied; the answer is only serialised."""
    answer: dict[str, Any] = {
        "results": [{name: getattr(r, name) for name in _BRIEF_RESULT_FIELDS}
                    for r in outcome.results]}
    answer.update({f.name: getattr(outcome, f.name) for f in fields(outcome)
                   if f.name not in ("results", "not_suggested")})
    return answer


@router.post(
    "/match",
    operation_id="match",
    summary="Suggest services for a family, with reasons",
    response_model=MatchResponse,
    responses={503: {"model": Message, "description": "the directory is empty"}},
)
def match(body: MatchRequest, matcher: MatcherDep, directory: DirectoryDep, request: Request,
          background: BackgroundTasks) -> dict:
    """Rank the services that fit the child, best first, each with plain-English reasons.

    Needs words that are not recognised come back in ``unrecognised_needs``; they are not
    errors. A postcode that is malformed or not a current GB postcode is a 422 naming the
    field ``postcode``. ``explain="full"`` adds each result's ``explanation`` (base,
    contributions and total) and ``not_suggested`` (services left out, and why). A search
    whose best result is poor adds one to a demand count (need x age band x postcode district
    x month; nothing else is kept).
    """
    started = time.perf_counter()
    with _match_slots(get_api_config(request).match_concurrency):
        outcome = matcher.match(body, explain=body.explain)
    answer = outcome.to_dict(full=True) if body.explain == "full" else brief_answer(outcome)
    answer["data_version"] = directory.version
    answer["guidance"] = [g.to_dict() for g in guidance_for([*body.needs, body.about])]
    # Unmet demand: a poorly served search adds one to its need x band x district x month.
    count_demand(request, background, body, outcome)
    log.debug("match: %d results, %d candidates, %d excluded in %.1f ms", len(outcome.results),
              outcome.candidates, outcome.excluded, (time.perf_counter() - started) * 1000)
    observe_match(len(outcome.results))
    set_index_version(directory.counter if directory.counter >= 0 else None,
                      directory.size)
    return answer
