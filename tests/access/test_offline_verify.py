"""Offline credentials have one spelling, need a real clock and open only their own site."""

from __future__ import annotations

import base64

import pytest

from gateway.access.credentials import CredentialError, sign, verify
from tests.access.conftest import T0, Site
from tests.access.test_credentials import DOOR, issue_signed, reason


def test_a_padded_or_respelled_signature_is_malformed(site: Site) -> None:
    g, key = issue_signed(site)
    token = g["credential"]
    body, sig = token.split(".")
    assert verify(token, key, [], T0 + 20, **DOOR)["grant"] == g["id"]
    raw = base64.urlsafe_b64decode(sig + "==")
    # the same 64 signature bytes, spelled otherwise: each must be refused, not accepted
    standard = base64.b64encode(raw).decode()  # '+' and '/' instead of '-' and '_'
    last = sig[-1]
    variants = {
        "padded": sig + "==",
        "one pad": sig + "=",
        "four pads": sig + "====",
        "space inside": sig[:10] + " " + sig[10:],
        "newline at the end": sig + "\n",
        "stray character": sig[:5] + "*" + sig[5:],
        # an 86-character base64 text leaves 4 spare bits in its last character
        "trailing bits set": sig[:-1] + ("B" if last == "A" else chr(ord(last) + 1)),
    }
    if standard.rstrip("=") != sig:
        variants["standard alphabet"] = standard.rstrip("=")
    assert base64.urlsafe_b64decode(variants["padded"]) == raw  # a lenient decoder takes it
    for name, spelled in variants.items():
        assert reason(f"{body}.{spelled}", key, [], T0 + 20) == "malformed", name
    assert reason(f"{body}==.{sig}", key, [], T0 + 20) == "malformed"  # the claims too


def test_a_clock_that_is_not_a_finite_time_refuses_every_credential(site: Site) -> None:
    g, key = issue_signed(site)
    token = g["credential"]
    for now in (float("nan"), float("inf"), float("-inf")):
        assert reason(token, key, [], now) == "bad_clock", now
    with pytest.raises(CredentialError):
        verify(token, key, [], "1795857302", **DOOR)  # type: ignore[arg-type]
    assert verify(token, key, [], T0 + 20, **DOOR)["grant"] == g["id"]  # a real clock opens


def test_a_credential_of_another_site_is_refused(site: Site) -> None:
    g, key = issue_signed(site)
    token = g["credential"]
    assert reason(token, key, [], T0 + 20, site="other-site") == "wrong_site"
    # another site sharing the key (a copied key dir) still cannot open this site's doors
    grant = site.gw.access.grants.get(g["id"])
    assert grant is not None
    foreign = sign(site.gw.access.key, "branch-office", grant)
    assert reason(foreign, key, [], T0 + 20) == "wrong_site"
    assert verify(foreign, key, [], T0 + 20, **{**DOOR, "site": "branch-office"})["site"] == (
        "branch-office"
    )
