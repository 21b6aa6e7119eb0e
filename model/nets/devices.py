"""Which device the model runs on; torch is imported only where CUDA may be there."""

from __future__ import annotations

import ctypes.util
import os
import sys

from model.nets import lean

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def cuda_possible() -> bool:
    """Whether this machine may have a CUDA GPU, asked without torch: an NVIDIA driver is
    loaded (Linux), or its CUDA library is installed (Windows). macOS has no CUDA."""
    if sys.platform.startswith("linux"):
        return os.path.exists("/proc/driver/nvidia/version")
    if sys.platform == "win32":
        return ctypes.util.find_library("nvcuda") is not None
    return False


def wants_cuda(choice: str = "auto") -> bool:
    """Whether ``choice`` runs on CUDA: ``auto`` where a GPU is there (torch asked only
    where ``cuda_possible``), ``cuda`` always (an error without a GPU, see
    ``resolve_device``, or without torch: the lean build)."""
    if choice not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {DEVICE_CHOICES}, not {choice!r}")
    if choice == "cpu":
        return False
    if choice == "auto" and (not cuda_possible() or lean.torch_missing()):
        return False
    lean.require_torch("Running on a GPU (CUDA)")
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but no CUDA GPU is available")
    return torch.cuda.is_available()


def resolve_device(choice: str = "auto"):
    """The ``torch.device`` for ``choice``: ``auto``: CUDA when available, else the CPU.
    ``cuda`` without a GPU is an error."""
    import torch

    return torch.device("cuda" if wants_cuda(choice) else "cpu")


def is_cuda_oom(exc: BaseException) -> bool:
    if "CUDA out of memory" in str(exc):
        return True
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)
