"""Data files shipped with colorgui (the bundled model lives in ``weights/``)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
BUNDLED_MODEL = ROOT / "weights" / "colorgui-hybrid.safetensors"
BUNDLED_MODEL_CARD = ROOT / "weights" / "MODEL_CARD.md"
