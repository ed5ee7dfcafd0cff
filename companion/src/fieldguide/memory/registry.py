"""Associative memories behind one interface and one registry (timm style).

Every memory is built from stored patterns, one per row, and offers
``update(states)`` (one step of its dynamics), ``energy(states)`` and
``retrieve(queries, steps=...)``; all three are batched over queries.
Strings are looked up case-insensitively, classes pass through ``get``.

Catalog 32 (Ramsauer et al., 2021) and the classical and dense memories it builds on;
taught in book/08-memory/modern-hopfield.
"""

from __future__ import annotations

import abc

import torch

from .. import _checks
from .._registry import Registry


class AssociativeMemory(abc.ABC):
    """An associative memory: stored patterns, one update step, an energy, and retrieval.

    Subclasses implement :meth:`update` and :meth:`energy`; :attr:`default_steps`
    says how many updates :meth:`retrieve` runs when ``steps`` is not given
    (``None``: until a fixed point). Taught in book/08-memory/modern-hopfield.

    Parameters
    ----------
    patterns
        Floating tensor of shape (num_patterns, dim), one stored pattern per row;
        the paper writes the same patterns as the columns of ``X``.
    """

    default_steps: int | None = None

    def __init__(self, patterns: torch.Tensor):
        _checks.tensor("patterns", patterns, ndim=2, floating=True)
        if patterns.shape[0] < 1 or patterns.shape[1] < 1:
            raise ValueError(f"patterns must hold at least one pattern of dimension >= 1, got shape {tuple(patterns.shape)}")
        if not torch.isfinite(patterns).all():
            raise ValueError("patterns must be finite (no NaN or inf)")
        self.patterns = patterns  # (N, d)

    @property
    def num_patterns(self) -> int:
        """Number N of stored patterns."""
        return self.patterns.shape[0]

    @property
    def dim(self) -> int:
        """Dimension d of a pattern (the number of neurons)."""
        return self.patterns.shape[1]

    def _states(self, name: str, states: object) -> tuple[torch.Tensor, bool]:
        """Check a (d,) or (B, d) state tensor; return it as (B, d) and whether it was 1-D."""
        _checks.tensor(name, states, ndim=(1, 2), floating=True)
        if states.shape[-1] != self.dim:
            raise ValueError(f"{name} must have {self.dim} entries in its last dimension, got shape {tuple(states.shape)}")
        if states.device != self.patterns.device:
            raise ValueError(f"{name} is on {states.device} but the stored patterns are on {self.patterns.device}")
        if states.dtype != self.patterns.dtype:
            raise TypeError(f"{name} must have the patterns' dtype {self.patterns.dtype}, got {states.dtype}")
        single = states.ndim == 1
        return (states[None] if single else states), single  # (B, d)

    @abc.abstractmethod
    def update(self, states: torch.Tensor) -> torch.Tensor:
        """One step of the memory's dynamics, (B, d) -> (B, d)."""

    @abc.abstractmethod
    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """The energy of each state, (B, d) or (d,) -> (B,) or ()."""

    def retrieve(self, queries: torch.Tensor, steps: int | None = None, *, max_steps: int = 100) -> torch.Tensor:
        """Run the dynamics from ``queries`` and return the final states.

        Parameters
        ----------
        queries
            Tensor of shape (d,) or (B, d): the starting states (corrupted or partial patterns).
        steps
            Number of updates; ``None`` uses :attr:`default_steps`, and when that is ``None``
            too, updates each query until an update leaves it unchanged (a fixed point), at most
            ``max_steps`` times.
        max_steps
            Cap on the number of updates when iterating to a fixed point.

        Returns
        -------
        torch.Tensor
            The retrieved states, with the shape of ``queries``.
        """
        states, single = self._states("queries", queries)
        if steps is None:
            steps = self.default_steps
        if steps is not None:
            _checks.non_negative_int("steps", steps)
            for _ in range(steps):
                states = self.update(states)
        else:  # each query stops at its own fixed point; rows evolve independently
            _checks.positive_int("max_steps", max_steps)
            states = states.clone()
            active = torch.arange(states.shape[0], device=states.device)  # rows still moving
            for _ in range(max_steps):
                new = self.update(states[active])  # (A, d)
                moved = (new != states[active]).any(dim=1)  # (A,)
                states[active] = new
                active = active[moved]
                if active.numel() == 0:
                    break
        return states[0] if single else states

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_patterns={self.num_patterns}, dim={self.dim})"


def _is_memory_class(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, AssociativeMemory)


_MEMORIES: Registry[type[AssociativeMemory]] = Registry("memory", _is_memory_class, "an AssociativeMemory subclass")

register = _MEMORIES.register
available = _MEMORIES.available
get = _MEMORIES.get


def create(name_or_cls: str | type[AssociativeMemory], patterns: torch.Tensor, **kwargs) -> AssociativeMemory:
    """Build the memory ``name_or_cls`` storing ``patterns`` (N, d), with its hyper-parameters as keywords.

    >>> mem = create("modern", patterns, beta=1.0)  # doctest: +SKIP
    """
    return get(name_or_cls)(patterns, **kwargs)
