"""/metrics in the Prometheus text exposition format."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from gateway.api.deps import Auth, GatewayDep

router = APIRouter(tags=["status"])


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[Auth])
def metrics(gw: GatewayDep) -> str:
    """Counters and gauges for Prometheus."""
    s = gw.pipeline.stats
    now = gw.clock()
    with gw.state_lock:
        by_state = Counter(sp.state for sp in gw.engine.spaces.values())
    with gw.pipeline.lock:
        online = sum(
            1
            for d in gw.devices.values()
            if d.bound and d.is_online(now, gw.device_silence_s(d.id))
        )
        bound = sum(1 for d in gw.devices.values() if d.bound)
    lines = [
        (
            "gateway_messages_received_total",
            "counter",
            "MQTT messages received",
            gw.transport.received,
        ),
        (
            "gateway_messages_committed_total",
            "counter",
            "Messages committed and acknowledged",
            s.committed,
        ),
        ("gateway_messages_ignored_total", "counter", "Messages on ignored topics", s.ignored),
        (
            "gateway_dead_letters_total",
            "counter",
            "Messages dead-lettered since start",
            s.dead_lettered,
        ),
        (
            "gateway_clock_corrections_total",
            "counter",
            "Device times replaced by receive time",
            s.clock_corrected,
        ),
        ("gateway_store_errors_total", "counter", "Batches the store refused", s.store_errors),
        (
            "gateway_store_ok",
            "gauge",
            "1 when the last batch committed, 0 while the store refuses writes",
            int(gw.pipeline.store_ok),
        ),
        (
            "gateway_redeliveries_total",
            "counter",
            "Redelivered messages recognised as already committed (not stored again)",
            s.redelivered,
        ),
        (
            "gateway_stale_dropped_total",
            "counter",
            "Messages of a lost connection left for the broker to resend",
            s.stale_dropped,
        ),
        (
            "gateway_rejected_oversized_total",
            "counter",
            "Payloads over the size limit, dead-lettered unparsed",
            s.oversized,
        ),
        (
            "gateway_rejected_rate_limited_total",
            "counter",
            "Messages over a topic's rate limit (first of a flood dead-lettered, rest counted)",
            s.rate_limited,
        ),
        ("gateway_events_stored", "gauge", "Events in the store", gw.writer.events_stored),
        (
            "gateway_queue_depth",
            "gauge",
            "Messages waiting in the hand-off queue",
            gw.queue.qsize(),
        ),
        (
            "gateway_batch_commit_ms",
            "gauge",
            "Duration of the last batch commit",
            gw.writer.last_commit_ms,
        ),
        (
            "gateway_mqtt_connected",
            "gauge",
            "1 when connected to the broker",
            int(gw.transport.connected.is_set()),
        ),
    ]
    out: list[str] = []
    for name, kind, help_, value in lines:
        out += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {value}"]
    out += ["# HELP gateway_spaces Spaces by live state", "# TYPE gateway_spaces gauge"]
    out += [
        f'gateway_spaces{{state="{k}"}} {by_state.get(k, 0)}'
        for k in ("occupied", "vacant", "unknown")
    ]
    out += ["# HELP gateway_devices Bound devices by availability", "# TYPE gateway_devices gauge"]
    out += [
        f'gateway_devices{{online="true"}} {online}',
        f'gateway_devices{{online="false"}} {bound - online}',
    ]
    return "\n".join(out) + "\n"
