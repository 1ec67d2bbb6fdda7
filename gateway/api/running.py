"""What the app reads of the running gateway as a whole: its parts, for ``app.state``,
and the figures health, stats and metrics show. The composition root's ``Gateway`` is one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.engine import Engine

from gateway.access.control import AccessControl
from gateway.facility.services import MemberServices
from gateway.ingest.handoff import Handoff
from gateway.ingest.pipeline import Pipeline
from gateway.ingest.transport import MqttTransport
from gateway.integrations.webhooks import Webhooks
from gateway.publish.uplink import Uplink
from gateway.readmodel.queries import ReadModel
from gateway.reconfigure import Reconfigure
from gateway.settings import Settings
from gateway.state.config import Current
from gateway.state.live import LiveState
from gateway.store import BatchWriter
from gateway.store.disk import DiskMonitor
from gateway.supervisor import Supervisor
from gateway.telemetry import Telemetry


class Running(Protocol):
    """The running gateway, read-only."""

    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def started_at(self) -> float: ...
    @property
    def admin_token(self) -> str: ...
    @property
    def db(self) -> Engine: ...
    @property
    def current(self) -> Current: ...
    @property
    def live(self) -> LiveState: ...
    @property
    def access(self) -> AccessControl: ...
    @property
    def services(self) -> MemberServices: ...
    @property
    def reconfigure(self) -> Reconfigure: ...
    @property
    def readmodel(self) -> ReadModel: ...
    @property
    def telemetry(self) -> Telemetry: ...
    @property
    def supervisor(self) -> Supervisor: ...
    @property
    def transport(self) -> MqttTransport: ...
    @property
    def pipeline(self) -> Pipeline: ...
    @property
    def writer(self) -> BatchWriter: ...
    @property
    def disk(self) -> DiskMonitor: ...
    @property
    def queue(self) -> Handoff: ...
    @property
    def uplink(self) -> Uplink | None: ...
    @property
    def webhooks(self) -> Webhooks: ...
    @property
    def embedded_broker(self) -> object | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...
