"""A paho client that reads the socket in large chunks and sends PUBACKs in coalesced writes."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion

READ_SIZE = 256 * 1024  # bytes per socket read: a few thousand small PUBLISH packets
_PUBACK = 0x40
_PUBACK_HEAD = struct.Struct("!BBH")

#: One received PUBLISH: (topic, payload, qos, packet id, retain, dup).
Publish = tuple[str, bytes, int, int, bool, bool]


def take_publishes(buf: bytes, pos: int) -> tuple[list[Publish], int]:
    """The complete QoS 0/1 PUBLISH packets (MQTT 3.1.1) at ``buf[pos:]``, and where they end.

    It stops, leaving the rest to paho's own reader, at the first packet that is not such a
    PUBLISH, is not complete in ``buf``, or is one paho should judge (QoS 2, an empty or
    non-UTF-8 topic, a length field or topic that does not fit: paho reports those as
    protocol errors)."""
    out: list[Publish] = []
    n = len(buf)
    while pos + 2 <= n:
        head = buf[pos]
        if head & 0xF0 != 0x30 or head & 0x06 > 0x02:  # not PUBLISH, or QoS 2 (or 3)
            break
        i, length, shift = pos + 1, 0, 0
        while i < n and shift <= 21:
            b = buf[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        else:
            break  # the length runs past what was read, or past four bytes
        end = i + length
        qos = (head >> 1) & 1
        if end > n or length < 2:
            break
        t_end = i + 2 + ((buf[i] << 8) | buf[i + 1])
        body = t_end + 2 * qos
        if t_end == i + 2 or body > end:
            break
        try:
            topic = buf[i + 2 : t_end].decode()
        except UnicodeDecodeError:
            break
        mid = (buf[t_end] << 8) | buf[t_end + 1] if qos else 0
        out.append((topic, buf[body:end], qos, mid, bool(head & 0x01), bool(head & 0x08)))
        pos = end
    return out, pos


class BufferedClient(mqtt.Client):
    """paho's client with two changes on the hot path, everything else untouched.

    * paho reads each packet with three ``recv`` calls (command byte, each length byte, body)
      and handles one packet per ``select``. Here one ``recv`` fills a buffer that the same
      packet reader consumes, and ``loop_read`` keeps reading until the buffer is empty, so a
      burst of messages costs one system call instead of a few per message. ``after_read``
      runs at the end of each ``loop_read`` (the transport hands its messages on there).
    * ``ack_many`` queues the PUBACKs of a whole batch as one write and wakes the network
      thread once, where ``ack`` queues and signals per message.
    * With ``on_publishes`` set, the QoS 0/1 PUBLISH packets already in the buffer are parsed
      in one pass (``take_publishes``) and handed over as one list, without paho's
      per-packet state machine, message object and callback lock; every other packet (and
      any that paho should judge) still goes through paho's reader. Otherwise, with no
      per-topic callbacks registered, a message goes straight to ``on_message`` instead of
      through paho's topic matcher first.

    These use paho 2.x internals (``_sock_recv``, ``_packet_read``, ``_in_packet``,
    ``_packet_queue``); the dependency is pinned below 3 and the ingest tests exercise every
    path against a real broker.
    """

    def __init__(
        self,
        *args: Any,
        after_read: Callable[[], None] | None = None,
        on_publishes: Callable[[list[Publish]], None] | None = None,
        **kw: Any,
    ):
        super().__init__(*args, **kw)
        self._rbuf = b""
        self._rpos = 0
        self._rsock: Any = None
        self.after_read = after_read
        self.on_publishes = on_publishes
        self._filtered = False

    def _sock_recv(self, bufsize: int) -> bytes:
        buf, pos = self._rbuf, self._rpos
        if pos >= len(buf) or self._rsock is not self._sock:
            # empty, or left over from a previous connection: read afresh (raises as paho's
            # own read does: BlockingIOError when nothing is there, OSError when it failed)
            self._rbuf, self._rpos, self._rsock = b"", 0, self._sock
            buf = super()._sock_recv(max(bufsize, READ_SIZE))
            if not buf:
                return buf  # the broker closed the connection
            self._rbuf = buf
            pos = 0
        end = pos + bufsize
        self._rpos = end
        return buf[pos:end]

    def _packet_read(self) -> MQTTErrorCode:
        sink = self.on_publishes
        if (
            sink is not None
            and self._in_packet["command"] == 0  # between packets
            and self._rpos < len(self._rbuf)
            and self._rsock is self._sock
            and self._protocol != MQTTProtocolVersion.MQTTv5
        ):
            found, pos = take_publishes(self._rbuf, self._rpos)
            if found:
                self._rpos = pos
                with self._msgtime_mutex:
                    self._last_bytes_received = mqtt.time_func()  # paho's keepalive clock
                sink(found)
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._packet_read()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        try:
            rc = super().loop_read(max_packets)
            # select() cannot see bytes already in the buffer: consume them all now
            while (
                rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._rpos < len(self._rbuf) and self._sock
            ):
                rc = super().loop_read(1)
            return rc
        finally:
            if self.after_read is not None:
                self.after_read()

    def message_callback_add(self, sub: str, callback: Any) -> None:
        self._filtered = True
        super().message_callback_add(sub, callback)

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        on_message = self.on_message
        if self._filtered or on_message is None:
            super()._handle_on_message(message)
            return
        with self._in_callback_mutex:
            try:
                on_message(self, self._userdata, message)
            except Exception as err:
                self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                if not self.suppress_exceptions:
                    raise

    def ack_many(self, mids: Iterable[int]) -> None:
        """Queue one PUBACK per QoS 1 packet id in ``mids`` as a single write."""
        packet = b"".join([_PUBACK_HEAD.pack(_PUBACK, 2, mid) for mid in mids])
        if packet:
            self._packet_queue(_PUBACK, packet, 0, 0)
