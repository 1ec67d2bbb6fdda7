"""Write docs/configuration.md from the settings model (gateway/settings.py).

Every setting gets its environment variable (``GATEWAY_``, nested with ``__``), its type, its
default and its description. The description is the comment the model carries on (or right
above) the field, followed by the note below for it, if any; a setting with neither stops the
script, so a new setting cannot go undocumented. Run by ``make docs``;
tests/docs/test_docs.py checks that the committed page is what this script writes.

    python docs/gen_configuration.py           # write docs/configuration.md
    python docs/gen_configuration.py --check   # exit 1 when the committed page is stale
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from gateway import settings as settings_module
from gateway.settings import PACKAGE_ROOT, Settings

SPEC_CITATION = re.compile(r"\s*\(SPEC section [0-9.]+\)")
PAGE = Path(__file__).resolve().parent / "configuration.md"

# Facts the model's comments do not state, by dotted setting name.
NOTES: dict[str, str] = {
    "mqtt.url": "The broker: `mqtt://host:port`, `mqtts://` for TLS, `mqtt://user:pass@host:port`.",
    "mqtt.username": "Broker user name; overrides the URL's.",
    "mqtt.password": "Broker password; overrides the URL's.",
    "mqtt.client_id": (
        "MQTT out, the doors and the uplink add `-out`, `-access`, `-uplink` to it. A gateway "
        "that ran with the former default `gateway` keeps its broker session by setting it to "
        "`gateway`."
    ),
    "mqtt.keepalive_s": "MQTT keep-alive interval of the ingest connection, in seconds.",
    "mqtt.batch_ms": "A batch's longest wait, in milliseconds.",
    "database_url": "The store: a SQLite file, or `postgresql://user@host/db` (psycopg 3).",
    "database_busy_timeout_ms": "Then retried, unacknowledged.",
    "ingest.device_rate_per_s": "A token bucket per topic; `0` turns the flood limit off.",
    "ingest.dead_letter_burst": "The burst of dead letters (and their log lines) above that rate.",
    "building": "The building file (site, floors, spaces, devices).",
    "profiles_dir": "The folder of device profiles (`device_profiles/`).",
    "admin_token": (
        "The bootstrap admin bearer token. When unset one is generated into "
        "`.gateway/admin-token`; `gateway run` refuses one shorter than 24 characters or the "
        "placeholder of `deploy/gateway.env.example`."
    ),
    "log_level": "Python logging level of the gateway's own loggers.",
    "api.host": "Where the API listens.",
    "api.port": "The API's TCP port.",
    "occupancy.motion_timeout_s": (
        "A motion-only space turns vacant this long after its last motion."
    ),
    "occupancy.idle_after_s": "A space vacant this long inside business hours is idle.",
    "occupancy.sensor_stale_s": (
        "Unless its profile's `availability` sets its own silence timeout (zigbee2mqtt: 600 s "
        "mains, 90,000 s battery)."
    ),
    "occupancy.tick_s": "How often the engine's time-based deadlines are run.",
    "occupancy.snapshot_s": "Findings are saved with them, in the same transaction.",
    "occupancy.lookback_days": "Recommendations look back this many days.",
    "bookings.grace_s": (
        "Ghost-booking grace period: a booking nobody checked into within this of its start "
        "is a ghost."
    ),
    "alerts.env": "Nested keys too: `GATEWAY_ALERTS__ENV__CO2_MAX_PPM=900`.",
    "alerts.env.co2_max_ppm": "CO2 above this raises `co2_high`.",
    "alerts.env.temperature_min_c": "Below this: `temperature_out_of_range`.",
    "alerts.env.temperature_max_c": "Above this: `temperature_out_of_range`.",
    "alerts.env.humidity_min_pct": "Below this: `humidity_out_of_range`.",
    "alerts.env.humidity_max_pct": "Above this: `humidity_out_of_range`.",
    "alerts.env_by_type": 'As JSON: `{"meeting_room": {"co2_max_ppm": 900}}`.',
    "access.door_rate_per_s": "Door decisions refilled per second (0: no rate limit).",
    "access.lockout_after": "Denials in a row that lock a door out (0: never).",
    "access.lockout_s": "The first lockout; each next one doubles, up to `lockout_max_s`.",
    "access.lockout_max_s": "The longest lockout.",
    "access.key_dir": (
        "Also the credential-hash key, `credential-hmac.key` (mode 0600): back it up."
    ),
    "publish.enabled": "Publish space state under the topic prefix.",
    "publish.discovery_prefix": "Home Assistant's discovery prefix.",
    "uplink.username": "Central broker user name.",
    "uplink.password": "Central broker password.",
    "uplink.buffer_dir": "The buffer is the SQLite file `<buffer_dir>/<site id>.sqlite`.",
    "uplink.max_buffer_bytes": "256 MiB.",
}

INTRO = """\
# Configuration

