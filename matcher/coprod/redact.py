"""Taking personal details out of a comment's words before it is published.

:func:`redact` replaces each phrase the editor marks (a name, a school, a street), and every
email address, phone number and postcode it can recognise, with ``[removed]``. Editors still
read the result before publishing: a pattern cannot recognise every personal detail.

>>> redact("My son Tom Baker (tom@example.org, 07700 900123) lives at N7 8JN.", ["Tom Baker"])
'My son [removed] ([removed], [removed]) lives at [removed].'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["REMOVED", "redact", "personal_details"]

REMOVED = "[removed]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# UK phone numbers: 0 or +44 then 9-10 more digits, with spaces, dots, dashes or brackets.
_PHONE = re.compile(r"(?<![\w])(?:\+44\s?\(?0?\)?|0)(?:[\s().-]*\d){9,10}(?![\w])")
# A full GB postcode (outward and inward code).
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
_PATTERNS = (_EMAIL, _PHONE, _POSTCODE)


def personal_details(text: str) -> list[str]:
    """The email addresses, phone numbers and postcodes found in ``text``, in order."""
    found: list[tuple[int, str]] = []
    for pattern in _PATTERNS:
        found += [(m.start(), m.group(0)) for m in pattern.finditer(text)]
    return [s for _, s in sorted(found)]


def redact(text: str, phrases: Iterable[str] = ()) -> str:
    """``text`` with each of ``phrases`` (any case, whole words where they start or end with a
    letter or digit) and every recognised email, phone number and postcode replaced by
    :data:`REMOVED`."""
    out = text
    for phrase in sorted({p.strip() for p in phrases if p and p.strip()}, key=len, reverse=True):
        left = r"\b" if phrase[0].isalnum() else ""
        right = r"\b" if phrase[-1].isalnum() else ""
        out = re.sub(left + re.escape(phrase) + right, REMOVED, out, flags=re.IGNORECASE)
    for pattern in _PATTERNS:
        out = pattern.sub(REMOVED, out)
    return out
