"""Settings of findings going out: webhook subscriptions of the config file, the sender.

Kept apart from ``gateway.settings`` (which only names these models) so the integrations own
their knobs; nothing here imports more than pydantic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class WebhookSubscriptionConfig(BaseModel):
    """A webhook subscription kept in the config file; the API shows it, may pause it."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr  # the HMAC-SHA256 key of its signature header
    kinds: list[str] = Field(default_factory=lambda: ["*"])  # finding kinds; "*": every one
    format: Literal["json", "slack", "teams"] = "json"
    integration: str | None = None  # booking platform whose releases go back through it


class WebhookSettings(BaseModel):
    """Outbound webhooks (gateway.integrations): sender, retries, outbox cap, pausing."""

    # receivers kept in the config file: id, url, secret, kinds, format, integration
    subscriptions: list[WebhookSubscriptionConfig] = Field(default_factory=list)
    timeout_s: float = Field(default=5.0, gt=0)  # connect, and each read of the answer
    retry_min_s: float = Field(default=1.0, gt=0)  # first backoff, doubling, with jitter
    retry_max_s: float = Field(default=600.0, gt=0)  # longest backoff between attempts
    pause_after: int = Field(default=10, ge=1)  # failed attempts in a row pause it, alerting
    outbox_max: int = Field(default=10_000, ge=1)  # pending per subscription; oldest dropped
    keep_delivered_s: float = Field(default=7 * 86_400, ge=0)  # delivered rows kept to view
    recommend_every_s: float = Field(default=3600.0, ge=0)  # recommendation check; 0 off
    dashboard_url: str | None = None  # the link in chat messages; default the API's address
