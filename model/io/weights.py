"""A checkpoint's header, read without torch: which network it holds (``ModelInfo``) and
its metadata. A checkpoint is a safetensors file (weights that cannot run code when
loaded) whose header carries the network's config and colorgui's metadata as JSON;
``model.store.checkpoint`` builds the network itself.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from model.io.files import FileError

FORMAT = "colorgui-hybrid/1"


class CheckpointError(FileError):
    """A checkpoint that cannot be used; the message names the file and the reason."""


def read_header_text(path: os.PathLike | str) -> tuple[str, dict]:
    """(the network's config as JSON, the metadata) of a colorgui checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such checkpoint file")
    try:
        with open(path, "rb") as fh:
            size = struct.unpack("<Q", fh.read(8))[0]
            if size > 100_000_000 or size > path.stat().st_size - 8:
                raise ValueError(f"a header of {size} bytes cannot be right")
            header = json.loads(fh.read(size)).get("__metadata__") or {}
    except (struct.error, ValueError, OSError, AttributeError) as exc:
        raise CheckpointError(path, f"not a colorgui checkpoint (unreadable safetensors: "
                                    f"{exc})") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(path, f"not a colorgui checkpoint (format {header.get('format')!r}, "
                                    f"expected {FORMAT!r})")
    try:
        return header["config"], json.loads(header.get("meta", "{}"))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(path, f"invalid model config in checkpoint: {exc}") from None


# what a checkpoint's metadata tells the colorizer about running it (its recommended
# vivid blend, mirror averaging, how far its hint guide is followed, how its hints are
# spread): a fine-tuned model runs as the model it came from
INFERENCE_SETTINGS = ("vivid", "mirror", "guide_weight", "spread")


def inference_settings(meta: dict) -> dict:
    """The inference settings of a checkpoint's metadata: its own, else those of the model
    it was fine-tuned from (``base_meta``, followed back through every fine-tune)."""
    out: dict = {}
    while isinstance(meta, dict):
        for key in INFERENCE_SETTINGS:
            if key in meta and key not in out:
                out[key] = meta[key]
        meta = meta.get("base_meta")
    return out


@dataclass(frozen=True)
class ModelInfo:
    """What the colorizer needs to know of a network before running it."""

    architecture: str                 # "hybrid" (the paper's) or "spatial"
    input_size: int                   # the working size it runs at, about input_size²
    branches: tuple[str, ...] = ()    # pretrained branches computed outside the network
    hints: bool = False               # takes colour hints
    hint_guide: int = 0               # width of its hint guide (0: none)
    class_head: bool = False          # has a colour-class head (and so a vivid setting)

    @classmethod
    def from_json(cls, text: str) -> "ModelInfo":
        c = json.loads(text)
        arch = c.get("architecture", "hybrid")
        spatial = arch == "spatial"
        return cls(arch, int(c.get("input_size", 256)), tuple(c.get("branches", ())),
                   spatial and bool(c.get("hints", True)), int(c.get("hint_guide", 0)),
                   spatial and bool(c.get("class_head", True)))
