"""Part 8: memory, Hebbian and biologically plausible learning.

Associative memories share one interface and one registry: each is built from
stored patterns (N, d) and has ``update``, ``energy`` and ``retrieve``, batched
over queries, so a memory can be swapped in one line:

>>> import fieldguide as fg
>>> patterns = fg.memory.random_patterns(20, 64)
>>> mem = fg.memory.create("modern", patterns, beta=1.0)  # or "classical", "dense"
>>> retrieved = mem.retrieve(fg.memory.flip_bits(patterns, 0.1))
"""

from .dense import DenseAssociativeMemory, DenseConfig, interaction
from .hopfield import ClassicalHopfield, HopfieldConfig, hebbian_weights
from .modern import ModernHopfield, hopfield_attention, lse, modern_energy, modern_update
from .patterns import exact_recovery, flip_bits, random_patterns, recall_rate
from .registry import AssociativeMemory, available, create, get, register

__all__ = [
    "AssociativeMemory",
    "ClassicalHopfield",
    "DenseAssociativeMemory",
    "DenseConfig",
    "HopfieldConfig",
    "ModernHopfield",
    "available",
    "create",
    "exact_recovery",
    "flip_bits",
    "get",
    "hebbian_weights",
    "hopfield_attention",
    "interaction",
    "lse",
    "modern_energy",
    "modern_update",
    "random_patterns",
    "recall_rate",
    "register",
]
