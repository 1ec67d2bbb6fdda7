"""The demo's embedded broker in a process of its own.

The demo's gateway, its simulator and amqtt would otherwise share one interpreter: the broker
costs about as much CPU as the rest, and in its own process it runs on the other core. It is
started only where the gateway itself would start the embedded broker (``mqtt.embedded``, a
local address nobody answers at), dies with the demo, and when it cannot start the gateway
falls back to its in-process one.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import signal
import threading
import time
from multiprocessing.process import BaseProcess

from gateway.broker_url import parse_broker_url
from gateway.ingest.embedded_broker import EmbeddedBroker, broker_answers

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
START_S = 15.0
PR_SET_PDEATHSIG = 1


def _serve(port: int) -> None:  # pragma: no cover - runs in the child process
    # Linux: the broker goes when the demo goes, even when the demo is killed
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    EmbeddedBroker(port).start()
    threading.Event().wait()


def start_broker(url: str, embedded: bool) -> BaseProcess | None:
    """A broker process at ``url``'s port, or None where the gateway would start none
    (or it did not come up within ``START_S``: the gateway then embeds its own)."""
    broker = parse_broker_url(url)
    if not embedded or broker.host not in LOCAL_HOSTS or broker_answers(broker.host, broker.port):
        return None
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(broker.port,), daemon=True, name="demo-broker"
    )
    proc.start()
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline and proc.is_alive():
        if broker_answers(broker.host, broker.port, timeout=0.2):
            return proc
        time.sleep(0.1)
    log.warning("demo: the broker process did not start; the gateway embeds its own")
    proc.terminate()
    return None
