"""Where the broker is: ``mqtt://[user:pass@]host[:port]``, or ``mqtts://`` for TLS."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from gateway.errors import ConfigError


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """Where the broker is: ``mqtt://[user:pass@]host[:port]`` or ``mqtts://`` for TLS."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:  # never shows the password
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerUrl:
    """Parse a broker URL; raise ConfigError naming what is wrong."""
    parts = urlsplit(url)
    tls = {"mqtt": False, "tcp": False, "mqtts": True, "ssl": True}.get(parts.scheme)
    if tls is None or not parts.hostname:
        raise ConfigError(
            f"broker URL: expected mqtt://host:port or mqtts://host:port, got {url!r}"
        )
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as err:
        raise ConfigError(f"broker URL: bad port in {url!r}") from err
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return BrokerUrl(parts.hostname, port, tls, user, password)
