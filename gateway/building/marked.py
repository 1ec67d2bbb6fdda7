"""Safe YAML loading that remembers the line of every mapping value and list item."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gateway.errors import BuildingError


class MarkedDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each value (1-based)."""

    line: int
    lines: dict[Any, int]


class MarkedList(list[Any]):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int
    lines: list[int]


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(key)
        self.key = key
        self.line = line


if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:  # libyaml's parser when PyYAML was built with it (start-up reads the building file)
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    """SafeLoader whose mappings and sequences carry line numbers; duplicate keys are errors."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    out = MarkedDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise _DuplicateKey(None, line)
        if key in out:
            raise _DuplicateKey(key, line)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = value_node.start_mark.line + 1
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    out = MarkedList(loader.construct_object(item, deep=True) for item in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [item.start_mark.line + 1 for item in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def load_marked(path: Path, label: str) -> Any:
    """Read and parse a YAML file; every failure is a BuildingError naming ``label`` and a line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BuildingError(f"{label}: cannot read the building file: {err}") from err
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader subclass
    except _DuplicateKey as err:
        what = (
            "a key that is not a plain value" if err.key is None else f"duplicate key {err.key!r}"
        )
        raise BuildingError(f"{label}:{err.line}: {what}") from err
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f"{mark.line + 1}:" if mark is not None else ""
        problem = err.problem or err.context or "invalid YAML"
        raise BuildingError(f"{label}:{line} YAML syntax error: {problem}") from err
    except yaml.YAMLError as err:
        raise BuildingError(f"{label}: YAML syntax error: {err}") from err
