"""The spatial model's network (``SpatialNet.core``) through ONNX Runtime on a CPU."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from model.nets import runtime
from model.nets.backbones import FEATURE_DIM
from model.nets.hint_guide import HINT_CHANNELS
from model.nets.spatial import SpatialConfig, SpatialNet


def _core_inputs(config: SpatialConfig, L, hints, features) -> tuple:
    """``core``'s inputs as the exported network takes them, all tensors: L, then hints
    (zero maps for none: ``decode`` pools them to the same zeros) where the model takes
    them, then the branches' probabilities where it has branches."""
    out = [L]
    if config.hints:
        if hints is None:
            hints = L.new_zeros(L.shape[0], HINT_CHANNELS, *L.shape[-2:])
        out.append(hints)
    if config.branches:
        out.append(features)
    return tuple(out)


class _Core(nn.Module):
    """``SpatialNet.core`` on ``_core_inputs``, as ONNX exports it."""

    def __init__(self, net: SpatialNet):
        super().__init__()
        self.net = net

    def forward(self, *inputs):
        config = self.net.config
        L, rest = inputs[0], list(inputs[1:])
        hints = rest.pop(0) if config.hints else None
        features = rest.pop(0) if config.branches else None
        ab, logits = self.net.core(L, features, hints)
        return (ab,) if logits is None else (ab, logits)


def onnx_core(net: SpatialNet) -> Callable | None:
    """A frozen float32 ``net``'s ``core`` through ONNX Runtime on the CPU, exported once
    into the user cache (``model.nets.runtime``), for ``run_core_with``; None, with a warning,
    where it cannot be. On the build machine's 2 cores the bundled model colorized 23.9
    photos/s (256², batch 1, two passes each at 192²) against 16.7 with its PyTorch copy
    (oneDNN, channels-last, folded), to the same a/b within 1.2e-7 (docs/performance.md);
    the export takes 0.5 s (4.3 s on a busy machine), once."""
    config = net.config
    size = config.input_size
    example = _core_inputs(config, torch.zeros(1, 1, size, size), None,
                           torch.zeros(1, len(config.branches), FEATURE_DIM))
    identity = f"{runtime.weights_identity(net)} {config.to_json()}"
    module = runtime.on_cpu("colorgui-spatial", identity,
                            lambda: runtime.export(_Core(net), example, any_size=True))
    if module is None:
        return None

    def run(L, features, hints):
        ys = module.run(*_core_inputs(config, L, hints, features))
        return ys[0], (ys[1] if len(ys) > 1 else None)

    return run


class _Graph(nn.Module):
    """Everything a CPU needs from the spatial model, as one ONNX graph: L (N×1×H×W,
    sides multiples of 32) and hint maps in; a/b at half size, the class head's logits
    at quarter size, and the backbone's stride-8 and stride-16 maps out."""

    def __init__(self, net: SpatialNet):
        super().__init__()
        self.net = net

    def forward(self, L, hints):
        skips, probs = self.net.encode(L)
        ab, logits = self.net.decode(skips, probs, hints, L)
        return ab, logits, skips[2], skips[3]


def graph_bytes(net: SpatialNet) -> bytes:
    """The ONNX graph of a float32 spatial model with hints and a class head, for
    ``model.nets.graph.SpatialGraph`` to run without torch."""
    config = net.config
    if config.branches or not config.hints or not config.class_head:
        raise ValueError("an ONNX graph is made for spatial models with hints and a class "
                         "head and no extra branches")
    size = config.input_size
    net = net.float().eval()
    example = (torch.zeros(1, 1, size, size), torch.zeros(1, HINT_CHANNELS, size, size))
    return runtime.export(_Graph(net), example, any_size=True)
