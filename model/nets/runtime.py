"""Frozen networks on the CPU through ONNX Runtime.

PyTorch's eager CPU kernels are slow for EfficientNet's depthwise convolutions at batch
1: on the build machine's 2 cores the three bundled branches took 129 ms per photo in
PyTorch and 31 ms in ONNX Runtime, with the same logits to 1e-5. So a frozen network
that runs on the CPU is exported to ONNX once (about 0.6 s per branch), kept in the user
cache folder under a name for its weights (their package's version, or a digest), and
run by ONNX Runtime from then on.
Anything that goes wrong on the way (no onnxruntime, an operator the exporter does not
know, an unwritable cache) leaves the network in PyTorch, with a warning.

The bundled models and installed ones ship their whole ONNX graph instead
(``model.nets.graph``), so only a model without one (a training run's checkpoint, a
network given in memory, training's branch cache) is exported here. Exporting the paper
model's three branches doubled its first CLI run (4.5 s against 2.1 s once cached, one
photo on the build machine's 2 shared cores; up to 23 s when they are busy); the spatial
model's network (``spatial_onnx.onnx_core``) takes 0.5 s idle, 4.3 s busy. Whoever waits
can listen (``model.nets.graph.listening_to_exports``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Callable, Collection

import numpy as np
import torch
from torch import nn

from model.io.places import cache_root, keep
from model.nets.graph import _told

log = logging.getLogger(__name__)

# bump when the export settings or fold_for_inference change: old cached files then go unused
_FORMAT = "1"
_OPSET = 17
# exported networks kept in the cache: the most recently used (each fine-tuned spatial
# model adds 25 MB; the bundled models take 4 files)
KEEP_EXPORTS = 12


def available() -> bool:
    """Whether ONNX Runtime can be imported and the exporter's ``onnx`` package is
    installed (looked for, not imported: that costs 0.66 s of start-up, and only an export
    needs it)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return importlib.util.find_spec("onnx") is not None


def cache_dir() -> Path:
    """Where exported networks are kept: ``onnx/`` in the user cache folder."""
    return cache_root() / "onnx"


def cache_path(name: str, identity: str) -> Path:
    """The cache file of network ``name`` whose weights and input shape ``identity``
    names, for this exporter."""
    h = hashlib.blake2b(f"{_FORMAT} {torch.__version__} {identity}".encode(), digest_size=12)
    return cache_dir() / f"{name}-{h.hexdigest()}.onnx"


def weights_identity(net: nn.Module) -> str:
    """A digest of a network's weights, for networks with no cheaper name for them."""
    h = hashlib.blake2b(digest_size=12)
    for name, t in net.state_dict().items():
        h.update(name.encode())
        h.update(np.ascontiguousarray(t.detach().cpu().numpy()))
    return h.hexdigest()


def export(net: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...],
           any_size: bool | Collection[str] = False) -> bytes:
    """The ONNX file of ``net`` (evaluation mode) for inputs shaped like ``example`` (one
    tensor or a tuple), any batch size, and with ``any_size`` images (4-d tensors in and
    out) of any height and width too: True for all of them, or the names of those that
    are (inputs ``x0``, ``x1``…, outputs ``y0``…; the others keep the example's sides)."""
    examples = example if isinstance(example, tuple) else (example,)
    with torch.no_grad():
        results = _as_tuple(net.eval()(*examples))
    names = [f"x{i}" for i in range(len(examples))] + [f"y{i}" for i in range(len(results))]
    axes = {}
    for name, t in zip(names, examples + results):
        image = t.dim() == 4 and (any_size is True or (bool(any_size) and name in any_size))
        axes[name] = {0: "n", 2: f"{name}h", 3: f"{name}w"} if image else {0: "n"}
    buf = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notes
        warnings.simplefilter("ignore")
        torch.onnx.export(net, examples, buf, dynamo=False, opset_version=_OPSET,
                          input_names=names[:len(examples)], output_names=names[len(examples):],
                          dynamic_axes=axes)
    return buf.getvalue()


def stamped(data: bytes, **meta: str) -> bytes:
    """An ONNX file with ``meta`` added to its metadata (``model.nets.graph`` reads it)."""
    import onnx

    model = onnx.load_from_string(data)
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return model.SerializeToString()


def _used(path: Path) -> None:
    """Mark a cached export as just used, so ``_prune`` keeps it."""
    try:
        os.utime(path)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    """Delete all but the ``KEEP_EXPORTS`` most recently used exports in ``folder`` (those
    of models no longer used, or of an older torch): each is only made again if needed."""
    dated = []
    for f in folder.glob("*.onnx"):
        try:
            dated.append((f.stat().st_mtime, f))
        except OSError:  # gone meanwhile (another colorgui pruning)
            pass
    for _, f in sorted(dated, reverse=True)[KEEP_EXPORTS:]:
        try:
            f.unlink()
        except OSError:  # in use on Windows, or gone: next time
            pass


def _as_tuple(y) -> tuple:
    return y if isinstance(y, tuple) else (y,)


class OnnxModule:
    """A frozen network run by ONNX Runtime on the CPU: called like a one-input module
    (a float32 tensor in, its first output out), or ``run`` with all its inputs for all
    its outputs. Loaded from ``path``, or made by ``make`` (which returns the ONNX file's
    bytes) and kept there, among the ``KEEP_EXPORTS`` most recently used."""

    def __init__(self, path: Path, make: Callable[[], bytes]):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        # no busy-waiting between calls: PyTorch's own threads run the encoder-decoder
        # next, and two pools spinning on 2 cores measured 2x slower
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = lambda model: ort.InferenceSession(  # noqa: E731
            model, options, providers=["CPUExecutionProvider"])
        self.session = None
        if path.is_file():
            try:
                self.session = session(str(path))
                _used(path)
            except Exception as exc:  # a damaged cache file: make it again
                log.info("re-exporting %s: %s", path, exc)
        if self.session is None:
            data = make()
            keep(path, data)
            _prune(path.parent)
            self.session = session(data)
        self.inputs = [i.name for i in self.session.get_inputs()]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)[0]

    def run(self, *xs: torch.Tensor) -> list[torch.Tensor]:
        """Every output of the network for its inputs ``xs`` (tensors, in order)."""
        if len(xs) != len(self.inputs):
            raise ValueError(f"the network takes {len(self.inputs)} inputs, not {len(xs)}")
        feed = {name: np.ascontiguousarray(x.detach().cpu().numpy(), np.float32)
                for name, x in zip(self.inputs, xs)}
        return [torch.from_numpy(y) for y in self.session.run(None, feed)]


_told_missing = False


def on_cpu(name: str, identity: str, make: Callable[[], bytes]) -> OnnxModule | None:
    """Network ``name`` as an ``OnnxModule`` (see ``cache_path`` and ``OnnxModule``), or
    None, with a warning, where it cannot be."""
    if not available():
        global _told_missing
        if not _told_missing:
            log.warning("onnxruntime is not installed: the pretrained networks run in "
                        "PyTorch, 2-4x slower on a CPU")
            _told_missing = True
        return None
    try:
        return OnnxModule(cache_path(name, identity), _told(name, make))
    except Exception as exc:
        log.warning("could not run %s through ONNX Runtime (%s: %s): it runs in PyTorch, "
                    "slower on a CPU", name, exc.__class__.__name__, exc)
        return None
