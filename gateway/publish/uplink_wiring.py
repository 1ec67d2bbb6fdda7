"""Builds the uplink for a running gateway: spool, connection, recommendation source, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gateway.hub import Hub
from gateway.occupancy.accumulate import IdleEpisode
from gateway.publish.client import OutClient
from gateway.publish.spool import Spool
from gateway.publish.uplink import Uplink
from gateway.readmodel.queries import ReadModel
from gateway.settings import MqttSettings, Settings


def build_uplink(
    settings: Settings, site: str, readmodel: ReadModel, hub: Hub, clock: Callable[[], float]
) -> Uplink | None:
    """The uplink configured by ``GATEWAY_UPLINK__*``, subscribed to ``hub``; None when off.

    Its recommendations are the read model's underuse and right-sizing over the lookback.
    """
    s = settings.uplink
    if not s.url:
        return None
    conn = MqttSettings(
        url=s.url,
        username=s.username,
        password=s.password,
        keepalive_s=settings.mqtt.keepalive_s,
    )
    base = f"{s.prefix.rstrip('/')}/{site}"
    client = OutClient(
        conn,
        s.client_id or f"{settings.mqtt.client_id}-uplink",
        (f"{base}/status", "offline"),
    )
    client.client.reconnect_delay_set(min_delay=1, max_delay=10)  # the link's return is news
    spool = Spool(Path(s.buffer_dir) / f"{site}.sqlite", s.max_buffer_bytes)
    days = settings.occupancy.lookback_days

    def recommendations(now: float) -> list[dict[str, Any]]:
        return readmodel.underuse(now, days)[1]

    uplink = Uplink(
        client,
        spool,
        site,
        s.prefix,
        batch_events=s.batch_events,
        flush_ms=s.flush_ms,
        window=s.window,
        recommend=recommendations if s.recommend_every_s > 0 else None,
        recommend_every_s=s.recommend_every_s,
        clock=clock,
    )
    uplink.attach(hub)
    return uplink


METRICS = {
    "connected": ("gauge", "1 when connected to the central broker"),
    "buffered_records": ("gauge", "Uplink records on disk awaiting the central broker's ack"),
    "buffered_bytes": ("gauge", "Payload bytes in the uplink buffer"),
    "inflight_records": ("gauge", "Uplink records sent and not yet acknowledged"),
    "sent_records": ("counter", "Uplink records acknowledged by the central broker"),
    "dropped_records": ("counter", "Oldest uplink records dropped because the buffer was full"),
    "dropped_items": ("counter", "Events and findings inside dropped uplink records"),
}


def uplink_figures(uplink: Uplink | None) -> list[tuple[str, str, str, int]]:
    """(name, kind, help, value) of each uplink figure for /metrics; none when it is off.

    Counter names are given without ``_total``; the exposition adds it.
    """
    if uplink is None:
        return []
    stats = uplink.stats()
    return [
        (f"gateway_uplink_{key}", kind, help_, stats[key]) for key, (kind, help_) in METRICS.items()
    ]


def episode_notice(ep: IdleEpisode) -> dict[str, Any]:
    """An idle episode as a hub notice (opened, and again when it ends)."""
    return {"type": "idle_episode", **asdict(ep)}
