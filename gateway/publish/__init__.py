"""MQTT out: retained space state, gateway status, Home Assistant discovery, setback commands.

Topics (``<prefix>`` defaults to ``gateway/<site id>``; see ``gateway.publish.topics``):

- ``<prefix>/status``: ``online`` / ``offline`` (retained; ``offline`` is the last will);
- ``<prefix>/space/<space id>/state``: the space's JSON state, retained, on change;
- ``<prefix>/space/<space id>/command``: neutral setback/restore commands (when enabled);
- ``homeassistant/{binary_sensor,sensor}/<node id>/<object id>/config``: discovery.
"""

from gateway.publish.commands import CommandSink, MqttCommandSink, SetbackPolicy
from gateway.publish.publisher import SpacePublisher, state_payload
from gateway.publish.topics import Topics

__all__ = [
    "CommandSink",
    "MqttCommandSink",
    "SetbackPolicy",
    "SpacePublisher",
    "Topics",
    "state_payload",
]
