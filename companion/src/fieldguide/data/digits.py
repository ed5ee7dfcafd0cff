"""scikit-learn's bundled 8x8 handwritten digits (1,797 images) as tensors with a fixed split."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .. import _checks

SPLITS = ("train", "test", "all")
_SPLIT_SEED = 20180601  # fixed: the split never depends on the global seed


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = (bunch.data / 16.0).astype(np.float32)  # (1797, 64), pixels in [0, 1]
    y = bunch.target.astype(np.int64)  # (1797,)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(y))
    return X, y, order


def digits(
    split: str = "train",
    *,
    test_fraction: float = 0.25,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits data as ``(X, y)``: ``X`` of shape (n, 64) in [0, 1], ``y`` int64 labels 0-9.

    Parameters
    ----------
    split
        ``"train"``, ``"test"`` or ``"all"``. The split is a fixed random permutation,
        the same on every machine and for every global seed.
    test_fraction
        Fraction of the 1,797 images held out for ``"test"``.
    device, dtype
        Where and in which floating dtype to put ``X``.
    """
    split = _checks.one_of("split", split, SPLITS)
    _checks.probability("test_fraction", test_fraction, open_right=True)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    X, y, order = _load()
    num_test = int(round(test_fraction * len(y)))
    if split == "test":
        idx = order[:num_test]
    elif split == "train":
        idx = order[num_test:]
    else:
        idx = np.arange(len(y))
    X_t = torch.as_tensor(X[idx], dtype=dtype, device=device)
    y_t = torch.as_tensor(y[idx], device=device)
    return X_t, y_t
