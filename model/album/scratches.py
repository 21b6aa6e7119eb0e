"""Finding thin scratch lines on a scanned print, for ``model.album.dust``, which
fills them in. All contrasts are on Lab L (0-100).

A line filter along ANGLES directions: the mean of L along LINE_PIECE px, minus its
means on both sides SIDE px away, less SIDES_PENALTY times how much the two sides differ
(so the rim along an edge does not pass). Pieces where it exceeds LINE_CONTRAST, in one
direction (± a bin), are scratches when they are
* long (SCRATCH_MIN px), thin, straight or gently bent (BEND_RMS px off a parabola, a
  radius over MIN_RADIUS of the photo's long side), not crowded by other such lines
  (hair, grass, a weave: LINE_CROWD), and not along the photo's own edge (a frame);
* thin and sharp across: the steps from the line to its neighbours are at least
  LINE_SHARP of its contrast, and its two sides 2 px out differ by at most LINE_SIDES of
  it, and not only just both (MARGINAL). A lit rim or the photo's own thin lines, at a
  scan's size, are soft or one-sided;
* crossing the photo's edges, not following one: no edge of the photo's own runs beside
  it along most of its length (RIM_*: a handle's highlight, a screen's border);
* not a seam: a line a little one-sided, not quite sharp and short of white or black
  is the photo's own (SEAM: a panel's seam, a shadow line).
A scratch found is followed along its fitted curve beyond the piece (TRACE_*), through
stretches where it crosses a tone like its own, so that all of it is filled in.

The thresholds were chosen on train photos with synthetic damage
(benchmarks/restore_eval.py, docs/album-pages.md) and are reported on eval/.

May import: numpy and OpenCV only (it works on an L array; ``model.album.dust`` turns a
photo into one).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

ANGLES = 16             # directions of the line filter (11.25° apart)
LINE_PIECE = 25         # px: the filter's length
SIDE = 2.5              # px: where it looks at both sides of a line
SIDES_PENALTY = 1.5     # × how much the two sides differ
LINE_CONTRAST = 5.0     # L: the filter's least response on a scratch
SCRATCH_MIN = 60        # px: the shortest scratch piece (grass blades chain to 57 px)
SCRATCH_WIDTH = 6.0     # px: a piece's widest mean width
BEND_RMS = 1.5          # px: a piece's spread about its fitted parabola
MIN_RADIUS = 0.3        # × the long side: the tightest bend
LINE_CROWD = 0.2        # share of a 41 px window in such lines: more is texture
# share of the band 3 to RIDGE_REACH px either side of a line whose top-hat (either way)
# reaches RIDGE_LEVEL of the line's: more is hair, whiskers, a fence, where strands side
# by side hide each other from the line filter
RIDGE_CROWD, RIDGE_LEVEL, RIDGE_REACH = 0.12, 0.5, 16
FRAME_ANGLE, FRAME_MARGIN = 1.5, 0.12  # °, × short side: a frame line along the edge
# × the long side: a line with another long one beside it this near, in its direction and
# overlapping it, is one of a family (a shutter's seams, a car's trims), not a scratch
PARALLEL_REACH = 0.15
LINE_SHARP = 0.5        # the steps from the line to its neighbours / its contrast
LINE_SIDES = 0.3        # how much its sides differ / its contrast
LINE_EXTREME = 0.6      # its contrast / the room to white (black) from its sides
# a piece that only just passes both tests above, its sides differing by more than
# ``sides`` of its contrast while its steps stay under ``sharp`` of it for one of these
# (sides, sharp), is a lit rim (an eave, a beam's edge), a grass blade or a fence's rail.
# On 100 scene photos at a scan's size (BSDS500's originals, whose copies in train/ are
# too small) all 5 pieces found on undamaged photos were past the first (sides
# 0.27-0.30, steps 0.50-0.56), as were 0.5% of 1,111 pieces of drawn scratches; on 200
# more, the one piece found (a rail, sides 0.18, steps 0.52-0.53) was past the second,
# as were none of 1,200 pieces of drawn scratches
MARGINAL = ((0.2, 0.6), (0.15, 0.55))
# a line with an edge of the photo's own beside it (3 to 9 px out, on one side, a step of
# at least RIM_STEP of its contrast) along RIM_SHARE of its length is a rim: a handle's
# highlight, a screen's border, a seam in a wall. A scratch crosses the photo's edges
# rather than following them. On 150 ImageNet originals of the training folders at a
# scan's size (the photos of train/imagenet_extra before they were made small), the 5
# pieces found on 3 undamaged photos had such an edge along 87-100% of their length, the
# 1,685 pieces of drawn scratches along 13% (median; 3 of them 80% or more): undamaged
# photos -0.31 -> -0.18 dB, damaged pixels found 82.6% as before
RIM_STEP, RIM_SHARE = 0.3, 0.8
# a line whose sides differ by over SEAM[0] of its contrast, whose steps stay under
# SEAM[1] of it and which takes less than SEAM[2] of the way to white (black) is a seam or
# a shadow line of the photo's own: dust and a scratched-off emulsion go nearly all the
# way. On 772 more ImageNet originals of the training folders, 7 undamaged photos had a
# line taken; the 19 pieces found on 5 of them (seams on filing cabinets and a car's hood,
# a car's pillar, a needle) had sides 0.18-0.28, steps 0.56-0.64 and went 0.61-0.89 of
# the way; 18 were all three, as was 1 of 683 pieces of drawn scratches on 60 of them.
# 5 of the 7 photos then had no line taken
SEAM = (0.15, 0.66, 0.8)
HAT_MIN = 2.5           # L: a scratch piece's pixels that are filled in
TRACE_LOW = 1.0         # L: the filter's response that carries a scratch on
TRACE_WIDTH = 1         # px either side of the fitted curve
TRACE_STEP, TRACE_GAP, TRACE_FILL = 60, 60, 0.5  # px looked ahead, px bridged, share hit
TRACE_ROUNDS = 12

_NEAR = np.ones((5, 5), np.uint8)
_BESIDE = np.ones((2 * RIDGE_REACH + 1,) * 2, np.uint8)


def _line_kernel(theta: float) -> np.ndarray:
    """A LINE_PIECE px mean along ``theta``, drawn at 4× and reduced (anti-aliased)."""
    n = 4 * LINE_PIECE
    kernel = np.zeros((n, n), np.float32)
    c, r = (n - 1) / 2, (n - 1) / 2 - 2
    dx, dy = math.cos(theta) * r, math.sin(theta) * r
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 4,
             cv2.LINE_AA)
    kernel = cv2.resize(kernel, (LINE_PIECE, LINE_PIECE), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum()


def _shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    move = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, move, image.shape[::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def line_response(L: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For light and for dark lines: the best response over the directions (module
    notes) and the direction's index."""
    best = [np.full(L.shape, -np.inf, np.float32) for _ in range(2)]
    angle = [np.zeros(L.shape, np.uint8) for _ in range(2)]
    for k in range(ANGLES):
        theta = math.pi * k / ANGLES
        mean = cv2.filter2D(L, -1, _line_kernel(theta), borderType=cv2.BORDER_REFLECT)
        dx, dy = -math.sin(theta) * SIDE, math.cos(theta) * SIDE
        a, b = _shifted(mean, dx, dy), _shifted(mean, -dx, -dy)
        uneven = SIDES_PENALTY * np.abs(a - b)
        for i, response in enumerate((np.minimum(mean - a, mean - b) - uneven,
                                      np.minimum(a - mean, b - mean) - uneven)):
            better = response > best[i]
            best[i][better] = response[better]
            angle[i][better] = k
    return best, angle


