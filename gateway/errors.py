"""Domain errors of the gateway.

The tree::

    GatewayError
    ├── ConfigError          a settings or building file is wrong (names file, field, problem)
    │   └── BuildingError    the building file is wrong
    ├── ProfileError         a device profile file is wrong (names file, field, problem)
    ├── ReasonError          its message is a .reason shown to a person as it is
    │   └── DecodeError      one message could not become events (dead-lettered with .reason)
    └── StoreError           the store refused a write
"""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """A configuration file or setting is wrong."""


class BuildingError(ConfigError):
    """The building file is wrong; the message names the file, the field and the problem."""


class ProfileError(GatewayError):
    """A device profile file is wrong; the message names the file, the field and the problem."""


class ReasonError(GatewayError):
    """An error whose message is its ``reason``, kept to be shown to a person as it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DecodeError(ReasonError):
    """A message could not be decoded; ``reason`` is what a person reads in the dead letter."""


class StoreError(GatewayError):
    """The store could not take a write."""
