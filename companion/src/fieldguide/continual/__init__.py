"""Part 7: loss of plasticity and continual learning.

Every strategy is a plugin on one set of hooks (:class:`Strategy`) driven by one
stream loop (:func:`run_stream`); strategies are also looked up by name:

>>> import fieldguide as fg
>>> cbp = fg.continual.create("continual_backprop", replacement_rate=1e-3)

Loss of plasticity and continual backpropagation (Dohare et al., 2024, catalog 80):
``Backprop``, ``L2``, ``ShrinkAndPerturb``, ``ContinualBackprop`` and the diagnostics
``dead_unit_fraction``, ``effective_rank``, ``weight_magnitude``.
"""

from .continual_backprop import ContinualBackprop, contribution_utility
from .diagnostics import dead_unit_fraction, effective_rank, plasticity_metrics, weight_magnitude
from .strategies import L2, Backprop, ShrinkAndPerturb, available, create, get, register
from .stream import HOOKS, Strategy, StreamHistory, run_stream

__all__ = [
    "HOOKS",
    "L2",
    "Backprop",
    "ContinualBackprop",
    "ShrinkAndPerturb",
    "Strategy",
    "StreamHistory",
    "available",
    "contribution_utility",
    "create",
    "dead_unit_fraction",
    "effective_rank",
    "get",
    "plasticity_metrics",
    "register",
    "run_stream",
    "weight_magnitude",
]
