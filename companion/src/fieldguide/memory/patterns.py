"""Random binary patterns, corrupted queries and the exact-recovery score of a memory.

The capacity experiments of catalog 32 (Ramsauer et al., 2021) and of the
classical network it is compared with: store N random +-1 patterns of dimension d,
query with copies that have a fraction of their bits flipped, and count the
queries whose retrieved state has exactly the stored pattern's signs.
Taught in book/08-memory/modern-hopfield.
"""

from __future__ import annotations

import torch

from .. import _checks
from .registry import AssociativeMemory


def random_patterns(
    num_patterns: int,
    dim: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``num_patterns`` random patterns with independent, equally likely +-1 entries, shape (N, d).

    Drawn from ``generator`` (default: the global torch RNG that ``fg.setup`` seeds).
    Taught in book/08-memory/modern-hopfield.
    """
    _checks.positive_int("num_patterns", num_patterns)
    _checks.positive_int("dim", dim)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    bits = torch.randint(0, 2, (num_patterns, dim), generator=generator)  # (N, d) in {0, 1}
    return (2 * bits - 1).to(dtype=dtype, device=device)


def flip_bits(patterns: torch.Tensor, fraction: float, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Copies of ``patterns`` (B, d) with exactly round(fraction * d) entries of each row negated.

    The flipped positions are uniform without replacement, drawn independently per row.
    Taught in book/08-memory/modern-hopfield.
    """
    _checks.tensor("patterns", patterns, ndim=2, floating=True)
    _checks.probability("fraction", fraction)
    num_rows, dim = patterns.shape
    num_flips = int(round(fraction * dim))
    ranks = torch.rand(num_rows, dim, generator=generator).argsort(dim=1).argsort(dim=1)  # (B, d) random permutations
    sign = torch.where(ranks < num_flips, -1.0, 1.0).to(dtype=patterns.dtype, device=patterns.device)  # (B, d)
    return patterns * sign


def exact_recovery(retrieved: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per query, whether sign(retrieved) equals the +-1 target in every entry, (B, d) -> (B,) bool.

    A zero entry counts as wrong. Taught in book/08-memory/modern-hopfield.
    """
    _checks.tensor("retrieved", retrieved, ndim=2, floating=True)
    _checks.tensor("targets", targets, ndim=2, floating=True)
    if retrieved.shape != targets.shape:
        raise ValueError(
            f"retrieved and targets must have the same shape, got {tuple(retrieved.shape)} and {tuple(targets.shape)}"
        )
    return (torch.sign(retrieved) == targets).all(dim=1)


def recall_rate(
    memory: AssociativeMemory,
    *,
    flip_fraction: float,
    num_queries: int,
    steps: int | None = None,
    generator: torch.Generator | None = None,
) -> float:
    """Fraction of corrupted stored patterns that ``memory`` retrieves exactly.

    Draws ``num_queries`` stored patterns uniformly (with replacement), flips
    ``flip_fraction`` of the bits of each, retrieves all of them at once with
    ``memory.retrieve(queries, steps)`` and scores them with :func:`exact_recovery`.
    Taught in book/08-memory/modern-hopfield.
    """
    if not isinstance(memory, AssociativeMemory):
        raise TypeError(f"memory must be an AssociativeMemory, got {type(memory).__name__}")
    _checks.positive_int("num_queries", num_queries)
    idx = torch.randint(0, memory.num_patterns, (num_queries,), generator=generator)  # (B,)
    targets = memory.patterns[idx.to(memory.patterns.device)]  # (B, d)
    queries = flip_bits(targets, flip_fraction, generator=generator)
    retrieved = memory.retrieve(queries, steps)
    return exact_recovery(retrieved, targets).float().mean().item()
