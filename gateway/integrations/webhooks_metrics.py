"""The webhooks' figures for /metrics: per subscription, from its row and the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from gateway.integrations.webhooks import Webhooks


def quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def webhook_metrics(hooks: Webhooks, now: float) -> Iterator[Metric]:
    """Pending, delivered, failed, dropped and paused per subscription; the sender's own."""
    label = ["subscription"]
    pending = GaugeMetricFamily(
        "gateway_webhook_pending", "Webhook deliveries waiting in the outbox", labels=label
    )
    oldest = GaugeMetricFamily(
        "gateway_webhook_oldest_pending_age_seconds",
        "Age of the oldest webhook delivery still waiting",
        labels=label,
    )
    delivered = CounterMetricFamily(
        "gateway_webhook_delivered", "Webhook deliveries answered 2xx", labels=label
    )
    failures = CounterMetricFamily(
        "gateway_webhook_failures",
        "Webhook attempts that failed (non-2xx, refused, no answer in time)",
        labels=label,
    )
    dropped = CounterMetricFamily(
        "gateway_webhook_dropped",
        "Oldest pending webhook deliveries dropped because the outbox cap was reached",
        labels=label,
    )
    paused = GaugeMetricFamily(
        "gateway_webhook_paused", "1 while a subscription is paused after failing", labels=label
    )
    ages = hooks.outbox.oldest_pending_at()
    for row in hooks.subs.all():
        sid = [row["id"]]
        pending.add_metric(sid, hooks.outbox.pending.get(row["id"], 0))
        oldest.add_metric(sid, max(0.0, now - ages[row["id"]]) if row["id"] in ages else 0.0)
        delivered.add_metric(sid, row["delivered"])
        failures.add_metric(sid, row["failures"])
        dropped.add_metric(sid, row["dropped"])
        paused.add_metric(sid, 1 if row["state"] == "paused" else 0)
    yield from (pending, oldest, delivered, failures, dropped, paused)
    s = hooks.sender
    yield CounterMetricFamily(
        "gateway_webhook_timeouts",
        "Webhook attempts the receiver did not answer in time",
        value=s.timeouts,
    )
    latency = GaugeMetricFamily(
        "gateway_webhook_latency_seconds",
        "Finding queued to delivered, over the last 1000 deliveries since start",
        labels=["quantile"],
    )
    for q in (0.5, 0.99):
        latency.add_metric([str(q)], quantile(s.latency_s, q))
    yield latency
