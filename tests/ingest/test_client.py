"""The buffered paho client against a real broker: every message read, coalesced PUBACKs land."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.ingest.client import BufferedClient
from tests.support import Broker, wait_for

N = 3000


def subscriber(port: int, client_id: str) -> tuple[BufferedClient, list[mqtt.MQTTMessage]]:
    got: list[mqtt.MQTTMessage] = []
    lock = threading.Lock()

    def on_message(_c: object, _u: object, m: mqtt.MQTTMessage) -> None:
        with lock:
            got.append(m)

    c = BufferedClient(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
    )
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    info = c.subscribe("bufd/#", qos=1)
    wait_for(lambda: info[0] == 0 and c.is_connected(), timeout=5)
    return c, got


def publish(port: int, n: int) -> None:
    p = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bufd-pub")
    p.max_inflight_messages_set(1000)
    p.connect("127.0.0.1", port)
    p.loop_start()
    infos = [
        p.publish(f"bufd/{i % 7}", f"{i:06d}".encode() * (1 + i % 50), qos=1) for i in range(n)
    ]
    for info in infos:
        info.wait_for_publish(timeout=30)
    p.disconnect()
    p.loop_stop()


def stop(c: mqtt.Client) -> None:
    c.disconnect()
    c.loop_stop()


def redelivered(port: int, client_id: str) -> int:
    c, got = subscriber(port, client_id)
    time.sleep(1.0)
    stop(c)
    return len(got)


def test_every_message_is_read_whole_and_acknowledged_in_one_write(broker: Broker) -> None:
    c, got = subscriber(broker.port, "bufd-acked")
    sender = threading.Thread(target=publish, args=(broker.port, N))
    sender.start()
    acked, deadline = 0, time.monotonic() + 30
    while acked < N and time.monotonic() < deadline:
        # the broker sends only its in-flight window ahead of the PUBACKs: ack as a batch
        upto = len(got)
        c.ack_many(m.mid for m in got[acked:upto])
        acked = upto
        time.sleep(0.01)
    sender.join(timeout=30)
    assert acked == N
    for i, m in enumerate(sorted(got, key=lambda m: int(m.payload[:6]))):
        assert m.payload == f"{i:06d}".encode() * (1 + i % 50)  # no byte lost or shifted
    time.sleep(0.5)  # the last PUBACKs go out on the network thread
    stop(c)
    assert redelivered(broker.port, "bufd-acked") == 0


def test_without_the_acks_the_broker_redelivers(broker: Broker) -> None:
    c, got = subscriber(broker.port, "bufd-unacked")
    publish(broker.port, 50)
    wait_for(lambda: len(got) >= 50, timeout=30)
    stop(c)
    assert redelivered(broker.port, "bufd-unacked") == 50
