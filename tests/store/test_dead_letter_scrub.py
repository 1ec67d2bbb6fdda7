"""A dead letter keeps what the device sent except its credentials: the value of every
credential-named field, of any JSON type and at any depth, is masked from the parsed payload
(or token by token when it does not parse); no reason and no log line names one."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.credential import CredentialHasher
from gateway.credential_scrub import REDACTED
from gateway.store.tables import DeadLetter
from tests.access.conftest import T0, Clock, make_gateway
from tests.access.test_credential_any_type import CARD, HIKVISION, Harness, h, hikvision_denied

__all__ = ["h"]  # the fixture, shared with the events test

MASKED = re.compile(r"hmac:[0-9a-f]{12}")
SECRETS = (str(CARD), "87654321", "99887766", "1234", "9" * 40)


def test_dead_letters_and_logs_keep_no_credential(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cut = json.dumps({"AccessControllerEvent": {"cardNo": 99887766, "employeeNoString": "m-1"}})
    h.send(
        # an unknown door: dead-lettered with its payload, its numeric card masked
        ("ref/door/door-nobody/event", {"event": "granted", "credential": CARD}),
        # Hikvision's event from a terminal not in the building (cardNo nested two deep)
        ("hikvision/nvr-x/event", hikvision_denied(CARD)),
        # a bound terminal whose time has no offset: refused whole, the card not in the reason
        (HIKVISION, hikvision_denied(99887766, when="2026-11-28T10:16:40")),
        # a member NaN next to a list of credentials: refused for the store
        ("ref/door/door-office-101/event",
         b'{"event": "denied", "member": NaN, "credential": ["pin:1234", 4011223344]}'),
        # a badge at a printer not in the building; and one too long for JSON's integers
        ("ref/printer/printer-9/badge", {"credential": 87654321}),
        ("ref/door/door-office-101/event",
         b'{"event": "denied", "credential": ' + b"9" * 5000 + b"}"),
        # a payload cut short (as an oversized one is kept): scrubbed token by token
        ("hikvision/nvr-x/event", cut[:-9].encode()),
    )  # fmt: skip
    letters = h.dead_letters()
    assert len(letters) == 7
    # a masked hash is hex and may hold any run of digits ("hmac:2b9d412349b5"): not a leak
    stored = MASKED.sub("hmac:…", h.dump("deadletter"))
    logged = MASKED.sub("hmac:…", caplog.text)
    for digits in SECRETS:
        assert digits not in stored, digits  # nowhere in the row: payload, reason, topic
        assert digits not in logged, digits  # nor in any log line
    reasons = [r.reason for r in letters]
    assert "unknown device 'door-nobody'" in reasons[0]
    assert "without a UTC offset" in reasons[2]
    assert "'member' is not a finite number" in reasons[3]
    # what was sent is kept for diagnosis, the credential as its masked hash
    mask = h.hasher.mask
    first = json.loads(letters[0].payload)
    assert first == {"event": "granted", "credential": mask(h.hasher.hash(CARD))}
    nested = json.loads(letters[1].payload)["AccessControllerEvent"]
    assert nested["cardNo"] == mask(h.hasher.hash(CARD)) and nested["subEventType"] == 6
    assert json.loads(letters[3].payload)["credential"] == mask(h.hasher.hash(["pin:1234", CARD]))
    assert b'"credential": "' + REDACTED.encode() + b'"' in bytes(letters[5].payload)
    cut_kept = bytes(letters[6].payload).decode()
    assert cut_kept == cut[:-9].replace("99887766", f'"{mask(h.hasher.hash(99887766))}"')


def test_a_numeric_badge_is_read_and_no_reason_echoes_a_credential(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's `field 'credential': expected a string, got 87654321`."""
    caplog.set_level(logging.DEBUG)
    h.send(("ref/printer/printer-1/badge", {"credential": 87654321}))
    assert h.dead_letters() == [] and h.events()[0].value_text == h.hasher.hash(87654321)
    # a credential field that cannot be read says its type, never its value
    from gateway.profiles.convert import FieldSpec

    spec = FieldSpec("cardNo", "cardNo", None, "door", str, "string", None,
                     allowed=frozenset({"granted"}))  # fmt: skip
    with pytest.raises(Exception) as err:
        spec.convert(87654321)
    assert "87654321" not in str(err.value) and "cardNo" in str(err.value)
    assert "87654321" not in caplog.text


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a": "not a \\"cardNo\\": 5 key", "pin": [1, 2,',  # a key inside a string is text
        b'{"\\u0063ardNo": 4011223344}',  # a key spelled with escapes
        b'{"CARD_NUMBER": 4011223344, "x": 1}',
        b'[{"card-number": {"facility": 12, "number": 4011223344}}]',
        '{"credential": "4011223344", "name": "Zoë"}'.encode("utf-16"),
    ],
)
def test_scrub_reads_keys_not_text(payload: bytes) -> None:
    hasher = CredentialHasher.ephemeral("s")
    out = hasher.scrub(payload)
    assert b"4011223344" not in out and b"1, 2" not in out
    assert hasher.scrub(b'{"count": 4011223344}') == b'{"count": 4011223344}'  # not a card