<!-- Generated by docs/gen_configuration.py from gateway/settings.py: run `make docs`. -->

Settings come from environment variables (prefix `GATEWAY_`, nested with `__`), a `.env`
file, or a YAML/JSON config file given with `gateway --config FILE` or `GATEWAY_CONFIG`. The
environment wins over `.env`, which wins over the file. In a config file the same settings
are nested mappings of the lower-case names (`mqtt: {url: mqtts://broker:8883}`); a mapping
setting takes JSON in an environment variable.

Paths are relative to the working directory, except the defaults marked *package*, which are
relative to the gateway's source tree.
"""


def field_comments(cls: type[BaseModel]) -> dict[str, str]:
    """The comment on each field's lines, or the comment block right above it."""
    # a sub-model may live in a module of its own (gateway.webhook_settings)
    source = Path(sys.modules[cls.__module__].__file__ or "").read_text(encoding="utf-8")
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    lines = source.splitlines()
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    found: dict[str, str] = {}
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        end = stmt.end_lineno or stmt.lineno
        text = [comments[n] for n in range(stmt.lineno, end + 1) if n in comments]
        above: list[str] = []
        n = stmt.lineno - 1
        while n >= 1 and lines[n - 1].strip().startswith("#"):
            above.insert(0, comments[n])
            n -= 1
        found[stmt.target.id] = " ".join(above + text)
    return found


def type_name(annotation: Any) -> str:
    """A short, readable spelling of a field's type."""
    if annotation is type(None):
        return "none"
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " or ".join(type_name(a) for a in typing.get_args(annotation))
    origin = typing.get_origin(annotation)
    if origin is not None:
        args = ", ".join(type_name(a) for a in typing.get_args(annotation))
        return f"{origin.__name__}[{args}]"
    if annotation is Path:
        return "path"
    if annotation is SecretStr:
        return "secret"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return str(getattr(annotation, "__name__", annotation))


def bounds(info: FieldInfo) -> str:
    """The field's numeric bounds, as ``> 0`` or ``>= 1``."""
    marks = []
    for m in info.metadata:
        if isinstance(m, annotated_types.Gt):
            marks.append(f"> {m.gt}")
        elif isinstance(m, annotated_types.Ge):
            marks.append(f">= {m.ge}")
    return ", ".join(marks)


def default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    if value is None:
        return "unset"
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(PACKAGE_ROOT)}` (package)"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, BaseModel):
        return f"`{value.model_dump_json()}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    return f"`{value}`"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell: ``<`` outside code escaped, pipes escaped,
    rst literals made Markdown ones; a sentence starts upper-case and ends with a stop."""
    pieces = text.replace("``", "`").replace("|", "\\|").split("`")
    text = "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(pieces))
    if text and not text.endswith((".", ")", ":")):
        text += "."
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.isalpha() else text


def rows(model: type[BaseModel], env: str, dotted: str) -> list[str]:
    """One table row per setting of ``model``; nested models of plain values recurse."""
    comments = field_comments(model)
    out: list[str] = []
    for name, info in model.model_fields.items():
        var, key = f"{env}{name.upper()}", f"{dotted}{name}"
        annotation = info.annotation
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if nested and not dotted:
            continue  # a top-level group: its own section
        parts = [p for p in (comments.get(name, ""), NOTES.get(key, "")) if p]
        if not parts:
            raise SystemExit(f"{key}: no comment in gateway/settings.py and no note here")
        kind = type_name(info.annotation)
        if bound := bounds(info):
            kind += f", {bound}"
        description = " ".join(cell(p) for p in parts)
        out.append(f"| `{var}` | {kind} | {default_text(info)} | {description} |")
        if nested:
            assert isinstance(annotation, type)
            out.extend(rows(annotation, f"{var}__", f"{key}."))
    return out


def render() -> str:
    """The whole page."""
    table = "\n| variable | type | default | description |\n|---|---|---|---|\n"
    parts = [INTRO, "\n## General\n", table, "\n".join(rows(Settings, "GATEWAY_", "")), "\n"]
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            doc = (annotation.__doc__ or "").strip().split("\n\n")[0]
            doc = " ".join(SPEC_CITATION.sub("", doc).replace("``", "`").split())
            parts += [f"\n## `{name}`\n\n{doc}\n", table]
            parts += ["\n".join(rows(annotation, f"GATEWAY_{name.upper()}__", f"{name}.")), "\n"]
    return "".join(parts)


def main(argv: list[str]) -> int:
    page = render()
    if "--check" in argv:
        if PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
