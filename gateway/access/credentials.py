"""Offline credentials: grants signed with the site's Ed25519 key, verified without the gateway.

A credential is ``<claims>.<signature>``, both base64url without padding; the claims are
compact JSON ``{"v": 1, "site", "grant", "member", "door" or "space", "nbf", "exp"}`` (whole
epoch seconds, valid while ``nbf <= now < exp``). A door controller holds the site's public key
and the retained revocation list (``<prefix>/access/revocations``) and calls :func:`verify`
with its site and the door it guards: a credential opens only its own site's door, or the
doors of its space there.
The key pair lives in ``access.key_dir`` (private key PEM, mode 0600), made at first start.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.access.grants import Grant
from gateway.errors import GatewayError
from gateway.private_files import private_dir

KEY_FILE = "site-ed25519.pem"
VERSION = 1  # the claims layout this module signs and understands
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class CredentialError(GatewayError):
    """A credential is refused; ``reason`` is one of the words below, then the detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        # malformed, bad_signature, bad_version, bad_clock, wrong_site, not_yet_valid,
        # expired, revoked, wrong_door
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict base64url without padding: one spelling per byte string, or ValueError.

    A lenient decoder takes ``sig==``, ``sig`` with ``+`` or ``/``, stray characters and
    non-zero trailing bits as the same bytes, so one credential would have many spellings
    (and a revocation or audit keyed on the text could be sidestepped)."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # the trailing bits must be zero: the canonical spelling only
        raise ValueError("not the canonical base64url spelling")
    return data


def load_or_create_key(key_dir: Path) -> Ed25519PrivateKey:
    """The site's signing key from ``key_dir``, created (mode 0600) when there is none."""
    path = key_dir / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise GatewayError(f"{path}: not an Ed25519 private key")
        return key
    private_dir(key_dir)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # created with 0600 from the start: the key is never readable by others, not even briefly
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_raw(key: Ed25519PrivateKey) -> str:
    """The 32-byte public key, base64url: the form a small controller stores."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def sign(key: Ed25519PrivateKey, site: str, grant: Grant) -> str:
    """The offline credential for ``grant`` (window rounded inward to whole seconds)."""
    claims: dict[str, Any] = {"v": VERSION, "site": site, "grant": grant.id, "member": grant.member}
    if grant.door is not None:
        claims["door"] = grant.door
    else:
        claims["space"] = grant.space
    claims["nbf"] = math.ceil(grant.valid_from)
    claims["exp"] = math.floor(grant.valid_until)
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(key.sign(body.encode()))}"


def verify(
    token: str,
    public_key: Ed25519PublicKey | bytes | str,
    revoked_ids: Collection[str],
    now: float,
    *,
    site: str,
    door: str,
    door_space: str | None,
) -> dict[str, Any]:
    """The claims of a credential valid at ``door`` of ``site`` now; raises CredentialError
    for any other.

    ``door_space`` is the space the door opens (None for a door of no space, e.g. an
    entrance): a credential for that space opens each of its doors. ``public_key`` is the key
    object, its 32 raw bytes, or those bytes base64url (as ``GET /api/v1/access/public-key``
    gives them). The signature is checked before anything in the claims is believed. Both
    parts must be base64url in its one canonical spelling (no padding); a clock that is not a
    finite number (NaN, infinity) refuses every credential."""
    if isinstance(public_key, str):
        public_key = _unb64(public_key)
    if isinstance(public_key, bytes):
        public_key = Ed25519PublicKey.from_public_bytes(public_key)
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        raise CredentialError("bad_clock", "the controller's clock is not a finite time")
    if not isinstance(token, str):
        raise CredentialError("malformed", "expected <claims>.<signature> text")
    body, sep, sig = token.partition(".")
    if not sep or not body or not sig:
        raise CredentialError("malformed", "expected <claims>.<signature>")
    try:
        signature, claims_bytes = _unb64(sig), _unb64(body)
    except ValueError as err:
        raise CredentialError("malformed", "not base64url without padding") from err
    try:
        public_key.verify(signature, body.encode())
    except InvalidSignature as err:
        raise CredentialError("bad_signature", "not signed by this site's key") from err
    try:
        claims: Any = json.loads(claims_bytes)
        nbf, exp, grant = claims["nbf"], claims["exp"], claims["grant"]
    except (ValueError, KeyError, TypeError) as err:
        raise CredentialError("malformed", "claims are not readable") from err
    if claims.get("v") != VERSION:
        raise CredentialError("bad_version", f"claims version {claims.get('v')!r}")
    if not all(type(t) is int for t in (nbf, exp)):
        raise CredentialError("malformed", "nbf and exp must be whole epoch seconds")
    if claims.get("site") != site:
        raise CredentialError("wrong_site", f"not a credential of site {site}")
    if now < nbf:
        raise CredentialError("not_yet_valid", f"valid from {nbf}")
    if now >= exp:
        raise CredentialError("expired", f"expired at {exp}")
    if grant in revoked_ids:
        raise CredentialError("revoked", f"grant {grant} is revoked")
    for_door = claims.get("door") is not None and claims.get("door") == door
    for_space = door_space is not None and claims.get("space") == door_space
    if not (for_door or for_space):
        raise CredentialError("wrong_door", f"grant {grant} is not for door {door}")
    return dict(claims)
