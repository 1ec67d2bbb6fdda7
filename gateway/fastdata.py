"""Fast positional constructors for frozen, slotted dataclasses on the ingest hot path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def positional_builder(cls: type[T]) -> Callable[..., T]:
    """A constructor taking every field of ``cls`` positionally, in declaration order.

    A frozen dataclass's generated ``__init__`` assigns each field through
    ``object.__setattr__`` (a lookup and a call per field); this one sets the slots through
    their descriptors, about three times faster for the ~4 events per message the ingest
    builds. It runs no ``__post_init__`` and fills no defaults: give every field (a fresh
    dict where the default is a factory). The object is the same class, equal and hashed the
    same as one built the ordinary way.
    """
    if not is_dataclass(cls) or not hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")
    names = [f.name for f in fields(cls)]
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    env.update({f"_set_{n}": getattr(cls, n).__set__ for n in names})
    body = "".join(f"    _set_{n}(o, {n})\n" for n in names)
    src = f"def build({', '.join(names)}):\n    o = _new(_cls)\n{body}    return o\n"
    exec(src, env)  # noqa: S102 - generated from the class's own field names only
    build: Callable[..., T] = env["build"]
    build.__doc__ = f"{cls.__name__}({', '.join(names)}), all fields given."
    return build
