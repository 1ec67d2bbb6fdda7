"""The stored form of access credentials: one spelling, hashed with the site, masked in audit.

Card numbers, QR payloads and PINs are never stored or shown as read. Events keep the hash
(so a badge can still be matched to its member), members keep the hash, the audit shows a
mask. Imports nothing else of the gateway's, so ingest and access can both use it.
"""

from __future__ import annotations

import hashlib
from typing import Any


def normalize_credential(raw: str) -> str:
    """One spelling per credential: ``kind:value``, ``card`` when no kind, card numbers upper."""
    s = raw.strip()
    kind, sep, value = s.partition(":")
    if not sep:
        kind, value = "card", s
    kind = kind.strip().lower()
    value = value.strip()
    return f"{kind}:{value.upper() if kind == 'card' else value}"


def hash_credential(site: str, raw: str) -> str:
    """The stored form of a credential (the site is mixed in so sites do not share hashes)."""
    return hashlib.sha256(f"{site}\x00{normalize_credential(raw)}".encode()).hexdigest()


def mask(credential_hash: str) -> str:
    """What the audit trail and the API show of a credential."""
    return f"sha256:{credential_hash[:12]}"


def is_hashed(value: str) -> bool:
    """True for a value that is already a credential hash (64 lowercase hex digits)."""
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def protect(
    site: str, quantity: str, value: Any, attrs: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """A reading's value and attributes with any credential replaced by its hash.

    A ``badge`` reading's value is the credential itself; any reading may carry one in its
    ``credential`` attribute (a door event). Already hashed values pass through.
    """
    if quantity == "badge" and isinstance(value, str) and not is_hashed(value):
        value = hash_credential(site, value)
    if attrs and isinstance(raw := attrs.get("credential"), str) and not is_hashed(raw):
        attrs = {**attrs, "credential": hash_credential(site, raw)}
    return value, attrs
