"""Test helpers: free ports, a real broker process, a real gateway process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(pred: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll ``pred`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    """Mosquitto on a free port when it is installed, else the embedded broker."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        persistence: bool = False,
        inflight: int = 1000,
    ) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.persistence = persistence
        self.inflight = inflight  # unacknowledged messages the broker sends a client at most
        self.proc: subprocess.Popen[bytes] | None = None
        self.embedded: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        if MOSQUITTO:
            conf = self.workdir / f"mosquitto-{self.port}.conf"
            lines = [
                f"listener {self.port} 127.0.0.1",
                "allow_anonymous true",
                f"max_inflight_messages {self.inflight}",
                "max_queued_messages 1000000",
            ]
            if self.persistence:
                lines += ["persistence true", f"persistence_location {self.workdir}/"]
                if os.geteuid() == 0:
                    # Mosquitto started as root drops to user "mosquitto", which cannot write
                    # the persistence file into a private test folder.
                    lines.append("user root")
            conf.write_text("\n".join(lines) + "\n")
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=open(self.workdir / f"mosquitto-{self.port}.log", "ab"),  # noqa: SIM115
            )
        else:
            from gateway.ingest.embedded_broker import EmbeddedBroker

            self.embedded = EmbeddedBroker(self.port)
            self.embedded.start()
        wait_for(lambda: port_open(self.port), timeout=10)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


class Publisher:
    """A paho client that publishes at QoS 1 and waits for each publish to complete."""

    def __init__(self, port: int, client_id: str = "test-publisher") -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | str | dict[str, Any], qos: int = 1) -> None:
        import json

        data = json.dumps(payload) if isinstance(payload, dict) else payload
        info = self.client.publish(topic, data, qos=qos)
        info.wait_for_publish(timeout=5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class _PortTaken(Exception):
    """The API port was taken between choosing it and the gateway binding it."""


class GatewayProcess:
    """``gateway run`` as a real child process with its own database and API port."""

    TOKEN = "test-admin-token-0123456789"

    def __init__(self, broker_url: str, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.env = {
            **os.environ,
            "GATEWAY_MQTT__URL": broker_url,
            "GATEWAY_MQTT__CLIENT_ID": f"gateway-test-{self.port}",
            "GATEWAY_MQTT__EMBEDDED": "false",
            "GATEWAY_DATABASE_URL": f"sqlite:///{workdir}/gateway.db",
            "GATEWAY_BUILDING": str(FIXTURES / "building-small.yaml"),
            "GATEWAY_API__PORT": str(self.port),
            "GATEWAY_ADMIN_TOKEN": self.TOKEN,
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_from = 0  # where this start's part of gateway.log begins
        self.http = self._client()

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {self.TOKEN}"},
            timeout=5,
        )

    def start(self, wait_connected: bool = True) -> GatewayProcess:
        """Start ``gateway run`` and wait until it answers. A port chosen free can be taken
        before the gateway binds it (an outgoing connection's ephemeral port, on a restart on
        the same port): then it starts again on another port."""
        for _ in range(3):
            path = self.workdir / "gateway.log"
            self._log_from = path.stat().st_size if path.exists() else 0
            self.log = open(path, "ab")  # noqa: SIM115
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "run"],
                cwd=self.workdir,
                env=self.env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for(self._healthy if wait_connected else self._up, timeout=30)
                return self
            except _PortTaken:
                self.proc = None
                self.log.close()
                self.port = free_port()
                self.env["GATEWAY_API__PORT"] = str(self.port)
                self.http.close()
                self.http = self._client()
        raise AssertionError(f"no API port could be bound: {self.read_log()}")

    def _up(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            p = self.workdir / "gateway.log"
            with open(p, "rb") as f:
                f.seek(self._log_from)
                this_start = f.read().decode(errors="replace")
            if "address already in use" in this_start and str(self.port) in this_start:
                raise _PortTaken(this_start)
            raise AssertionError(f"gateway exited with {self.proc.returncode}: {self.read_log()}")
        try:
            return self.http.get("/api/v1/health").status_code == 200
        except httpx.HTTPError:
            return False

    def _healthy(self) -> bool:
        return self._up() and self.http.get("/api/v1/health").json()["mqtt"] == "connected"

    def get(self, path: str, **kw: Any) -> Any:
        r = self.http.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def read_log(self) -> str:
        p = self.workdir / "gateway.log"
        return p.read_text(errors="replace")[-4000:] if p.exists() else ""

    def stop(self, sig: str = "term") -> int | None:
        if self.proc is None:
            return None
        if sig == "kill":
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        return rc
