"""The models a user can pick: the bundled one and every model they fine-tuned.

Fine-tuned models live in the user's data folder, one safetensors file each; the name a
user gives becomes the file name, so it cannot point outside that folder, and a file
there that links elsewhere is not listed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from model.io.places import user_data_root
from model.nets import lean

BUNDLED_NAME = "Bundled model"
BUNDLED_LABELS = {"paper": "paper model (hybrid v1)",
                  "spatial": "scene-aware (spatial Lite0 U-Net)"}


def user_models_dir() -> Path:
    return user_data_root() / "models"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    bundled: bool = False


def safe_model_filename(name: str) -> str:
    """A user-chosen model name → a plain file name (no folders, no hidden files)."""
    stem = re.sub(r"[^\w\- ]+", "_", name).strip(" ._")[:80]
    if not stem:
        raise ValueError(f"{name!r} is not a usable model name")
    return f"{stem}.safetensors"


def bundled_entries() -> list[ModelEntry]:
    """The models that ship, the default first ("Bundled model: ...")."""
    from resources import BUNDLED_MODELS

    return [ModelEntry(f"{BUNDLED_NAME}: {BUNDLED_LABELS.get(key, key)}", path, True)
            for key, path in BUNDLED_MODELS.items() if path.is_file()]


def resolve_model(name: str) -> Path:
    """``--model``: a checkpoint file, a bundled model's short name ("spatial",
    "paper") or the name of a model the user fine-tuned; ValueError lists the names."""
    from resources import BUNDLED_MODELS

    if Path(name).is_file():
        return Path(name)
    if name in BUNDLED_MODELS and BUNDLED_MODELS[name].is_file():
        return BUNDLED_MODELS[name]
    if name in BUNDLED_MODELS and lean.torch_missing():  # the lean build leaves it out
        raise ValueError(lean.left_out(f"The {BUNDLED_LABELS.get(name, name)}"))
    for entry in list_models():
        if not entry.bundled and entry.name == name:
            return entry.path
    if name.endswith(".safetensors") or os.sep in name or "/" in name:
        raise ValueError(f"{name}: no such checkpoint file")
    known = [k for k, p in BUNDLED_MODELS.items() if p.is_file()]
    known += [e.name for e in list_models() if not e.bundled]
    raise ValueError(f"no model file or model called {name!r}; known models: {', '.join(known)}")


def list_models() -> list[ModelEntry]:
    entries = bundled_entries()
    folder = user_models_dir()
    if folder.is_dir():
        real = folder.resolve()
        entries += [ModelEntry(p.stem, p) for p in sorted(folder.glob("*.safetensors"))
                    if p.resolve().parent == real and p.is_file()]  # no links out of it
    return entries