def _near_angle(angle: np.ndarray, k: int, spread: int) -> np.ndarray:
    d = (angle.astype(np.int16) - k) % ANGLES
    return (d <= spread) | (d >= ANGLES - spread)


def _fit(points: np.ndarray):
    """A parabola through points (N×2, x y) across their main axis: the centre, the
    axis and its normal, the coefficients, and the points' positions along it."""
    centre = points.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov((points - centre).T))
    along_axis, normal = vectors[:, 1], vectors[:, 0]
    along, across = (points - centre) @ along_axis, (points - centre) @ normal
    coef = np.polyfit(along, across, 2 if len(points) > 20 else 1)
    return centre, along_axis, normal, coef, along, across


def find_scratches(L: np.ndarray, hats) -> tuple[np.ndarray, int]:
    """Marks for the scratches on L, and how many (module notes); ``hats`` are L's light
    and dark top-hats, whose pixels along a scratch piece are the ones marked."""
    shape = L.shape
    best, angle = line_response(L)
    marks = np.zeros(shape, np.uint8)
    count = 0
    for i in (0, 1):
        strong = best[i] > LINE_CONTRAST
        for k in range(ANGLES):
            piece = (strong & _near_angle(angle[i], k, 1)).astype(np.uint8)
            # parallel lines around: hair, grass, a weave (gravel's run every way)
            crowd = cv2.blur(piece.astype(np.float32), (41, 41))
            n, labels, stats, _ = cv2.connectedComponentsWithStats(piece, connectivity=8)
            long = [j for j in np.nonzero(np.hypot(stats[:, 2], stats[:, 3]) >= SCRATCH_MIN)[0]
                    if j]
            lines: dict = {}  # every long piece's segment, once a piece passes for a scratch
            for j in long:
                x, y, w, h = (int(v) for v in stats[j, :4])
                own = labels[y:y + h, x:x + w] == j
                if not _is_scratch(L, own, x, y, k, i == 0, crowd[y:y + h, x:x + w]):
                    continue
                lines = lines or {m: _segment(labels, stats, m) for m in long}
                if _in_a_family(lines, j, PARALLEL_REACH * max(shape)):
                    continue
                if _ridges_beside(hats, own, x, y) > RIDGE_CROWD:
                    continue
                # the same scratch is found again in the next direction: count it once
                count += int(cv2.dilate(marks[y:y + h, x:x + w], _NEAR)[own].mean() < 0.5)
                marks[y:y + h, x:x + w] |= (own & (hats[i][y:y + h, x:x + w] > HAT_MIN))
                _trace(marks, best[i], angle[i], k, own, x, y)
    return marks, count


