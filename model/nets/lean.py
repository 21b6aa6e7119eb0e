"""Whether PyTorch is here. The lean build of the desktop app (``make package``) leaves it
out and colorizes on a CPU through ONNX Runtime alone (``model.nets.graph``); what needs
torch (training and fine-tuning, CUDA, a model without its ONNX graph) asks here first and
says so in the one sentence of ``needs_torch``, instead of failing on an import deep
inside with a traceback. What the lean build leaves out for its size (the paper model)
says so in ``left_out``'s, with the same place to get it.
"""

from __future__ import annotations

import importlib.util

HOME = "https://github.com/colorgui/colorgui"


def torch_missing() -> bool:
    """Whether torch cannot be imported here (the lean build), asked without importing it
    (which takes 1-2 s)."""
    try:
        return importlib.util.find_spec("torch") is None
    except ValueError:  # imported already, by a caller that set no __spec__
        return False


# where to get a colorgui that has what the lean build leaves out
ELSEWHERE = f"download the full build (colorgui-full) or install colorgui with pip, both from {HOME}"


def needs_torch(what: str) -> str:
    """The one sentence: ``what`` needs PyTorch, which this build leaves out, and where to
    get a colorgui that has it."""
    return f"{what} needs PyTorch, which this lean build of colorgui leaves out: {ELSEWHERE}."


def left_out(what: str) -> str:
    """The sentence for a part of colorgui the lean build does not carry (for its size)."""
    return f"{what} is not in this lean build of colorgui: {ELSEWHERE}."


def unavailable(what: str) -> str | None:
    """``needs_torch(what)`` where torch is missing, else None."""
    return needs_torch(what) if torch_missing() else None


def fine_tuning_unavailable() -> str | None:
    """Why the Train tab and ``colorgui train`` cannot run here, or None: the same
    sentence for both."""
    return unavailable("Fine-tuning")


class TorchMissing(RuntimeError):
    """Something that needs torch was asked of a colorgui without it."""


def require_torch(what: str) -> None:
    """Raise ``TorchMissing`` with the sentence where torch is missing."""
    reason = unavailable(what)
    if reason:
        raise TorchMissing(reason)
