"""One registry for every family of interchangeable methods (activations, memories,
continual-learning strategies, ...), in the style of timm's ``create_act``.

A family keeps a :class:`Registry`; its module exposes the bound methods as its
``register`` / ``available`` / ``get``. Names are case-insensitive, a duplicate name
warns and the later entry wins, and objects that already belong to the family pass
through ``get`` unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A named family of entries.

    Parameters
    ----------
    kind
        What one entry is called in messages (``"activation"``, ``"memory"``, ...).
    accepts
        Whether an object belongs to the family (may be registered, passes through ``get``).
    one
        How to name one acceptable object in messages (``"a callable"``, ``"a Strategy subclass"``).
    on_register
        Optional ``on_register(key, entry)`` run when an entry is registered.
    """

    def __init__(
        self,
        kind: str,
        accepts: Callable[[object], bool],
        one: str,
        on_register: Callable[[str, T], None] | None = None,
    ):
        self.kind, self.one = kind, one
        self._accepts = accepts
        self._on_register = on_register
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers an entry under ``name`` (case-insensitive)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")

        def decorator(entry: T) -> T:
            if not self._accepts(entry):
                raise TypeError(f"only {self.one} can be registered as a {self.kind}, got {entry!r}")
            key = name.lower()
            if key in self._entries:
                warnings.warn(f"{self.kind} {name!r} is registered twice; the later one wins", stacklevel=2)
            self._entries[key] = entry
            if self._on_register is not None:
                self._on_register(key, entry)
            return entry

        return decorator

    def available(self) -> list[str]:
        """Sorted names of the registered entries."""
        return sorted(self._entries)

    def get(self, name_or_entry: str | T) -> T:
        """The entry registered under a name; members of the family pass through."""
        if self._accepts(name_or_entry):
            return name_or_entry
        if not isinstance(name_or_entry, str):
            raise TypeError(f"{self.kind} must be a name or {self.one}, got {type(name_or_entry).__name__}")
        key = name_or_entry.lower()
        if key not in self._entries:
            raise ValueError(f"unknown {self.kind} {name_or_entry!r}; available: {', '.join(self.available())}")
        return self._entries[key]
