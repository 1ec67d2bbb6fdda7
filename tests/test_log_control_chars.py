"""A name with a newline or an ANSI escape in it cannot forge a log line nor colour a terminal.

Device ids, space and site ids are chosen by whoever writes the building file or calls the
API; a device id also comes from a topic. Each log line that names one escapes its control
characters, and the console's formatter escapes whatever a message still carries.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.logtext import LineFormatter, clean
from tests.services.conftest import make_site

EVIL = "desk-7\x1b[31m\n2026-12-02 18:00:00 INFO    gateway: admin logged in\r"


def _inert(line: str) -> None:
    assert "\x1b" not in line and "\n" not in line and "\r" not in line


def test_clean_escapes_controls_and_keeps_the_name_readable() -> None:
    out = clean(EVIL)
    _inert(out)
    assert out.startswith("desk-7\\u001b[31m\\u000a2026-12-02")
    assert clean("bidi\u202eoverride\u2028sep") == "bidi\\u202eoverride\\u2028sep"
    assert clean("Raum 3.07 – Süd") == "Raum 3.07 – Süd"  # names in any script stay as written


def test_binding_a_device_logs_its_id_on_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for site in make_site(tmp_path):
        space = next(iter(site.gw.building.spaces))
        profile = site.gw.registry.names[0]
        with caplog.at_level(logging.INFO, logger="gateway.reconfigure"):
            site.gw.bind_device(EVIL, space, profile)
        (line,) = [r.getMessage() for r in caplog.records if "bound to space" in r.getMessage()]
        _inert(line)
        assert "desk-7\\u001b[31m\\u000a" in line


def test_the_console_format_keeps_every_message_on_one_line() -> None:
    record = logging.LogRecord(
        "gateway.x", logging.WARNING, __file__, 1, "device %s: %s", (EVIL, "ok"), None
    )
    out = LineFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    _inert(out)
    assert out.startswith("WARNING gateway.x: device desk-7\\u001b[31m")


def test_gateway_commands_log_through_the_one_line_formatter() -> None:
    """The entry point's logging set-up, as ``gateway run`` makes it, in a fresh process."""
    code = (
        "import logging, sys\n"
        "from gateway.cli import _setup_logging\n"
        "_setup_logging('INFO')\n"
        "logging.getLogger('gateway.reconfigure').info('device %s bound', sys.argv[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, EVIL], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "\x1b" not in lines[0] and "\r" not in lines[0]
    assert "device desk-7\\u001b[31m\\u000a" in lines[0]
