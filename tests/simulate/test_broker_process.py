"""The demo's broker process: started only where the gateway would embed one, and it answers."""

from __future__ import annotations

from gateway.ingest.embedded_broker import broker_answers
from gateway.simulate.broker_process import start_broker
from tests.support import Broker, free_port


def test_no_broker_process_where_one_answers_or_none_is_wanted(broker: Broker) -> None:
    assert start_broker(broker.url, embedded=True) is None  # one answers already
    assert start_broker(f"mqtt://127.0.0.1:{free_port()}", embedded=False) is None
    assert start_broker(f"mqtt://192.0.2.1:{free_port()}", embedded=True) is None  # not local


def test_a_broker_process_answers_on_the_port_and_ends_with_terminate() -> None:
    port = free_port()
    proc = start_broker(f"mqtt://127.0.0.1:{port}", embedded=True)
    assert proc is not None
    try:
        assert proc.is_alive() and broker_answers("127.0.0.1", port)
    finally:
        proc.terminate()
        proc.join(10)
    assert not proc.is_alive() and not broker_answers("127.0.0.1", port, timeout=0.2)
