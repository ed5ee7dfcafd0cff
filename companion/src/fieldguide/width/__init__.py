"""Part 2: signal propagation and infinite width.

* ``duals``: Gaussian expectations of activations (closed forms and quadrature).
* ``kernels``: NNGP and NTK of deep fully connected networks, ``k(x1, x2, ...) -> Tensor``.
* ``regression``: one kernel regressor for any such kernel.
"""

from .duals import Dual, get_dual, quadrature_dual
from .kernels import Kernel, input_kernel, layer_kernels, nngp, ntk, propagate
from .regression import KernelRegressor

__all__ = [
    "Dual",
    "Kernel",
    "KernelRegressor",
    "get_dual",
    "input_kernel",
    "layer_kernels",
    "nngp",
    "ntk",
    "propagate",
    "quadrature_dual",
]
