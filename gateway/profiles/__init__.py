"""Device profiles: declarative YAML that turns one vendor's MQTT payloads into readings.

Adding a device profile
=======================

A device family is data, not Python code. To support a new one:

1. Create ``device_profiles/<name>.yaml``; the file stem is the profile name that building
   files use (``devices: [{id: hall_pir, profile: zigbee2mqtt, space: ...}]``).
2. Start it with ``schema_version: 1``, a ``description:`` and a ``source:`` saying where the
   payload shape comes from (vendor manual, docs page, recorded traffic).
3. Write one rule per topic shape. ``{device}`` captures one topic level as the device id
   (``+`` and ``#`` work as in MQTT); ``format:`` is ``json`` (default) or ``text``::

       rules:
         - topic: acme/{device}/telemetry
           timestamp: ts                    # ISO 8601 with offset, or epoch s / ms
           when: [{key: kind, equals: env}] # optional: the rule applies only if these hold
           fields:                          # payload key (dotted for nested) -> reading
             temp: {quantity: temperature_c, scale: 0.1}
             rh: humidity_pct               # shorthand: just the quantity
             door: {quantity: contact_open, map: {open: true, closed: false}}
           attrs: [firmware]                # copied into Reading.attrs
         - topic: acme/{device}/lwt
           format: text
           value: {quantity: online, map: {up: true, down: false}}
       ignore: [acme/{device}/cmd]          # topics that are not device state

   Quantities are the names in ``gateway.events.QUANTITIES``; units are canonical (see
   ``CANONICAL_UNITS``), so convert with ``scale``/``offset`` instead of declaring another unit.
4. Add ``samples:``: real payloads with the readings they must give (``expect:``), and bad
   ones with a substring of the reason they must be rejected with (``reject:``).
5. Run ``gateway profiles check`` and ``pytest tests/profiles``; the golden test runs every
   sample. ``docs/profiles.md`` has the full reference.

At run time the ingest calls :meth:`ProfileRegistry.decode` once per message: it returns a
:class:`Decoded`, None for an ignored topic, or raises ``DecodeError`` with the reason the
message is dead-lettered with. When several profiles match a topic, the first by name whose
``when`` predicates hold wins; within a profile, the first rule in file order.
"""

from gateway.profiles.check import CheckResult, check_profiles
from gateway.profiles.commands import CommandError, CommandSpec
from gateway.profiles.loader import SCHEMA_VERSION, load_profile
from gateway.profiles.model import CANONICAL_UNITS
from gateway.profiles.profile import Decoded, Profile
from gateway.profiles.registry import ProfileRegistry

__all__ = [
    "CANONICAL_UNITS",
    "SCHEMA_VERSION",
    "CheckResult",
    "CommandError",
    "CommandSpec",
    "Decoded",
    "Profile",
    "ProfileRegistry",
    "check_profiles",
    "load_profile",
]