def _segment(labels, stats, j) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A line piece (component ``j``) as its centre, its axis and its extent along it."""
    x, y, w, h = (int(v) for v in stats[j, :4])
    ys, xs = np.nonzero(labels[y:y + h, x:x + w] == j)
    centre, axis, _, _, along, _ = _fit(np.stack([xs + x, ys + y], axis=1).astype(np.float64))
    return centre, axis, float(along.min()), float(along.max())


def _in_a_family(lines: dict, j: int, reach: float) -> bool:
    """Whether another long piece in the same direction lies within ``reach`` px beside
    piece ``j`` and overlaps it along its length by half the shorter one."""
    centre, axis, a0, a1 = lines[j]
    normal = np.array([-axis[1], axis[0]])
    for i, (c, ax, b0, b1) in lines.items():
        if i == j:
            continue
        offset = c - centre
        if abs(offset @ normal) > reach:
            continue
        ends = offset @ axis + np.array([b0, b1]) * (ax @ axis)  # its ends along j
        lo, hi = float(ends.min()), float(ends.max())
        if min(a1, hi) - max(a0, lo) >= 0.5 * min(a1 - a0, hi - lo):
            return True
    return False


def _is_scratch(L, own, x, y, k, light, crowd) -> bool:
    """Whether a piece of line (``own`` at x, y, in direction k) is a scratch."""
    ys, xs = np.nonzero(own)
    points = np.stack([xs + x, ys + y], axis=1).astype(np.float64)
    _, axis, _, coef, along, across = _fit(points)
    length = float(np.ptp(along))
    if length < SCRATCH_MIN or len(points) > SCRATCH_WIDTH * length:
        return False
    bend = across - np.polyval(coef, along)
    radius_min = MIN_RADIUS * max(L.shape)
    if float(bend.std()) > BEND_RMS or abs(2 * coef[0]) * radius_min > 1:
        return False
    if float(np.median(crowd[own])) > LINE_CROWD:
        return False
    degrees = math.degrees(math.atan2(axis[1], axis[0])) % 90
    if min(degrees, 90 - degrees) < FRAME_ANGLE:
        margin = FRAME_MARGIN * min(L.shape)
        cx, cy = points.mean(axis=0)
        upright = abs(axis[1]) > abs(axis[0])
        edge = min(cx, L.shape[1] - 1 - cx) if upright else min(cy, L.shape[0] - 1 - cy)
        if edge < margin:
            return False  # a frame's line along the photo's edge
    profile, centre = _profile(L, xs + x, ys + y, math.pi * k / ANGLES, light)
    contrast, sharp, sides, extreme = _across(profile, centre, light)
    return (contrast > 0 and sharp >= LINE_SHARP * contrast and sides <= LINE_SIDES * contrast
            and extreme >= LINE_EXTREME and not marginal(contrast, sharp, sides)
            and not seam(contrast, sharp, sides, extreme)
            and not _along_an_edge(profile, centre, contrast))


def marginal(contrast: float, sharp: float, sides: float) -> bool:
    """Whether a line's profile (``_across``) only just passes for a scratch's on both
    counts (``MARGINAL``)."""
    return any(sides > a * contrast and sharp < b * contrast for a, b in MARGINAL)


def seam(contrast: float, sharp: float, sides: float, extreme: float) -> bool:
    """Whether a line's profile (``_across``) is a seam's or a shadow line's (``SEAM``)."""
    return sides > SEAM[0] * contrast and sharp < SEAM[1] * contrast and extreme < SEAM[2]


