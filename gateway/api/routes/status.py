"""Health (no auth) and stats."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import Auth, RunningDep
from gateway.api.schemas import BridgeStatus, Health, LoopStatus, Stats, iso

router = APIRouter(tags=["status"])


@router.get("/health", response_model=Health)
def health(gw: RunningDep) -> Health:
    """Liveness and readiness: broker connection and store state. No token needed."""
    mqtt_ok = gw.transport.connected.is_set()
    store_ok = gw.pipeline.store_ok
    loops = gw.supervisor.health()
    failing = {
        h.name: LoopStatus(
            state=h.state,  # type: ignore[arg-type]
            failures=h.failures,
            restarts=h.restarts,
            last_error=h.last_error,
            last_error_at=iso(h.last_error_at),
        )
        for h in gw.supervisor.down()
    }
    bridges = {
        bid: BridgeStatus(**{**b, "since": iso(b["since"])}) for bid, b in gw.live.bridges().items()
    }
    return Health(
        status="ok" if mqtt_ok and store_ok and not failing else "degraded",
        failing=failing,
        loops={h.name: h.state for h in loops},  # type: ignore[misc]
        mqtt="connected" if mqtt_ok else "disconnected",
        store="ok" if store_ok else "error",
        broker=f"{gw.transport.host}:{gw.transport.port}",
        embedded_broker=gw.embedded_broker is not None,
        uptime_s=round(gw.clock() - gw.started_at, 3),
        queue_depth=gw.queue.qsize(),
        now=iso(gw.clock()),
        clock_speed=getattr(gw.clock, "speed", 1.0),
        bridges=bridges,
        calendars=gw.calendars.figures() if gw.calendars is not None else {},
    )


@router.get("/stats", response_model=Stats, dependencies=[Auth])
def stats(gw: RunningDep) -> Stats:
    """Counters since start, and what the store holds now."""
    s = gw.pipeline.stats
    by_state = gw.live.state_counts()
    disk = gw.disk.figures()
    return Stats(
        messages_received=gw.transport.received,
        messages_committed=s.committed,
        messages_ignored=s.ignored,
        events_stored=gw.writer.events_stored,
        dead_letters=gw.writer.dead_letters,
        dead_lettered_since_start=s.dead_lettered,
        bridge_states_refused=s.bridge_states_refused,
        clock_corrections=s.clock_corrected,
        store_errors=s.store_errors,
        last_store_error=s.last_store_error,
        queue_depth=gw.queue.qsize(),
        last_commit_ms=round(gw.writer.last_commit_ms, 3),
        spaces_by_state={k: by_state.get(k, 0) for k in ("occupied", "vacant", "unknown")},
        store_bytes=disk.store_bytes,
        store_free_bytes=disk.free_bytes,
        store_events_per_day=disk.events_per_day,
        store_days_until_full=disk.days_until_full,
        events_pruned=gw.retention.stats.events_pruned,
        audit_pruned=gw.retention.stats.audit_pruned,
        retention_last_pass_at=iso(gw.retention.stats.last_pass_at),
    )
