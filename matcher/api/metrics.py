"""Prometheus metrics (prometheus-client), served at ``GET /metrics``.

==========================================  =========  ============================================
metric                                      type       what
==========================================  =========  ============================================
``matcher_http_request_duration_seconds``   histogram  time to answer, by method and route template
``matcher_http_requests_total``             counter    answers, by method, route template and status
``matcher_matches_total``                   counter    ``POST /match`` answers, by ``outcome``:
                                                       ``results`` or ``no_results``
``matcher_index_version``                   gauge      version of the directory the served index
                                                       was built from (:func:`set_index_version`)
``matcher_index_services``                  gauge      services in the served index
==========================================  =========  ============================================

plus prometheus-client's own ``process_*`` (memory, CPU, open files) and ``python_*`` metrics.
Labels carry route templates (``/plans/{plan_id}``), never a concrete path, so nothing about
a family reaches the metrics, and their number stays bounded.

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before starting
(prometheus-client's multiprocess mode); ``/metrics`` then adds up every worker's figures.
Without it each worker answers with its own.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["REQUEST_LATENCY", "REQUESTS", "MATCHES", "INDEX_VERSION", "INDEX_SERVICES",
           "observe_request", "observe_match", "set_index_version", "render", "CONTENT_TYPE"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Buckets from 5 ms (a match at a few thousand services) to 10 s (a large import).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "matcher_http_request_duration_seconds", "Time to answer an HTTP request, in seconds.",
    ["method", "route"], buckets=_BUCKETS)
REQUESTS = Counter(
    "matcher_http_requests", "HTTP requests answered.", ["method", "route", "status"])
MATCHES = Counter(
    "matcher_matches", "POST /match answers, by whether any service was suggested.",
    ["outcome"])
INDEX_VERSION = Gauge(
    "matcher_index_version",
    "Version of the service directory the served index was built from (the store's data "
    "version when it is a number).", multiprocess_mode="livemax")
INDEX_SERVICES = Gauge(
    "matcher_index_services", "Services in the served index.", multiprocess_mode="livemax")


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Record one answered request (``route`` is the template, or ``(no route)``)."""
    REQUEST_LATENCY.labels(method, route).observe(seconds)
    REQUESTS.labels(method, route, str(status)).inc()


def observe_match(results: int) -> None:
    """Record one ``POST /match`` answer with ``results`` suggestions."""
    MATCHES.labels("results" if results else "no_results").inc()


def set_index_version(version: int | str | None, services: int | None = None) -> None:
    """Publish the version (and size) of the index now serving matches.

    ``version`` is set when it is a whole number (a stored counter); a fingerprint such as
    ``"3f2a..."`` or ``"empty"`` leaves the gauge unchanged. Cheap: call it whenever an index
    is swapped in, or on each match.
    """
    if isinstance(version, int) or (isinstance(version, str) and version.isdigit()):
        INDEX_VERSION.set(int(version))
    if services is not None:
        INDEX_SERVICES.set(services)


def render() -> bytes:
    """The metrics in Prometheus' text format (all workers' in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