#: dead letters as the gateway wrote them before this change (the issue's reproduction)
OLD_LETTERS = [
    ("ref/printer/printer-1/badge", b'{"credential": 87654321}',
     "field 'credential': expected a string, got 87654321"),
    (HIKVISION, json.dumps(hikvision_denied(4011223344, when="2026-11-28T10:16:40")).encode(),
     "field 'dateTime': ISO 8601 time without a UTC offset: '2026-11-28T10:16:40'"),
    ("ref/counter/pc-orion", b'{"count": -4}', "field 'count': count -4 below bound 0"),
]  # fmt: skip


def test_dead_letters_kept_from_before_are_scrubbed_where_they_lie(h: Harness) -> None:
    from gateway.store.dead_letters import scrub_dead_letters

    with h.db.begin() as c:
        for topic, payload, reason in OLD_LETTERS:
            c.execute(DeadLetter.__table__.insert().values(  # type: ignore[attr-defined]
                site="test-site", topic=topic, payload=payload, reason=reason, received_at=1.0
            ))  # fmt: skip
    before = h.dump("deadletter")
    assert "87654321" in before and "4011223344" in before
    last = scrub_dead_letters(h.db, "test-site", h.hasher.scrub, 0, limit=2)
    assert last == 2  # a chunk at a time, going on from the last id looked at
    assert scrub_dead_letters(h.db, "test-site", h.hasher.scrub, last) == 3
    after = h.dump("deadletter")
    assert "87654321" not in after and "4011223344" not in after
    printer, hik, counter = h.dead_letters()
    assert printer.reason == "field 'credential': a credential's value (not shown)"
    assert json.loads(printer.payload)["credential"] == h.hasher.mask(h.hasher.hash(87654321))
    assert hik.reason == OLD_LETTERS[1][2]  # a reason about another field stays as it was
    assert (counter.payload, counter.reason) == (OLD_LETTERS[2][1], OLD_LETTERS[2][2])
    assert scrub_dead_letters(h.db, "test-site", h.hasher.scrub, 3) == 3  # nothing new


def test_the_gateway_scrubs_old_dead_letters_as_it_prunes(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, Clock(T0))
    try:
        with gw.db.begin() as c:
            topic, payload, reason = OLD_LETTERS[0]
            c.execute(DeadLetter.__table__.insert().values(  # type: ignore[attr-defined]
                site="test-site", topic=topic, payload=payload, reason=reason, received_at=1.0
            ))  # fmt: skip
        gw.lifecycle.prune_dead_letters()
        with gw.db.connect() as c:
            (row,) = c.execute(select(DeadLetter.payload, DeadLetter.reason)).all()  # type: ignore[call-overload]
        assert b"87654321" not in bytes(row.payload) and "87654321" not in row.reason
    finally:
        gw.db.dispose()
