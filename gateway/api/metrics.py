"""/metrics in the Prometheus text exposition format, and the API-latency middleware."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.api.deps import Auth, RunningDep
from gateway.api.running import Running
from gateway.integrations.calendars_status import booking_hook_metrics, calendar_metrics
from gateway.integrations.webhooks_metrics import webhook_metrics
from gateway.publish.uplink_wiring import uplink_figures
from gateway.state.live import LiveState

router = APIRouter(tags=["status"])

# (name without _total, help, attribute of the ingest stats) for the pipeline's counters
PIPELINE_COUNTERS = (
    ("gateway_messages_committed", "Messages committed and acknowledged", "committed"),
    ("gateway_messages_ignored", "Messages on ignored topics", "ignored"),
    ("gateway_dead_letters", "Messages dead-lettered since start", "dead_lettered"),
    ("gateway_clock_corrections", "Device times replaced by receive time", "clock_corrected"),
    ("gateway_store_errors", "Batches the store refused", "store_errors"),
    (
        "gateway_redeliveries",
        "Redelivered messages recognised as already committed (not stored again)",
        "redelivered",
    ),
    (
        "gateway_stale_dropped",
        "Messages of a lost connection left for the broker to resend",
        "stale_dropped",
    ),
    (
        "gateway_rejected_oversized",
        "Payloads over the size limit, dead-lettered unparsed",
        "oversized",
    ),
    (
        "gateway_rejected_rate_limited",
        "Messages over a topic's rate limit (first of a flood dead-lettered, rest counted)",
        "rate_limited",
    ),
    (
        "gateway_dead_letters_dropped",
        "Dead letters over the global dead-letter rate, counted and not stored",
        "dead_letters_dropped",
    ),
    (
        "gateway_unknown_devices_evicted",
        "Discovered devices evicted (the oldest seen) to keep within ingest.max_unknown_devices",
        "unknown_evicted",
    ),
    (
        "gateway_store_refused",
        "Messages whose rows the store refused for their data, dead-lettered instead",
        "store_refused",
    ),
)


class LiveCollector(Collector):
    """Reads the running gateway at scrape time, so nothing is counted twice."""

    def __init__(self, gw: Running, stream: Any = None) -> None:
        self.gw = gw
        self.stream = stream

    def collect(self) -> Iterator[Metric]:
        gw = self.gw
        yield from _ingest_metrics(gw)
        yield from _live_metrics(gw.live, gw.clock())
        yield CounterMetricFamily(
            "gateway_door_audit_dropped",
            "Door-decision audit rows dropped (backlog over its bound, or refused by the store)",
            value=gw.access.decider.audit_dropped,
        )
        yield from _door_limit_metrics(gw)
        yield from _loop_metrics(gw)
        yield from _disk_metrics(gw)
        yield from _retention_metrics(gw)
        yield from calendar_metrics(gw.calendars)
        yield from booking_hook_metrics(gw.booking_hooks)
        yield from webhook_metrics(gw.webhooks, gw.clock())
        for name, kind, help_, value in uplink_figures(gw.uplink):
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            yield family(name, help_, value=value)
        if self.stream is not None:
            yield GaugeMetricFamily(
                "gateway_stream_clients", "Live-stream clients connected", value=self.stream.clients
            )
            yield CounterMetricFamily(
                "gateway_stream_dropped",
                "Live-stream clients dropped for reading too slowly",
                value=self.stream.dropped,
            )


def _ingest_metrics(gw: Running) -> Iterator[Metric]:
    """The transport's, the pipeline's and the writer's counters and gauges."""
    s = gw.pipeline.stats
    yield CounterMetricFamily(
        "gateway_messages_received", "MQTT messages received", value=gw.transport.received
    )
    for name, help_, attr in PIPELINE_COUNTERS:
        yield CounterMetricFamily(name, help_, value=getattr(s, attr))
    gauges = (
        ("gateway_events_stored", "Events in the store", gw.writer.events_stored),
        ("gateway_dead_letters_stored", "Dead letters in the store", gw.writer.dead_letters),
        ("gateway_queue_depth", "Messages waiting in the hand-off queue", gw.queue.qsize()),
        (
            "gateway_queue_capacity",
            "Bound of the hand-off queue",
            gw.settings.mqtt.queue_size,
        ),
        (
            "gateway_batch_commit_ms",
            "Duration of the last batch commit",
            gw.writer.last_commit_ms,
        ),
        (
            "gateway_store_ok",
            "1 when the last batch committed, 0 while the store refuses writes",
            int(gw.pipeline.store_ok),
        ),
        (
            "gateway_mqtt_connected",
            "1 when connected to the broker",
            int(gw.transport.connected.is_set()),
        ),
    )
    for name, help_, value in gauges:
        yield GaugeMetricFamily(name, help_, value=value)


