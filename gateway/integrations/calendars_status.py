"""What ``/metrics`` and ``/health`` show of bookings coming in: each room calendar's state
and errors, and the booking-platform webhooks' refusals and results."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gateway.integrations.booking_hooks import BookingHooks
from gateway.integrations.calendars import Calendars


def calendar_metrics(calendars: Calendars | None) -> Iterator[Metric]:
    """Per space with a calendar: polls and failed polls (counters), the last poll ok (0/1),
    the occurrences kept and the last expansion's seconds (gauges)."""
    if calendars is None or not calendars.feeds:
        return
    figures = calendars.figures()
    polls = CounterMetricFamily("gateway_calendar_polls", "Room calendar polls", labels=["space"])
    errors = CounterMetricFamily(
        "gateway_calendar_errors",
        "Room calendar polls that failed (unreachable, HTTP error, too large, not iCalendar)",
        labels=["space"],
    )
    ok = GaugeMetricFamily("gateway_calendar_ok", "1 when the last poll of the feed worked",
                           labels=["space"])  # fmt: skip
    occ = GaugeMetricFamily(
        "gateway_calendar_occurrences", "Occurrences in the window at the last good poll",
        labels=["space"],
    )  # fmt: skip
    took = GaugeMetricFamily(
        "gateway_calendar_expand_seconds", "Seconds the last expansion of the feed took",
        labels=["space"],
    )  # fmt: skip
    for sid, f in figures.items():
        polls.add_metric([sid], f["polls"])
        errors.add_metric([sid], f["errors"])
        ok.add_metric([sid], 1.0 if f["state"] == "ok" else 0.0)
        occ.add_metric([sid], f["occurrences"])
        took.add_metric([sid], f["expand_s"])
    yield from (polls, errors, ok, occ, took)


def booking_hook_metrics(hooks: BookingHooks | None) -> Iterator[Metric]:
    """Booking-platform requests refused, by reason, and applied, by result (counters)."""
    if hooks is None or not hooks.enabled:
        return
    refused = CounterMetricFamily(
        "gateway_booking_hook_refused",
        "Booking-platform webhook requests refused (signature, timestamp, replay, too_large, "
        "unknown_integration, invalid)",
        labels=["reason"],
    )
    for reason, n in sorted(hooks.refused.items()):
        refused.add_metric([reason], n)
    applied = CounterMetricFamily(
        "gateway_booking_hook_applied", "Booking-platform changes applied, by result",
        labels=["result"],
    )  # fmt: skip
    for result, n in sorted(hooks.applied.items()):
        applied.add_metric([result], n)
    yield from (refused, applied)
