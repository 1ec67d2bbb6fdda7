"""The composition root's building blocks that need a decision or a file of their own."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url
from sqlmodel import col

from gateway.building import Building
from gateway.private_files import private_dir, write_new_private
from gateway.settings import Settings
from gateway.state.devices import DeviceLive
from gateway.store import BatchWriter
from gateway.store.db import sqlite_file
from gateway.store.tables import Device
from gateway.store.writer_process import WriterProcess

log = logging.getLogger(__name__)


def admin_token(settings: Settings) -> str:
    """The bootstrap admin token: the setting, else one generated once into a private file."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = private_dir(Path(".gateway")) / "admin-token"
    token = secrets.token_urlsafe(24)
    if not write_new_private(path, (token + "\n").encode()):  # 0600 from its first byte
        return path.read_text().strip()
    log.info("no GATEWAY_ADMIN_TOKEN set; generated one in %s", path.resolve())
    return token


def batch_writer(settings: Settings, db: Engine, site: str) -> BatchWriter:
    """The batch writer: in a child process unless configured off or the store is an
    in-memory SQLite database (which another process cannot open)."""
    s = settings
    client, window = s.mqtt.client_id, s.ingest.redelivery_window
    url = make_url(s.database_url)
    in_memory = url.get_backend_name() == "sqlite" and sqlite_file(url) is None
    if not s.ingest.writer_process or in_memory:
        return BatchWriter(db, client=client, redelivery_window=window, site=site)
    return WriterProcess(
        db,
        s.database_url,
        client=client,
        redelivery_window=window,
        site=site,
        busy_timeout_ms=s.database_busy_timeout_ms,
    )


def stored_devices(db: Engine, building: Building) -> list[DeviceLive]:
    """Each device the building binds or the store has heard, with what the store kept."""
    devices = {d.id: DeviceLive(d.id, d.profile, d.space, True) for d in building.devices.values()}
    with db.connect() as conn:
        rows = conn.execute(select(Device).where(col(Device.site) == building.site.id)).all()
    for r in rows:
        live = devices.get(r.id)
        if live is None:
            live = devices[r.id] = DeviceLive(r.id, r.profile, None, False)
        live.online, live.first_seen, live.last_seen = r.online, r.first_seen, r.last_seen
        live.readings = dict(r.readings or {})
    return list(devices.values())
