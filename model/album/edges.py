"""A print's sides and turn measured again on the page's own pixels (``sharpened``),
after ``model.album.sides`` placed them at working size: there the blur spreads an edge
over 4-8 page pixels at 300 dpi and merges it with the print's shadow; at full
resolution a print's edge is a step of a pixel or two, and its shadow's far side is soft.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from model.album.rect import PrintRect

# at full resolution: each side within SHARPEN_IN working px inside where it was placed
# and SHARPEN_OUT outside, on the outermost sharp step of colour (_outer_edge: at least
# SHARPEN_RATIO of the change over SHARPEN_ACROSS working px either side in one pixel,
# SHARPEN_TEXTURE times any change a pixel further out, SHARPEN_MIN_STEP ΔE or more)
# across each of SHARPEN_SEGMENTS pieces of its middle SHARPEN_SPAN (SHARPEN_ROWS lines
# along it at most); pieces further than SHARPEN_AGREE working px from the line through
# the rest are left out, and a turn over SHARPEN_MAX_TURN degrees, or where the sides'
# turns differ by over SHARPEN_AGREE_TURN, is not taken
SHARPEN_IN, SHARPEN_OUT, SHARPEN_SEGMENTS, SHARPEN_SPAN, SHARPEN_ROWS = 2.0, 6.0, 8, 0.4, 512
SHARPEN_RATIO, SHARPEN_ACROSS, SHARPEN_MIN_STEP, SHARPEN_TEXTURE = 0.4, 0.6, 1.0, 1.5
SHARPEN_AGREE, SHARPEN_MAX_TURN, SHARPEN_AGREE_TURN = 0.5, 1.5, 0.3


def sharpened(rgb: np.ndarray, rect: PrintRect, work_px: float) -> PrintRect:
    """``rect`` (page pixels) with each side moved to the print's edge at the page's own
    resolution, within SHARPEN_IN working pixels (``work_px`` page pixels each) inside
    where it was placed and SHARPEN_OUT outside, and turned by the slope of the line
    through that edge along its sides. On the working page the blur spreads an edge
    over 4-8 page pixels at 300 dpi and merges it with the print's shadow, which put the
    shadowed sides 1-2 px out; at full resolution a print's edge is a step of a pixel
    or two, and its shadow's far side is soft."""
    inside = max(2, int(math.ceil(SHARPEN_IN * work_px)))
    outside = max(3, int(math.ceil(SHARPEN_OUT * work_px)))
    c = np.array([rect.cx, rect.cy])
    u, v = rect.axes
    hw, hh = rect.width / 2, rect.height / 2
    fits = []
    for normal, along, offset, length, sign in ((-u, v, hw, rect.height, 1.0),
                                                 (u, v, hw, rect.height, -1.0),
                                                 (-v, u, hh, rect.width, -1.0),
                                                 (v, u, hh, rect.width, 1.0)):
        fit = _side_line(rgb, c, normal, along, offset, length, (inside, outside), work_px)
        fits.append(fit + (sign,))
    turns = [(math.degrees(math.atan(f[1])) * f[3], f[2]) for f in fits if f[2] > 0]
    turn = 0.0
    if len(turns) >= 2:
        turn = float(np.average([t for t, _ in turns], weights=[w for _, w in turns]))
        spread = max(abs(t - turn) for t, _ in turns)
        if abs(turn) > SHARPEN_MAX_TURN or spread > SHARPEN_AGREE_TURN:
            turn = 0.0  # the sides disagree: a photo's own line taken for an edge
    left, right, top, bottom = (f[0] for f in fits)
    left = hw if left is None else left
    right = hw if right is None else right
    top = hh if top is None else top
    bottom = hh if bottom is None else bottom
    centre = c + (right - left) / 2 * u + (bottom - top) / 2 * v
    return PrintRect(float(centre[0]), float(centre[1]), float(left + right), float(top + bottom),
                     rect.angle + turn)


