"""fieldguide: reference implementations for the Neural Network Field Guide.

The shared infrastructure (``runtime``, ``data``, ``nn``, ``activations``,
``train``, ``plot``, ``widgets``) serves every chapter; one subpackage per part
of the book holds that part's methods (``width``, ``continual``, ``memory``).
"""

__version__ = "0.1.0"

from . import activations, claims, continual, data, memory, nn, plot, runtime, train, widgets, width  # noqa: E402
from .runtime import device, scale, setup  # noqa: E402

__all__ = [
    "__version__",
    "activations",
    "claims",
    "continual",
    "data",
    "device",
    "memory",
    "nn",
    "plot",
    "runtime",
    "scale",
    "setup",
    "train",
    "widgets",
    "width",
]