def _live_metrics(live: LiveState, now: float) -> Iterator[Metric]:
    """Spaces by state and idle, bound devices by availability."""
    by_state = live.state_counts()
    spaces = GaugeMetricFamily("gateway_spaces", "Spaces by live state", labels=["state"])
    for k in ("occupied", "vacant", "unknown"):
        spaces.add_metric([k], by_state.get(k, 0))
    yield spaces
    yield GaugeMetricFamily("gateway_spaces_idle", "Spaces idle now", value=live.idle_count(now))
    online, offline = live.online_counts(now)
    devices = GaugeMetricFamily(
        "gateway_devices", "Bound devices by availability", labels=["online"]
    )
    devices.add_metric(["true"], online)
    devices.add_metric(["false"], offline)
    yield devices


def _door_limit_metrics(gw: Running) -> Iterator[Metric]:
    """Door requests refused by a door's limit and lockouts, per door: only doors of the
    building (and those a reload removed) can be labels, never a topic's segment."""
    decider = gw.access.decider
    limited, lockouts = decider.limiter.counts()
    doors = sorted(set(limited) | set(lockouts) | set(gw.access.doors()))
    refused = CounterMetricFamily(
        "gateway_door_rate_limited",
        "Door requests answered denied (rate_limited) by the door's rate limit or lockout",
        labels=["door"],
    )
    locked = CounterMetricFamily(
        "gateway_door_lockouts", "Lockouts after denials in a row, per door", labels=["door"]
    )
    for door in doors:
        refused.add_metric([door], limited.get(door, 0))
        locked.add_metric([door], lockouts.get(door, 0))
    yield refused
    yield locked
    yield CounterMetricFamily(
        "gateway_door_requests_not_door",
        "Requests on the door request topic from a device whose profile is no door (ignored)",
        value=decider.not_door,
    )


def _loop_metrics(gw: Running) -> Iterator[Metric]:
    """The supervised loops' failures, restarts and state; the engine's refused evidence."""
    failures = CounterMetricFamily(
        "gateway_loop_failures", "Passes of a supervised loop that raised", labels=["loop"]
    )
    restarts = CounterMetricFamily(
        "gateway_loop_restarts", "Restarts of a supervised thread after a crash", labels=["loop"]
    )
    up = GaugeMetricFamily(
        "gateway_loop_up",
        "1 while a supervised loop runs well, 0 when failing or stopped",
        labels=["loop"],
    )
    for h in gw.supervisor.health():
        failures.add_metric([h.name], h.failures)
        restarts.add_metric([h.name], h.restarts)
        up.add_metric([h.name], 0 if h.down else 1)
    yield from (failures, restarts, up)
    refused = CounterMetricFamily(
        "gateway_engine_rejected",
        "Events the occupancy engine refused or clamped, by reason",
        labels=["reason"],
    )
    for reason, n in sorted(gw.live.rejected().items()):
        refused.add_metric([reason], n)
    yield refused


DISK_GAUGES = (
    ("gateway_store_bytes", "Bytes the store takes (SQLite: file, -wal and -shm)", "store_bytes"),
    ("gateway_store_free_bytes", "Free bytes of the file system holding the store", "free_bytes"),
    ("gateway_store_events_per_day", "Events stored over the last 24 hours", "events_per_day"),
    (
        "gateway_store_days_until_full",
        "Days until the store's disk fills at the last 24 hours' rate",
        "days_until_full",
    ),
)


def _disk_metrics(gw: Running) -> Iterator[Metric]:
    """The store's size and room (measured at most once a minute); a figure not known
    (PostgreSQL's free space, a rate of zero) is left out rather than shown as 0."""
    figures = gw.disk.figures()
    for name, help_, attr in DISK_GAUGES:
        value = getattr(figures, attr)
        if value is not None:
            yield GaugeMetricFamily(name, help_, value=value)


RETENTION_COUNTERS = (
    ("gateway_retention_events_pruned", "Raw events pruned past their window", "events_pruned"),
    ("gateway_retention_audit_pruned", "Audit entries pruned past their window", "audit_pruned"),
    ("gateway_retention_pages_freed", "SQLite pages given back to the disk", "pages_freed"),
)


def _retention_metrics(gw: Running) -> Iterator[Metric]:
    """What the retention passes pruned since start."""
    st = gw.retention.stats
    for name, help_, attr in RETENTION_COUNTERS:
        yield CounterMetricFamily(name, help_, value=getattr(st, attr))


def metrics_registry(gw: Running, stream: Any = None) -> CollectorRegistry:
    """The scrape registry: live figures plus the gateway's own histograms and counters."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(LiveCollector(gw, stream))
    reg.register(_Forward(gw.telemetry.registry))
    return reg


class _Forward(Collector):
    def __init__(self, inner: CollectorRegistry) -> None:
        self.inner = inner

    def collect(self) -> Iterator[Metric]:
        yield from self.inner.collect()


@router.get("/metrics", dependencies=[Auth], response_class=Response)
def metrics(gw: RunningDep, request: Request) -> Response:
    """Counters, gauges and histograms for Prometheus."""
    reg = getattr(request.app.state, "metrics_registry", None)
    if reg is None:
        reg = request.app.state.metrics_registry = metrics_registry(
            gw, getattr(request.app.state, "stream", None)
        )
    return Response(generate_latest(reg), media_type=CONTENT_TYPE_LATEST)
