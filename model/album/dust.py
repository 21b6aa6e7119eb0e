"""Cleaning dust and scratches off a scanned print, on request only, doing no harm.

``find_damage`` marks small specks and thin scratch lines; ``clean_damage`` fills only
those pixels in from around them (OpenCV's Telea inpainting), a speck's pixels keeping
their difference from the fill up to GRAIN of the spread of the unmarked pixels around
it. Everything else is left bit for bit as it was. All contrasts are on Lab L (0-100).

Specks. Candidates are the peaks of the light and the dark top-hats (what an opening or
a closing with a disk of SPECK_SIZE px takes away), at least FAINT_MIN (or NOISE_K times
the photo's noise; SPECK_MIN where no noise can be measured, as in a JPEG) above their
surroundings and PEAK_LOCAL times the texture around them, and small: the pixels above
half the contrast cover at most SPECK_AREA px and SPECK_SPAN across. Whether a candidate
is dust, a judge weighs (``SpeckJudge``: boosted decision trees trained on train photos
with dust drawn on them, ``scripts/train_speck_judge.py``) from what tells dust from the
photo's own small things (``FEATURES``):
* how sharp it is: dust lies on the print and is in focus, while the photo's own blobs
  (lights, beads, catchlights at a scan's size) fade out over several pixels;
* whether its ring (2-3 px out) lies on the far side of it, or bright (dark) pixels lie
  right next to it (a corner of a step, a speck-sized part of a bright patch);
* whether it stays apart from other structure down to a quarter of its contrast (a bump
  on a rim or a ridge does not);
* how far it goes to white (black), and how it stands out from the texture around it.
Two kinds always stay: a strong speck that goes less than STRONG_EXTREME of the way to
white (black), and a light speck in a small ring darker than the skin or white around
it (a catchlight).

Scratches: ``model.album.scratches`` finds them; their marks are taken as they are,
and a scratch found is no texture around a speck.

The thresholds were chosen on train photos with synthetic damage
(benchmarks/restore_eval.py, docs/album-pages.md) and are reported on eval/.

May import: ``model.color`` and ``model.album.scratches``; numpy and OpenCV.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from model import color
from model.album.scratches import find_scratches

# ----- specks
SPECK_SIZE = 7          # px: the top-hat's disk; specks up to 5 px across stand out
SPECK_MIN = 8.0         # L: the floor a speck's shape is judged from (its low span, marks)
# L: a speck's least contrast. The texture cut (PEAK_LOCAL) lets one fainter than
# SPECK_MIN pass on calm ground only (a plain wall, a backdrop, sky), where it shows; its
# span at a quarter of its contrast is measured down to this floor's half instead
FAINT_MIN = 4.0
NOISE_K = 5.0           # × the photo's noise: the least contrast on a grainy scan
PEAK_LOCAL = 3.0        # × the mean top-hat within 8 px: a cheap first cut of texture
SPECK_AREA = 40         # px above half the contrast: the largest speck
SPECK_SPAN = 9          # px across, likewise
AROUND = 10             # px: the neighbourhood it must stand out from
# a speck this strong (L) and large (px) would do harm if it were the photo's own: it must
# take this share of the way to white (black) from its ring, whatever the judge says
# (dust scans nearly white or black). On 100 ImageNet originals at a scan's size good
# photos lost -0.061 dB with it and -0.126 without, 87.7% found either way
STRONG, STRONG_AREA = 15.0, 4
STRONG_EXTREME = 0.7
MARK = 0.2              # pixels above this share of its contrast are filled in
CATCHLIGHT_DARKER = 8.0  # L: a catchlight's ring is darker than what lies around it

GROW = 1                # px: a speck's marks are grown by this, to take in its soft edge
# px, likewise for a scratch's: its marks follow its centre, and a 2 px line's soft sides
# reach 2 px out (on 140 train photos: recall 0.901 with 1 px, 0.907 with 2, for 0.4 dB
# less gain). Specks stay at 1 px: grown by 2, those wrongly found on clean photos cost
# twice the dB (mean -0.06 dB).
GROW_LINE = 2
# a speck's filled pixels keep their difference from the fill up to this share of the
# spread (10th-90th percentile) of the unmarked pixels within GRAIN_REACH px of it. On
# 40 BSDS500 photos at a scan's size, clean photos moved -0.111 dB with the fill alone
# and -0.063 dB so, the damaged ones gaining +9.13 dB against +9.14 (0.5: -0.038 and
# +8.84 dB; the nearest pixels' range without the fill: -0.031 and +8.67, but flat
# patches). On the 8 historical photos the 60 specks kept a median 93% of the fill's
# change
GRAIN = 0.25
GRAIN_REACH = 3  # px (2 and 5 did the same, at half the spread)

# what the judge weighs of each candidate (``_judged``), in this order: its contrast
# (its top-hat, L); that over the texture around it; how far it stands above its ring's
# median; its largest step over that; what is left above the ring's 90th percentile, as a
# share of it; its span across at a quarter of its contrast; its share of the way to
# white (black); the 90th percentile top-hat, and step, of what lies around it, over its
# own; its area and span above half its contrast; light or dark; fainter than the floor
# SPECK_MIN; the photo's noise (× NOISE_K; 0 where none is measured)
FEATURES = ("contrast", "local", "stand", "sharp", "ring", "low_span", "extreme", "busy",
            "busy_steps", "area", "span", "light", "faint", "noise")
JUDGE_FILE = Path(__file__).with_name("speck_judge.json")
JUDGE_MIN = 0.5         # the judge's probability that a candidate is dust, at least

_DISK = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (SPECK_SIZE, SPECK_SIZE))
_NEAR = np.ones((5, 5), np.uint8)
_RING_IN = np.ones((3, 3), np.uint8)
_RING_OUT = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


@dataclass(frozen=True)
class DamageFound:
    mask: np.ndarray     # H×W bool: the pixels to be filled in
    specks: int
    scratches: int
    lines: np.ndarray    # H×W bool: those of them that are scratches' marks (the fill alone)

    @property
    def share(self) -> float:
        return float(self.mask.mean()) if self.mask.size else 0.0

    def describe(self) -> str:
        return (f"{self.specks} speck{'s' if self.specks != 1 else ''} and "
                f"{self.scratches} scratch{'es' if self.scratches != 1 else ''} cleaned "
                f"({100 * self.share:.2f}% of the pixels)")


def find_damage(rgb: np.ndarray) -> DamageFound:
    """The specks and scratches on a float RGB photo (module notes)."""
    L, hats, lines, scratches = _looked_at(rgb)
    mask, specks = _specks(L, hats, lines)
    lines = _grown(lines, GROW_LINE).astype(bool)
    mask = _grown(mask, GROW).astype(bool) | lines
    return DamageFound(mask, specks, scratches, lines)


def _looked_at(rgb: np.ndarray):
    """(L, its light and dark top-hats, the scratches' marks, how many scratches)."""
    L = np.ascontiguousarray(color.luminance(rgb), np.float32)
    hats = (L - cv2.morphologyEx(L, cv2.MORPH_OPEN, _DISK),
            cv2.morphologyEx(L, cv2.MORPH_CLOSE, _DISK) - L)
    lines, scratches = find_scratches(L, hats)
    return L, hats, lines, scratches


def candidates_on(rgb: np.ndarray) -> list[Candidate]:
    """Every speck candidate on a float RGB photo, before the judge (its training)."""
    L, hats, lines, _ = _looked_at(rgb)
    return speck_candidates(L, hats, lines)


def _grown(marks: np.ndarray, px: int) -> np.ndarray:
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.dilate(marks, disk) if px else marks


def noise_level(L: np.ndarray) -> float:
    """The photo's noise on L: the spread of what a 3×3 median takes away (robust)."""
    rest = L - cv2.medianBlur(L, 3)
    return 1.25 * 1.4826 * float(np.median(np.abs(rest)))


# ----- specks


def _steps(L: np.ndarray) -> np.ndarray:
    """Each pixel's largest step to one of its four neighbours."""
    dx, dy = np.abs(np.diff(L, axis=1)), np.abs(np.diff(L, axis=0))
    out = np.zeros_like(L)
    out[:, :-1] = dx
    out[:, 1:] = np.maximum(out[:, 1:], dx)
    out[:-1] = np.maximum(out[:-1], dy)
    out[1:] = np.maximum(out[1:], dy)
    return out


def _blob(window: np.ndarray, y: int, x: int, level: float) -> np.ndarray:
    """The pixels of ``window`` above ``level`` joined to (y, x)."""
    _, labels = cv2.connectedComponents((window > level).astype(np.uint8), connectivity=8)
    return labels == labels[y, x]


def _span(blob: np.ndarray) -> int:
    ys, xs = np.nonzero(blob)
    return int(max(np.ptp(ys), np.ptp(xs))) + 1


@dataclass
class Candidate:
    """A peak that may be a speck: where it lies, its shape, the marks it would get and
    what the judge weighs (``FEATURES``)."""

    y0: int             # the window's corner
    x0: int
    own: np.ndarray     # the window's pixels above half its contrast
    marks: np.ndarray   # the window's pixels filled in if it is a speck
    light: bool
    features: np.ndarray


def speck_candidates(L: np.ndarray, hats, lines: np.ndarray) -> list[Candidate]:
    """The peaks of the top-hats that may be specks (module notes), strongest first per
    kind: a peak inside the pixels of a stronger one is part of it."""
    H, W = L.shape
    noise = NOISE_K * noise_level(L)
    floor = max(SPECK_MIN, noise)
    # where no noise can be measured (a JPEG's compression smooths a scan's noise away and
    # leaves bumps of a few L on calm ground) a faint peak cannot be told from those
    faint = max(FAINT_MIN, noise) if noise > 0 else floor
    either = np.maximum(hats[0], hats[1])
    texture = cv2.GaussianBlur(either, (0, 0), 8.0)
    steps = _steps(L)
    if lines.any():  # a scratch found is no texture around a speck
        either = np.where(cv2.dilate(lines, _RING_IN) > 0, 0, either)
        steps = np.where(cv2.dilate(lines, _NEAR) > 0, 0, steps)
    out = []
    for light, hat in zip((True, False), hats):
        peaks = ((hat >= cv2.dilate(hat, _NEAR)) & (hat > faint)
                 & (hat > PEAK_LOCAL * texture))
        ys, xs = np.nonzero(peaks)
        seen = np.zeros(L.shape, bool)
        for y, x in sorted(zip(ys, xs), key=lambda p: -hat[p]):
            if seen[y, x]:
                continue
            y0, x0 = max(0, y - AROUND), max(0, x - AROUND)
            y1, x1 = min(H, y + AROUND + 1), min(W, x + AROUND + 1)
            window, py, px = hat[y0:y1, x0:x1], y - y0, x - x0
            contrast = float(hat[y, x])
            own = _blob(window, py, px, 0.5 * contrast)
            if own.sum() > SPECK_AREA or _span(own) > SPECK_SPAN:
                continue
            seen[y0:y1, x0:x1] |= own
            local = contrast / max(float(texture[y, x]), 1e-3)
            judged = _judged(L[y0:y1, x0:x1], window, either[y0:y1, x0:x1],
                             steps[y0:y1, x0:x1], own, py, px, contrast, local,
                             floor if contrast > floor else faint, light,
                             contrast <= floor, noise)
            if judged is not None:
                features, marks = judged
                out.append(Candidate(y0, x0, own, marks, light, features))
    return out


def _specks(L, hats, lines) -> tuple[np.ndarray, int]:
    """Marks for the specks, and how many (module notes)."""
    mask = np.zeros(L.shape, np.uint8)
    candidates = speck_candidates(L, hats, lines)
    if not candidates:
        return mask, 0
    X = np.stack([c.features for c in candidates])
    feature = lambda name: X[:, FEATURES.index(name)]  # noqa: E731
    specks = speck_judge().probability(X) >= JUDGE_MIN
    specks &= ~((feature("contrast") >= STRONG) & (feature("area") >= STRONG_AREA)
              & (feature("extreme") < STRONG_EXTREME))  # a strong mid-tone spot
    count = 0
    for c, is_speck in zip(candidates, specks):
        if not is_speck or (c.light and _catchlight(L, c.own, c.y0, c.x0)):
            continue
        h, w = c.marks.shape
        mask[c.y0:c.y0 + h, c.x0:c.x0 + w] |= c.marks
        count += 1
    return mask, count


def _judged(L, hat, either, steps, own, py, px, contrast, local, floor, light, faint, noise):
    """(``FEATURES``, marks) of the peak at (py, px) of these windows; None where it does
    not stand above its ring at all."""
    u8 = own.astype(np.uint8)
    ring = (cv2.dilate(u8, _RING_OUT) > 0) & ~(cv2.dilate(u8, _RING_IN) > 0)
    sign = 1.0 if light else -1.0
    ring_vals = sign * L[ring]
    top = sign * float(L[py, px])
    stand = top - float(np.median(ring_vals))
    if stand <= 0:
        return None
    own_step = float(steps[cv2.dilate(u8, _RING_IN) > 0].max())
    room = 100.0 - (top - stand) if light else -(top - stand)
    near = cv2.dilate(u8, _NEAR) > 0
    around = ~near
    busy = busy_steps = 0.0
    if around.any():
        busy = float(np.percentile(either[around], 90)) / contrast
        busy_steps = float(np.percentile(steps[around], 90)) / max(own_step, 1e-3)
    features = np.array([
        contrast, local, stand, own_step / stand,
        (top - float(np.percentile(ring_vals, 90))) / stand,
        _span(_blob(hat, py, px, max(0.25 * contrast, floor / 2))),
        stand / max(room, 1.0), busy, busy_steps, own.sum(), _span(own), float(light),
        float(faint), noise], np.float32)
    marks = (_blob(hat, py, px, max(MARK * contrast, floor / 4)) & near).astype(np.uint8)
    return features, marks


class SpeckJudge:
    """Boosted decision trees (``scripts/train_speck_judge.py``) that weigh a candidate's
    ``FEATURES`` into the probability that it is dust: the sum of a leaf's value from
    each tree, through the logistic function."""

    def __init__(self, data: dict):
        if data.get("version") != 1:
            raise ValueError(f"a speck judge of version {data.get('version')}, not 1")
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"the speck judge weighs {data['features']}, not {FEATURES}")
        self.baseline = float(data["baseline"])
        trees = data["trees"]
        # every tree's nodes in one table; a child's index counts from its tree's root
        sizes = [len(t["value"]) for t in trees]
        self.roots = np.cumsum([0] + sizes[:-1])
        offset = np.repeat(self.roots, sizes)
        cat = lambda key: np.concatenate([np.asarray(t[key]) for t in trees])  # noqa: E731
        self.feature = cat("feature").astype(np.intp)
        self.threshold = cat("threshold").astype(np.float64)
        self.left = cat("left").astype(np.intp) + offset
        self.right = cat("right").astype(np.intp) + offset
        self.leaf = cat("leaf").astype(bool)
        self.value = cat("value").astype(np.float64)

    def probability(self, X: np.ndarray) -> np.ndarray:
        """n × len(FEATURES) → n probabilities."""
        X = np.asarray(X, np.float64)
        node = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        rows = np.arange(len(X))[:, None]
        while not self.leaf[node].all():
            go_left = X[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(self.leaf[node], node,
                            np.where(go_left, self.left[node], self.right[node]))
        raw = self.baseline + self.value[node].sum(1)
        return 0.5 * (1.0 + np.tanh(0.5 * raw))  # the logistic function, without overflow


@lru_cache(maxsize=1)
def speck_judge() -> SpeckJudge:
    """The judge whose trees lie beside this module (read once)."""
    return SpeckJudge(json.loads(JUDGE_FILE.read_text(encoding="utf-8")))


def _catchlight(L: np.ndarray, own: np.ndarray, y0: int, x0: int) -> bool:
    """Whether a light speck (``own``, a window at y0, x0) sits in a small ring (a pupil
    or iris) that is darker, all round, than what lies around that ring: a catchlight,
    not dust."""
    ys, xs = np.nonzero(own)
    cy, cx = y0 + ys.mean(), x0 + xs.mean()
    r = max(np.ptp(ys), np.ptp(xs)) / 2 + 1.0
    reach = int(7 * r + 4)
    ya, yb = max(0, int(cy) - reach), min(L.shape[0], int(cy) + reach + 1)
    xa, xb = max(0, int(cx) - reach), min(L.shape[1], int(cx) + reach + 1)
    yy, xx = np.mgrid[ya:yb, xa:xb]
    d = np.hypot(yy - cy, xx - cx)
    patch = L[ya:yb, xa:xb]
    ring = patch[(d > r + 1) & (d <= 2.5 * r + 1.5)]
    around = patch[(d > 4 * r + 2) & (d <= 7 * r + 3)]
    if ring.size < 4 or around.size < 4:
        return False
    return float(np.percentile(around, 25)) - float(np.percentile(ring, 90)) > CATCHLIGHT_DARKER


def clean_damage(rgb: np.ndarray, found: DamageFound) -> np.ndarray:
    """The photo with the marked pixels filled in from around them (OpenCV's Telea
    inpainting); every other pixel as it was. A speck's pixels keep their difference
    from the fill up to ``GRAIN`` of the photo's own grain around it."""
    if not found.mask.any():
        return rgb
    mask = found.mask.astype(np.uint8)
    out = np.array(rgb, dtype=np.float32, copy=True)
    for c in range(out.shape[2]):
        # on a 0-255 scale: OpenCV's Telea inpainting (5.1) fills a float image in [0, 1]
        # with values out to -0.7 and 1.8, while the same in 0-255 is right
        channel = np.ascontiguousarray(out[..., c] * 255.0)
        out[..., c] = cv2.inpaint(channel, mask, 3, cv2.INPAINT_TELEA) / 255.0
    _keep_grain(out, rgb, found)
    out[~found.mask] = rgb[~found.mask]
    return np.clip(out, 0.0, 1.0)


def _keep_grain(filled: np.ndarray, rgb: np.ndarray, found: DamageFound) -> None:
    """Give each speck's filled pixels back their difference from the fill, up to
    ``GRAIN`` of the spread (10th to 90th percentile) of the unmarked pixels within
    ``GRAIN_REACH`` px of it, in place. Dust lies far outside what surrounds it and
    goes all but whole; a faint grain of the photo's own texture taken for dust keeps
    most of its value, where the fill alone smoothed it away."""
    specks = found.mask & ~found.lines
    n, labels, stats, _ = cv2.connectedComponentsWithStats(specks.astype(np.uint8),
                                                           connectivity=8)
    reach = np.ones((2 * GRAIN_REACH + 1, 2 * GRAIN_REACH + 1), np.uint8)
    H, W = specks.shape
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        x0, y0 = max(0, x - GRAIN_REACH), max(0, y - GRAIN_REACH)
        x1, y1 = min(W, x + w + GRAIN_REACH), min(H, y + h + GRAIN_REACH)
        own = labels[y0:y1, x0:x1] == i
        ring = (cv2.dilate(own.astype(np.uint8), reach) > 0) & ~found.mask[y0:y1, x0:x1]
        if ring.sum() < 4:
            continue  # nothing unmarked near enough to say what the grain is
        window, fill = rgb[y0:y1, x0:x1], filled[y0:y1, x0:x1]  # a view: written in place
        lo, hi = np.percentile(window[ring], [10, 90], axis=0)
        grain = GRAIN * (hi - lo)
        fill[own] += np.clip(window[own] - fill[own], -grain, grain)
