"""Run-time set-up shared by every chapter: seeds, determinism, threads, device, scale.

Every notebook starts with ``device = fg.setup(seed=0)``. Stored notebook outputs
are compared bit for bit by nbval, so everything that changes the numbers a
chapter prints (seeds, the number of CPU threads, non-deterministic kernels) is
fixed here, in one place.
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")

_SCALES = ("quick", "paper")
_current_seed = 0


def current_seed() -> int:
    """The seed the last :func:`setup` call used (after any ``FIELDGUIDE_SEED`` override)."""
    return _current_seed


def device() -> torch.device:
    """The device to run on: ``FIELDGUIDE_DEVICE`` if set, else CUDA, then MPS, then CPU.

    Raises
    ------
    ValueError
        If ``FIELDGUIDE_DEVICE`` names a device that is not available here.
    """
    requested = os.environ.get("FIELDGUIDE_DEVICE", "").strip()
    if requested:
        try:
            dev = torch.device(requested)
        except RuntimeError as err:
            raise ValueError(
                f"FIELDGUIDE_DEVICE={requested!r} is not a device name; use 'cpu', 'cuda', 'cuda:0' or 'mps'"
            ) from err
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"FIELDGUIDE_DEVICE={requested!r} but CUDA is not available on this machine")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"FIELDGUIDE_DEVICE={requested!r} but MPS is not available on this machine")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _default_threads() -> int:
    value = os.environ.get("FIELDGUIDE_THREADS", "1")
    try:
        threads = int(value)
    except ValueError as err:
        raise ValueError(f"FIELDGUIDE_THREADS={value!r} must be a positive integer") from err
    if threads < 1:
        raise ValueError(f"FIELDGUIDE_THREADS={value!r} must be a positive integer")
    return threads


def setup(seed: int = 0, *, threads: int | None = None, deterministic: bool = True) -> torch.device:
    """Seed every generator, fix the CPU thread count and pick the device.

    Parameters
    ----------
    seed
        Seed for Python's ``random``, NumPy and PyTorch (CPU and CUDA).
        ``FIELDGUIDE_SEED`` overrides it: the test suite re-runs every chapter
        with another seed to show that its claim does not hang on seed 0.
    threads
        Number of CPU threads for PyTorch. The default, ``FIELDGUIDE_THREADS`` or 1,
        keeps results bit-identical from machine to machine (the order of floating
        point reductions depends on the thread count) and lets the test suite run
        two notebooks side by side on two cores.
    deterministic
        Ask PyTorch for deterministic algorithms (on CUDA this also sets
        ``CUBLAS_WORKSPACE_CONFIG``).

    Returns
    -------
    torch.device
        The device chosen by :func:`device`.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    override = os.environ.get("FIELDGUIDE_SEED", "").strip()
    if override:
        if not override.isdigit():
            raise ValueError(f"FIELDGUIDE_SEED={override!r} must be a non-negative integer")
        seed = int(override)
    global _current_seed
    _current_seed = seed
    if threads is None:
        threads = _default_threads()
    elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.set_num_threads(threads)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return device()


def scale(*, quick: T, paper: T) -> T:
    """Pick an experiment size: ``quick`` by default, ``paper`` when ``FIELDGUIDE_SCALE=paper``.

    The stored outputs of the book are made at quick scale, which fits a laptop
    CPU; paper scale reproduces the paper's settings and wants a GPU.
    """
    value = os.environ.get("FIELDGUIDE_SCALE", "quick").strip().lower() or "quick"
    if value not in _SCALES:
        raise ValueError(f"FIELDGUIDE_SCALE={value!r} must be one of {_SCALES}")
    return paper if value == "paper" else quick


def generator(seed: int, device: torch.device | str | None = None) -> torch.Generator:
    """A fresh ``torch.Generator`` seeded with ``seed`` (on ``device``, CPU by default)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    gen = torch.Generator(device=device if device is not None else "cpu")
    gen.manual_seed(seed)
    return gen
