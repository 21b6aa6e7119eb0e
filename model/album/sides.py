"""Straightening a print's rectangle and placing its sides: the turn from the straight
parts of its region's outline, then each side moved, on the profile of the difference
from the page across it, to the print's edge (out over faint print such as a white
border or a pale sky, in over a blob of mottled paper), at working size as
``model.album.pages``; ``model.album.edges`` then measures each side and the turn again
on the page's own pixels.
"""

from __future__ import annotations

import math
import warnings

import cv2
import numpy as np

from model.album.background import PageModel
from model.album.rect import PrintRect

# growing a side: how far (× the rectangle's extent across that side) and how much
# above the page's level the mean difference along the next line must stay (ΔE)
GROW_REACH = 0.45
# ... and how far a side may move in (× the same extent)
INNER_REACH = 0.25
GROW_MARGIN, GROW_NOISE_FACTOR = 0.6, 0.6
# each side is placed on the profile across its middle PROFILE_SPAN: photo corners
# reach 12-17 mm along a side from each corner, 30% of a 55 mm one, and over its middle
# 60% they put a side 2-4 px out at 300 dpi
PROFILE_SPAN = 0.4
# outline points within this distance (working px) of a side are fitted to it
SIDE_BAND = 3.0
# local outline directions are taken between points this far apart along it; a side is
# a line of outline points filling this share of the outline's extent along it
OUTLINE_STEP, SIDE_FILL = 10, 0.3
# (a pixel outline's local directions come in steps of atan(1/20) = 3°: a side's
# points are those within ALONG_SIDE degrees of it)
ALONG_SIDE = 10.0
# a side grows only over lines further above the page's level than this many times the
# spread of the page's own lines beyond it (median less 10th percentile)
GROW_SPREAD_FACTOR = 3.0
# ... and grows over a line only where this share of it differs from the page, or over
# up to DIP_LINES lines that do not before one that does
LINE_SHARE, DIP_LINES = 0.7, 3
# a print's edge rises by its height over this many working px at its steepest (2.5 σ
# of the blur, 3.3 px, and a pixel of slant along a side); a wider rise is mottled
# paper or a pale sky, not an edge
SHARP_WIDTH = 6.0
# mottled paper stepped over so is never further from the page's level than this (ΔE)
BLOB_LEVEL = 6.0
# a rise is looked for within STEP_REACH lines inside where the march stands, and levels
# off where it climbs less than LEVEL_OFF of its steepest a line (2 px inside a blurred
# edge), or CLIMB lines inside its steepest (a photo's own shading goes on rising)
STEP_REACH, LEVEL_OFF, CLIMB = 8, 0.15, 4


def _fit_side(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int, float] | None:
    """b = k·a + m through side points, twice without the points over 1.5 px off:
    (k, m, inliers, rms)."""
    keep = np.ones(len(a), bool)
    for _ in range(3):
        if keep.sum() < 8:
            return None
        k, m = np.polyfit(a[keep], b[keep], 1)
        resid = b - (k * a + m)
        new_keep = np.abs(resid) < 1.5
        if (new_keep == keep).all():
            break
        keep = new_keep
    if keep.sum() < 8:
        return None
    rms = float(np.sqrt(np.mean(resid[keep] ** 2)))
    return float(k), float(m), int(keep.sum()), rms


def _dominant_turn(contour: np.ndarray) -> float | None:
    """The turn (degrees, in [-45, 45)) shared by most of an outline's local directions:
    a print's four straight sides agree on it, a blob of page joined to it does not."""
    if len(contour) < 40:
        return None
    step = OUTLINE_STEP
    d = np.roll(contour, -step, axis=0) - np.roll(contour, step, axis=0)
    turns = (np.degrees(np.arctan2(d[:, 1], d[:, 0])) + 45.0) % 90.0 - 45.0
    bins = np.histogram(turns, bins=360, range=(-45, 45))[0].astype(np.float32)
    smooth = cv2.GaussianBlur(np.tile(bins, 3).reshape(1, -1), (0, 0), 2.0).ravel()[360:720]
    peak = -45.0 + (int(np.argmax(smooth)) + 0.5) * 0.25
    near = np.abs((turns - peak + 45.0) % 90.0 - 45.0) < 4.0
    if near.sum() < 0.2 * len(contour):
        return None
    return peak + float(np.mean((turns[near] - peak + 45.0) % 90.0 - 45.0))


