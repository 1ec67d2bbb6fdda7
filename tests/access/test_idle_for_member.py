"""``GET /api/v1/idle?member=`` for an app: free spaces bookable or on the member's plan."""

from __future__ import annotations

import json

from gateway.ingest import RawMessage
from tests.access.conftest import Site


def test_free_spaces_for_a_member(site: Site) -> None:
    vacant = [
        ("zigbee2mqtt/z-orion-motion", {"occupancy": False}),  # orion: bookable meeting room
        ("ref/occupancy/occ-office-101", {"presence": False}),  # office-101: team-101's office
        ("ref/counter/pc-lounge", {"count": 0}),  # lounge: on the flex plan
        ("ref/occupancy/occ-desk-area", {"presence": False}),  # desk-area: hot desks, flex
    ]
    site.gw.pipeline.process(
        [
            RawMessage(t, json.dumps(p).encode(), site.clock.t, qos=1, mid=i + 1)
            for i, (t, p) in enumerate(vacant)
        ]
    )
    app = site.token("app")

    def free(**params: str) -> set[str]:
        r = site.client.get("/api/v1/idle", params=params, headers=site.as_(app))
        assert r.status_code == 200, r.text
        return {s["id"] for s in r.json()["data"]}

    everything = free()
    assert {"orion", "office-101", "lounge", "desk-area"} <= everything
    assert free(member="m-1") == {"orion", "office-101"}
    assert free(member="m-2") == {"orion", "lounge", "desk-area"}
    assert free(member="m-3") == {"orion"}  # no plan: only what can be booked
    r = site.client.get("/api/v1/idle", params={"member": "ghost"}, headers=site.as_(app))
    assert r.status_code == 404
