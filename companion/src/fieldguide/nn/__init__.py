"""Model builders shared by the chapters: parametrized dense layers and MLPs."""

from .mlp import MLP, Dense, init_weights

__all__ = ["MLP", "Dense", "init_weights"]
