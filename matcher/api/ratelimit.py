"""Rate limits per client: anonymous writes, failed API keys, and demand counting.

Built on the ``limits`` library (moving window, in-memory storage: each API process keeps its
own counts, so with N workers a client may make up to N times the rate). The rates come from
:class:`matcher.coprod.config.CoprodConfig`. A client is its address as the server sees it
(behind a load balancer, set ``MATCHER_TRUSTED_PROXIES`` to its addresses so that its
``X-Forwarded-For`` is believed: :func:`matcher.api.serve.proxy_options`); addresses
are held in memory only, for the window, and never logged or stored.

Over the limit, :func:`limit_anonymous_writes` answers 429 with a ``Retry-After`` header (whole
seconds until the window lets the client in again) and the detail :data:`TOO_MANY`.
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from matcher.coprod.config import CoprodConfig, get_coprod_config

__all__ = ["RateLimits", "get_rate_limits", "get_coprod_settings", "client_id",
           "limit_anonymous_writes", "too_many", "TOO_MANY", "CoprodConfigDep",
           "RateLimitsDep"]

TOO_MANY = ("Too many requests from this connection. Wait a little (see Retry-After) and "
            "try again.")


class RateLimits:
    """The app's limiters (one in-memory storage per app)."""

    def __init__(self, config: CoprodConfig):
        self.storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.writes: RateLimitItem = parse(config.anonymous_write_rate)
        self.failed_keys: RateLimitItem = parse(config.failed_key_rate)
        self.demand: RateLimitItem = parse(config.demand_rate)

    def hit(self, item: RateLimitItem, *keys: str) -> bool:
        """Count one request; False when the client is over the limit."""
        return self.limiter.hit(item, *keys)

    def allowed(self, item: RateLimitItem, *keys: str) -> bool:
        """Whether the client is under the limit (counts nothing)."""
        return self.limiter.test(item, *keys)

    def retry_after(self, item: RateLimitItem, *keys: str) -> int:
        """Whole seconds until the client may make one more request."""
        reset = self.limiter.get_window_stats(item, *keys).reset_time
        return max(1, math.ceil(reset - time.time()))


def get_coprod_settings(request: Request) -> CoprodConfig:
    """The app's co-production settings (``app.state.coprod_config``, else the process's)."""
    config = getattr(request.app.state, "coprod_config", None)
    if config is None:
        config = request.app.state.coprod_config = get_coprod_config()
    return config


CoprodConfigDep = Annotated[CoprodConfig, Depends(get_coprod_settings)]


def get_rate_limits(request: Request) -> RateLimits:
    """The app's limiters, made on first use from its co-production settings."""
    limits = getattr(request.app.state, "rate_limits", None)
    if limits is None:
        limits = request.app.state.rate_limits = RateLimits(get_coprod_settings(request))
    return limits


RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]


def client_id(request: Request) -> str:
    """The client's address as the server sees it ("unknown" without one)."""
    return request.client.host if request.client else "unknown"


def too_many(seconds: int) -> HTTPException:
    """The 429 with its Retry-After header."""
    return HTTPException(status_code=429, detail=TOO_MANY,
                         headers={"Retry-After": str(seconds)})


def limit_anonymous_writes(request: Request, limits: RateLimitsDep) -> None:
    """Dependency of every anonymous write: 429 once the client is over the write rate."""
    who = client_id(request)
    if not limits.hit(limits.writes, "write", who):
        raise too_many(limits.retry_after(limits.writes, "write", who))