def _straight_sides(contour: np.ndarray, c: np.ndarray, angle: float, usable: np.ndarray):
    """Fit each of the four sides to the outline points that run along it (their local
    direction within ALONG_SIDE of the side's) and lie on the outermost well-filled line of such
    points: (turns and weights from the fits, {side: offset from c}). A blob joined to
    the print, or a pale sky that left the outline short, gives no straight side there."""
    u, v = PrintRect(0, 0, 1, 1, angle).axes
    rel = contour - c
    a, b = rel @ u, rel @ v
    step = OUTLINE_STEP
    d = np.roll(contour, -step, axis=0) - np.roll(contour, step, axis=0)
    local = (np.degrees(np.arctan2(d[:, 1], d[:, 0])) - angle) % 180.0
    along_u = ((local < ALONG_SIDE) | (local > 180 - ALONG_SIDE)) & usable
    along_v = (np.abs(local - 90) < ALONG_SIDE) & usable
    turns, weights, sides = [], [], {}
    for axis_points, along, across, names in ((along_u, a, b, ("top", "bottom")),
                                               (along_v, b, a, ("left", "right"))):
        if axis_points.sum() < 16:
            continue
        extent = float(np.ptp(along[axis_points]))
        offsets = np.round(across[axis_points]).astype(int)
        lo = offsets.min()
        counts = np.bincount(offsets - lo)
        counts = np.convolve(counts, np.ones(3), mode="same")
        full = np.flatnonzero(counts >= SIDE_FILL * extent)
        if not len(full):
            continue
        middle = (across.min() + across.max()) / 2  # of the whole outline
        for name, at in ((names[0], full[0] + lo), (names[1], full[-1] + lo)):
            if (at > middle) if name in ("top", "left") else (at < middle):
                continue  # the one straight line found is the other side
            pick = axis_points & (np.abs(across - at) < SIDE_BAND)
            fit = _fit_side(along[pick], across[pick]) if pick.sum() >= 8 else None
            if fit is None:
                continue
            k, m, count, rms = fit
            turns.append(math.degrees(math.atan(k)) * (1 if name in ("top", "bottom") else -1))
            weights.append(count / (rms + 0.25))
            sides[name] = m
    return turns, weights, sides


def refined(rect: PrintRect, contour: np.ndarray, page: PageModel, page_level: float,
            frame: tuple[int, int]) -> tuple[PrintRect, int]:
    """Straighten ``rect`` on the straight parts of its region's outline, then place
    each side on the page's edge profile (module notes); with how many of its sides
    the outline showed straight."""
    c = np.array([rect.cx, rect.cy])
    dominant = _dominant_turn(contour)
    angle = rect.angle if dominant is None else dominant
    # the scan's own edge, where a region is cut off, is no side of a print
    w, h = frame
    inside = (contour[:, 0] > 0.5) & (contour[:, 0] < w - 1.5) & \
        (contour[:, 1] > 0.5) & (contour[:, 1] < h - 1.5)
    turns, weights, sides = _straight_sides(contour, c, angle, inside)
    if turns:
        angle += float(np.average(turns, weights=weights))
        turns, weights, sides = _straight_sides(contour, c, angle, inside)
    u, v = PrintRect(0, 0, 1, 1, angle).axes
    rel = contour - c
    a, b = rel @ u, rel @ v
    # a straight side where the outline has one; elsewhere the outline's extreme
    start = (sides.get("left", float(a.min())), sides.get("right", float(a.max())),
             sides.get("top", float(b.min())), sides.get("bottom", float(b.max())))
    (left, right), (top, bottom) = _placed_sides(page, page_level, c, u, v, *start)
    centre = c + (left + right) / 2 * u + (top + bottom) / 2 * v
    return (PrintRect(float(centre[0]), float(centre[1]), right - left, bottom - top, angle),
            len(sides))


