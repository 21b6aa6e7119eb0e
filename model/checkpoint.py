"""Checkpoints: safetensors weights (no code runs on load) with config and metadata.

A checkpoint holds only the trained parts (encoder, fusion, decoder). The frozen
pretrained branches come from their own packages, so a checkpoint stays a few MB.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save as st_save
from safetensors import safe_open

from .imageio import atomic_write
from .network import HybridConfig, HybridNet

FORMAT = "colorgui-hybrid/1"


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file and the reason."""

    def __init__(self, path: os.PathLike | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def save_checkpoint(path: os.PathLike | str, net: HybridNet, meta: dict | None = None,
                    extra_tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Atomically write ``net``'s weights, config and ``meta`` (JSON-able) to ``path``.

    ``extra_tensors`` (for example optimizer moments for resuming) are stored under an
    ``extra.`` prefix and ignored by ``load_checkpoint``.
    """
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    for k, v in (extra_tensors or {}).items():
        tensors[f"extra.{k}"] = v.detach().cpu().contiguous()
    header = {"format": FORMAT, "config": net.config.to_json(),
              "meta": json.dumps(meta or {}, sort_keys=True, default=str)}
    atomic_write(path, st_save(tensors, metadata=header))


def read_header(path: os.PathLike | str) -> tuple[HybridConfig, dict]:
    """Config and metadata of a checkpoint, without loading its weights."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as fh:
            header = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a colorgui checkpoint (unreadable safetensors: {exc})") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(path, f"not a colorgui checkpoint (format {header.get('format')!r}, "
                                    f"expected {FORMAT!r})")
    try:
        config = HybridConfig.from_json(header["config"])
        meta = json.loads(header.get("meta", "{}"))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(path, f"invalid model config in checkpoint: {exc}") from None
    return config, meta


def load_checkpoint(path: os.PathLike | str, expect: HybridConfig | None = None,
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
    net = HybridNet(config)
    own = net.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    if missing or unexpected:
        raise CheckpointError(path, f"weights do not match the config: missing {missing[:5]}, "
                                    f"unexpected {unexpected[:5]}")
    for k, v in weights.items():
        if v.shape != own[k].shape:
            raise CheckpointError(path, f"shape mismatch for {k}: file has {tuple(v.shape)}, "
                                        f"config needs {tuple(own[k].shape)}")
    net.load_state_dict(weights, strict=True)
    net.eval()
    return (net, meta, extra) if with_extra else (net, meta)
