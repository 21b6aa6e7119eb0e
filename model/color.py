"""CIE Lab colour maths with the paper's normalisation.

Images are float32 RGB in [0, 1] (any bit depth is converted to that first). L lies in
[0, 100]; a and b in about [-128, 127]. The network sees L scaled to [-1, 1] and predicts
a/b divided by 128 (``AB_SCALE``), squashed by tanh.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

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
    """The L channel (0..100) of a float RGB image, in an array of its own (a view into
    the Lab image would keep all three channels alive: 96 MB more on a 12 MP photo)."""
    return rgb_to_lab(rgb)[..., 0].copy()


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


COMPOSE_ROWS_PIXELS = 1 << 20  # the pixels of the strips composed at once: bounded memory


def compose(L: np.ndarray, ab_normalised: np.ndarray, saturation: float = 1.0) -> np.ndarray:
    """Full-resolution L plus normalised a/b (same H×W) → float RGB in [0, 1].

    Colours outside the RGB gamut are not clipped channel by channel (which would change
    the photo's lightness) but pulled toward gray at constant L and hue until they fit,
    using a table of the gamut's largest chroma per lightness and hue. Large photos are
    done in horizontal strips so the temporaries stay small, one strip per thread at once
    (OpenCV and NumPy let go of the GIL: 12 MP in 0.7-0.8 s, not 1.6-1.8 s, on 2 cores).
    """
    out = np.empty(L.shape + (3,), np.float32)
    step = max(1, COMPOSE_ROWS_PIXELS // _STRIP_THREADS // max(L.shape[1], 1))

    def strip(top: int) -> None:
        rows = slice(top, top + step)
        out[rows] = _compose_strip(L[rows], ab_normalised[rows], saturation)

    tops = range(0, L.shape[0], step)
    if len(tops) == 1:
        strip(0)
    else:
        list(_strip_pool().map(strip, tops))
    return out


def region_of(small: np.ndarray, full_size: tuple[int, int], box: tuple[int, int, int, int],
              size: tuple[int, int] | None = None) -> np.ndarray:
    """The part ``box`` (x0, y0, x1, y1, in pixels of the full-size (w, h) image) of an
    image known by its smaller copy ``small`` (H×W or H×W×C float32), made ``size`` (w, h;
    default the box's), sampled bilinearly (to 1/32 of a pixel) as a resize to the full
    size would, without making all of it."""
    x0, y0, x1, y1 = box
    size = size or (x1 - x0, y1 - y0)
    # small pixels per output pixel; centres aligned as cv2.resize aligns them
    fx = small.shape[1] / full_size[0] * (x1 - x0) / size[0]
    fy = small.shape[0] / full_size[1] * (y1 - y0) / size[1]
    sx, sy = small.shape[1] / full_size[0], small.shape[0] / full_size[1]
    to_small = np.float32([[fx, 0, x0 * sx + 0.5 * fx - 0.5], [0, fy, y0 * sy + 0.5 * fy - 0.5]])
    return cv2.warpAffine(np.ascontiguousarray(small, np.float32), to_small, size,
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


_STRIP_THREADS = min(4, os.cpu_count() or 1)
_REMAP_WIDTH = 32_000


@functools.cache
def _strip_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(_STRIP_THREADS, thread_name_prefix="compose")


def _compose_strip(L: np.ndarray, ab_normalised: np.ndarray, saturation: float) -> np.ndarray:
    ab = ab_normalised * np.float32(AB_SCALE * float(saturation))
    a, b = np.ascontiguousarray(ab[..., 0]), np.ascontiguousarray(ab[..., 1])
    chroma, hue = cv2.cartToPolar(a, b, angleInDegrees=True)
    columns = hue * np.float32(_HUE_STEPS / 360.0)
    rows = np.asarray(L, np.float32) * np.float32((_L_STEPS - 1) / 100.0)
    # OpenCV's remap takes maps under 32,767 px wide: a wider panorama in pieces
    limit = np.concatenate([
        cv2.remap(_max_chroma_table(), columns[:, x:x + _REMAP_WIDTH], rows[:, x:x + _REMAP_WIDTH],
                  cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        for x in range(0, max(L.shape[1], 1), _REMAP_WIDTH)], axis=1)
    scale = np.minimum(limit / np.maximum(chroma, np.float32(1e-6)), np.float32(1.0))
    L = np.asarray(L, np.float32)
    over = scale < 1
    if over.any():  # beyond the table's limit: most are out of gamut, but near the yellow
        # cusp the gamut is not convex and a colour beyond its first edge can still fit
        lab = np.stack([L[over], a[over], b[over]], axis=-1)
        sub = scale[over]
        sub[_in_gamut(lab)] = 1.0
        scale[over] = _inside(lab, sub)
    return lab_to_rgb(cv2.merge([L, a * scale, b * scale]))


def _inside(lab: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Chroma scales (N) for colours (N×3) that are inside the gamut: ``scale`` where it
    is, else one found by bisection below it (to 1/128), for the rare colour where the
    table's interpolation between entries lands just outside."""
    out = ~_in_gamut(_with_chroma_scaled(lab, scale)) & (scale < 1)
    if out.any():
        scale = scale.copy()
        scale[out] = _fitting_scale(lab[out], np.zeros(int(out.sum()), np.float32), scale[out], 7)
    return scale


def _with_chroma_scaled(lab: np.ndarray, scale: np.ndarray) -> np.ndarray:
    trial = lab.copy()
    trial[..., 1:] *= scale[..., None]
    return trial


def _fitting_scale(lab: np.ndarray, lo: np.ndarray, hi: np.ndarray, steps: int) -> np.ndarray:
    """Bisect, per colour, between a chroma scale ``lo`` that fits the gamut and ``hi``
    that does not; returns the last scale known to fit."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        ok = _in_gamut(_with_chroma_scaled(lab, mid))
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return lo


_L_STEPS, _HUE_STEPS = 401, 720  # lightness 0..100 by 0.25, hue by 0.5 degrees
_TABLE: np.ndarray | None = None
_TABLE_LOCK = threading.Lock()


def prepare(load: Callable[[], np.ndarray] | None = None) -> None:
    """Install the gamut table ``compose`` needs now rather than at its first call: the
    one ``load`` returns (``model.io.places.gamut_table`` keeps it in the user cache folder;
    colour maths does no file I/O itself), or one built here (0.4-0.8 s)."""
    global _TABLE
    with _TABLE_LOCK:
        if _TABLE is None:
            _TABLE = (load or build_max_chroma_table)()


def _max_chroma_table() -> np.ndarray:
    """The chroma where a ray from gray first leaves the sRGB gamut, for each (lightness,
    hue), shrunk by 0.2% so that bilinear look-ups between entries stay inside; the last
    hue column repeats the first (360° = 0°)."""
    prepare()
    return _TABLE


# bump when build_max_chroma_table changes: old cached tables then go unused
TABLE_VERSION = 1
TABLE_SHAPE = (_L_STEPS, _HUE_STEPS + 1)


def build_max_chroma_table() -> np.ndarray:
    shape = TABLE_SHAPE
    hue = np.deg2rad(np.arange(_HUE_STEPS + 1, dtype=np.float32) * (360.0 / _HUE_STEPS))
    ray = np.empty(shape + (3,), np.float32)  # chroma 200 (beyond any sRGB colour) per hue
    ray[..., 0] = np.linspace(0, 100, _L_STEPS, dtype=np.float32)[:, None]
    ray[..., 1], ray[..., 2] = 200 * np.cos(hue), 200 * np.sin(hue)
    edge = _fitting_scale(ray, np.zeros(shape, np.float32), np.ones(shape, np.float32), 16)
    # where the gamut is not convex (near the yellow cusp) bisection can land beyond a
    # first exit: walk each ray up to the edge found and stop before any gap
    first_out = np.ones(shape, np.float32)
    for k in range(16, 0, -1):
        fits = _in_gamut(_with_chroma_scaled(ray, edge * np.float32(k / 16)))
        first_out = np.where(fits, first_out, np.float32(k / 16))
    return 200 * edge * (first_out - np.float32(1 / 16) * (first_out < 1)) * np.float32(0.998)


def colourfulness(rgb8: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M of an 8-bit RGB image."""
    r, g, b = (rgb8[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


# how far a photo's a/b lie from one line through gray (RMS, Lab units, at 256 px): a
# toned or sepia print has one hue at every chroma, a colour photo several. Toned scans of
# historical_bw reach 2.0; at 3.0 a photo has colours of its own (so said of 67-97% of
# train/'s colour photos, by folder: a landscape of one hue is not)
OWN_COLOURS = 3.0


def has_own_colours(rgb: np.ndarray) -> bool:
    """Whether a float RGB photo is in colour (not black and white, nor toned)."""
    step = max(1, max(rgb.shape[:2]) // 256)
    ab = rgb_to_lab(np.ascontiguousarray(rgb[::step, ::step], np.float32))[..., 1:]
    ab = ab.reshape(-1, 2).astype(np.float64)
    off_line = np.linalg.eigvalsh(ab.T @ ab / len(ab))[0]  # across the best line
    return float(np.sqrt(max(off_line, 0.0))) >= OWN_COLOURS


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def from_uint8(img: np.ndarray) -> np.ndarray:
    return np.asarray(img, np.float32) / 255.0


# the colour classes of the spatial model's side head: 10-unit a/b bins over [-110, 110]
AB_BINS, AB_BIN, AB_RANGE = 22, 10.0, 110.0
ANNEAL_T = 0.38  # Zhang et al. 2016's annealed-mean temperature


def bin_centres() -> np.ndarray:
    """AB_BINS²×2 normalised a/b at the centre of each bin (row-major, a then b)."""
    c = (np.arange(AB_BINS, dtype=np.float32) + 0.5) * AB_BIN - AB_RANGE
    a, b = np.meshgrid(c, c, indexing="ij")
    return (np.stack([a.ravel(), b.ravel()], 1) / AB_SCALE).astype(np.float32)


def class_probabilities(logits: np.ndarray, t: float = 1.0) -> np.ndarray:
    """N×Q×h×w bin logits → their softmax over Q at temperature ``t`` (float32)."""
    z = logits.astype(np.float32) / t
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def annealed_mean(logits: np.ndarray, t: float = ANNEAL_T) -> np.ndarray:
    """N×Q×h×w bin logits → N×2×h×w normalised a/b: their annealed mean (Zhang et al.
    2016), the bold end of the spatial model's ``vivid`` blend."""
    p = class_probabilities(logits, t)
    return np.einsum("nqhw,qc->nchw", p, bin_centres(), optimize=True).astype(np.float32)


def resize_maps(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """N×C×h×w maps resized bilinearly to height×width (half-pixel centres, as PyTorch's
    ``interpolate(..., align_corners=False)``)."""
    n, c, h, w = maps.shape
    if (h, w) == (height, width):
        return maps
    flat = maps.reshape(n * c, h, w).transpose(1, 2, 0)
    out = np.empty((height, width, n * c), np.float32)
    for i in range(0, n * c, 512):  # OpenCV takes at most 512 channels at once
        part = cv2.resize(np.ascontiguousarray(flat[..., i:i + 512]), (width, height),
                          interpolation=cv2.INTER_LINEAR)
        out[..., i:i + 512] = part.reshape(height, width, -1)
    return out.transpose(2, 0, 1).reshape(n, c, height, width)


def vivid_blend(ab: np.ndarray, logits: np.ndarray | None, vivid: float) -> np.ndarray:
    """N×2×h×w regression a/b blended ``vivid`` (0..1) of the way toward the class head's
    annealed mean (N×Q×h'×w' logits, resized to h×w)."""
    if vivid <= 0:
        return ab
    if logits is None:
        raise ValueError("this model has no class head: vivid must be 0")
    am = resize_maps(annealed_mean(logits), *ab.shape[-2:])
    return ((1.0 - vivid) * ab + vivid * am).astype(np.float32)
