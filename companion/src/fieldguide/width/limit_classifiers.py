"""The classifiers that infinitely wide and deep networks become, behind one interface.

Each is a function ``predict(X_train, y_train, X_test) -> labels`` with labels in {0, 1}
(int64); ``limit_classifier(kind, alpha)`` returns the one a :class:`DeepLimit` names, and
:func:`deep_ntk_classifier` is the finite-depth NTK regression they are the limits of
(Radhakrishnan, Belkin and Uhler, 2023, catalog 1):

* ``majority_vote``: the label of the larger training class, everywhere;
* ``one_nearest_neighbour``: the label of the closest training point;
* ``singular_kernel``: ``sign(sum_i s_i ||x - x_i||^{-alpha})`` with ``s_i = 2 y_i - 1``; with
  ``alpha`` equal to the data's dimension this is the Hilbert kernel classifier, which is
  consistent (Devroye, Gyorfi and Krzyzak, 1998). A test point on a training point takes its label.

Scores of exactly 0 (ties) give class 0. Distances are Euclidean, computed without the
``|x|^2 + |x'|^2 - 2 x.x'`` shortcut so that near neighbours keep their precision.

Taught in the chapter *Wide and deep networks as classifiers* (book/02-width/wide-deep-optimality).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import _checks
from .deep_limits import KINDS
from .deep_ntk import DeepNTK, sphere_gaps
from .regression import KernelRegressor

Classifier = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
BLOCK = 2**24  # entries per block of the test-by-train distance matrix (128 MB in float64)


def _check(X_train: torch.Tensor, y_train: torch.Tensor, X_test: torch.Tensor) -> torch.Tensor:
    _checks.tensor("X_train", X_train, ndim=2, floating=True)
    _checks.tensor("X_test", X_test, ndim=2, floating=True)
    _checks.tensor("y_train", y_train, ndim=1)
    _checks.same_length("X_train", X_train, "y_train", y_train)
    if X_train.shape[0] == 0:
        raise ValueError("X_train must hold at least one point")
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train and X_test must have as many features, got {X_train.shape[1]} and {X_test.shape[1]}")
    if y_train.is_floating_point() or not bool(((y_train == 0) | (y_train == 1)).all()):
        raise ValueError("y_train must hold integer labels in {0, 1}")
    return (2 * y_train - 1).to(X_train.dtype)  # signs s_i in {-1, +1}


def _distances(X_test: torch.Tensor, X_train: torch.Tensor):
    rows = max(1, BLOCK // X_train.shape[0])
    for start in range(0, X_test.shape[0], rows):
        yield torch.cdist(X_test[start : start + rows], X_train, compute_mode="donot_use_mm_for_euclid_dist")  # (m, n)


def _labels(score: torch.Tensor) -> torch.Tensor:
    return (score > 0).long()


def majority_vote(X_train: torch.Tensor, y_train: torch.Tensor, X_test: torch.Tensor) -> torch.Tensor:
    """Majority vote: every test point gets the label of the larger training class (ties: class 0)."""
    signs = _check(X_train, y_train, X_test)
    return _labels(signs.sum()).expand(X_test.shape[0]).clone()


def one_nearest_neighbour(X_train: torch.Tensor, y_train: torch.Tensor, X_test: torch.Tensor) -> torch.Tensor:
    """1-nearest neighbour: the label of the closest training point (ties: the first such point)."""
    _check(X_train, y_train, X_test)
    nearest = torch.cat([d.argmin(dim=1) for d in _distances(X_test, X_train)]) if X_test.shape[0] else y_train[:0]
    return y_train[nearest].long()


def singular_kernel(X_train: torch.Tensor, y_train: torch.Tensor, X_test: torch.Tensor, *, alpha: float) -> torch.Tensor:
    """Singular kernel classifier ``sign(sum_i s_i ||x - x_i||^{-alpha})``; the Hilbert kernel when ``alpha = dim``."""
    signs = _check(X_train, y_train, X_test)
    alpha = _checks.positive_float("alpha", alpha)
    scores = []
    for d in _distances(X_test, X_train):
        on_point = d == 0  # (m, n) test points that coincide with training points
        hit = on_point.any(dim=1)  # (m,)
        nearest = d.amin(dim=1, keepdim=True).masked_fill(hit[:, None], 1.0)  # (m, 1)
        score = d.div_(nearest).pow_(-alpha) @ signs  # weights (d / d_min)^(-alpha) <= 1: no overflow
        scores.append(torch.where(hit, on_point.to(signs.dtype) @ signs, score))
    return _labels(torch.cat(scores)) if scores else y_train[:0].long()


def limit_classifier(kind: str, alpha: float | None = None) -> Classifier:
    """The classifier of a :class:`DeepLimit` kind, as ``predict(X_train, y_train, X_test)``."""
    kind = _checks.one_of("kind", kind, KINDS[:3])
    if kind == "singular_kernel":
        if alpha is None:
            raise ValueError("kind 'singular_kernel' needs alpha")
        a = _checks.positive_float("alpha", alpha)
        return lambda X_train, y_train, X_test: singular_kernel(X_train, y_train, X_test, alpha=a)
    if alpha is not None:
        raise ValueError(f"alpha is only used by kind 'singular_kernel', not {kind!r}")
    return majority_vote if kind == "majority_vote" else one_nearest_neighbour


def deep_ntk_classifier(
    X_train: torch.Tensor, y_train: torch.Tensor, X_test: torch.Tensor, kernel: DeepNTK, *, ridge: float = 0.0
) -> torch.Tensor:
    """Sign of the NTK regression predictor with ``kernel = DeepNTK(activation, L)``, trained on the signs ``2 y - 1``.

    This is what an infinitely wide network of that depth, trained to convergence by gradient
    descent on the squared loss, predicts; the limits above are its ``L -> inf`` behaviour.
    When every correlation is positive the kernel is evaluated in log space and each test row
    is rescaled by its largest entry before use: the signs are unchanged, and the deep
    singular and 1-NN kernels, whose entries underflow in float64, stay usable at any depth.
    With a correlation <= 0 the plain kernel goes to :class:`KernelRegressor`, and those deep
    kernels underflow there.
    """
    signs = _check(X_train, y_train, X_test)
    if not isinstance(kernel, DeepNTK):
        raise TypeError(f"kernel must be a DeepNTK(activation, depth), got {type(kernel).__name__}")
    gap_train, gap_test = sphere_gaps(X_train), sphere_gaps(X_test, X_train)
    if gap_train.max() >= 1 or gap_test.max() >= 1:  # some correlation <= 0: no log space
        model = KernelRegressor(kernel, ridge=ridge).fit(X_train, signs)
        return _labels(model.predict(X_test))
    ridge = _checks.non_negative_float("ridge", ridge)
    k_train = kernel.log_from_gap(gap_train).exp()  # (n, n), 1 on the diagonal
    eye = torch.eye(len(signs), dtype=k_train.dtype, device=k_train.device)
    weights = torch.linalg.solve(k_train + ridge * eye, signs)  # (n,)
    log_k = kernel.log_from_gap(gap_test)  # (m, n)
    shift = log_k.amax(dim=1, keepdim=True)  # (m, 1)
    if not shift.isfinite().all():
        raise ValueError(f"the depth-{kernel.depth} kernel vanishes even in log space for some test point; use a smaller depth")
    return _labels((log_k - shift).exp() @ weights)
