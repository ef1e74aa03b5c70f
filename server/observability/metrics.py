"""Prometheus metrics: every series the server exports, declared once.

Parts increment these directly (``metrics.EVENTS_PUBLISHED.inc()``). Each process
serves its own ``GET /metrics``; in the scaled-out shape Prometheus scrapes every
replica, so series are per process by design (no multiprocess directory needed).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Histogram(
    "homeroom_http_request_duration_seconds",
    "HTTP request latency by route template, method and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
CONNECTIONS = Gauge("homeroom_ws_connections", "Open websocket connections.", registry=REGISTRY)
SUBSCRIPTIONS = Gauge(
    "homeroom_ws_subscriptions", "Channel subscriptions held by open connections.", registry=REGISTRY
)
EVENTS_PUBLISHED = Counter(
    "homeroom_events_published_total", "Events published to the broker.", registry=REGISTRY
)
EVENTS_DELIVERED = Counter(
    "homeroom_events_delivered_total", "Event frames queued to connections.", registry=REGISTRY
)
DELIVERY_LATENCY = Histogram(
    "homeroom_event_delivery_seconds",
    "From publish to the frame being queued for a connection.",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
SLOW_CLIENT_CLOSES = Counter(
    "homeroom_ws_slow_client_closes_total",
    "Connections closed with 4008 because their buffer overflowed.",
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "homeroom_outbox_unpublished", "Committed events not yet published (broker down).", registry=REGISTRY
)
TRANSLATION_QUEUE = Gauge("homeroom_translation_queue_depth", "Translation jobs waiting.", registry=REGISTRY)
TRANSLATION_LATENCY = Histogram(
    "homeroom_translation_seconds",
    "Time to translate one job (all sentences of one item into one language).",
    ["engine"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
TRANSLATIONS = Counter(
    "homeroom_translations_total",
    "Translation jobs by outcome (done, cached, failed).",
    ["outcome"],
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


PUSH_SENT = Counter(
    "homeroom_push_sent_total", "Web Push messages accepted by push services.", registry=REGISTRY
)
PUSH_FAILED = Counter(
    "homeroom_push_failed_total",
    "Web Push messages given up: gone (404/410, subscription deleted), refused (other 4xx), gave_up.",
    ["reason"],
    registry=REGISTRY,
)
PUSH_RETRIED = Counter(
    "homeroom_push_retried_total", "Web Push attempts to be retried (429, 5xx, no answer).", registry=REGISTRY
)
PUSH_QUEUE_AGE = Gauge(
    "homeroom_push_queue_age_seconds", "Age of the oldest push due and not yet sent.", registry=REGISTRY
)
PUSH_LATENCY = Histogram(
    "homeroom_push_delivery_seconds",
    "From a push being queued to its push service accepting it.",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
