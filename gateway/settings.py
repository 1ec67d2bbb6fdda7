"""Settings from GATEWAY_* environment variables, a .env file or a YAML/JSON config file."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.bookings_in_settings import BookingHookSettings, CalendarSettings
from gateway.broker_url import parse_broker_url
from gateway.errors import ConfigError
from gateway.webhook_settings import WebhookSettings

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_NOT_CLIENT_ID = re.compile(r"[^A-Za-z0-9_.-]")


class MqttSettings(BaseModel):
    """The broker the gateway subscribes to (and publishes on)."""

    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: SecretStr | None = None
    # the persistent session's id; empty: gateway-<site id> (``Settings.for_site``), so two
    # gateways on one broker never take each other's session
    client_id: str = ""
    keepalive_s: int = 30
    embedded: bool = True  # start an in-process broker when nothing answers at a local url
    queue_size: int = 10_000  # hand-off queue between the network thread and the worker
    batch_size: int = 4000  # under load batches grow to this while the last one commits
    batch_ms: int = 50

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        try:
            parse_broker_url(v)
        except ConfigError as err:
            raise ValueError(str(err)) from err
        return v

    def endpoint(self) -> tuple[str, int, bool, str | None, str | None]:
        """Host, port, tls, username and password (URL credentials, overridden by settings)."""
        u = parse_broker_url(self.url)
        user = self.username or u.username
        pwd = self.password.get_secret_value() if self.password else u.password
        return u.host, u.port, u.tls, user, pwd


class IngestSettings(BaseModel):
    """Limits the worker applies before decoding, and the redelivery record."""

    max_payload_bytes: int = 65_536  # larger payloads are dead-lettered unparsed
    device_rate_per_s: float = 200.0  # per topic; above it messages are counted, not stored
    device_burst: int = 2_000  # a topic may burst this many messages above its rate
    redelivery_window: int = 20_000  # recently committed QoS 1 messages remembered
    # discovered devices no binding names, kept at most (the oldest seen evicted); 0: no cap
    max_unknown_devices: int = Field(default=1_000, ge=0)
    # dead letters across all topics: above this rate (after the burst) counted, not stored;
    # their log lines are capped too, with one summary line a minute. 0: no limit
    dead_letters_per_s: float = Field(default=50.0, ge=0, allow_inf_nan=False)
    dead_letter_burst: int = Field(default=1_000, ge=1)
    # commit batches in a child process (off the ingest process's GIL); an in-memory SQLite
    # store is always written in-process
    writer_process: bool = True


class ApiSettings(BaseModel):
    """Where the HTTP API listens."""

    host: str = "127.0.0.1"
    port: int = 8080
    stream_heartbeat_s: float = 15.0  # live stream keep-alive comment when nothing changes
    max_body_bytes: int = Field(default=1_048_576, gt=0)  # larger request bodies: 413, unread
    member_token_ttl_s: float = Field(default=3600.0, gt=0)  # member-bound tokens' lifetime


class OccupancySettings(BaseModel):
    """Engine tunables (SPEC section 4)."""

    # finite and positive: a NaN or negative tunable would make every deadline meaningless
    motion_timeout_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 300.0
    idle_after_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 900.0
    # a sensor silent this long no longer counts as reporting
    sensor_stale_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3600.0
    tick_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    bin_s: Annotated[int, Field(gt=0)] = 900  # utilization rollup bin length (divides a day)
    # how often rollups, episodes and the engine snapshot are saved
    snapshot_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 5.0
    band_under_pct: float = 60.0  # utilization below this is under-utilized
    band_over_pct: float = 100.0  # above this over-utilized; in between on target
    underuse_pct: float = 20.0  # time used % below this over lookback_days is chronic underuse
    lookback_days: int = 14
    rightsize_ratio: float = 0.5  # p90 headcount below this share of capacity: too big


class BookingSettings(BaseModel):
    """Booking policy."""

    grace_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 600.0
    auto_release: bool = True  # release ghost bookings (sensors reporting, nobody came)


class EnvLimits(BaseModel):
    """Comfort limits of one space type; outside them an environment alert is raised."""

    co2_max_ppm: float = 1000.0
    temperature_min_c: float = 19.0
    temperature_max_c: float = 25.0
    humidity_min_pct: float = 25.0
    humidity_max_pct: float = 65.0


class AlertSettings(BaseModel):
    """Fault and environment alerts (a raised alert opens a work order)."""

    env: EnvLimits = Field(default_factory=EnvLimits)  # every space type without its own
    env_by_type: dict[str, EnvLimits] = Field(default_factory=dict)  # e.g. meeting_room
    paper_low_pct: float = 5.0  # at or below: out of paper
    toner_low_pct: float = 10.0  # at or below: toner low
    check_s: float = 5.0  # how often device availability is checked
    # free space of the SQLite store's file system below this raises disk_low; 0 turns it off
    disk_free_min_bytes: int = Field(default=1_000_000_000, ge=0)


class RetentionSettings(BaseModel):
    """How long raw rows are kept (rollups, idle episodes and findings are kept for good).

    A pass every ``every_s`` deletes what is older than its window in transactions of
    ``batch_rows`` rows, ``pause_s`` apart so the ingest writer never waits long, then gives
    the freed pages of a SQLite store back to the disk (incremental vacuum)."""

    events_days: float = Field(default=30.0, gt=0, allow_inf_nan=False)  # raw events
    # door decisions, grants, booking and print releases (erasure records are kept)
    audit_days: float = Field(default=90.0, gt=0, allow_inf_nan=False)
    every_s: float = Field(default=600.0, gt=0, allow_inf_nan=False)  # seconds between passes
    # 1,000 rows a transaction, a quarter second apart: the writer waits at most one short
    # delete, and a pass still prunes some 4,000 rows a second (bench/retention.py)
    batch_rows: int = Field(default=1_000, ge=1)
    pause_s: float = Field(default=0.25, ge=0, allow_inf_nan=False)  # seconds between deletes


class AccessSettings(BaseModel):
    """Door decisions over MQTT and the site's signing key for offline credentials."""

    request_topic: str = "ref/door/+/request"  # the door id is the segment at '+'
    open_s: int = 5  # how long a granted door stays unlocked
    # how often a running gateway looks for erasures made outside it (`gateway members erase`
    # at the console) and forgets those members in memory: credentials, grants, member tokens
    erasure_check_s: float = Field(default=5.0, gt=0, allow_inf_nan=False)
    audit_flush_ms: int = 20  # door decisions are audited in batches at most this old
    # Per door: ``door_burst`` decisions at once, refilled at ``door_rate_per_s`` (0: no rate
    # limit); ``lockout_after`` denials in a row (0: never) lock the door out for
    # ``lockout_s``, doubled at each further lockout up to ``lockout_max_s``. Requests past a
    # limit are answered ``denied`` (reason ``rate_limited``) without looking at the credential.
    door_burst: int = Field(default=20, ge=1)
    door_rate_per_s: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    lockout_after: int = Field(default=10, ge=0)
    lockout_s: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    lockout_max_s: float = Field(default=900.0, gt=0, allow_inf_nan=False)
    key_dir: Path = Path(".gateway")  # the site's Ed25519 key pair (private key mode 0600)
    client_id: str | None = None  # default <mqtt client id>-access


