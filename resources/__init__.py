"""Data files shipped with colorgui: the bundled model (``weights/``) and the icon."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
WEIGHTS = ROOT / "weights"
# the models that ship, by the name ``--model`` and the app's model picker know them;
# each has its card beside it (NAME.md). The default comes first.
BUNDLED_MODELS = {
    # EfficientNet-Lite0 U-Net (model/nets/spatial.py): beats the paper model on both
    # evaluation sets (docs/results.md), so it is the default
    "spatial": WEIGHTS / "colorgui-spatial.safetensors",
    "paper": WEIGHTS / "colorgui-hybrid.safetensors",      # Kiani et al. 2021 (hybrid v1)
}
BUNDLED_MODEL = next(iter(BUNDLED_MODELS.values()))
BUNDLED_MODEL_CARD = WEIGHTS / "MODEL_CARD.md"


def model_card_path(model: Path) -> Path:
    """The card of a bundled model: ``MODEL_CARD.md`` for the paper model, else the
    weights' name with ``.md``."""
    if model.name == "colorgui-hybrid.safetensors":
        return BUNDLED_MODEL_CARD
    return model.with_suffix(".md")
ICONS = ROOT / "icons"
ICON_SVG = ICONS / "colorgui.svg"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # colorgui-N.png, rendered from the SVG
