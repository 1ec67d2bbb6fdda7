"""The buffered paho client against a real broker: every message read, coalesced PUBACKs land."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt import _packet
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from gateway.ingest.client import BufferedClient, Publish, take_publishes
from tests.support import Broker, wait_for

N = 3000


class Got:
    """A received message as the tests compare it (from paho's callback or the fast path)."""

    def __init__(self, topic: str, payload: bytes, qos: int, mid: int) -> None:
        self.topic, self.payload, self.qos, self.mid = topic, payload, qos, mid


def subscriber(port: int, client_id: str, fast: bool = False) -> tuple[BufferedClient, list[Got]]:
    got: list[Got] = []
    lock = threading.Lock()

    def on_message(_c: object, _u: object, m: mqtt.MQTTMessage) -> None:
        with lock:
            got.append(Got(m.topic, bytes(m.payload), m.qos, m.mid))

    def on_publishes(found: list[Publish]) -> None:
        with lock:
            got.extend(Got(t, p, q, mid) for t, p, q, mid, _r, _d in found)

    c = BufferedClient(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        manual_ack=True,
        on_publishes=on_publishes if fast else None,
    )
    subscribed = threading.Event()
    c.on_message = on_message
    c.on_subscribe = lambda *_a: subscribed.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    info = c.subscribe("bufd/#", qos=1)
    # the SUBACK: only then is a message published elsewhere routed to this session
    wait_for(lambda: info[0] == 0 and subscribed.is_set(), timeout=5)
    return c, got


def body(i: int) -> bytes:
    """Message ``i``: mostly small, every 500th larger than a whole socket read."""
    return f"{i:06d}".encode() * (50_000 if i % 500 == 499 else 1 + i % 50)


def publish(port: int, n: int) -> None:
    p = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bufd-pub")
    p.max_inflight_messages_set(1000)
    p.connect("127.0.0.1", port)
    p.loop_start()
    infos = [p.publish(f"bufd/{i % 7}/ü", body(i), qos=1) for i in range(n)]
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


@pytest.mark.parametrize("fast", [False, True], ids=["on_message", "on_publishes"])
def test_every_message_is_read_whole_and_acknowledged_in_one_write(
    broker: Broker, fast: bool
) -> None:
    cid = f"bufd-acked-{fast}"
    c, got = subscriber(broker.port, cid, fast)
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
        assert m.payload == body(i)  # no byte lost or shifted
        assert m.topic == f"bufd/{i % 7}/ü" and m.qos == 1
    time.sleep(0.5)  # the last PUBACKs go out on the network thread
    stop(c)
    assert redelivered(broker.port, cid) == 0


def packet(topic: bytes, payload: bytes, qos: int, mid: int = 0, flags: int = 0) -> bytes:
    """A PUBLISH packet as a broker writes it."""
    body = len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if qos else b"")
    body += payload
    n, length = len(body), bytearray()
    while True:
        n, digit = divmod(n, 128)
        length.append(digit | (0x80 if n else 0))
        if not n:
            break
    return bytes([0x30 | qos << 1 | flags]) + bytes(length) + body


def test_the_fast_reader_agrees_with_paho_and_leaves_it_what_it_should_judge() -> None:
    good = [
        packet(b"a/b", b"", 0),
        packet(b"zigbee2mqtt/\xc3\xbc", b'{"x": 1}', 1, 65535, flags=0x08),  # DUP
        packet(b"t", b"r" * 300, 1, 7, flags=0x01),  # retained, two length bytes
        packet(b"big", b"p" * 20_000, 1, 1),  # three length bytes
    ]
    stream = b"".join(good)
    found, end = take_publishes(stream, 0)
    assert end == len(stream) and len(found) == len(good)
    for raw, (topic, payload, qos, mid, retain, dup) in zip(good, found, strict=True):
        i = 1 + next(k for k, b in enumerate(raw[1:]) if b < 0x80) + 1
        ref = _packet.decode_publish(raw[0], raw[i:], MQTTProtocolVersion.MQTTv311)
        assert (topic, payload, qos, mid) == (ref.topic.decode(), ref.payload, ref.qos, ref.mid)
        assert (retain, dup) == (ref.retain, ref.dup)
    # each of these ends the pass where it starts; paho's reader takes it from there
    for stop_at in (
        packet(b"t", b"x", 1, 5)[:-1],  # not complete yet
        packet(b"t", b"x", 2, 5),  # QoS 2: paho answers with PUBREC
        packet(b"", b"x", 1, 5),  # empty topic: a protocol error in 3.1.1
        packet(b"\xff", b"x", 1, 5),  # topic not UTF-8
        b"\x40\x02\x00\x05",  # a PUBACK
        b"\x30\xff\xff\xff\xff\x01",  # a length of more than four bytes
    ):
        assert take_publishes(stream + stop_at, 0) == (found, len(stream))


def test_without_the_acks_the_broker_redelivers(broker: Broker) -> None:
    c, got = subscriber(broker.port, "bufd-unacked")
    publish(broker.port, 50)
    wait_for(lambda: len(got) >= 50, timeout=30)
    stop(c)
    assert redelivered(broker.port, "bufd-unacked") == 50