class PublishSettings(BaseModel):
    """MQTT out: retained space state, Home Assistant discovery, setback commands."""

    enabled: bool = True
    topic_prefix: str | None = None  # default gateway/<site id>
    discovery: bool = True  # Home Assistant MQTT discovery configs
    discovery_prefix: str = "homeassistant"
    setback: bool = False  # setback/restore commands when a space turns idle / occupied
    client_id: str | None = None  # default <mqtt client id>-out


class UplinkSettings(BaseModel):
    """Northbound uplink to a central broker, buffered on disk; off while ``url`` is unset."""

    url: str | None = None  # mqtt://host:port or mqtts://; user:pass@ allowed
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = None  # default <mqtt client id>-uplink
    prefix: str = "gw"  # topics under <prefix>/<site id>/
    buffer_dir: Path = Path(".gateway/uplink")
    max_buffer_bytes: int = Field(default=256 * 1024 * 1024, gt=0)  # oldest dropped beyond
    batch_events: int = Field(default=500, ge=1)  # events per message
    flush_ms: int = Field(default=200, ge=1)  # hand-off to disk interval
    window: int = Field(default=100, ge=1)  # records sent and not yet acknowledged
    recommend_every_s: float = 3600.0  # recommendations forwarded this often; 0 turns off


class Settings(BaseSettings):
    """Everything the gateway reads at start; built by ``load_settings`` and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    database_url: str = "sqlite:///./gateway.db"
    database_busy_timeout_ms: int = 5_000  # a locked store fails a commit after this long
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    building: Path = PACKAGE_ROOT / "examples" / "building.yaml"
    profiles_dir: Path = PACKAGE_ROOT / "device_profiles"
    # per profile, its variables: {octoprint: {printer: mk4}}. zigbee2mqtt's base_topic here is
    # a deprecated alias: give it on the bridge in the building file (gateway.building.base_topic)
    profile_variables: dict[str, dict[str, str]] = Field(default_factory=dict)
    dead_letters_max: int = Field(default=100_000, ge=0)  # oldest beyond this are pruned
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    admin_token: SecretStr | None = None
    occupancy: OccupancySettings = Field(default_factory=OccupancySettings)
    bookings: BookingSettings = Field(default_factory=BookingSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    uplink: UplinkSettings = Field(default_factory=UplinkSettings)
    calendars: CalendarSettings = Field(default_factory=CalendarSettings)  # room ICS feeds
    booking_hooks: BookingHookSettings = Field(default_factory=BookingHookSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    log_level: str = "INFO"

    def for_site(self, site_id: str) -> Settings:
        """These settings with the MQTT client id derived from ``site_id`` unless one is set
        (the ids of MQTT out, the doors and the uplink follow it: ``<client id>-out``...)."""
        if self.mqtt.client_id:
            return self
        mqtt = self.mqtt.model_copy(update={"client_id": site_client_id(site_id)})
        return self.model_copy(update={"mqtt": mqtt})

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the .env file, which beats the config file passed as init values.
        return env_settings, dotenv_settings, init_settings, file_secret_settings


def site_client_id(site_id: str) -> str:
    """``gateway-<site id>``, with characters outside ``[A-Za-z0-9_.-]`` replaced and a short
    hash added then, so that two site ids never give the same client id."""
    cleaned = _NOT_CLIENT_ID.sub("_", site_id)
    if cleaned != site_id:
        cleaned = f"{cleaned}_{hashlib.sha1(site_id.encode()).hexdigest()[:6]}"
    return f"gateway-{cleaned}"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON config file, with a clear error when it is not one."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{p}: cannot read config file: {err.strerror}") from err
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise ConfigError(
            f"{p}: not valid {'JSON' if p.suffix == '.json' else 'YAML'}: {err}"
        ) from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of settings at the top level")
    return data


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, ``.env`` and an optional config file (GATEWAY_CONFIG)."""
    path = config_file or os.environ.get("GATEWAY_CONFIG")
    values: dict[str, Any] = read_config_file(path) if path else {}
    values.update(overrides)
    try:
        return Settings(**values)
    except ValueError as err:
        raise ConfigError(f"invalid settings: {err}") from err