def _side_edge(q: np.ndarray, most: np.ndarray, k0: int, margin: float,
               page_level: float) -> float:
    """Where a print's side lies along profiles of the difference from the page across
    it, in outward order, ``k0`` being the region's own edge. ``most``: what most of each
    line (LINE_SHARE) exceeds; ``q``: each line's mean; ``page_level``: the difference
    (ΔE) below which a pixel may be page. The side is first moved out while most of the
    next lines still differ from the page (faint print, not a neighbour that covers part
    of it), then placed where the mean crosses halfway between the page's level and the
    print's just inside."""
    off_page = np.flatnonzero(~np.isfinite(q) | ~np.isfinite(most))
    if len(off_page):  # the scan ends there: so does what can be seen of the print
        q, most = q[:off_page[0]], most[:off_page[0]]
    if len(q) < 4:
        return float(min(k0, len(q) - 0.5))
    k0 = min(k0, len(q) - 2)  # the region runs to the scan's edge
    # lines more than a third off the scan (-1 there) say nothing of the page's level:
    # counted, a print near the scan's edge on black paper got a spread of 1 ΔE and a
    # margin that stepped over its dark edge (up to 40 px at 300 dpi)
    on_scan = most >= 0
    beyond = np.arange(len(most)) >= k0 + 3
    # the page's level: the low end of what lies beyond (from a seed deep inside a print
    # the first half of that is still print), or where no page lies beyond (a
    # neighbour, the scan's edge), of the lines that are page (the gap to a neighbour
    # the region's edge lies beyond); and its own unevenness at this scale (mottled or
    # woven paper, uneven light) from the lines near that level
    source = on_scan & beyond
    if source.sum() < 4 or np.percentile(most[source], 5) >= page_level:
        source = on_scan & (most < page_level)
        if source.sum() < 3:
            source = on_scan & beyond
            if source.sum() < 4:
                return float(min(k0, len(q) - 0.5))
    floor = float(np.percentile(most[source], 5))
    near = source & (most <= floor + 2 * margin + 1.0)
    low, typical = np.percentile(most[near], (10, 50))
    margin = max(margin, GROW_SPREAD_FACTOR * float(typical - low))
    level = float(typical) + margin
    is_page = most < level  # a line a third off the scan among them: no print
    k = k0
    # in first, while most of the line is page (a blob of mottled paper, or a neighbour's
    # corner, that joined the region but covers only part of the side), up to a sharp
    # rise (a dark print's edge on black paper differs from it by little more than the
    # paper's mottle does) ...
    while k > 1 and is_page[k] and is_page[k - 1] and q[k - 1] - q[k] < 0.5 * margin:
        k -= 1
    # ... then out while most of one of the next lines still differs from the page (a
    # pale sky blending into a photo crosses the lid's colour for a line or two)
    while k + 1 < len(q) and not (is_page[k] and is_page[k + 1:k + 1 + DIP_LINES].all()):
        k += 1
    if k + 1 >= len(q):
        # no page beyond: it ran into something else. The region's edge lies in a
        # neighbour (a cut between prints laid close that was not parallel to either)
        # when page lies between: the side is at that gap
        gap = np.flatnonzero(is_page[1:k0] & is_page[:k0 - 1]) if k0 > 1 else []
        k = int(gap[-1]) if len(gap) else k0
        while k > 1 and is_page[k - 1]:
            k -= 1
    floor = float(np.percentile(q[is_page & on_scan], 5)) if (is_page & on_scan).any() \
        else float(np.percentile(q[k0 + 3:], 5))
    # the outermost sharp step at or inside k: a print's edge is as sharp as the blur;
    # a blob of mottled paper that joined the side rises over ten or more lines, and is
    # stepped over to the next rise. With none, the foot of the outermost rise: a pale
    # sky that fades into the page is cut where it can still be told from it
    first = None
    at = k
    while at > 2:
        step = _step_at(q, at, margin)
        if step is None:  # nothing rises near here: further in (over a halo of paper)
            if q[at] > floor + BLOB_LEVEL:
                break
            at -= STEP_REACH // 2
            continue
        x, width, top, foot = step
        if width <= SHARP_WIDTH:
            return x
        if first is None:
            first = foot
        if q[top] > floor + BLOB_LEVEL:
            break  # up into the print itself: no sharper edge further in
        at = top
    return first if first is not None else k - 0.5


def _step_at(q: np.ndarray, k: int, margin: float) -> tuple[float, float, int, float] | None:
    """The outermost rise of the profile within STEP_REACH lines inside ``k``: from its
    foot (where the profile stops falling outward: the page's level, a halo of mottled
    paper's or a blob's) up while it still climbs, to the level just inside the edge (a
    white border's rather than the photo's within it). Where it crosses halfway; how
    wide it is (its height over its steepest climb a line: 2.5 σ for a blurred edge,
    however much of a blob of paper lies below it); the line where it levels off; and
    where it first stands ``margin`` clear of its foot."""
    k = min(k, len(q) - 1)
    lo = max(1, k - STEP_REACH)
    if k < lo:
        return None
    rises = q[lo - 1:k] - q[lo:k + 1]  # rises[i - lo]: from line i in to line i - 1
    strong = 0.5 * margin
    candidates = [i for i in range(k, lo - 1, -1) if rises[i - lo] >= strong
                  and (i == lo or rises[i - lo] >= rises[i - 1 - lo])]
    for s_ in candidates:
        rise = _rise_from(q, s_, float(rises[s_ - lo]), margin)
        if rise is not None:
            return rise
    return None


