"""Prometheus metrics of one API process, on a registry of its own (no global state)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "alliance_requests_total",
            "HTTP requests by operation (GraphQL operation name or route) and status.",
            ["operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "alliance_request_duration_seconds",
            "HTTP request latency by operation.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs_sent = Counter(
            "alliance_jobs_sent_total",
            "Background jobs sent after commit, by task.",
            ["task"],
            registry=self.registry,
        )
        self.change_log_head = Gauge(
            "alliance_change_log_head",
            "Highest committed change-log sequence number.",
            registry=self.registry,
        )
        self.heartbeat_age = Gauge(
            "alliance_worker_heartbeat_age_seconds",
            "Seconds since a worker last ran the periodic heartbeat task (-1: never).",
            registry=self.registry,
        )
        self.worker_heartbeats = Gauge(
            "alliance_worker_tasks_heartbeats_total",
            "Heartbeat tasks run by all workers, as recorded in the database.",
            registry=self.registry,
        )

    def observe_request(self, operation: str, status: int, seconds: float) -> None:
        self.requests.labels(operation=operation, status=str(status)).inc()
        self.latency.labels(operation=operation).observe(seconds)

    async def render(self, refresh: Callable[[Metrics], Awaitable[None]]) -> bytes:
        await refresh(self)
        return generate_latest(self.registry)
