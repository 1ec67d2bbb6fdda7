"""The access side of the gateway: tokens, members, grants, door decisions, offline credentials.

``AccessControl`` composes the parts and runs the door connection: its own MQTT client that
takes door requests, answers them at once, and publishes the retained revocation list.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from gateway.access.credentials import load_or_create_key, public_pem, public_raw, sign
from gateway.access.door_limits import DoorLimiter
from gateway.access.doors import COMMAND, AuditFlusher, DoorDecider, Evidence
from gateway.access.erasure_watch import ErasureWatch
from gateway.access.grants import Grant, GrantBook
from gateway.access.members import MemberDirectory
from gateway.access.tokens import TokenStore
from gateway.building import Building
from gateway.credential import CredentialHasher
from gateway.profiles import ProfileRegistry
from gateway.publish.client import OutClient
from gateway.settings import Settings

log = logging.getLogger(__name__)


class AccessControl:
    """Owns the access parts of one site; ``start``/``stop`` run the door connection."""

    def __init__(
        self,
        db: Engine,
        building: Building,
        registry: ProfileRegistry,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        evidence: Evidence | None = None,
        hasher: CredentialHasher | None = None,
    ) -> None:
        self.settings, self.clock = settings, clock
        self.site = building.site.id
        a = settings.access
        self.tokens = TokenStore(db, self.site, clock)
        self.hasher = hasher or CredentialHasher.from_key_dir(self.site, a.key_dir)
        self.erasures = ErasureWatch(db, self.site)  # console erasures, before the load
        self.directory = MemberDirectory(db, building, self.hasher)
        self.directory.load()
        self.grants = GrantBook(db, building, self.directory, clock)
        self.grants.load()
        self.grants.is_door = self._is_door
        # a deleted member, or one whose plan changed, keeps no grant without a basis
        self.directory.on_change.append(
            lambda member: self.grants.revoke_unfounded(member, "gateway")
        )
        self.registry = registry
        self._key: Ed25519PrivateKey | None = None  # made or read when first needed
        self._key_lock = threading.Lock()
        self.decider = DoorDecider(
            db,
            building,
            registry,
            self.directory,
            self.grants,
            a.request_topic,
            a.open_s,
            clock,
            evidence,
            DoorLimiter(a),
        )
        prefix = settings.publish.topic_prefix or f"gateway/{self.site}"
        self.revocations_topic = f"{prefix}/access/revocations"
        self.grants.on_revoke.append(lambda _g: self.publish_revocations())
        self.client = OutClient(
            settings.mqtt,
            a.client_id or f"{settings.mqtt.client_id}-access",
            (f"{prefix}/access/status", "offline"),
            subscriptions=(a.request_topic,),
            on_connected=self.publish_revocations,
            on_message=self._on_request,
        )
        # Small request/decision packets with Nagle on wait for the broker's delayed ACK
        # (tens of ms per hop); a door must not wait for that.
        self.client.client.on_socket_open = _no_delay
        self.flusher = AuditFlusher(self.decider, a.audit_flush_ms / 1000)

    def _is_door(self, device: str) -> bool:
        """A device whose profile can answer door requests."""
        binding = self.decider.building.devices.get(device)
        profile = None if binding is None else self.registry.profiles.get(binding.profile)
        return profile is not None and COMMAND in profile.commands

    def doors(self) -> list[str]:
        """The building's doors: the devices whose profile answers door requests."""
        return [d for d in self.decider.building.devices if self._is_door(d)]

    def set_building(self, building: Building, registry: ProfileRegistry | None = None) -> None:
        """Doors, spaces, plans and the file's members after a reload (grants stay)."""
        self.directory.building = self.grants.building = self.decider.building = building
        if registry is not None:
            self.registry = self.decider.registry = registry
        self.directory.load()

    def start(self) -> None:
        self.flusher.start()
        self.client.start()

    def stop(self) -> None:
        self.client.stop()
        self.flusher.stopping.set()
        self.flusher.join(timeout=10)

    @property
    def key(self) -> Ed25519PrivateKey:
        with self._key_lock:  # two first requests must not both create the file
            if self._key is None:
                self._key = load_or_create_key(self.settings.access.key_dir)
            return self._key

    def public_key(self) -> tuple[str, str]:
        """The site's public key: 32 bytes base64url, and PEM."""
        return public_raw(self.key), public_pem(self.key)

    def credential(self, grant: Grant) -> str:
        """The offline credential of ``grant``, signed with the site's key."""
        return sign(self.key, self.site, grant)

    def apply_erasures(self) -> int:
        """Forget the members erased outside this process since the last call (the runtime's
        ``erasures`` loop); how many erasures."""
        return self.erasures.check(self)

    def publish_revocations(self) -> None:
        """Retain the ids of revoked grants still inside their window, for offline verifiers."""
        if not self.client.connected.is_set():
            return  # published at the next connect
        now = self.clock()
        ids = self.grants.revoked_live(now)
        body = json.dumps({"site": self.site, "ts": now, "revoked": ids})
        self.client.publish(self.revocations_topic, body, retain=True)

    def _on_request(self, topic: str, payload: bytes) -> None:
        out = self.decider.handle(topic, payload)
        if out is not None:
            self.client.publish(out[0], out[1], retain=False)


def _no_delay(_client: object, _userdata: object, sock: Any) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not a TCP socket (e.g. websockets)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
