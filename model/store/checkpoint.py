"""Checkpoints: safetensors weights (no code runs on load) with config and metadata.

A checkpoint holds only the trained parts (encoder, fusion, decoder). The frozen
pretrained branches (and the frozen part of the spatial model's backbone) come from their
own packages, so a checkpoint stays a few MB. Its config names the architecture:
"hybrid" (the paper's, ``model.nets.network``; checkpoints from before the field existed are
hybrid) or "spatial" (``model.nets.spatial``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save as st_save

from model.io.files import atomic_write
from model.io.weights import FORMAT, CheckpointError, read_header_text
from model.nets.network import HybridConfig, HybridNet
from model.nets.spatial import SpatialConfig, SpatialNet

ARCHITECTURES = {"hybrid": (HybridConfig, HybridNet), "spatial": (SpatialConfig, SpatialNet)}
Config = HybridConfig | SpatialConfig
Network = HybridNet | SpatialNet

def config_from_json(text: str) -> Config:
    """A config of either architecture from its JSON (the ``architecture`` field)."""
    data = json.loads(text)
    arch = data.get("architecture", "hybrid")
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch][0].from_json(text)


def build_network(config: Config, pretrained: bool = True) -> Network:
    """A fresh network for ``config`` (``pretrained=False``: a spatial model's backbone
    keeps random weights, for tests)."""
    if isinstance(config, SpatialConfig):
        return SpatialNet(config, pretrained=pretrained)
    return HybridNet(config)


def trained_state(net: Network) -> dict[str, torch.Tensor]:
    """The weights a checkpoint holds: all but the frozen pretrained ones."""
    frozen = net.frozen_prefixes() if isinstance(net, SpatialNet) else ()
    return {k: v for k, v in net.state_dict().items() if not k.startswith(frozen)}


def save_checkpoint(path: os.PathLike | str, net: Network, meta: dict | None = None,
                    extra_tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Atomically write ``net``'s weights, config and ``meta`` (JSON-able) to ``path``.

    ``extra_tensors`` (for example optimizer moments for resuming) are stored under an
    ``extra.`` prefix and ignored by ``load_checkpoint``.
    """
    tensors = {k: v.detach().cpu().contiguous() for k, v in trained_state(net).items()}
    for k, v in (extra_tensors or {}).items():
        tensors[f"extra.{k}"] = v.detach().cpu().contiguous()
    header = {"format": FORMAT, "config": net.config.to_json(),
              "meta": json.dumps(meta or {}, sort_keys=True, default=str)}
    atomic_write(path, st_save(tensors, metadata=header))


def read_header(path: os.PathLike | str) -> tuple[Config, dict]:
    """Config and metadata of a checkpoint, without loading its weights."""
    text, meta = read_header_text(path)
    try:
        return config_from_json(text), meta
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(path, f"invalid model config in checkpoint: {exc}") from None


def load_checkpoint(path: os.PathLike | str, expect: Config | None = None,
                    with_extra: bool = False):
    """Rebuild the network of a checkpoint; check config and every tensor shape strictly.

    Returns ``(net, meta)``, or ``(net, meta, extra)`` with ``with_extra``.
    """
    path = Path(path)
    config, meta = read_header(path)
    if expect is not None and expect != config:
        raise CheckpointError(path, f"config mismatch: checkpoint has {config}, expected {expect}")
    tensors = load_file(str(path))
    extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
    weights = {k: v for k, v in tensors.items() if not k.startswith("extra.")}
    net = build_network(config)
    own = trained_state(net)
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    if missing or unexpected:
        raise CheckpointError(path, f"weights do not match the config: missing {missing[:5]}, "
                                    f"unexpected {unexpected[:5]}")
    for k, v in weights.items():
        if v.shape != own[k].shape:
            raise CheckpointError(path, f"shape mismatch for {k}: file has {tuple(v.shape)}, "
                                        f"config needs {tuple(own[k].shape)}")
    net.load_state_dict(weights, strict=False)  # the frozen rest came from its package
    net.eval()
    return (net, meta, extra) if with_extra else (net, meta)


def write_graph_beside(path: os.PathLike | str) -> Path | None:
    """Write the ONNX graph of the checkpoint at ``path`` beside it (``model.nets.graph``),
    its metadata naming these weights and the config, so a CPU colorizes with it without
    torch and without a first export; None for a model that has no graph (a spatial model
    with extra branches, or without hints or a class head)."""
    from model.io.files import hash_file
    from model.nets.graph import graph_path
    from model.nets.runtime import stamped

    net, _ = load_checkpoint(path)
    config = net.config
    if isinstance(net, SpatialNet):
        if config.branches or not config.hints or not config.class_head:
            return None
        from model.nets.spatial_onnx import graph_bytes
    else:
        from model.nets.hybrid_onnx import graph_bytes
    target = graph_path(path)
    atomic_write(target, stamped(graph_bytes(net), weights_sha256=hash_file(path, "sha256"),
                                 config=config.to_json()))
    return target
