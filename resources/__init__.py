"""Data files shipped with colorgui: the bundled model (``weights/``) and the icon."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
BUNDLED_MODEL = ROOT / "weights" / "colorgui-hybrid.safetensors"
BUNDLED_MODEL_CARD = ROOT / "weights" / "MODEL_CARD.md"
ICONS = ROOT / "icons"
ICON_SVG = ICONS / "colorgui.svg"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # colorgui-N.png, rendered from the SVG
