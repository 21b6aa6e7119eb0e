"""CIE Lab colour maths with the paper's normalisation.

Images are float32 RGB in [0, 1] (any bit depth is converted to that first). L lies in
[0, 100]; a and b in about [-128, 127]. The network sees L scaled to [-1, 1] and predicts
a/b divided by 128 (``AB_SCALE``), squashed by tanh.
"""

from __future__ import annotations

import cv2
import numpy as np

AB_SCALE = 128.0


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """float RGB in [0, 1], H×W×3 → float32 Lab (L 0..100, a/b about ±128)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """float32 Lab → float32 RGB clipped to [0, 1]."""
    lab = np.ascontiguousarray(lab, dtype=np.float32)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0.0, 1.0)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """The L channel (0..100) of a float RGB image."""
    return rgb_to_lab(rgb)[..., 0]


def gray_to_rgb(L: np.ndarray) -> np.ndarray:
    """An RGB image whose Lab luminance is L and whose a = b = 0."""
    lab = np.zeros(L.shape + (3,), np.float32)
    lab[..., 0] = L
    return lab_to_rgb(lab)


def normalise_L(L: np.ndarray) -> np.ndarray:
    """L in 0..100 → network input in [-1, 1]."""
    return (np.asarray(L, np.float32) / 50.0) - 1.0


def normalise_ab(ab: np.ndarray) -> np.ndarray:
    """a/b → the paper's training target, a/b / 128."""
    return np.asarray(ab, np.float32) / AB_SCALE


_WHITE = np.array([0.950456, 1.0, 1.088754], np.float32)          # D65, as OpenCV
_XYZ_TO_RGB = np.array([[3.240479, -1.53715, -0.498535],
                        [-0.969256, 1.875991, 0.041556],
                        [0.055648, -0.204043, 1.057311]], np.float32)


# Lab → (fx, fy, fz) of the CIE formulas, as one affine map for cv2.transform
_LAB_TO_F = np.array([[1 / 116, 1 / 500, 0, 16 / 116],
                      [1 / 116, 0, 0, 16 / 116],
                      [1 / 116, 0, -1 / 200, 16 / 116]], np.float32)
_F_TO_RGB = (_XYZ_TO_RGB * _WHITE[None, :]).astype(np.float32)  # XYZ→RGB after ×white


def _lab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """Unclipped linear sRGB (OpenCV and scikit-image clip, hiding out-of-gamut colours)."""
    f = cv2.transform(np.ascontiguousarray(lab, np.float32).reshape(-1, 1, 3), _LAB_TO_F)
    cube = f * f
    cube *= f
    linear = f * np.float32(3 * (6 / 29) ** 2) - np.float32(3 * (6 / 29) ** 2 * 4 / 29)
    return cv2.transform(np.where(f > 6 / 29, cube, linear), _F_TO_RGB).reshape(lab.shape)


def _in_gamut(lab: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    rgb = _lab_to_linear_rgb(lab)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # (numpy's min over a size-3 axis is slow)
    return ((np.minimum(np.minimum(r, g), b) >= -tol) &
            (np.maximum(np.maximum(r, g), b) <= 1 + tol))


COMPOSE_ROWS_PIXELS = 1 << 20  # compose in strips of about a megapixel: bounded memory


def compose(L: np.ndarray, ab_normalised: np.ndarray, saturation: float = 1.0) -> np.ndarray:
    """Full-resolution L plus normalised a/b (same H×W) → float RGB in [0, 1].

    Colours outside the RGB gamut are not clipped channel by channel (which would change
    the photo's lightness) but pulled toward gray at constant L until they fit. Large
    photos are done in horizontal strips so the temporaries stay small.
    """
    out = np.empty(L.shape + (3,), np.float32)
    step = max(1, COMPOSE_ROWS_PIXELS // max(L.shape[1], 1))
    for top in range(0, L.shape[0], step):
        rows = slice(top, top + step)
        out[rows] = _compose_strip(L[rows], ab_normalised[rows], saturation)
    return out


def _compose_strip(L: np.ndarray, ab_normalised: np.ndarray, saturation: float) -> np.ndarray:
    lab = np.empty(L.shape + (3,), np.float32)
    lab[..., 0] = L
    lab[..., 1:] = ab_normalised * (AB_SCALE * float(saturation))
    bad = ~_in_gamut(lab)
    if bad.any():
        sub = lab[bad]                               # N×3
        lo = np.zeros((len(sub), 1), np.float32)     # chroma scale known to fit
        hi = np.ones((len(sub), 1), np.float32)      # chroma scale known not to fit
        trial = sub.copy()
        for _ in range(7):  # the chroma scale to within 1/128
            mid = (lo + hi) / 2
            trial[:, 1:] = sub[:, 1:] * mid
            ok = _in_gamut(trial)[:, None]
            lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
        sub[:, 1:] *= lo
        lab[bad] = sub
    return lab_to_rgb(lab)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def from_uint8(img: np.ndarray) -> np.ndarray:
    return np.asarray(img, np.float32) / 255.0