def _ridges_beside(hats, own, x, y) -> float:
    """The share of the band 3 to RIDGE_REACH px either side of a line piece (``own`` at
    x, y) whose top-hat, light or dark, reaches RIDGE_LEVEL of the piece's own."""
    pad = RIDGE_REACH + 1
    H, W = hats[0].shape
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(W, x + own.shape[1] + pad), min(H, y + own.shape[0] + pad)
    line = np.zeros((y1 - y0, x1 - x0), np.uint8)
    line[y - y0:y - y0 + own.shape[0], x - x0:x - x0 + own.shape[1]] = own
    hat = np.maximum(hats[0][y0:y1, x0:x1], hats[1][y0:y1, x0:x1])
    band = (cv2.dilate(line, _BESIDE) > 0) & ~(cv2.dilate(line, _NEAR) > 0)
    if not band.any():
        return 0.0
    level = RIDGE_LEVEL * float(np.median(hat[line > 0]))
    return float((hat[band] > level).mean())


REACH = 12  # px either side of a line at which its profile is sampled


def _profile(L, xs, ys, theta, light) -> tuple[np.ndarray, np.ndarray]:
    """L across a line at its pixels (xs, ys; direction ``theta``): a (2·REACH+1)×n array
    of samples REACH px either side, and each pixel's row of its extreme (the lightest,
    or darkest, within 2 px of it)."""
    nx, ny = -math.sin(theta), math.cos(theta)
    offsets = np.arange(-REACH, REACH + 1, dtype=np.float32)[:, None]
    map_x = (xs[None, :] + offsets * nx).astype(np.float32)
    map_y = (ys[None, :] + offsets * ny).astype(np.float32)
    values = cv2.remap(L, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    sign = 1.0 if light else -1.0
    return values, np.argmax(sign * values[REACH - 2:REACH + 3], axis=0) + REACH - 2


def _across(profile, centre, light) -> tuple[float, float, float, float]:
    """A line's profile (``_profile``), each pixel centred on its extreme (medians over
    the pixels): its contrast, its largest step beside the centre, how much its sides 2
    px out differ, and the share of the way to white (black) it takes."""
    cols = np.arange(profile.shape[1])
    p = [profile[centre + d, cols] for d in (-2, -1, 0, 1, 2)]
    sign = 1.0 if light else -1.0
    contrast = float(np.median(sign * (p[2] - (p[0] + p[4]) / 2)))
    step = float(np.median(np.maximum(np.abs(p[2] - p[1]), np.abs(p[2] - p[3]))))
    sides = float(np.median(np.abs(p[0] - p[4])))
    ground = float(np.median((p[0] + p[4]) / 2))
    room = 100.0 - ground if light else ground
    return contrast, step, sides, contrast / max(room, 1.0)


def _along_an_edge(profile, centre, contrast) -> bool:
    """Whether a line (its ``_profile``) has an edge beside it on one side, 3 to 9 px out,
    along RIM_SHARE of its length (``RIM_STEP``)."""
    cols = np.arange(profile.shape[1])
    for side in (-1, 1):
        steps = np.max([np.abs(profile[centre + side * (d + 1), cols]
                               - profile[centre + side * (d - 1), cols]) for d in range(3, 10)],
                       axis=0)
        if float((steps >= RIM_STEP * contrast).mean()) >= RIM_SHARE:
            return True
    return False


def _trace(marks, response, angle, k, own, x, y) -> None:
    """Follow a scratch beyond its piece: along its fitted curve, the pixels within
    TRACE_WIDTH of it whose response passes TRACE_LOW in about its direction carry it
    on, TRACE_FILL of the way and over gaps of at most TRACE_GAP px; then mark the
    curve over the whole run."""
    H, W = response.shape
    ys, xs = np.nonzero(own)
    points = np.stack([xs + x, ys + y], axis=1).astype(np.float64)
    on = (response > TRACE_LOW) & _near_angle(angle, k, 2)
    for _ in range(TRACE_ROUNDS):
        centre, axis, normal, coef, along, _ = _fit(points)
        a0, a1 = float(along.min()), float(along.max())
        s = np.arange(a0 - TRACE_STEP, a1 + TRACE_STEP + 1)
        c = np.polyval(coef, s)
        hit = np.zeros(len(s), bool)
        found = []
        for off in range(-TRACE_WIDTH, TRACE_WIDTH + 1):
            px = np.round(centre[0] + s * axis[0] + (c + off) * normal[0]).astype(int)
            py = np.round(centre[1] + s * axis[1] + (c + off) * normal[1]).astype(int)
            inside = (px >= 0) & (px < W) & (py >= 0) & (py < H)
            h = np.zeros(len(s), bool)
            h[inside] = on[py[inside], px[inside]]
            hit |= h
            found.append((px[h], py[h], s[h]))
        lo, hi = _reach(s, hit, a0, -1), _reach(s, hit, a1, 1)
        if lo == a0 and hi == a1:
            break
        new = [np.stack([px, py], axis=1)[(ss >= lo) & (ss <= hi)] for px, py, ss in found]
        points = np.concatenate([points] + [q.astype(np.float64) for q in new])
    centre, axis, normal, coef, along, _ = _fit(points)
    s = np.arange(along.min(), along.max() + 1)
    c = np.polyval(coef, s)
    curve = np.stack([centre[0] + s * axis[0] + c * normal[0],
                      centre[1] + s * axis[1] + c * normal[1]], axis=1)
    cv2.polylines(marks, [np.round(curve).astype(np.int32)], False, 1, 1)
    marks[points[:, 1].astype(int), points[:, 0].astype(int)] = 1


def _reach(s, hit, end, side) -> float:
    """How far past ``end`` (towards ``side``) the hits carry a line: to the furthest
    hit with TRACE_FILL of the way hit and no gap over TRACE_GAP."""
    idx = np.nonzero(hit & (side * (s - end) > 0))[0][::side]
    last, hits, reach = end, 0, end
    for j in idx:
        if abs(s[j] - last) > TRACE_GAP:
            break
        hits += 1
        last = s[j]
        if hits >= TRACE_FILL * abs(s[j] - end):
            reach = s[j]
    return reach
