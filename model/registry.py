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

BUNDLED_NAME = "Bundled model"


def user_models_dir() -> Path:
    env = os.environ.get("COLORGUI_DATA_DIR")
    if env:
        return Path(env) / "models"
    from platformdirs import user_data_dir

    return Path(user_data_dir("colorgui")) / "models"


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


def list_models() -> list[ModelEntry]:
    from resources import BUNDLED_MODEL

    entries = [ModelEntry(BUNDLED_NAME, BUNDLED_MODEL, True)]
    folder = user_models_dir()
    if folder.is_dir():
        real = folder.resolve()
        entries += [ModelEntry(p.stem, p) for p in sorted(folder.glob("*.safetensors"))
                    if p.resolve().parent == real and p.is_file()]  # no links out of it
    return entries
