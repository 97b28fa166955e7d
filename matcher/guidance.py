"""Which guidance a family's own words call for: the EHC assessment route, or how to
complain and appeal.

A family who writes that they asked for an EHC needs assessment, were refused one, or are
waiting for one needs to know the route and its time limits (SEND Regulations 2014 reg.4, 10
and 13; SEND Code of Practice 2015 chapter 9) more than another service; a family who was
refused, or who mentions an appeal, a tribunal or a complaint, needs to know who can help and
the order things go in (Children and Families Act 2014 s.51-55; Code of Practice chapter 11).
:func:`guidance_for` reads the words (never logged, never stored) and returns the links to
show, each with the reason in plain English.

The rules are grammar, not cue lists tuned to cases: an *EHC noun* (EHC needs assessment,
EHCNA, EHCP, EHC plan, education, health and care plan or assessment, statutory assessment)
with a verb of refusing, waiting or asking on either side of it in the same clause, and a
negation ("we have not asked for") cancelling the verb. A diagnostic assessment ("waiting
for an autism assessment") is not an EHC needs assessment and does not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

__all__ = ["GuidanceLink", "assessment_stage", "guidance_for", "mentions_disagreement"]

_EHC = (r"(?:ehc\s*(?:needs\s*)?assessment|ehc\s*na|ehcna|ehcp|ehc\s*plan"
        r"|education,?\s*health\s*(?:and|&)\s*care\s*(?:needs\s*)?(?:assessment|plan)"
        r"|statutory\s*(?:needs\s*)?assessment)s?")
#: Words that may sit between a verb and the EHC noun (articles, "for him", "his"...).
_GAP = r"(?:[\w',]+\s+){0,5}?"
_NEG = re.compile(r"(?:\bnot|\bnever|n't|\bno)\s+(?:\w+\s+){0,2}$", re.I)

#: The verbs of refusing, before or after the EHC noun.
_REFUSED = r"(?:refused|rejected|turned\s+down|declined|denied)"
_REFUSE_BEFORE = re.compile(
    rf"\b(?:{_REFUSED}|said\s+no\s+to|won't\s+do|"
    rf"will\s+not\s+do|refuse[sd]?\s+to\s+(?:do|carry\s+out|issue))\s+{_GAP}{_EHC}", re.I)
_REFUSE_AFTER = re.compile(
    rf"{_EHC}\s+{_GAP}(?:was|were|got|has\s+been|have\s+been|had\s+been|been|is|being)\s+"
    rf"(?:\w+\s+)?{_REFUSED}", re.I)
_REFUSE_ASSESS = re.compile(
    r"\b(?:council|la|local\s+authority|borough)\s+(?:\w+\s+){0,3}?"
    r"(?:refused|declined|won't|will\s+not|wouldn't|decided\s+not|are\s+not\s+going)\s+to\s+"
    r"(?:assess|do\s+an?\s+(?:ehc|needs|statutory))", re.I)
_WAIT_BEFORE = re.compile(
    rf"\b(?:waiting|waited|wait|awaiting|on\s+the\s+waiting\s+list|in\s+the\s+middle|"
    rf"going\s+through|halfway\s+through|part\s+way\s+through)\s+{_GAP}{_EHC}", re.I)
_WAIT_AFTER = re.compile(
    rf"{_EHC}\s+{_GAP}(?:is|are|was|has\s+been|still)\s+(?:\w+\s+)?"
    rf"(?:pending|in\s+progress|under\s*way|ongoing|being\s+(?:done|processed|carried\s+out|"
    rf"considered)|still\s+going)", re.I)
_ASK = re.compile(
    rf"\b(?:asked\s+for|requested|applied\s+for|apply\s+for|applying\s+for|"
    rf"put\s+in\s+(?:a\s+)?(?:request|application)\s+for|"
    rf"submitted\s+(?:a\s+|the\s+)?(?:request|application)\s+for|"
    rf"(?:made|sent)\s+(?:a\s+|the\s+)?(?:request|application)\s+for|"
    rf"request(?:ing)?\s+an?|ask(?:ing)?\s+for|how\s+(?:do|can)\s+(?:i|we)\s+get)\s+"
    rf"{_GAP}{_EHC}", re.I)
_DISAGREE = re.compile(
    r"\b(?:appeal(?:ing|ed|s)?|tribunal|mediation|complain(?:t|ts|ing|ed)?|"
    r"disagree(?:ment|s|d)?\s+with\s+(?:the\s+)?(?:council|la|local\s+authority|school|"
    r"decision|plan|ehcp))\b", re.I)
_REVIEW = re.compile(r"\breview", re.I)
_SENTENCE = re.compile(r"(?<=[.!?;\n])\s+|\s+but\s+|\s+however\s+", re.I)


@dataclass(frozen=True)
class GuidanceLink:
    """One guidance page to show beside the results, and why."""

    page: str      # "ehc_assessment" or "complain_or_appeal"
    reason: str    # a plain sentence saying why it is shown

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _hit(pattern: re.Pattern[str], clause: str) -> bool:
    # A plan's review ("waiting for his EHCP annual review") is not an assessment request.
    return any(not _NEG.search(clause[:m.start()]) and not _REVIEW.search(
        clause[m.start():m.end() + 16]) for m in pattern.finditer(clause))


def assessment_stage(text: str) -> str | None:
    """Where the family says they are with an EHC needs assessment: ``"refused"``,
    ``"waiting"``, ``"asked"``, or ``None`` when they do not say.

    >>> assessment_stage("The council refused our request for an EHC needs assessment.")
    'refused'
    >>> assessment_stage("We are still waiting for the EHCNA decision")
    'waiting'
    >>> assessment_stage("school applied for an EHCP in May")
    'asked'
    >>> assessment_stage("he is waiting for an autism assessment") is None
    True
    """
    stages: set[str] = set()
    for clause in _SENTENCE.split(text or ""):
        if _hit(_REFUSE_BEFORE, clause) or _hit(_REFUSE_AFTER, clause) \
                or _hit(_REFUSE_ASSESS, clause):
            stages.add("refused")
        elif _hit(_WAIT_BEFORE, clause) or _hit(_WAIT_AFTER, clause):
            stages.add("waiting")
        elif _hit(_ASK, clause):
            stages.add("asked")
    for stage in ("refused", "waiting", "asked"):
        if stage in stages:
            return stage
    return None


def mentions_disagreement(text: str) -> bool:
    """True when the words mention an appeal, a tribunal, mediation, a complaint, or
    disagreeing with a decision (and not only to say there is none).

    >>> mentions_disagreement("We want to appeal to the tribunal")
    True
    >>> mentions_disagreement("no complaints, he loves his school")
    False
    """
    return any(_hit(_DISAGREE, clause) for clause in _SENTENCE.split(text or ""))


_REASONS = {
    "refused": "You said a request for an EHC needs assessment or plan was turned down. This "
               "explains the route and what you can do next.",
    "waiting": "You said you are waiting for an EHC needs assessment or its decision. This "
               "explains each step and how long it should take.",
    "asked": "You mentioned asking for an EHC needs assessment. This explains each step and "
             "how long it should take.",
}


def guidance_for(words: Iterable[str]) -> list[GuidanceLink]:
    """The guidance links a family's words call for, EHC assessment first.

    >>> [g.page for g in guidance_for(["They turned down our EHCNA request"])]
    ['ehc_assessment', 'complain_or_appeal']
    """
    text = "\n".join(w for w in words if w)
    links: list[GuidanceLink] = []
    stage = assessment_stage(text)
    if stage is not None:
        links.append(GuidanceLink("ehc_assessment", _REASONS[stage]))
    if stage == "refused":
        links.append(GuidanceLink(
            "complain_or_appeal", "You can ask for mediation and appeal a refusal to the SEND "
                                  "Tribunal: this says how, and who can help for free."))
    elif mentions_disagreement(text):
        links.append(GuidanceLink(
            "complain_or_appeal", "You mentioned a disagreement, complaint or appeal: this says "
                                  "who to talk to first and who can help for free."))
    return links
