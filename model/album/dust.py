"""Cleaning dust and scratches off a scanned print, on request only, doing no harm.

``find_damage`` marks small specks and thin straight scratch lines; ``clean_damage``
fills only those pixels in from around them (OpenCV's Telea inpainting). Everything
else is left bit for bit as it was.

* Candidates: the light and the dark top-hats of the lightness (what an opening or a
  closing with a disk of SPECK_SIZE px removes), where they stand out from the top-hat
  around them (``LOCAL_FACTOR`` × its mean over a wide window, and at least
  ``MIN_CONTRAST``).
* Specks: candidate blobs of at most ``SPECK_AREA`` pixels.
* Scratches: thin runs that survive an opening along a short line at some angle (a
  scratch is straight over ``LINE_PIECE`` px, a speck is not that long), at least
  ``SCRATCH_LENGTH`` of the photo's short side long, alone in their neighbourhood.
* Do no harm: a light speck inside a small darker ring (a catchlight in an eye) is
  kept; so is any candidate with others around it (more than ``CROWD`` of a window of
  ``CROWD_WINDOW`` px: the strokes of writing, hair, grass), and any in busy texture
  (its spread above ``BUSY``).

The thresholds were chosen on train photos with synthetic damage
(benchmarks/restore_eval.py) and are reported on eval/.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model import color

SPECK_SIZE = 7          # px: the top-hat's disk; specks up to 5 px across stand out
MIN_CONTRAST = 10.0     # L: a candidate's least step from its surroundings
LOCAL_FACTOR = 4.0      # × the mean top-hat around it
SPECK_AREA = 40         # px: the largest speck
# a candidate this long (px) filling less than this share of its box is a stroke
STROKE_LENGTH, STROKE_FILL = 8, 0.45
SCRATCH_LENGTH = 0.08   # × the photo's short side: the shortest scratch...
SCRATCH_MIN = 60        # px: ... and never shorter (a blade of grass, a written word)
SCRATCH_WIDTH = 3.2     # px: a scratch's widest mean width (its area / its length)
LINE_PIECE = 21         # px: a scratch is straight over this length
LINE_CONTRAST = 10.0    # L: a scratch pixel's least step from its surroundings
LINE_CROWD = 0.12       # share of a 41 px window in such lines: more is texture
EDGE_OFFSET, EDGE_SIDES = 4.0, 0.5  # px, share: a line whose sides differ is an edge
EDGE_MARGIN = 0.03      # × the short side: a line running along the photo's edge there
CROWD_WINDOW, CROWD = 31, 0.04   # px, share: strokes around one beyond its own area
BUSY = 8.0              # L: local spread above which nothing is a speck (foliage, fur)
CATCHLIGHT_DARKER = 8.0  # L: a catchlight's ring is darker than its surroundings by this
GROW = 1                # px: the marks are grown by this, to take in a speck's soft edge


@dataclass(frozen=True)
class DamageFound:
    mask: np.ndarray     # H×W bool: the pixels to be filled in
    specks: int
    scratches: int

    @property
    def share(self) -> float:
        return float(self.mask.mean()) if self.mask.size else 0.0

    def describe(self) -> str:
        return (f"{self.specks} speck{'s' if self.specks != 1 else ''} and "
                f"{self.scratches} scratch{'es' if self.scratches != 1 else ''} cleaned "
                f"({100 * self.share:.2f}% of the pixels)")


def _local_spread(image: np.ndarray, sigma: float) -> np.ndarray:
    mean = cv2.GaussianBlur(image, (0, 0), sigma)
    sq = cv2.GaussianBlur(image * image, (0, 0), sigma)
    return np.sqrt(np.maximum(sq - mean * mean, 0.0))


def find_damage(rgb: np.ndarray) -> DamageFound:
    """The specks and scratches on a float RGB photo (module notes)."""
    L = color.luminance(rgb)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (SPECK_SIZE, SPECK_SIZE))
    opened = cv2.morphologyEx(L, cv2.MORPH_OPEN, disk)
    closed = cv2.morphologyEx(L, cv2.MORPH_CLOSE, disk)
    light, dark = L - opened, closed - L
    # the texture around: the top-hats' mean over a wide window (a speck adds little to
    # it), and the spread of the photo with its light or dark specks taken out
    need_light = np.maximum(MIN_CONTRAST, LOCAL_FACTOR * cv2.GaussianBlur(light, (0, 0), 8.0))
    need_dark = np.maximum(MIN_CONTRAST, LOCAL_FACTOR * cv2.GaussianBlur(dark, (0, 0), 8.0))
    light_c = (light > need_light) & (_local_spread(opened, 3.0) < BUSY)
    dark_c = (dark > need_dark) & (_local_spread(closed, 3.0) < BUSY)
    candidates = (light_c | dark_c).astype(np.uint8)

    n, labels, stats, centres = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    # how much of the window around each candidate stands out as much (the least
    # contrast, whatever the texture): writing, hair and grass are crowds of such
    # strokes, dust is sprinkled
    notable = (np.maximum(light, dark) > MIN_CONTRAST).astype(np.float32)
    density = cv2.boxFilter(notable, -1, (CROWD_WINDOW, CROWD_WINDOW), normalize=False)
    mask = np.zeros(L.shape, np.uint8)
    specks = 0
    for i in range(1, n):
        area = int(stats[i, cv2.CC_STAT_AREA])
        cx, cy = int(centres[i][0]), int(centres[i][1])
        if area > SPECK_AREA or density[cy, cx] - area > CROWD * CROWD_WINDOW ** 2:
            continue
        x, y, w, h = (int(stats[i, k]) for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                                  cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
        if light_c[int(centres[i][1]), int(centres[i][0])] and _catchlight(L, x, y, w, h):
            continue
        own = (labels[y:y + h, x:x + w] == i).astype(np.uint8)
        if max(w, h) >= STROKE_LENGTH and area < STROKE_FILL * w * h:
            continue  # a stroke, not a speck: a blade of grass, a hair, a letter's part
        mask[y:y + h, x:x + w] |= own
        specks += 1
    # scratches: long thin runs, which say more than their contrast, so their pixels need
    # only stand out by LINE_CONTRAST
    scratch_marks, scratch_count = _scratches(light, dark, opened, closed)
    mask |= scratch_marks
    if GROW:
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                          (2 * GROW + 1, 2 * GROW + 1)))
    return DamageFound(mask.astype(bool), specks, scratch_count)


def _catchlight(L: np.ndarray, x: int, y: int, w: int, h: int) -> bool:
    """Whether a light speck sits in a small dark ring (a pupil or iris) that is darker
    than what lies around that ring: a catchlight, not dust."""
    cx, cy = x + w / 2, y + h / 2
    r = max(w, h) / 2 + 0.5
    H, W = L.shape
    y0, y1 = int(max(0, cy - 7 * r)), int(min(H, cy + 7 * r + 1))
    x0, x1 = int(max(0, cx - 7 * r)), int(min(W, cx + 7 * r + 1))
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d = np.hypot(xx - cx, yy - cy)
    patch = L[y0:y1, x0:x1]
    ring = patch[(d > r + 1) & (d <= 2.5 * r + 1.5)]
    around = patch[(d > 4 * r + 2) & (d <= 7 * r + 3)]
    if ring.size < 4 or around.size < 4:
        return False
    return float(np.median(around)) - float(np.median(ring)) > CATCHLIGHT_DARKER


def _line_kernel(length: int, degrees: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.uint8)
    c = (length - 1) / 2
    t = np.radians(degrees)
    dx, dy = np.cos(t) * c, np.sin(t) * c
    cv2.line(kernel, (int(round(c - dx)), int(round(c - dy))),
             (int(round(c + dx)), int(round(c + dy))), 1, 1)
    return kernel


def _scratches(light, dark, opened, closed) -> tuple[np.ndarray, int]:
    """Marks for the scratches, and how many: what survives an opening along a line of
    LINE_PIECE px at some angle (a scratch is straight over that length, a speck is
    not that long), in runs at least SCRATCH_LENGTH of the short side long and at most
    SCRATCH_WIDTH wide on average, alone in their neighbourhood (hair and grass come
    in crowds: LINE_CROWD)."""
    shape = light.shape
    length = max(SCRATCH_MIN, SCRATCH_LENGTH * min(shape))
    marks = np.zeros(shape, np.uint8)
    count = 0
    for hat, base in ((light, opened), (dark, closed)):
        hat = np.where(_local_spread(base, 3.0) < BUSY, hat, 0).astype(np.float32)
        response = np.zeros_like(hat)
        for degrees in range(0, 180, 12):
            kernel = _line_kernel(LINE_PIECE, degrees)
            response = np.maximum(response, cv2.morphologyEx(hat, cv2.MORPH_OPEN, kernel))
        lines = (response > LINE_CONTRAST).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        crowd = cv2.blur(lines.astype(np.float32), (41, 41))
        for i in range(1, n):
            x, y, w, h = (int(stats[i, k]) for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                                      cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
            extent = float(np.hypot(w, h))
            area = int(stats[i, cv2.CC_STAT_AREA])
            if extent < length or area > SCRATCH_WIDTH * extent:
                continue
            edge = EDGE_MARGIN * min(shape)
            if (h < 3 * edge and (y < edge or y + h > shape[0] - edge)) or \
                    (w < 3 * edge and (x < edge or x + w > shape[1] - edge)):
                continue  # along the photo's own edge: its border, not a scratch
            own = labels[y:y + h, x:x + w] == i
            if float(np.median(crowd[y:y + h, x:x + w][own])) > LINE_CROWD:
                continue  # among many such lines: hair, grass, a fabric's weave
            if _is_edge(base, own, x, y, float(np.median(hat[y:y + h, x:x + w][own]))):
                continue  # the lit rim of an object: a tripod's leg, a tower's side
            marks[y:y + h, x:x + w] |= own.astype(np.uint8)
            count += 1
    if count:  # the scratch's faint edges, next to what was found
        near = cv2.dilate(marks, np.ones((5, 5), np.uint8))
        marks |= near & (np.maximum(light, dark) > LINE_CONTRAST / 2).astype(np.uint8)
    return marks, count


def _is_edge(base: np.ndarray, own: np.ndarray, x: int, y: int, contrast: float) -> bool:
    """Whether a thin line is the rim along an object's edge rather than a scratch
    across the picture: the photo (without the line) differs on its two sides by more
    than EDGE_SIDES of the line's own contrast."""
    ys, xs = np.nonzero(own)
    pts = np.stack([xs + x, ys + y], axis=1).astype(np.float32)
    if len(pts) < 6:
        return False
    centre = pts.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov((pts - centre).T))
    normal = vectors[:, 0]  # across the line
    h, w = base.shape
    sides = []
    for sign in (-1, 1):
        q = np.round(pts + sign * EDGE_OFFSET * normal).astype(int)
        q[:, 0] = np.clip(q[:, 0], 0, w - 1)
        q[:, 1] = np.clip(q[:, 1], 0, h - 1)
        sides.append(float(np.median(base[q[:, 1], q[:, 0]])))
    return abs(sides[0] - sides[1]) > EDGE_SIDES * max(contrast, 5.0)


def clean_damage(rgb: np.ndarray, found: DamageFound) -> np.ndarray:
    """The photo with the marked pixels filled in from around them; every other pixel
    as it was."""
    if not found.mask.any():
        return rgb
    mask = found.mask.astype(np.uint8)
    out = np.array(rgb, dtype=np.float32, copy=True)
    for c in range(out.shape[2]):
        # on a 0-255 scale: OpenCV's Telea inpainting (5.1) fills a float image in [0, 1]
        # with values out to -0.7 and 1.8, while the same in 0-255 is right
        channel = np.ascontiguousarray(out[..., c] * 255.0)
        out[..., c] = cv2.inpaint(channel, mask, 3, cv2.INPAINT_TELEA) / 255.0
    out[~found.mask] = rgb[~found.mask]
    return np.clip(out, 0.0, 1.0)