def _side_line(rgb, c, normal, along, offset, length, reach, work_px):
    """(offset of the side's middle, its slope along it, the slope's weight): a line
    through the print's edge across each of SHARPEN_SEGMENTS pieces of the side's
    middle; (None, 0, 0) where too few pieces show one."""
    inside, outside = reach
    size = inside + outside + 1
    span = SHARPEN_SPAN * length
    rows = int(min(SHARPEN_ROWS, max(SHARPEN_SEGMENTS, span)))
    step = span / rows
    # strip(x, y) = page(c + (offset + outside - x) normal + (y step - span / 2) along):
    # x = 0 outermost
    origin = c + (offset + outside) * normal - span / 2 * along
    m = np.array([[-normal[0], along[0] * step, origin[0]],
                  [-normal[1], along[1] * step, origin[1]]], np.float64)
    strip = cv2.warpAffine(rgb, m, (size, rows), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(-1.0, -1.0, -1.0))
    strip = np.ascontiguousarray(strip, dtype=np.float32)
    on_scan = (strip >= 0).all(axis=(1, 2))
    lab = cv2.cvtColor(np.clip(strip, 0.0, 1.0), cv2.COLOR_RGB2Lab)
    across = max(2, int(round(SHARPEN_ACROSS * work_px)))
    ts, xs, ws = [], [], []
    for piece in np.array_split(np.arange(rows), SHARPEN_SEGMENTS):
        piece = piece[on_scan[piece]]
        if len(piece) < 2:
            continue
        edge = _outer_edge(lab[piece].mean(axis=0), across)
        if edge is not None:
            ts.append((piece.mean() + 0.5) * step - span / 2)
            xs.append(offset + outside - edge[0])
            ws.append(edge[1])
    if len(ts) < SHARPEN_SEGMENTS // 2:
        return None, 0.0, 0.0
    ts, xs, ws = np.array(ts), np.array(xs), np.array(ws)
    keep = np.ones(len(ts), bool)
    for _ in range(2):  # a piece whose edge is the photo's own, or a corner's
        slope, at = np.polyfit(ts[keep], xs[keep], 1, w=np.sqrt(ws[keep]))
        keep = np.abs(xs - (slope * ts + at)) < SHARPEN_AGREE * work_px
        if keep.sum() < SHARPEN_SEGMENTS // 2:
            return None, 0.0, 0.0
    slope, at = np.polyfit(ts[keep], xs[keep], 1, w=np.sqrt(ws[keep]))
    return float(at), float(slope), float((ws[keep] * (ts[keep] - ts[keep].mean()) ** 2).sum())


def _outer_edge(profile: np.ndarray, across: int) -> tuple[float, float] | None:
    """The outermost sharp step of a Lab profile across a side (index 0 outermost, on
    the page): (where, its height), or None. A step is a peak of the colour's change a
    pixel that is at least SHARPEN_RATIO of the change over ``across`` pixels either side
    of it (a shadow's ramp or a photo's blur are soft), SHARPEN_TEXTURE times any change
    a pixel further out (the threads of woven linen, 6-10 px apart at 300 dpi, differ
    by ΔE 3-4; a shadow's ramp is soft), and at least SHARPEN_MIN_STEP ΔE tall."""
    grad = np.linalg.norm(np.diff(profile, axis=0), axis=1)  # grad[i]: from i to i + 1
    n = len(grad)
    for i in range(across + 3, n):
        if grad[i] < grad[i - 1] or (i + 1 < n and grad[i] < grad[i + 1]):
            continue
        height = float(np.linalg.norm(profile[min(n, i + 1 + across)] - profile[i - across]))
        if height < SHARPEN_MIN_STEP or grad[i] < SHARPEN_RATIO * height \
                or grad[i] < SHARPEN_TEXTURE * float(grad[:i - across].max()):
            continue
        shift = 0.0
        if i < n - 1:
            a, b, e = grad[i - 1], grad[i], grad[i + 1]
            curve = a - 2 * b + e
            shift = float(np.clip(0.5 * (a - e) / curve, -0.5, 0.5)) if curve < 0 else 0.0
        return i + 0.5 + shift, height
    return None
