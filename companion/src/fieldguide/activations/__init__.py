"""Activation functions behind one registry (part 3 of the book extends it).

Every activation is a function ``relu(x)`` and a module built by
``create("relu")``; strings are looked up case-insensitively, modules and
callables pass through ``get`` unchanged.

>>> import fieldguide as fg
>>> act = fg.activations.create("erf")
"""

from .registry import available, create, get, register

__all__ = ["available", "create", "get", "register"]
