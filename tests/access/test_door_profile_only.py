"""Only doors get door decisions: a sensor presenting a member's card gets no answer, no audit
row and no badge, and its space does not turn occupied from it.

The request body is the reference controller's (docs/reference-devices.md, ``ref-door``):
``{"request": "r-123", "credential": "04A1B2C3", "ts": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from gateway.runtime import Gateway
from gateway.store.audit import AUDIT
from tests.access.conftest import Site
from tests.access.test_doors import Door, audit_rows, live  # noqa: F401 (live: a fixture)
from tests.support import wait_for

# m-2 (plan flex: hot_desk, open_area, lounge) would be granted in open-2, where env-open-2
# (ref-environment) sits; m-1 (plan team-101) in office-101, where door-office-101 sits.
M2_CARD, M1_CARD = "qr:7f3a", "04A1B2C3"


def request(site: Site, device: str, req: str, credential: str) -> tuple[str, bytes] | None:
    body = json.dumps({"request": req, "credential": credential, "ts": site.clock.t}).encode()
    return site.gw.access.decider.handle(f"ref/door/{device}/request", body)


def decisions(site: Site) -> list[dict[str, Any]]:
    with site.gw.db.connect() as conn:
        rows = conn.execute(select(AUDIT).where(AUDIT.c.action == "door_decision")).all()
    return [dict(r._mapping) for r in rows]


def test_a_sensor_gets_no_decision_and_makes_no_badge(site: Site) -> None:
    gw = site.gw
    badges: list[Any] = []
    gw.hub.subscribe("events", lambda evs, _now: badges.extend(evs))
    # an environment sensor, a bridged zigbee sensor and a counter, each with a member's card
    assert request(site, "env-open-2", "s-1", M2_CARD) is None
    assert request(site, "z-office-101-temp", "s-2", M1_CARD) is None
    assert request(site, "pc-lounge", "s-3", M2_CARD) is None
    gw.access.decider.flush()
    assert decisions(site) == [] and badges == []
    assert gw.engine.spaces["open-2"].state != "occupied"
    assert gw.access.decider.not_door == 3 and gw.access.decider.decided == 0
    text = site.client.get("/metrics").text
    assert "gateway_door_requests_not_door_total 3.0" in text

    # a door is answered, audited, and its badge reaches the engine
    out = request(site, "door-office-101", "d-1", M1_CARD)
    assert out is not None and out[0] == "ref/door/door-office-101/decision"
    assert json.loads(out[1])["decision"] == "granted"
    gw.access.decider.flush()
    assert [(r["subject"], r["result"], r["member"]) for r in decisions(site)] == [
        ("door-office-101", "granted", "m-1")
    ]
    assert [(e.device, e.space, e.value) for e in badges] == [
        ("door-office-101", "office-101", "granted")
    ]
    assert gw.engine.spaces["office-101"].state == "occupied"


def test_a_door_that_a_reload_turns_into_a_sensor_is_no_longer_answered(site: Site) -> None:
    from dataclasses import replace

    gw = site.gw
    assert request(site, "door-main", "d-1", M2_CARD) is not None
    b = gw.building
    devices = {**b.devices, "door-main": replace(b.devices["door-main"], profile="ref-environment")}
    gw.access.set_building(replace(b, devices=devices))
    assert request(site, "door-main", "d-2", M2_CARD) is None
    assert "door-main" not in gw.access.doors() and "door-orion" in gw.access.doors()


def test_over_a_broker_a_sensor_gets_no_answer_and_a_door_does(
    live: tuple[Gateway, Door],  # noqa: F811 (the fixture imported above)
) -> None:
    """The access connection of a gateway on a real broker (no ACL: any client may publish)."""
    gw, door = live  # the door client reads ref/door/+/decision, a sensor's too
    body = json.dumps({"request": "sensor", "credential": M2_CARD})
    door.c.publish("ref/door/env-open-2/request", body, qos=1)
    # the same client next, and one network thread answers in order: once the door's
    # decision is here, one for the sensor would have come before it
    assert door.ask("door-office-101", M1_CARD, "door")["decision"] == "granted"
    assert door.decisions.empty()
    # audited in order, so a row for the sensor would be written no later than the door's
    rows = wait_for(lambda: (r := audit_rows(gw)) and r[-1]["subject"] == "door-office-101" and r)
    assert [(r["subject"], r["result"]) for r in rows] == [("door-office-101", "granted")]
    assert gw.access.decider.not_door == 1
