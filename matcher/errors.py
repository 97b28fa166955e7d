"""One documented exception tree for the whole package.

Every error the library raises on purpose derives from :class:`MatcherError`, carries a
plain-English message saying what is wrong and how to fix it, and maps to one HTTP status
in the API and one exit code in the CLI.
"""

from __future__ import annotations

__all__ = [
    "MatcherError",
    "PostcodeError",
    "PostcodeFormatError",
    "PostcodeNotFoundError",
    "DataImportError",
    "ConfigError",
    "StoreUnavailableError",
    "ProfileError",
    "NotFittedError",
]


class MatcherError(Exception):
    """Base class of every error raised on purpose by this package."""


class PostcodeError(MatcherError, ValueError):
    """A postcode could not be resolved."""

    def __init__(self, message: str, value: str = "", suggestions: list[str] | None = None):
        super().__init__(message)
        self.value = value
        self.suggestions = list(suggestions or [])


class PostcodeFormatError(PostcodeError):
    """The text is not shaped like a GB postcode, sector or district."""


class PostcodeNotFoundError(PostcodeError):
    """The text is shaped like a postcode but is not a current GB postcode."""


class DataImportError(MatcherError):
    """An import was refused (strict mode, unreadable file). Carries the full report."""

    def __init__(self, message: str, report: object | None = None):
        super().__init__(message)
        self.report = report


class ConfigError(MatcherError, ValueError):
    """A configuration file is invalid. The message lists every problem at once."""


class StoreUnavailableError(MatcherError):
    """The store cannot keep a write, or is not the one this program expects: its SQLite file
    is gone or replaced, it cannot be written, its schema is not this program's, or the
    database does not answer. The API answers 503 ``{"detail": ...}``; nothing is confirmed."""


class ProfileError(MatcherError, ValueError):
    """A family's profile is invalid (age out of range, unknown travel mode...)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class NotFittedError(MatcherError, RuntimeError):
    """A model (such as the text index) was used before ``fit`` or ``load``."""
