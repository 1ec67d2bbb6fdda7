"""A gateway killed with SIGKILL in the middle of a delivery sends what was pending after restart.

A real ``gateway run`` process with a subscription from its configuration (the environment
here), a real broker and the real receiver process hanging on the first delivery.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.integrations.webhook_support import SECRET, Receiver, receiver_fixture  # noqa: F401
from tests.support import Broker, GatewayProcess, Publisher, wait_for


def test_kill_9_mid_delivery_then_restart_delivers_everything_once(
    broker: Broker, tmp_path: Path, receiver: Receiver
) -> None:
    subs = [{"id": "rcv", "url": receiver.url, "secret": SECRET, "kinds": ["test"]}]
    gw = GatewayProcess(
        broker.url,
        tmp_path,
        GATEWAY_WEBHOOKS__SUBSCRIPTIONS=json.dumps(subs),
        GATEWAY_WEBHOOKS__TIMEOUT_S="30",  # still waiting on the receiver when killed
        GATEWAY_WEBHOOKS__RETRY_MIN_S="0.2",
        GATEWAY_WEBHOOKS__RETRY_MAX_S="0.5",
    )
    receiver.mode("hang")
    gw.start()
    try:
        ids = [gw.http.post("/api/v1/webhooks/rcv/test").json()["delivery_id"] for _ in range(5)]
        wait_for(lambda: len(receiver.log()) >= 1, timeout=30)  # the first is on the wire
        # ingest does not wait on a receiver that hangs
        before = gw.get("/api/v1/stats")["messages_committed"]
        pub = Publisher(broker.port, client_id=f"wh-pub-{gw.port}")
        for i in range(20):
            pub.publish("zigbee2mqtt/z-orion-motion", {"occupancy": i % 2 == 0, "battery": 90})
        pub.close()
        wait_for(lambda: gw.get("/api/v1/stats")["messages_committed"] >= before + 20, timeout=10)
        assert len(receiver.log()) == 1  # still hanging on the first
        assert gw.stop(sig="kill") == -9
        receiver.mode("ok")
        gw.start()
        wait_for(lambda: len(receiver.accepted()) >= 5, timeout=30)
        log = [(e["id"], e["mode"]) for e in receiver.log()]
        assert receiver.accepted() == ids, (ids, log, gw.read_log())  # in order, none twice
        page = gw.get("/api/v1/webhooks/rcv/deliveries")
        assert {d["status"] for d in page["data"]} == {"delivered"} and page["total"] == 5
        assert all(e["sig_ok"] for e in receiver.log())
        sub = gw.get("/api/v1/webhooks/rcv")
        assert (sub["origin"], sub["delivered"], sub["pending"]) == ("config", 5, 0)
    finally:
        gw.stop()
