"""A paho client that reads the socket in large chunks and sends PUBACKs in coalesced writes."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

READ_SIZE = 256 * 1024  # bytes per socket read: a few thousand small PUBLISH packets
_PUBACK = 0x40
_PUBACK_HEAD = struct.Struct("!BBH")


class BufferedClient(mqtt.Client):
    """paho's client with two changes on the hot path, everything else untouched.

    * paho reads each packet with three ``recv`` calls (command byte, each length byte, body)
      and handles one packet per ``select``. Here one ``recv`` fills a buffer that the same
      packet reader consumes, and ``loop_read`` keeps reading until the buffer is empty, so a
      burst of messages costs one system call instead of a few per message. ``after_read``
      runs at the end of each ``loop_read`` (the transport hands its messages on there).
    * ``ack_many`` queues the PUBACKs of a whole batch as one write and wakes the network
      thread once, where ``ack`` queues and signals per message.
    * With no per-topic callbacks registered (the gateway registers none), a message goes
      straight to ``on_message`` instead of through paho's topic matcher first.

    Both use paho 2.x internals (``_sock_recv``, ``_packet_queue``); the dependency is pinned
    below 3 and the ingest tests exercise both paths against a real broker.
    """

    def __init__(self, *args: Any, after_read: Callable[[], None] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self._rbuf = b""
        self._rpos = 0
        self._rsock: Any = None
        self.after_read = after_read
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
