"""The simulator's MQTT side: publish a building's simulated traffic through a real broker."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker_url import parse_broker_url
from gateway.building import Building
from gateway.errors import ConfigError, GatewayError
from gateway.simulate.booking_api import BookingApi
from gateway.simulate.core import Behaviour, Message
from gateway.simulate.script import Script
from gateway.simulate.traffic import Traffic

log = logging.getLogger(__name__)

TICK_S = 0.05  # wall seconds between publishing rounds
MIN_WALL_GAP_S = 0.5  # a periodic report never repeats faster than this in wall time
CONNECT_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 5.0
MAX_QUEUED = 20_000  # bounded memory while the broker is away


def default_start(building: Building, now: float | None = None) -> datetime:
    """Half an hour before the site opens today (07:30 for an 08:00 opening), in site time.

    A site closed all today starts on its next open day; one open from midnight at 07:30.
    """
    tz = building.site.tz
    hours = building.site.business_hours
    day = datetime.fromtimestamp(time.time() if now is None else now, tz).date()
    for _ in range(7):
        if hours.spans_on(day):
            break
        day += timedelta(days=1)
    spans = hours.spans_on(day)
    opens = spans[0][0] if spans else 0
    minute = opens - 30 if opens >= 30 else 7 * 60 + 30
    return datetime.combine(day, clock_time(minute // 60, minute % 60), tz)


class Simulator:
    """Publishes realistic traffic for every device of a building, at ``speed`` x real time.

    Simulated time starts at ``start`` (naive: site local time; default :func:`default_start`)
    and only drives behaviour: payloads carry no ``ts``, so the gateway stamps receive time.
    ``run`` is meant to be called once. ``clock``: the simulated time to publish up to
    (epoch seconds), shared with whoever must agree on it (a gateway on the same fast
    clock); ``truth``: a file to write the ground truth to when the run ends.
    """

    def __init__(
        self,
        building: Building,
        broker_url: str,
        *,
        speed: float = 60.0,
        seed: int = 1,
        start: datetime | None = None,
        client_id: str = "gateway-simulator",
        username: str | None = None,
        password: str | None = None,
        clock: Callable[[], float] | None = None,
        behaviour: Behaviour | None = None,
        script: Script | None = None,
        truth: str | None = None,
        bookings: BookingApi | None = None,
    ) -> None:
        if speed <= 0:
            raise ConfigError(f"simulator speed: expected a number > 0, got {speed!r}")
        self.building = building
        self.broker = parse_broker_url(broker_url)
        self.username = username if username is not None else self.broker.username
        self.password = password if password is not None else self.broker.password
        self.speed = speed
        self.client_id = client_id
        if start is None:
            start = default_start(building)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=building.site.tz)
        self.start = start
        self.clock = clock
        self.bookings = bookings  # where the simulated people's bookings go; None: nowhere
        self.truth_path = truth
        self.traffic = Traffic(
            building,
            seed=seed,
            start=start.timestamp(),
            min_gap=speed * MIN_WALL_GAP_S,
            behaviour=behaviour,
            script=script,
            truth=truth is not None,
        )
        self.published = 0  # messages handed to the client (QoS 1)
        self.acked = 0  # of those, acknowledged by the broker
        self.dropped = 0  # refused by the client (queue full)
        self._connected = threading.Event()
        self._refused: str | None = None

    @property
    def sim_time(self) -> datetime:
        """The current simulated time, in the site's time zone."""
        return datetime.fromtimestamp(self.traffic.now, self.building.site.tz)

    def run(self, stop: threading.Event, duration_s: float | None = None) -> None:
        """Publish until ``stop`` is set or ``duration_s`` wall seconds have passed."""
        client = self.connect()
        log.info(
            "simulating %s (%d devices) from %s at %gx to %s",
            self.building.site.id,
            len(self.traffic.devices),
            self.start.isoformat(timespec="minutes"),
            self.speed,
            self.broker,
        )
        try:
            base = self.traffic.now
            t0 = time.monotonic()
            while not stop.is_set():
                elapsed = time.monotonic() - t0
                if duration_s is not None and elapsed >= duration_s:
                    break
                until = base + elapsed * self.speed if self.clock is None else self.clock()
                self.publish(client, self.traffic.advance(until))
                wait = TICK_S if duration_s is None else min(TICK_S, duration_s - elapsed)
                stop.wait(max(wait, 0.0))
            self.publish(client, self.traffic.end())
            self.drain()
            self.write_truth()
            log.info(
                "simulator stopped: %d published, %d acknowledged, %d dropped, simulated time %s",
                self.published,
                self.acked,
                self.dropped,
                self.sim_time.isoformat(timespec="minutes"),
            )
        finally:
            client.disconnect()
            client.loop_stop()

    def write_truth(self) -> None:
        """Write the ground truth played so far, when a truth file was asked for."""
        truth = self.traffic.truth
        if self.truth_path is not None and truth is not None:
            truth.write(self.truth_path, self.traffic.now)
            log.info("ground truth written to %s", self.truth_path)

    def connect(self) -> mqtt.Client:
        """A connected, started client of the broker (raises GatewayError when refused)."""
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv311,
        )
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.broker.tls:
            client.tls_set()
        client.max_inflight_messages_set(200)
        client.max_queued_messages_set(MAX_QUEUED)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        try:
            client.connect(self.broker.host, self.broker.port, keepalive=30)
        except OSError as err:
            raise GatewayError(f"simulator: cannot connect to {self.broker}: {err}") from err
        client.loop_start()
        if not self._connected.wait(CONNECT_TIMEOUT_S) or self._refused is not None:
            client.disconnect()
            client.loop_stop()
            why = self._refused or f"no answer within {CONNECT_TIMEOUT_S:g} s"
            raise GatewayError(f"simulator: broker {self.broker} refused the connection: {why}")
        return client

    def _on_connect(self, c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        sock = c.socket()
        if isinstance(sock, socket.socket):  # small messages at once, not held for an ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if reason.is_failure:
            self._refused = str(reason)
        else:
            log.debug("simulator connected to %s", self.broker)
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("simulator lost the broker (%s); paho reconnects", reason)

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _r: Any, _p: Any) -> None:
        self.acked += 1

    def publish(self, client: mqtt.Client, messages: list[Message]) -> None:
        """Hand ``messages`` to ``client`` (QoS 1), then make the bookings now due."""
        for msg in messages:
            info = client.publish(msg.topic, msg.payload, qos=1, retain=msg.retain)
            if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                self.published += 1  # NO_CONN: queued, sent on reconnect
            else:
                if self.dropped == 0:
                    log.warning(
                        "simulator: client refused a message (%s)", mqtt.error_string(info.rc)
                    )
                self.dropped += 1
        requests = self.traffic.world.take_bookings()
        if self.bookings is not None:
            for request in requests:
                self.bookings.book(request)

    def drain(self) -> None:
        """Wait (a few seconds at most) for the broker to acknowledge what was published."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while self.acked < self.published and time.monotonic() < deadline:
            time.sleep(0.02)
