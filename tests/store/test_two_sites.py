"""Two real gateways for two sites write into one PostgreSQL database at the same time.

The sites reuse each other's space and device ids (and the same MQTT client id, each on its own
broker), so anything keyed without its site would collide or mix the two.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.profiles import ProfileRegistry
from gateway.store import create_db_engine
from gateway.store.redelivery import RECORDS
from gateway.store.tables import Device, Space
from gateway.store.writer import DEAD_LETTERS, EVENTS
from tests.support import FIXTURES, ROOT, Broker, GatewayProcess, Publisher, wait_for

SITES = ("site-north", "site-south")
N = 300  # messages per site


def building(tmp: Path, site: str) -> Path:
    text = (FIXTURES / "building-small.yaml").read_text()
    path = tmp / f"{site}.yaml"
    path.write_text(text.replace("id: test-site", f"id: {site}").replace("Test Building", site))
    return path


def traffic(site_no: int) -> list[tuple[str, bytes]]:
    """Counts on both counters and one unknown device (a dead letter), different per site."""
    out: list[tuple[str, bytes]] = []
    for i in range(N - 1):
        dev = ("pc-orion", "pc-lounge")[i % 2]
        out.append((f"ref/counter/{dev}", f'{{"count": {(i + site_no) % 9}}}'.encode()))
    out.append(("ref/counter/nobody-knows-me", b'{"count": 1}'))
    return out


def expected_events(msgs: list[tuple[str, bytes]]) -> int:
    reg = ProfileRegistry.load(ROOT / "device_profiles")
    n = 0
    for topic, payload in msgs:
        d = reg.decode(topic, payload)
        if d is not None and not d.device.startswith("nobody"):
            n += len(d.readings)
    return n


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[list[Broker]]:
    bs = []
    for i in range(2):
        (tmp_path / f"b{i}").mkdir()
        bs.append(Broker(tmp_path / f"b{i}").start())
    yield bs
    for b in bs:
        b.stop()


def test_two_sites_share_one_postgres(pg_url: str, brokers: list[Broker], tmp_path: Path) -> None:
    gws = []
    for i, site in enumerate(SITES):
        work = tmp_path / site
        work.mkdir()
        gws.append(
            GatewayProcess(
                brokers[i].url,
                work,
                GATEWAY_DATABASE_URL=pg_url,
                GATEWAY_BUILDING=str(building(tmp_path, site)),
                GATEWAY_MQTT__CLIENT_ID="gateway",  # the same on both: records must be per site
            )
        )
    try:
        # both start at once against the empty database: the migration lock serialises them
        starts = [threading.Thread(target=g.start) for g in gws]
        for t in starts:
            t.start()
        for t in starts:
            t.join()
        assert all(g.proc is not None and g.proc.poll() is None for g in gws)
        msgs = [traffic(i) for i in range(2)]
        pubs = [Publisher(b.port, client_id=f"pub-{i}") for i, b in enumerate(brokers)]

        def send(i: int) -> None:  # QoS 1, many in flight; wait until the broker has all
            infos = [pubs[i].client.publish(t, p, qos=1) for t, p in msgs[i]]
            for info in infos:
                info.wait_for_publish(timeout=30)

        senders = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        want = [expected_events(m) for m in msgs]
        for g, n in zip(gws, want, strict=True):
            wait_for(lambda g=g, n=n: g.get("/api/v1/stats")["events_stored"] == n, timeout=30)
        for p in pubs:
            p.close()

        db = create_db_engine(pg_url)
        with db.connect() as conn:
            per_site = dict(
                conn.execute(select(EVENTS.c.site, func.count()).group_by("site")).all()
            )
            dead = dict(
                conn.execute(select(DEAD_LETTERS.c.site, func.count()).group_by("site")).all()
            )
            fps = dict(
                conn.execute(
                    select(RECORDS.c.site, func.sum(RECORDS.c.messages)).group_by("site")
                ).all()
            )
            spaces = conn.execute(select(Space.site, Space.id)).all()  # type: ignore[call-overload]
            devices = conn.execute(select(Device.site, Device.id)).all()  # type: ignore[call-overload]
            ids = {
                site: {r[0] for r in conn.execute(select(EVENTS.c.id).where(EVENTS.c.site == site))}
                for site in SITES
            }
        db.dispose()
        assert per_site == dict(zip(SITES, want, strict=True))
        assert dead == {s: 1 for s in SITES}
        assert fps == {s: N for s in SITES}  # one redelivery record per QoS 1 message, per site
        for site in SITES:  # the same ids, once per site
            assert sum(1 for s, _ in spaces if s == site) == 8
            assert {"pc-orion", "pc-lounge"} <= {d for s, d in devices if s == site}
        for i, g in enumerate(gws):
            stats = g.get("/api/v1/stats")
            assert (stats["events_stored"], stats["dead_letters"]) == (want[i], 1)
            events = g.get("/api/v1/events", params={"limit": 1000})
            assert events["total"] == want[i]
            assert {e["id"] for e in events["data"]} == ids[SITES[i]]  # its own rows only
            # each site's latest lounge count is its own (the two sites' traffic differs)
            last = [json.loads(p) for t, p in msgs[i] if t.endswith("/pc-lounge")][-1]
            reading = g.get("/api/v1/devices/pc-lounge")["readings"]["people_count"]
            assert reading["value"] == last["count"]
        assert ids[SITES[0]].isdisjoint(ids[SITES[1]])
    finally:
        for g in gws:
            g.stop()
