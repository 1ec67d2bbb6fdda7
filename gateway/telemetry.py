"""Timings and counters the gateway's parts report into, exposed by ``/metrics``."""

from __future__ import annotations

from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram

# a "_created" sample per counter and histogram doubles the output and no panel reads it
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

# Dead-letter reasons are free text written for people; metrics need a small fixed label set,
# so a reason is filed under the first label whose keywords it contains.
REASON_LABELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("oversized", ("byte limit", "too large")),
    ("rate_limited", ("rate", "flood")),
    ("not_json", ("json", "utf-8", "not a json object")),
    ("empty", ("empty",)),
    ("unknown_device", ("unknown device", "not in the building", "not bound", "unbound")),
    ("no_profile", ("no profile", "no rule", "matches no")),
    ("out_of_range", ("range", "absurd", "above", "below", "maximum", "minimum")),
)


def reason_label(reason: str) -> str:
    """The metric label of a dead-letter reason; ``rejected`` when none fits."""
    low = reason.lower()
    for label, words in REASON_LABELS:
        if any(w in low for w in words):
            return label
    return "rejected"


class Telemetry:
    """A private Prometheus registry, so several gateways in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.batch_commit = Histogram(
            "gateway_batch_commit_seconds",
            "Time to commit one ingest batch to the store",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "gateway_batch_rows",
            "Events and dead letters per committed ingest batch",
            buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 5000),
            registry=self.registry,
        )
        self.engine_tick = Histogram(
            "gateway_engine_tick_seconds",
            "Time of one occupancy engine tick (timers, idle detection, MQTT out)",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5),
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "gateway_dead_letters_by_reason",
            "Messages dead-lettered since start, by kind of reason",
            ["reason"],
            registry=self.registry,
        )
        for label, _words in (*REASON_LABELS, ("rejected", ())):  # every series from the start
            self.dead_letters.labels(label)
        self.api_latency = Histogram(
            "gateway_api_request_seconds",
            "API time to first response byte, by route template, method and status",
            ["route", "method", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
            registry=self.registry,
        )

    def observe_batch(self, batch: Any, seconds: float) -> None:
        """Called by the batch writer after each commit (on the ingest worker thread)."""
        self.batch_commit.observe(seconds)
        self.batch_rows.observe(len(batch))
        for dl in batch.dead_letters:
            self.dead_letters.labels(reason_label(str(dl.get("reason", "")))).inc()
