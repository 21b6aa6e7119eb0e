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
    at quarter size, and the backbone's stride-8 and stride-16 maps out. A model with a
    hint guide also gives its decoder's answer without the guide (``_gated`` keeps only
    the branch a call needs)."""

    def __init__(self, net: SpatialNet):
        super().__init__()
        self.net = net

    def forward(self, L, hints):
        skips, probs = self.net.encode(L)
        ab, logits = self.net.decode(skips, probs, hints, L)
        if self.net.hint_guide is None:
            return ab, logits, skips[2], skips[3]
        return (ab, logits, skips[2], skips[3]) + self.net.decode(skips, probs, None, L)


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
    data = runtime.export(_Graph(net), example, any_size=True)
    return _gated(data) if config.hint_guide else data


def _gated(data: bytes) -> bytes:
    """A guided model's graph (``_Graph``: outputs y0-y3, and y4, y5 the decoder without
    the guide) with its two decoders behind an ``If`` on "any hint in the batch": the
    outputs y0, y1 come from the guided decoder with hints and from the plain one
    without. ONNX Runtime runs every node whether an output is asked for or not, and
    the guide (gated to zero without hints) cost 17% of every automatic photo. The
    branches share the weights, kept in the outer graph."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load_from_string(data)
    graph = model.graph
    nodes = list(graph.node)
    producer = {out: k for k, node in enumerate(nodes) for out in node.output}

    def ancestors(names) -> set[int]:
        seen, stack = set(), list(names)
        while stack:
            k = producer.get(stack.pop())
            if k is not None and k not in seen:
                seen.add(k)
                stack.extend(i for i in nodes[k].input if i)
        return seen

    guided, plain = ancestors(("y0", "y1")), ancestors(("y4", "y5"))
    shared = guided & plain

    def copied(k: int, renamed: dict[str, str]):
        node = onnx.NodeProto()
        node.CopyFrom(nodes[k])
        node.output[:] = [renamed.get(o, o) for o in node.output]
        return node

    def branch(name: str, chosen: set[int], outputs: tuple[str, str]):
        renamed = {old: f"{name}_{new}" for old, new in zip(outputs, ("y0", "y1"))}
        body = [copied(k, renamed) for k in sorted(chosen)]
        return helper.make_graph(body, name, [], [
            helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in renamed.values()])

    def constant(name: str, value, kind=TensorProto.INT64, dims=(1,)):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(
            name, kind, list(dims), [value]))

    gate = [constant("gate_from", 2), constant("gate_to", 3), constant("gate_axis", 1),
            helper.make_node("Slice", ["x1", "gate_from", "gate_to", "gate_axis"], ["gate_mask"]),
            helper.make_node("ReduceMax", ["gate_mask"], ["gate_max"], keepdims=0),
            constant("gate_zero", 0.0, TensorProto.FLOAT, ()),
            helper.make_node("Greater", ["gate_max", "gate_zero"], ["gate_hints"]),
            helper.make_node("If", ["gate_hints"], ["y0", "y1"], name="gate_if",
                             then_branch=branch("with_hints", guided - shared, ("y0", "y1")),
                             else_branch=branch("without_hints", plain - shared, ("y4", "y5")))]
    outer = [copied(k, {}) for k in range(len(nodes)) if k in shared or k not in guided | plain]
    del graph.node[:]
    graph.node.extend(outer + gate)
    outputs = [o for o in graph.output if o.name not in ("y4", "y5")]
    del graph.output[:]
    graph.output.extend(outputs)
    onnx.checker.check_model(model)
    return model.SerializeToString()
