"""The HTTP API (FastAPI): a thin layer over the matching library.

``create_app(settings=None)`` builds the application; nothing is built at import time.
"""

from __future__ import annotations

from matcher.api.app import create_app

__all__ = ["create_app"]
