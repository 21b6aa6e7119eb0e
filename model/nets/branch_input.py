"""What the pretrained branches see, in numpy (no torch): the lightness as gray in [0, 1]
(``branch_gray``), resized to a branch's square input (``branch_image``). PyTorch's
branches (``model.nets.backbones.gray_batch``) and the paper model's ONNX graph
(``model.nets.graph.HybridGraph``) both take their images from here, so both see the
same pixels.
"""

from __future__ import annotations

import cv2
import numpy as np


def branch_gray(L: np.ndarray) -> np.ndarray:
    """What the pretrained branches see: the lightness (0..100) as gray in [0, 1]."""
    return np.clip(L / 100.0, 0.0, 1.0).astype(np.float32)


def branch_image(gray: np.ndarray, size: int) -> np.ndarray:
    """A gray image (H×W in [0, 1]) at a branch's input side: size×size float32."""
    interp = cv2.INTER_AREA if min(gray.shape) > size else cv2.INTER_LINEAR
    return cv2.resize(np.asarray(gray, np.float32), (size, size), interpolation=interp)
