"""The allowed values of the closed lists, always read from the vocabulary in use.

``data/vocabulary.yaml`` is the one source of the values a service or a family may use for
categories, delivery, when, accessibility, referral, transitions, travel modes and cost.
Nothing else keeps its own copy: the engine's arrays, the profile and API schemas, the UI's
choices and the ORUK export are built from the loaded :class:`~matcher.vocab.Vocabulary`, so a
value added to the file reaches all of them without a code change.

Which vocabulary is "in use":

1. inside :func:`using_vocabulary` (the API sets it for each request to the vocabulary its
   app was created with), that one;
2. otherwise the file named by the settings (``MATCHER_VOCABULARY``; default
   ``data/vocabulary.yaml``).

Pydantic models use the annotated types below (:data:`Category`, :data:`TravelMode`, ...).
They validate against the vocabulary given in the validation context
(``Model.model_validate(data, context={"vocabulary": vocab})``), else the one in use, with a
plain message ("'x' is not a category; use one of: education, health, ..."), and publish
the allowed values as the JSON schema's ``enum`` when the schema is generated.

The error's type is pydantic's ``literal_error`` with ``expected`` in its context, as for a
``Literal`` field, so the API's 422 answers keep their stable shape ("preferences.when[0]
must be one of 'weekdays', 'evenings', ...").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from matcher.vocab import DEFAULT_VOCABULARY_PATH, Vocabulary, load_vocabulary

__all__ = [
    "CLOSED_LISTS",
    "VocabularyValue",
    "Category",
    "Delivery",
    "When",
    "Accessibility",
    "Referral",
    "Transition",
    "TravelMode",
    "Cost",
    "vocabulary_at",
    "vocabulary_in_use",
    "using_vocabulary",
    "closed_values",
    "not_allowed_message",
]

#: The closed lists of the vocabulary (attribute names of :class:`~matcher.vocab.Vocabulary`),
#: and what one value of each is called in a message.
CLOSED_LISTS: dict[str, str] = {
    "categories": "category",
    "delivery": "way of delivering a service",
    "when": "time a service runs",
    "accessibility": "accessibility feature",
    "referral": "way of getting a place",
    "transitions": "transition",
    "travel_modes": "travel mode",
    "cost": "cost",
}

_ACTIVE: ContextVar[Vocabulary | None] = ContextVar("matcher_vocabulary", default=None)


def vocabulary_at(path: Path | str | None) -> Vocabulary:
    """The vocabulary of the file at ``path`` (default ``data/vocabulary.yaml``), cached."""
    # The default file is loaded without a path, so every caller shares one cached copy.
    if path is None or Path(path).resolve() == DEFAULT_VOCABULARY_PATH:
        return load_vocabulary()
    return load_vocabulary(Path(path))


def vocabulary_in_use() -> Vocabulary:
    """The vocabulary set by :func:`using_vocabulary`, else the configured file's (cached)."""
    active = _ACTIVE.get()
    if active is not None:
        return active
    from matcher.settings import get_settings

    return vocabulary_at(get_settings().vocabulary_path)


@contextlib.contextmanager
def using_vocabulary(vocab: Vocabulary) -> Iterator[Vocabulary]:
    """Make ``vocab`` the vocabulary in use inside the ``with`` block (this context only)."""
    token = _ACTIVE.set(vocab)
    try:
        yield vocab
    finally:
        _ACTIVE.reset(token)


def closed_values(vocab: Vocabulary) -> dict[str, tuple[str, ...]]:
    """Every closed list's values, in the vocabulary's order: ``{"categories": (...), ...}``."""
    return {name: tuple(getattr(vocab, name)) for name in CLOSED_LISTS}


def not_allowed_message(kind: str, value: object, vocab: Vocabulary) -> str:
    """"'x' is not a category; use one of: education, health, ..." (the value cut at 40)."""
    shown = str(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return (f"'{shown}' is not a {CLOSED_LISTS[kind]}; use one of: "
            f"{', '.join(getattr(vocab, kind))}")


def _context_vocabulary(info: core_schema.ValidationInfo | None) -> Vocabulary:
    context = info.context if info is not None else None
    if isinstance(context, dict) and isinstance(context.get("vocabulary"), Vocabulary):
        return context["vocabulary"]
    return vocabulary_in_use()


class VocabularyValue:
    """Annotation for a ``str`` that must be a value of one closed list of the vocabulary.

    ``Annotated[str, VocabularyValue("categories")]`` validates against the vocabulary of the
    validation context (else the one in use) and shows the allowed values as ``enum`` in the
    JSON schema, read when the schema is generated.
    """

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        if kind not in CLOSED_LISTS:
            raise ValueError(f"{kind!r} is not a closed list; use one of {', '.join(CLOSED_LISTS)}")
        self.kind = kind

    def __repr__(self) -> str:
        return f"VocabularyValue({self.kind!r})"

    def _check(self, value: str, info: core_schema.ValidationInfo) -> str:
        vocab = _context_vocabulary(info)
        allowed = getattr(vocab, self.kind)
        if value not in allowed:
            quoted = [f"'{v}'" for v in allowed]
            expected = (", ".join(quoted[:-1]) + " or " + quoted[-1]) if len(quoted) > 1 \
                else "".join(quoted)
            raise PydanticCustomError("literal_error", "{message}", {
                "message": not_allowed_message(self.kind, value, vocab), "expected": expected})
        return value

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        out = handler(schema)
        out["enum"] = list(getattr(vocabulary_in_use(), self.kind))
        return out


Category = Annotated[str, VocabularyValue("categories")]
Delivery = Annotated[str, VocabularyValue("delivery")]
When = Annotated[str, VocabularyValue("when")]
Accessibility = Annotated[str, VocabularyValue("accessibility")]
Referral = Annotated[str, VocabularyValue("referral")]
Transition = Annotated[str, VocabularyValue("transitions")]
TravelMode = Annotated[str, VocabularyValue("travel_modes")]
Cost = Annotated[str, VocabularyValue("cost")]
