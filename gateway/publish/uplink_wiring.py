"""Builds the uplink for a running gateway: spool, connection, recommendation source, metrics."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.occupancy.accumulate import IdleEpisode
from gateway.occupancy.recommend import recommend
from gateway.occupancy.report import split_window
from gateway.publish.client import OutClient
from gateway.publish.spool import Spool
from gateway.publish.uplink import Uplink
from gateway.settings import MqttSettings
from gateway.store import rollups

if TYPE_CHECKING:
    from gateway.runtime import Gateway


def build_uplink(gw: Gateway) -> Uplink | None:
    """The uplink configured by ``GATEWAY_UPLINK__*``, subscribed to the hub; None when off."""
    s = gw.settings.uplink
    if not s.url:
        return None
    site = gw.building.site.id
    conn = MqttSettings(
        url=s.url,
        username=s.username,
        password=s.password,
        keepalive_s=gw.settings.mqtt.keepalive_s,
    )
    base = f"{s.prefix.rstrip('/')}/{site}"
    client = OutClient(
        conn,
        s.client_id or f"{gw.settings.mqtt.client_id}-uplink",
        (f"{base}/status", "offline"),
    )
    client.client.reconnect_delay_set(min_delay=1, max_delay=10)  # the link's return is news
    spool = Spool(Path(s.buffer_dir) / f"{site}.sqlite", s.max_buffer_bytes)

    def recommendations(now: float) -> list[dict[str, Any]]:
        occ = gw.settings.occupancy
        w = split_window(gw.engine.cal, now - occ.lookback_days * 86_400, now)
        available = gw.engine.cal.open_seconds(w.start, w.end)
        totals = rollups.space_totals(gw.db, site, w, hist=True)
        return recommend(
            gw.building.spaces,
            totals,
            available,
            occ.lookback_days,
            occ.underuse_pct,
            occ.rightsize_ratio,
        )

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
        clock=gw.clock,
    )
    uplink.attach(gw.hub)
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