def _rise_from(q: np.ndarray, s_: int, steepest: float,
               margin: float) -> tuple[float, float, int, float] | None:
    """_step_at's rise through line ``s_``, if it stands ``margin`` clear of its foot."""
    foot = s_
    while foot + 1 < len(q) and q[foot + 1] < q[foot]:
        foot += 1
    base = float(q[foot])
    t = s_ - 1
    while t > 0 and t > s_ - CLIMB:
        rise = float(q[t - 1] - q[t])
        if rise <= max(0.0, LEVEL_OFF * steepest):
            break
        if rise > steepest:
            steepest, s_ = rise, t
        t -= 1
    top = float(q[t])
    if top - base < margin:
        return None
    crossings = []
    for level in (base + 0.5 * (top - base), base + margin):
        for i in range(foot, t, -1):  # the outermost crossing
            if q[i - 1] >= level > q[i]:
                crossings.append(i - 1 + (q[i - 1] - level) / (q[i - 1] - q[i]))
                break
        else:
            crossings.append(float(s_))
    return crossings[0], (top - base) / steepest, t, crossings[1]


def _placed_sides(page: PageModel, page_level: float, c, u, v, left, right, top, bottom):
    """((left, right), (top, bottom)) of the print along u and v, from the profiles of
    the difference from the page across each side (over its middle PROFILE_SPAN, clear of photo
    corners)."""
    width, height = right - left, bottom - top
    reach_x = int(math.ceil(GROW_REACH * width)) + 4
    reach_y = int(math.ceil(GROW_REACH * height)) + 4
    x0, y0 = math.floor(left) - reach_x, math.floor(top) - reach_y
    size = (int(math.ceil(right - x0)) + reach_x + 1, int(math.ceil(bottom - y0)) + reach_y + 1)
    # crop(x, y) = page(c + (x + x0) u + (y + y0) v)
    m = np.array([[u[0], v[0], c[0] + x0 * u[0] + y0 * v[0]],
                  [u[1], v[1], c[1] + x0 * u[1] + y0 * v[1]]], np.float32)
    crop = cv2.warpAffine(page.difference, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=float("nan"))
    end = (1 - PROFILE_SPAN) / 2
    xs = slice(int(left - x0 + end * width), int(left - x0 + (1 - end) * width) + 1)
    ys = slice(int(top - y0 + end * height), int(top - y0 + (1 - end) * height) + 1)
    with warnings.catch_warnings():  # lines wholly off the scan stay NaN: its edge
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = np.nanmean(crop[:, xs], axis=1)
        cols = np.nanmean(crop[ys, :], axis=0)
    # pixels off the scan count as page here: a line half off the scan is no print
    on_scan = np.nan_to_num(crop, nan=-1.0)
    low_share = 100 * (1 - LINE_SHARE)
    rows_most = np.percentile(on_scan[:, xs], low_share, axis=1)
    cols_most = np.percentile(on_scan[ys, :], low_share, axis=0)
    margin = max(GROW_MARGIN, GROW_NOISE_FACTOR * page.noise)
    inner_x, inner_y = int(INNER_REACH * width), int(INNER_REACH * height)

    def outward(at, direction, inner):
        """The slice from ``inner`` px inside the side at ``at`` outward (reversed when
        outward is toward 0), the index of the side in it, and the map from its index
        back to a crop coordinate."""
        i = int(round(at))
        if direction > 0:
            start = max(0, i - inner)
            return slice(start, None), i - start, lambda k: start + k
        end = i + inner
        return slice(end, None, -1), end - i, lambda k: end - k

    found = []
    for (mean, most), at, direction, inner, origin in (
            ((cols, cols_most), left - x0, -1, inner_x, x0),
            ((cols, cols_most), right - x0, 1, inner_x, x0),
            ((rows, rows_most), top - y0, -1, inner_y, y0),
            ((rows, rows_most), bottom - y0, 1, inner_y, y0)):
        part, k0, back = outward(at, direction, inner)
        found.append(back(_side_edge(mean[part], most[part], k0, margin, page_level)) + origin)
    return (found[0], found[1]), (found[2], found[3])
