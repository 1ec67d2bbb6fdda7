"""The admin token's start-up check: not the example's placeholder, not short enough to guess."""

from __future__ import annotations

from pathlib import Path

from gateway.errors import ConfigError
from gateway.settings import Settings

#: The admin token of deploy/gateway.env.example: a copied example must not open the gateway.
ADMIN_TOKEN_PLACEHOLDER = "change-me-to-a-long-random-token"
ADMIN_TOKEN_MIN_CHARS = 24
ADMIN_TOKEN_FILE = Path(".gateway") / "admin-token"


def check_admin_token(settings: Settings) -> None:
    """Refuse, before ``gateway run`` starts anything, an admin token short enough to guess
    or still the example's placeholder (``gateway demo`` and tests skip this)."""
    if settings.admin_token is not None:
        token, where = settings.admin_token.get_secret_value().strip(), "GATEWAY_ADMIN_TOKEN"
    elif ADMIN_TOKEN_FILE.is_file():
        token, where = ADMIN_TOKEN_FILE.read_text().strip(), str(ADMIN_TOKEN_FILE.resolve())
    else:
        return  # the gateway generates one (32 characters) at start
    fix = (
        "set a long random one (python3 -c 'import secrets; print(secrets.token_urlsafe(32))'),"
        f" or unset GATEWAY_ADMIN_TOKEN and remove {ADMIN_TOKEN_FILE} to have one generated"
    )
    if token == ADMIN_TOKEN_PLACEHOLDER:
        raise ConfigError(
            f"the admin token in {where} is the placeholder of gateway.env.example: {fix}"
        )
    if len(token) < ADMIN_TOKEN_MIN_CHARS:
        raise ConfigError(
            f"the admin token in {where} has {len(token)} characters, fewer than the "
            f"{ADMIN_TOKEN_MIN_CHARS} required: {fix}"
        )
