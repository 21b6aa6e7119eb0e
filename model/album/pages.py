"""Finding the prints on a scanned page: where each one is, how far it is turned.

``find_prints(rgb)`` works on the page shrunk to ``WORK_SIDE`` pixels (a print's edge is
still several pixels long there, and a 600 dpi A4 page is analysed as fast as a phone
photo), then scales the rectangles back to the page's own pixels:

1. the page is recognised on the scan's border and modelled (``model.album.background``);
   a scan with no uniform border is a photo on its own and is kept whole, and so is one
   whose prints would leave most of what differs from the page out, or that holds
   nothing like a print and yet differs from its page as no empty page does (a portrait
   on a plain backdrop: the backdrop looks like a page);
2. the pixels that differ from the page (two thresholds, as Canny's hysteresis: faint
   parts of a print count only where they touch clear ones) make regions, whose holes
   are filled;
3. each region large enough and rectangular enough gives a minimum-area rectangle;
   regions that are two prints run together are split at their neck;
4. each rectangle is straightened on its sides (a line fitted to each side, the straight
   ones weighted most) and then grown side by side while the page under the next line
   still differs from the page: a white print border on a white lid, or a pale sky, is
   taken in although too faint to make a region on its own;
5. a region that is itself a page (album paper lying on the scanner's lid) is looked
   into again with the paper as the page;
6. back at the page's own resolution, each side is moved to the print's edge (the
   outermost sharp step of colour near it: a shadow's ramp is soft) and the rectangle
   turned by the slope of the line through that edge along its sides
   (``model.album.edges.sharpened``).

Rectangles (``PrintRect``) are in the page's pixels, centre and size, turned by
``angle`` degrees clockwise as seen on screen (image y points down).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from model.album.background import PageModel, model_page, smoothed_lab
from model.album.rect import PrintRect
from model.album.regions import (outline, rectangular_parts, regions, split_at_gaps,
                                 without_duplicates)
from model.album.edges import sharpened
from model.album.sides import refined

__all__ = ["PrintRect", "PageAnalysis", "find_prints", "reading_order", "whole_page",
           "PRINTS", "WHOLE", "EMPTY", "WORK_SIDE"]

WORK_SIDE = 1024
# averages scanner noise and linen weave away before comparing with the page (working px)
BLUR_SIGMA = 1.2
# a print covers at least this share of the page (a 3.5×4.5 cm passport photo on A4 is
# 2.5%), and its short side at least this share of the page's short side
MIN_AREA_SHARE = 0.005
MIN_SIDE_SHARE = 0.04
REJECT_FILL = 0.55
# a print shows at least two straight sides in its outline (a pale sky may hide one,
# a blob of page joined to it another); a page whose only large regions have none, or
# fill their rectangles poorly, over this share of it is a photo on its own
MIN_STRAIGHT_SIDES = 2
SHAPELESS_WHOLE = 0.2
# prints explain nearly all of the regions they are found in and of those that run off
# the scan (on 36 synthetic pages of train photos at most 4% lay outside them: photo
# corners, shadows); a single photo whose plain border was taken for a page left 27-98%
# out of the strips cut from it
UNEXPLAINED_WHOLE = 0.2
# with nothing like a print found: empty pages differed from their own model by at most
# ΔE 1.4 at the 95th percentile (every paper kind), 2.1 with a caption of three lines (0.8%
# of the page in ink); train photos said to be empty by 8.3 and more, but for a nail on white
CONTENT_WHOLE = 5.0
# a print larger than this share of the page may be album paper lying on the lid: it
# is when what lies on it are prints with page around them (this share of a ring just
# outside each), unless it is a single picture framed all round by less than
# BORDER_SHARE of its short side (a print's own white border is 3-6%)
NESTED_SHARE, NESTED_SURROUND, BORDER_SHARE = 0.3, 0.6, 0.1
# ... and only when its own border differs from the page around it by this much (ΔE):
# cream paper on a white lid by 20 or more, a white print border on it by 2-4
NESTED_CONTRAST = 8.0

PRINTS, WHOLE, EMPTY = "prints", "whole", "empty"  # what a page turned out to hold


@dataclass
class PageAnalysis:
    """What a page holds: its prints in reading order, or why there are none."""

    width: int
    height: int
    prints: list[PrintRect] = field(default_factory=list)
    verdict: str = PRINTS   # PRINTS, WHOLE (a photo on its own) or EMPTY (no photo)

    @property
    def message(self) -> str:
        if self.verdict == EMPTY:
            return "no photo found on the page"
        if self.verdict == WHOLE:
            return "a single photo with no page around it: kept whole"
        n = len(self.prints)
        return f"{n} print{'s' if n != 1 else ''} found"


def whole_page(width: int, height: int) -> PrintRect:
    return PrintRect((width - 1) / 2, (height - 1) / 2, float(width), float(height), 0.0)


def find_prints(rgb: np.ndarray) -> PageAnalysis:
    """The prints on a scanned page (float RGB in [0, 1], H×W×3; see the module notes)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    work = rgb if scale >= 1.0 else cv2.resize(
        np.ascontiguousarray(rgb, dtype=np.float32),
        (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    lab = smoothed_lab(work, BLUR_SIGMA)
    found = _prints_on(lab, min_sides=2, nested=True)
    if found is None or (not found.rects and found.shapeless >= SHAPELESS_WHOLE) \
            or (found.rects and found.unexplained >= UNEXPLAINED_WHOLE):
        # no page around it; a page-coloured ground around a shape that is no print (a
        # rose on black); or prints that leave most of what is on the page out (a strip
        # of a portrait's dark backdrop): a photo on its own
        return PageAnalysis(w, h, [whole_page(w, h)], WHOLE)
    sx, sy = w / lab.shape[1], h / lab.shape[0]
    rects = [_clamped(sharpened(rgb, _to_page(r, sx, sy), (sx + sy) / 2), w, h)
             for r in found.rects]
    rects = [r for r in rects if r is not None]
    if rects:
        return PageAnalysis(w, h, reading_order(rects), PRINTS)
    # nothing like a print: an empty page is its paper and the lamp, while a photo whose
    # shapes all blend into its plain border still differs from it
    if found.content >= CONTENT_WHOLE:
        return PageAnalysis(w, h, [whole_page(w, h)], WHOLE)
    return PageAnalysis(w, h, [], EMPTY)


def _to_page(r: PrintRect, sx: float, sy: float) -> PrintRect:
    s = (sx + sy) / 2  # the same within a pixel: both sides were rounded once
    return PrintRect((r.cx + 0.5) * sx - 0.5, (r.cy + 0.5) * sy - 0.5, r.width * s,
                     r.height * s, r.angle)


def reading_order(rects: list[PrintRect]) -> list[PrintRect]:
    """Top to bottom by rows (prints whose centres lie within half a print's height of
    each other share a row), left to right within a row."""
    if not rects:
        return []
    rects = sorted(rects, key=lambda r: r.cy)
    typical = float(np.median([min(r.width, r.height) for r in rects]))
    rows: list[list[PrintRect]] = [[rects[0]]]
    for r in rects[1:]:
        if r.cy - rows[-1][0].cy < 0.5 * typical:
            rows[-1].append(r)
        else:
            rows.append([r])
    return [r for row in rows for r in sorted(row, key=lambda r: r.cx)]


def _clamped(r: PrintRect, w: int, h: int) -> PrintRect | None:
    """The rectangle shrunk, side by side, until its corners lie on the page (a print
    that runs off the scan is cut as far as it was scanned)."""
    u, v = r.axes
    c = np.array([r.cx, r.cy])
    sides = {"left": -r.width / 2, "right": r.width / 2, "top": -r.height / 2,
             "bottom": r.height / 2}
    limits = (w - 0.5, h - 0.5)
    for _ in range(12):
        worst = None
        for across in ("left", "right"):
            for down in ("top", "bottom"):
                p = c + sides[across] * u + sides[down] * v
                for axis in (0, 1):
                    low, high = -0.5 - p[axis], p[axis] - limits[axis]
                    over, wanted = (low, 1.0) if low > high else (high, -1.0)
                    if over > 0.01 and (worst is None or over > worst[0]):
                        worst = (over, wanted, axis, across, down)
        if worst is None:
            break
        over, wanted, axis, across, down = worst
        # pull in whichever of the corner's two sides moves that coordinate most its way
        moves = [(wanted * (1 if across == "left" else -1) * u[axis], across),
                 (wanted * (1 if down == "top" else -1) * v[axis], down)]
        effect, side = max(moves)
        if effect < 0.05:
            return None
        sides[side] += (1 if side in ("left", "top") else -1) * over / effect
    width, height = sides["right"] - sides["left"], sides["bottom"] - sides["top"]
    if width < 2 or height < 2:
        return None
    centre = c + (sides["left"] + sides["right"]) / 2 * u + (sides["top"] + sides["bottom"]) / 2 * v
    return PrintRect(float(centre[0]), float(centre[1]), float(width), float(height), r.angle)


@dataclass
class _Found:
    rects: list[PrintRect]
    shapeless: float  # share of the page in large regions with no straight sides
    surround: list[float] = field(default_factory=list)  # share of page around each rect
    colour: np.ndarray | None = None  # the page's Lab on its border
    unexplained: float = 0.0  # share of what differs from the page lying outside every print
    content: float = 0.0  # the 95th percentile of the scan's difference from the page (ΔE)


def _prints_on(lab: np.ndarray, min_sides: int, nested: bool) -> _Found | None:
    """The prints on a working-size smoothed Lab page; None when the scan has no page
    around it."""
    page = model_page(lab, min_sides)
    if not page.found:
        return None
    h, w = lab.shape[:2]
    mask, low_level = regions(page)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_area = MIN_AREA_SHARE * h * w
    min_side = MIN_SIDE_SHARE * min(h, w)
    found: list[PrintRect] = []
    shapeless = 0.0
    explained = np.zeros((h, w), np.uint8)  # the prints, and album paper holding prints

    def candidate(part: np.ndarray, seed: np.ndarray, x: int, y: int):
        """A part's rectangle, straightened and placed, with its straight sides; None
        for a part too small; its share of the page when it is shapeless."""
        contour = outline(part)
        if contour is None:
            return None
        rect = PrintRect.from_box(cv2.minAreaRect(contour))
        if min(rect.width, rect.height) < min_side or rect.area < min_area:
            return None
        if float(part.sum()) < REJECT_FILL * rect.area:
            return float(part.sum()) / (h * w)
        if seed is not part:
            contour = outline(seed)
            rect = PrintRect.from_box(cv2.minAreaRect(contour))
        contour = contour + np.array([x, y], np.float32)
        rect = PrintRect(rect.cx + x, rect.cy + y, rect.width, rect.height, rect.angle)
        rect, straight = refined(rect, contour, page, low_level, (w, h))
        if straight < MIN_STRAIGHT_SIDES:  # a rose on a black ground, a stain
            return float(part.sum()) / (h * w)
        return rect

    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        x, y, bw, bh = (int(stats[i, k]) for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                                    cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
        region = (labels[y:y + bh, x:x + bw] == i).astype(np.uint8)
        if nested and stats[i, cv2.CC_STAT_AREA] > NESTED_SHARE * h * w:
            # album paper on the lid, before it is taken for prints run together
            whole = candidate(region, region, x, y)
            inner = _prints_inside(lab, whole, page.colour) \
                if isinstance(whole, PrintRect) else None
            if inner is not None:
                found += inner
                explained[y:y + bh, x:x + bw] |= region
                continue
        pageish = page.difference[y:y + bh, x:x + bw] < low_level
        for piece in split_at_gaps(region, pageish):
            for part, seed in rectangular_parts(piece):
                rect = candidate(part, seed, x, y)
                if isinstance(rect, float):
                    shapeless += rect
                elif rect is not None:
                    found.append(rect)
    rects = without_duplicates(found)
    for r in rects:  # grown a little: a print's soft edge and shadow, its photo corners
        short = min(r.width, r.height)
        grown = PrintRect(r.cx, r.cy, r.width + 0.1 * short, r.height + 0.1 * short, r.angle)
        cv2.fillConvexPoly(explained, np.round(grown.corners()).astype(np.int32), 1)
    # what the prints leave out of the regions they were found in, and of the regions
    # that run off the scan (a photo's subject cut by its frame); a shape lying apart on
    # the page (an oval cameo, a caption) counts for nothing
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    counted = np.union1d(np.unique(labels[(explained > 0) & (labels > 0)]), edge[edge > 0])
    counted = counted[stats[counted, cv2.CC_STAT_AREA] >= min_area]
    theirs = np.isin(labels, counted)
    unexplained = float((theirs & (explained == 0)).sum()) / max(int(theirs.sum()), 1)
    return _Found(rects, shapeless, [_page_around(page, r, low_level) for r in rects],
                  page.colour, unexplained, float(np.percentile(page.difference, 95)))


def _page_around(page: PageModel, rect: PrintRect, low_level: float) -> float:
    """The share of a ring just outside ``rect`` (2-6% of its short side) that is page:
    all of it for a print lying on the page, little for a patch of a photo."""
    h, w = page.difference.shape
    short = min(rect.width, rect.height)
    inner = PrintRect(rect.cx, rect.cy, rect.width + 0.04 * short, rect.height + 0.04 * short, rect.angle)
    outer = PrintRect(rect.cx, rect.cy, rect.width + 0.12 * short, rect.height + 0.12 * short, rect.angle)
    ring = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(ring, np.round(outer.corners()).astype(np.int32), 1)
    cv2.fillConvexPoly(ring, np.round(inner.corners()).astype(np.int32), 0)
    values = page.difference[ring > 0]
    return float(np.mean(values < low_level)) if values.size else 1.0


def _prints_inside(lab: np.ndarray, rect: PrintRect, outer: np.ndarray) -> list[PrintRect] | None:
    """The prints on a region that is album paper rather than a print, in the page's
    working pixels; None when it is a print after all (NESTED_SHARE's notes)."""
    inset = 0.01 * min(rect.width, rect.height) + 1
    w, h = int(rect.width - 2 * inset), int(rect.height - 2 * inset)
    if w < 20 or h < 20:
        return None
    u, v = rect.axes
    c = np.array([rect.cx, rect.cy])
    x0, y0 = -w / 2, -h / 2
    m = np.array([[u[0], v[0], c[0] + x0 * u[0] + y0 * v[0]],
                  [u[1], v[1], c[1] + x0 * u[1] + y0 * v[1]]], np.float32)
    sub = cv2.warpAffine(lab, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    inside = _prints_on(sub, min_sides=3, nested=False)
    if inside is None or np.linalg.norm(inside.colour - outer) < NESTED_CONTRAST:
        return None  # framed all round in the page's own colour: a print's white border
    inner = inside.rects
    if not inner or min(inside.surround) < NESTED_SURROUND:
        return None  # no prints on it, or patches of a picture rather than prints
    if len(inner) == 1:
        corners = inner[0].corners()
        margins = (corners[:, 0].min(), w - corners[:, 0].max(), corners[:, 1].min(),
                   h - corners[:, 1].max())
        if max(margins) < BORDER_SHARE * min(w, h):
            return None  # a photo in a narrow frame all round: a print's white border
    out = []
    for r in inner:
        p = c + (r.cx + x0) * u + (r.cy + y0) * v
        out.append(PrintRect(float(p[0]), float(p[1]), r.width, r.height, r.angle + rect.angle))
    return out
