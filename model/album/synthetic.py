"""Album pages with known answers, for the tests and ``benchmarks/split_pages.py``:
photos made into prints (black and white, sepia or colour; some with a white border; one
on a lid page with a pale sky running into its top edge) and laid, each a little turned,
on a scanner lid lit unevenly, cream album paper with photo corners, black album paper
or woven linen, with the shadow a print's edge throws and the scanner's blur and noise.
Sizes are in millimetres at a given dpi, so a test page at 60 dpi is the same page as a
benchmark one at 300 dpi. ``score_page`` says how well a page's prints were found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from model.album.cut import cut_print
from model.album.rect import PrintRect

PAPERS = ("lid", "cream", "black", "linen")
A4_MM = (210.0, 297.0)

# common print sizes, mm (either way up)
PRINT_SIZES_MM = ((89, 127), (102, 152), (90, 90), (63, 89), (76, 102))


@dataclass
class SyntheticPrint:
    rect: PrintRect          # where it lies on the page (page pixels), the truth
    image: np.ndarray        # the print itself, straight (float RGB), border included
    bordered: bool = False
    pale_edge: bool = False
    cornered: bool = False


@dataclass
class SyntheticPage:
    rgb: np.ndarray
    paper: str
    dpi: int
    prints: list[SyntheticPrint] = field(default_factory=list)


def _mm(mm: float, dpi: int) -> float:
    return mm * dpi / 25.4


def _smooth_field(shape: tuple[int, int], sigma_px: float, rng) -> np.ndarray:
    """Random low-frequency field with unit spread (mottled paper, uneven light)."""
    small = (max(2, int(shape[0] / max(sigma_px, 1) * 2)), max(2, int(shape[1] / max(sigma_px, 1) * 2)))
    noise = rng.standard_normal(small).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.0)
    field_ = cv2.resize(noise, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return field_ / (field_.std() + 1e-6)


def paper(kind: str, height: int, width: int, dpi: int, rng) -> np.ndarray:
    """An empty page of ``kind`` (one of PAPERS), float RGB."""
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    if kind == "lid":
        base = np.array([0.94, 0.95, 0.97], np.float32) * rng.uniform(0.96, 1.03)
        falloff = rng.uniform(0.04, 0.15)
        power = rng.uniform(2.0, 4.0)
        light = 1 - falloff * (y if rng.random() < 0.5 else 1 - y) ** power \
            - rng.uniform(0.0, 0.04) * x ** 2
        page = base * light[..., None]
    elif kind == "cream":
        base = np.array([0.93, 0.88, 0.76], np.float32) * rng.uniform(0.93, 1.02)
        mottle = 1 + 0.02 * _smooth_field((height, width), _mm(15, dpi), rng)
        page = base * (mottle * (1 - 0.05 * y ** 3))[..., None]
    elif kind == "black":
        base = np.array([0.09, 0.085, 0.08], np.float32) * rng.uniform(0.7, 1.3)
        mottle = 1 + 0.05 * _smooth_field((height, width), _mm(10, dpi), rng)
        page = base * mottle[..., None]
    elif kind == "linen":
        choices = ([0.80, 0.76, 0.66], [0.62, 0.66, 0.60], [0.60, 0.63, 0.70], [0.72, 0.70, 0.70])
        base = np.array(choices[rng.integers(len(choices))], np.float32) * rng.uniform(0.9, 1.05)
        period = _mm(rng.uniform(0.5, 0.9), dpi)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        rows = 1 + 0.06 * rng.standard_normal(int(height / period) + 2).astype(np.float32)
        cols = 1 + 0.06 * rng.standard_normal(int(width / period) + 2).astype(np.float32)
        warp = (0.5 + 0.5 * np.sin(2 * np.pi * xx / period)) * rows[(yy / period).astype(int)] \
            + (0.5 + 0.5 * np.sin(2 * np.pi * yy / period)) * cols[(xx / period).astype(int)]
        weave = 1 + 0.05 * (warp - warp.mean())
        page = base * weave[..., None] * (1 + 0.015 * _smooth_field((height, width), _mm(20, dpi), rng))[..., None]
    else:
        raise ValueError(f"unknown paper {kind!r}; one of {PAPERS}")
    return np.clip(page, 0, 1).astype(np.float32)


def _as_print_content(photo: np.ndarray, size: tuple[int, int], tone: str) -> np.ndarray:
    """The photo (float RGB) cropped to the print's shape, resized, in the print's tone."""
    w, h = size
    ph, pw = photo.shape[:2]
    if (pw > ph) != (w > h) and w != h:
        photo = np.ascontiguousarray(np.rot90(photo))
        ph, pw = pw, ph
    scale = max(w / pw, h / ph)
    cw, ch = min(pw, int(math.ceil(w / scale))), min(ph, int(math.ceil(h / scale)))
    x0, y0 = (pw - cw) // 2, (ph - ch) // 2
    crop = photo[y0:y0 + ch, x0:x0 + cw]
    img = cv2.resize(np.ascontiguousarray(crop, np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img, 0, 1)
    if tone != "colour":
        gray = img @ np.array([0.299, 0.587, 0.114], np.float32)
        img = np.repeat(gray[..., None], 3, axis=2)
        if tone == "sepia":
            img = img * np.array([1.0, 0.9, 0.72], np.float32) + np.array([0.0, 0.02, 0.04], np.float32)
    return np.clip(img, 0, 1).astype(np.float32)


def _pale_sky(img: np.ndarray, page_colour: np.ndarray, rng) -> np.ndarray:
    """The top third of a print turned into a pale, nearly page-white sky."""
    h = img.shape[0]
    depth = int(h * rng.uniform(0.25, 0.35))
    t = np.clip(np.arange(h, dtype=np.float32) / depth, 0, 1)
    blend = (1 - t * t * (3 - 2 * t))[:, None, None]  # 1 at the top edge, 0 below
    # "nearly the page's colour": 1.5 to 4.5% darker than the lid (ΔE about 1.5-4)
    sky_level = page_colour * rng.uniform(0.955, 0.985)
    sky = np.clip(sky_level, 0, 1) * (1 - 0.03 * t[:, None, None])
    return (img * (1 - blend) + sky * blend).astype(np.float32)


def _make_print(photo: np.ndarray, size_mm: tuple[float, float], dpi: int, rng, *,
                bordered: bool, pale_edge: bool, page_colour: np.ndarray) -> np.ndarray:
    w, h = int(round(_mm(size_mm[0], dpi))), int(round(_mm(size_mm[1], dpi)))
    tone = rng.choice(["bw", "sepia", "colour"], p=[0.6, 0.2, 0.2])
    border = int(round(min(w, h) * rng.uniform(0.03, 0.06))) if bordered else 0
    content = _as_print_content(photo, (w - 2 * border, h - 2 * border), tone)
    if pale_edge:
        content = _pale_sky(content, page_colour, rng)
    if not border:
        return content
    white = np.array([0.97, 0.965, 0.94], np.float32) * rng.uniform(0.97, 1.02)
    out = np.empty((h, w, 3), np.float32)
    out[:] = np.clip(white, 0, 1)
    out[border:h - border, border:w - border] = content
    return out


def _layout(n: int, page_w: float, page_h: float, rng, close: bool) -> list[tuple[float, float, float, float]]:
    """Cells (x, y, w, h, page pixels) for n prints."""
    grids = {1: (1, 1), 2: (1, 2), 3: (1, 3) if rng.random() < 0.4 else (2, 2), 4: (2, 2),
             5: (2, 3)}
    cols, rows = grids[n]
    margin = 0.03 * page_w if close else rng.uniform(0.04, 0.08) * page_w
    cw, ch = (page_w - 2 * margin) / cols, (page_h - 2 * margin) / rows
    cells = [(margin + c * cw, margin + r * ch, cw, ch) for r in range(rows) for c in range(cols)]
    order = rng.permutation(len(cells))[:n]
    return [cells[i] for i in sorted(order)]


def album_page(photos: list[np.ndarray], kind: str, rng, dpi: int = 300, *,
               size_mm: tuple[float, float] = A4_MM, close: bool = False,
               borders: float = 0.3, pale_edge: bool | None = None,
               corners: bool | None = None, max_turn: float = 10.0) -> SyntheticPage:
    """A page of ``kind`` holding one print per photo (float RGB), each turned by up to
    ``max_turn`` degrees. ``borders``: the share of prints with a white border;
    ``pale_edge``: one print's top runs into a page-coloured sky (default: on lids);
    ``corners``: photo corners (default: on cream always, on black and linen often)."""
    W, H = int(round(_mm(size_mm[0], dpi))), int(round(_mm(size_mm[1], dpi)))
    page = paper(kind, H, W, dpi, rng)
    if pale_edge is None:
        pale_edge = kind == "lid"
    if corners is None:
        corners = kind == "cream" or (kind in ("black", "linen") and rng.random() < 0.4)
    page_colour = np.median(page[::16, ::16].reshape(-1, 3), axis=0)
    cells = _layout(len(photos), W, H, rng, close)
    out = SyntheticPage(page, kind, dpi)
    pale_index = int(rng.integers(len(photos))) if pale_edge else -1
    for i, (photo, (x, y, cw, ch)) in enumerate(zip(photos, cells)):
        angle = float(rng.uniform(-max_turn, max_turn))
        short, long_ = sorted(PRINT_SIZES_MM[rng.integers(len(PRINT_SIZES_MM))])
        size = (long_, short) if photo.shape[1] >= photo.shape[0] else (short, long_)
        wp, hp = _mm(size[0], dpi), _mm(size[1], dpi)
        t = math.radians(abs(angle))
        bw, bh = wp * math.cos(t) + hp * math.sin(t), wp * math.sin(t) + hp * math.cos(t)
        gap = _mm(rng.uniform(2.0, 4.0), dpi) if close else _mm(rng.uniform(5, 12), dpi)
        fit = min((cw - gap) / bw, (ch - gap) / bh, 1.0 if not close else 10.0)
        wp, hp = wp * fit, hp * fit
        bw, bh = bw * fit, bh * fit
        cx = x + cw / 2 + rng.uniform(-1, 1) * max(0.0, (cw - gap - bw) / 2)
        cy = y + ch / 2 + rng.uniform(-1, 1) * max(0.0, (ch - gap - bh) / 2)
        bordered = (i != pale_index) and rng.random() < borders
        img = _make_print(photo, (wp * 25.4 / dpi, hp * 25.4 / dpi), dpi, rng,
                          bordered=bordered, pale_edge=i == pale_index, page_colour=page_colour)
        rect = PrintRect(cx, cy, float(img.shape[1]), float(img.shape[0]), angle)
        if kind != "black":
            _shadow(page, rect, dpi, rng)
        _paste(page, img, rect)
        if corners:
            _photo_corners(page, rect, dpi, rng)
        out.prints.append(SyntheticPrint(rect, img, bordered, i == pale_index, corners))
    out.rgb = _scanned(page, dpi, rng)
    return out


def _placement(rect: PrintRect, w: int, h: int) -> np.ndarray:
    """The affine map from the straight print (w×h) to the page."""
    t = math.radians(rect.angle)
    u = np.array([math.cos(t), math.sin(t)])
    v = np.array([-math.sin(t), math.cos(t)])
    ox, oy = -(w - 1) / 2, -(h - 1) / 2
    return np.array([[u[0], v[0], rect.cx + ox * u[0] + oy * v[0]],
                     [u[1], v[1], rect.cy + ox * u[1] + oy * v[1]]], np.float64)


def _footprint(rect: PrintRect, shape, w: int, h: int, shift=(0.0, 0.0)):
    """The print's coverage (0..1, anti-aliased) over its bounding box on the page."""
    pts = rect.corners() + np.array(shift)
    x0 = max(0, int(pts[:, 0].min()) - 3)
    y0 = max(0, int(pts[:, 1].min()) - 3)
    x1 = min(shape[1], int(pts[:, 0].max()) + 4)
    y1 = min(shape[0], int(pts[:, 1].max()) + 4)
    m = _placement(rect, w, h)
    m[:, 2] += np.array(shift) - np.array([x0, y0])
    # a mask one pixel larger all round, warped: its edge pixels are partly covered
    ones = np.ones((h, w), np.float32)
    cover = cv2.warpAffine(ones, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return cover, m, (x0, y0, x1, y1)


def _paste(page: np.ndarray, img: np.ndarray, rect: PrintRect) -> None:
    h, w = img.shape[:2]
    cover, m, (x0, y0, x1, y1) = _footprint(rect, page.shape, w, h)
    warped = cv2.warpAffine(img, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    region = page[y0:y1, x0:x1]
    region[:] = region * (1 - cover[..., None]) + warped * cover[..., None]


def _shadow(page: np.ndarray, rect: PrintRect, dpi: int, rng) -> None:
    """The soft shadow a print's edge throws on the page (the lamp shines from one side)."""
    shift = (_mm(rng.uniform(0.05, 0.3), dpi), _mm(rng.uniform(0.1, 0.4), dpi))
    cover, _, (x0, y0, x1, y1) = _footprint(rect, page.shape, int(rect.width), int(rect.height), shift)
    cover = cv2.GaussianBlur(cover, (0, 0), max(0.5, _mm(0.15, dpi)))
    strength = rng.uniform(0.1, 0.25)
    page[y0:y1, x0:x1] *= (1 - strength * cover)[..., None]


def _photo_corners(page: np.ndarray, rect: PrintRect, dpi: int, rng) -> None:
    """Four paper pockets over the print's corners, reaching a little past its edges."""
    colours = ([0.05, 0.05, 0.05], [0.22, 0.15, 0.10], [0.76, 0.62, 0.30], [0.88, 0.88, 0.86])
    colour = np.array(colours[rng.integers(len(colours))], np.float32)
    leg = _mm(rng.uniform(12, 17), dpi)
    over = _mm(rng.uniform(0.5, 1.0), dpi)
    u, v = rect.axes
    c = np.array([rect.cx, rect.cy])
    hw, hh = rect.width / 2 + over, rect.height / 2 + over
    scale = 4  # drawn at 4× for smooth edges, then averaged down
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        corner = c + sx * hw * u + sy * hh * v
        tri = np.array([corner, corner - sx * leg * u, corner - sy * leg * v])
        x0, y0 = np.floor(tri.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(tri.max(axis=0)).astype(int) + 2
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, page.shape[1]), min(y1, page.shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros(((y1 - y0) * scale, (x1 - x0) * scale), np.uint8)
        pts = np.round((tri - [x0, y0]) * scale).astype(np.int32)
        cv2.fillConvexPoly(mask, pts, 255)
        cover = cv2.resize(mask.astype(np.float32) / 255, (x1 - x0, y1 - y0),
                           interpolation=cv2.INTER_AREA)[..., None]
        region = page[y0:y1, x0:x1]
        region[:] = region * (1 - cover) + colour * cover


def _scanned(page: np.ndarray, dpi: int, rng) -> np.ndarray:
    """The scanner's slight blur and noise, and 8-bit levels."""
    page = cv2.GaussianBlur(page, (0, 0), max(0.3, 0.4 * dpi / 300))
    page += rng.normal(0, rng.uniform(0.6, 1.2) / 255, page.shape).astype(np.float32)
    return (np.clip(np.rint(page * 255), 0, 255) / 255).astype(np.float32)


def blank_page(kind: str, rng, dpi: int = 300, size_mm=A4_MM) -> SyntheticPage:
    W, H = int(round(_mm(size_mm[0], dpi))), int(round(_mm(size_mm[1], dpi)))
    return SyntheticPage(_scanned(paper(kind, H, W, dpi, rng), dpi, rng), kind, dpi)


def photo_scan(photo: np.ndarray, rng, dpi: int = 300, size_mm=(102.0, 152.0)) -> SyntheticPage:
    """A print scanned on its own and cropped to it: no page around it."""
    w, h = int(round(_mm(size_mm[0], dpi))), int(round(_mm(size_mm[1], dpi)))
    if photo.shape[1] > photo.shape[0]:
        w, h = h, w
    img = _as_print_content(photo, (w, h), "bw")
    page = _scanned(img, dpi, rng)
    rect = PrintRect((w - 1) / 2, (h - 1) / 2, float(w), float(h), 0.0)
    return SyntheticPage(page, "none", dpi, [SyntheticPrint(rect, img)])


# ----- scoring


def angle_error(found: float, truth: float) -> float:
    """Degrees between two turns of a rectangle (a quarter turn apart are the same)."""
    return abs((found - truth + 45.0) % 90.0 - 45.0)


def overlap(a: PrintRect, b: PrintRect) -> float:
    """Intersection over union of two rectangles."""
    pa, pb = a.corners().astype(np.float32), b.corners().astype(np.float32)
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = a.area + b.area - inter
    return float(inter / union) if union > 0 else 0.0


def correlation(cut: np.ndarray, truth: np.ndarray) -> float:
    """Pearson correlation of the gray of a cut, resized to the truth's size, with the
    truth's: 1 for a print found whole and straight, lower when a part is missing,
    turned or shifted."""
    h, w = truth.shape[:2]
    a = cv2.resize(np.ascontiguousarray(cut, np.float32), (w, h), interpolation=cv2.INTER_AREA)
    ga = a.mean(axis=2) if a.ndim == 3 else a
    gb = truth.mean(axis=2) if truth.ndim == 3 else truth
    ga, gb = ga - ga.mean(), gb - gb.mean()
    denom = math.sqrt(float((ga * ga).sum()) * float((gb * gb).sum()))
    return float((ga * gb).sum() / denom) if denom > 0 else 0.0


def side_errors(found: PrintRect, truth: PrintRect) -> list[float]:
    """How far each side of ``found`` (left, right, top, bottom) lies from the same side
    of ``truth``, in pixels along ``truth``'s axes."""
    u, v = truth.axes
    shift = np.array([found.cx - truth.cx, found.cy - truth.cy])
    a, b = float(shift @ u), float(shift @ v)
    return [abs(a - (found.width - truth.width) / 2), abs(a + (found.width - truth.width) / 2),
            abs(b - (found.height - truth.height) / 2), abs(b + (found.height - truth.height) / 2)]


@dataclass
class PageScore:
    prints: int = 0
    whole: int = 0                   # found, with correlation ≥ WHOLE_CORRELATION
    extra: int = 0                   # cuts that match no print
    angle_errors: list[float] = field(default_factory=list)
    side_errors: list[float] = field(default_factory=list)  # the worst side of each found
    correlations: list[float] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)   # indices of prints not found whole


WHOLE_CORRELATION = 0.9


def score_page(page: SyntheticPage, found: list[PrintRect]) -> PageScore:
    """Match each print to the cut that overlaps it most (IoU ≥ 0.5) and compare."""
    score = PageScore(prints=len(page.prints))
    used: set[int] = set()
    for i, p in enumerate(page.prints):
        best, best_iou = None, 0.5
        for j, r in enumerate(found):
            if j in used:
                continue
            iou = overlap(p.rect, r)
            if iou >= best_iou:
                best, best_iou = j, iou
        if best is None:
            score.missed.append(i)
            score.correlations.append(0.0)
            continue
        used.add(best)
        r = found[best]
        # against the print as the page shows it: photo corners over it, scanner noise
        corr = correlation(cut_print(page.rgb, r), cut_print(page.rgb, p.rect))
        score.correlations.append(corr)
        score.angle_errors.append(angle_error(r.angle, p.rect.angle))
        score.side_errors.append(max(side_errors(r, p.rect)))
        if corr >= WHOLE_CORRELATION:
            score.whole += 1
        else:
            score.missed.append(i)
    score.extra = len(found) - len(used)
    return score
