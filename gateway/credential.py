"""The stored form of access credentials: one spelling, keyed-hashed per site, masked in audit.

Card numbers, QR payloads and PINs are never stored or shown as read. Events keep the hash
(so a badge can still be matched to its member), members keep the hash, the audit shows a
mask. The hash is HMAC-SHA256 under a secret per-site key: card numbers (~32 bits) and PINs
(4-6 digits) are too few to resist a plain hash being brute-forced from a stolen database.
The key lives in ``access.key_dir`` next to the site's signing key (mode 0600, made at first
start). Imports nothing else of the gateway's but its scrubber, so ingest and access can both
use it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from gateway.credential_scrub import CREDENTIAL_KEYS, is_credential_key, scrub_payload

__all__ = [
    "CREDENTIAL_KEYS",
    "KEY_BYTES",
    "KEY_FILE",
    "CredentialHasher",
    "credential_text",
    "is_credential_key",
    "is_hashed",
    "load_or_create_hash_key",
    "mask",
    "normalize_credential",
]

KEY_FILE = "credential-hmac.key"
KEY_BYTES = 32


def normalize_credential(raw: str) -> str:
    """One spelling per credential: ``kind:value``, ``card`` when no kind, card numbers upper."""
    s = raw.strip()
    kind, sep, value = s.partition(":")
    if not sep:
        kind, value = "card", s
    kind = kind.strip().lower()
    value = value.strip()
    return f"{kind}:{value.upper() if kind == 'card' else value}"


def mask(credential_hash: str) -> str:
    """What the audit trail and the API show of a credential."""
    return f"hmac:{credential_hash[:12]}"


def is_hashed(value: str) -> bool:
    """True for a value that is already a credential hash (64 lowercase hex digits)."""
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def load_or_create_hash_key(key_dir: Path) -> bytes:
    """The site's credential key from ``key_dir``, created (mode 0600) when there is none."""
    path = key_dir / KEY_FILE
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) < 16:
            raise ValueError(f"{path}: credential key too short")
        return key
    key_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    # created with 0600 from the start: the key is never readable by others, not even briefly
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    return key


class CredentialHasher:
    """The one place a site's credentials are hashed: HMAC-SHA256 under the site's key."""

    def __init__(self, site: str, key: bytes) -> None:
        self.site = site
        self._key = key

    @classmethod
    def from_key_dir(cls, site: str, key_dir: Path) -> CredentialHasher:
        return cls(site, load_or_create_hash_key(key_dir))

    @classmethod
    def ephemeral(cls, site: str) -> CredentialHasher:
        """A hasher with a fresh key kept nowhere (hashes match only within this process)."""
        return cls(site, secrets.token_bytes(KEY_BYTES))

    def hash(self, raw: Any) -> str:
        """The stored form of a credential of any JSON type (the site is mixed in so sites do
        not share hashes). A number is its digits, so a card sent as ``4011223344`` hashes as
        the string ``"4011223344"`` does; a list or object hashes as its canonical JSON."""
        text = credential_text(raw)
        msg = f"{self.site}\x00{normalize_credential(text)}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    @staticmethod
    def mask(credential_hash: str) -> str:
        return mask(credential_hash)

    def protect(
        self, quantity: str, value: Any, attrs: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        """A reading's value and attributes with any credential replaced by its hash.

        A ``badge`` reading's value is the credential itself; any reading may carry one in its
        ``credential`` attribute (a door event), or in another credential-named one. Every
        value but null is hashed, whatever its JSON type; already hashed values pass through.
        """
        if quantity == "badge" and value is not None and not _hashed(value):
            value = self.hash(value)
        if attrs:
            found = [k for k, v in attrs.items() if is_credential_key(k) and not _hashed(v)]
            if found:
                attrs = {**attrs, **{k: self.hash(attrs[k]) for k in found}}
        return value, attrs

    def scrub(self, payload: bytes) -> bytes:
        """A raw payload kept as a dead letter, with the values of credential-named fields
        replaced by their masked hash (see :mod:`gateway.credential_scrub`)."""
        return scrub_payload(payload, lambda v: self.mask(self.hash(v)))


def _hashed(value: Any) -> bool:
    return value is None or (isinstance(value, str) and is_hashed(value))


def credential_text(value: Any) -> str:
    """A credential of any JSON type as text: a string as read, anything else its canonical
    JSON (sorted keys, no spaces), so a number is its digits."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # not JSON, or nested beyond reason
        return f"<unreadable {type(value).__name__}>"
