"""A bundled or installed model as an ONNX graph, run by ONNX Runtime on a CPU: numpy in,
numpy out, and no torch, so colorizing on a CPU never loads it (about 1.2-1.7 s of a CLI
run's start) and a first use exports nothing.

A graph is written beside its weights (``colorgui-spatial.onnx`` next to
``colorgui-spatial.safetensors``) when a model is exported for shipping or installed
after fine-tuning (``model.store.checkpoint.write_graph_beside``); its metadata names the
SHA-256 of the weights file it was made from, so a graph that does not belong to its
weights is never used. ``SpatialGraph`` runs the spatial model's, ``HybridGraph`` the
paper model's (its pretrained branches inside).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Literal

import numpy as np

from model.io.files import hash_file
from model.nets.branch_input import branch_gray, branch_image

log = logging.getLogger(__name__)

# where a network runs on a CPU: "auto" and "onnx" use ONNX Runtime where they can
RUNTIMES = ("auto", "onnx", "torch")


def checked(runtime: str) -> str:
    """``runtime`` if it is one of ``RUNTIMES``, else a ValueError."""
    if runtime not in RUNTIMES:
        choices = ", ".join(map(repr, RUNTIMES))
        raise ValueError(f"runtime must be one of {choices}, not {runtime!r}")
    return runtime


# a network being prepared for this CPU (exported to ONNX, model.nets.runtime): the first
# use's wait, which the CLI and the app tell the user about
@dataclass(frozen=True)
class ExportEvent:
    """One network being prepared for this CPU: ``stage`` "start" before its export,
    "done" after it (``seconds`` it took)."""

    name: str
    stage: Literal["start", "done"]
    seconds: float = 0.0


_listeners: list[Callable[[ExportEvent], None]] = []


@contextlib.contextmanager
def listening_to_exports(listener: Callable[[ExportEvent], None]) -> Iterator[None]:
    """Call ``listener`` (on the thread that exports) for each export while in the block."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _told(name: str, make: Callable[[], bytes]) -> Callable[[], bytes]:
    """``make``, telling the listeners when it starts and ends."""
    def told() -> bytes:
        t0 = time.perf_counter()
        for listener in list(_listeners):
            listener(ExportEvent(name, "start"))
        data = make()
        for listener in list(_listeners):
            listener(ExportEvent(name, "done", time.perf_counter() - t0))
        return data

    return told


def graph_path(checkpoint: os.PathLike | str) -> Path:
    """Where the ONNX graph of a checkpoint lives: beside it, ``.onnx`` for its suffix."""
    return Path(checkpoint).with_suffix(".onnx")


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Graph:
    """A model's ONNX graph in an ONNX Runtime session; ``run`` as its architecture's."""

    def __init__(self, path: Path, session, config: dict):
        self.path, self.session, self.config = path, session, config

    @staticmethod
    def beside(checkpoint: os.PathLike | str) -> "Graph | None":
        """The graph beside ``checkpoint`` where there is one made from these very weights
        and ONNX Runtime can run it; else None (the caller runs the model in PyTorch)."""
        path = graph_path(checkpoint)
        if not path.is_file():
            return None
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = _threads()
            options.inter_op_num_threads = 1
            # no busy-waiting between calls: numpy's BLAS threads (the vivid blend) run
            # next, and two pools spinning on 2 cores made a pass 2.5x slower (run.py)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = ort.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
            meta = session.get_modelmeta().custom_metadata_map
            if meta.get("weights_sha256") != hash_file(checkpoint, "sha256"):
                log.info("%s was made from other weights: not used", path)
                return None
            config = json.loads(meta["config"])
            kind = SpatialGraph if config.get("architecture") == "spatial" else HybridGraph
            return kind(path, session, config)
        except Exception as exc:  # no onnxruntime, a damaged file: PyTorch instead
            log.info("cannot use %s: %s", path, exc)
            return None


class SpatialGraph(Graph):
    """The spatial model's graph: a/b, the class head's logits and the backbone's maps."""

    def run(self, L: np.ndarray, hints: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Normalised L (N×1×H×W float32, sides multiples of 8) and hint maps (N×3×H×W or
        None) → (a/b N×2×H/2×W/2, logits N×Q×⌈H/4⌉×⌈W/4⌉, stride-8 maps, stride-16 maps).
        The sides are padded to multiples of 32 as the network needs (the lightness by
        repeating its edge, the hints with zeros) and the outputs cropped back."""
        n, _, H, W = L.shape
        ph, pw = -H % 32, -W % 32
        if hints is None:
            hints = np.zeros((n, 3, H, W), np.float32)
        if ph or pw:
            L = np.pad(L, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="edge")
            hints = np.pad(hints, ((0, 0), (0, 0), (0, ph), (0, pw)))
        ab, logits, f8, f16 = self.session.run(None, {
            "x0": np.ascontiguousarray(L, np.float32), "x1": np.ascontiguousarray(hints, np.float32)})
        up = lambda m, s: m[..., : -(-H // s), : -(-W // s)]  # noqa: E731
        return ab[..., : H // 2, : W // 2], up(logits, 4), up(f8, 8), up(f16, 16)


class HybridGraph(Graph):
    """The paper model's graph, its pretrained branches inside (``model.nets.hybrid_onnx``);
    each branch's gray image is made here, in numpy."""

    def run(self, L: np.ndarray, hints: np.ndarray | None = None) -> tuple[np.ndarray, None]:
        """Normalised L (N×1×H×W float32, sides multiples of 8) → (a/b N×2×H/2×W/2, None:
        no class head). The model takes no hints."""
        if hints is not None:
            raise ValueError("this model does not take colour hints")
        gray = branch_gray((L[:, 0] + 1.0) * 50.0)
        feed = {"x0": np.ascontiguousarray(L, np.float32)}
        for branch in self.session.get_inputs()[1:]:  # N×1×S×S, S fixed by the branch
            size = branch.shape[-1]
            feed[branch.name] = np.stack([branch_image(g, size) for g in gray])[:, None]
        (ab,) = self.session.run(None, feed)
        return ab, None
