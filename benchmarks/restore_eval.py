"""How much restoring helps faded and dusty prints, and how little it touches good ones
(docs/album-pages.md). Every photo is made black and white first (Lab L kept); scores
are PSNR on L (0-100) against that original.

Photos are resized to a scan's size first (``--scan-side``, 1000 px).

Tone: each photo faded (contrast 50-70%, black lifted, sepia, yellowed or no cast;
``model.album.ageing``) and restored; the gain is PSNR(restored) - PSNR(faded). Good
photos: the original with a scanner's noise (2/255) and 8-bit levels, restored; how far
its PSNR moves.

Dust: specks and scratches drawn on each photo; the gain in PSNR, and the share of the
damaged pixels that were found (also of those changed by VISIBLE or more). Good photos:
as above, and the share of pixels touched.

    python benchmarks/restore_eval.py --photos ../shared/data/train --limit 300   # tuning
    python benchmarks/restore_eval.py --photos ../shared/data/eval                # report
    python benchmarks/restore_eval.py --calibrate --photos ../shared/data/train   # levels
    python benchmarks/restore_eval.py --sheet out.png --photos ../shared/data/historical_bw
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from model import color  # noqa: E402
from model.album.ageing import damaged, faded, gray  # noqa: E402
from model.album.dust import clean_damage, find_damage  # noqa: E402
from model.album.tone import measure_tone, restore_tone  # noqa: E402


def psnr_L(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((color.luminance(a) - color.luminance(b)) ** 2))
    return 10 * math.log10(100.0 ** 2 / mse) if mse > 0 else float("inf")


SCAN_NOISE = 2.0 / 255  # a flatbed's noise at 8 bits: 1-3 levels
# L: a change that shows. A pixel counts as damaged from 2 levels of 255 (about 0.8 L);
# a scratch over a tone like its own (a dark line over a black suit) changes it by less
# than this, and nothing on the photo says it is there
VISIBLE = 3.0


def scanned(rgb: np.ndarray, rng) -> np.ndarray:
    """A photo as a scanner gives it back: SCAN_NOISE, 8-bit levels."""
    noisy = rgb + rng.normal(0, SCAN_NOISE, rgb.shape).astype(np.float32)
    return (np.clip(np.rint(noisy * 255), 0, 255) / 255).astype(np.float32)


def load(folder: Path, limit: int, seed: int, max_side: int = 0, min_side: int = 240):
    """Up to ``limit`` photos picked at random, at least ``min_side`` px on their short
    side (train/'s 150 px thumbnails, blown up to a scan's size, are JPEG blocks)."""
    from model.io.files import list_images
    from model.io.imageio import ImageReadError, read_photo

    paths = list_images(folder)
    random.Random(seed).shuffle(paths)
    taken = 0
    for path in paths:
        if taken == limit:
            return
        try:
            rgb = read_photo(path).rgb
        except ImageReadError:
            continue
        if min(rgb.shape[:2]) < min_side:
            continue
        taken += 1
        if max_side and max(rgb.shape[:2]) > max_side:
            import cv2

            s = max_side / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        yield path, gray(rgb)


def evaluate(args) -> dict:
    rng = np.random.default_rng(args.seed)
    tone_gain, tone_good, tone_good_changed = [], [], 0
    dust_gain, dust_found, dust_good, dust_touched = [], [], [], []
    dust_found_visible = []
    n = 0
    import cv2

    for _, original in load(args.photos, args.limit, args.seed):
        n += 1
        # eval/ and train/ photos are thumbnails (150-500 px); a print is scanned at
        # 1000 px and more, where its detail is softer than a speck of dust
        scale = args.scan_side / max(original.shape[:2])
        original = np.clip(cv2.resize(original, None, fx=scale, fy=scale,
                                      interpolation=cv2.INTER_CUBIC), 0, 1)
        # tone
        old = scanned(faded(original, rng), rng)
        fixed, _ = restore_tone(old)
        tone_gain.append(psnr_L(fixed, original) - psnr_L(old, original))
        good = scanned(original, rng)
        fixed, change = restore_tone(good)
        tone_good_changed += change.changed
        tone_good.append(psnr_L(fixed, original) - psnr_L(good, original))
        # dust
        hurt, truth = damaged(original, rng)
        visible = truth & (np.abs(color.luminance(hurt) - color.luminance(original)) >= VISIBLE)
        hurt = scanned(hurt, rng)
        found = find_damage(hurt)
        dust_gain.append(psnr_L(clean_damage(hurt, found), original) - psnr_L(hurt, original))
        dust_found.append(float((found.mask & truth).sum()) / max(int(truth.sum()), 1))
        dust_found_visible.append(float((found.mask & visible).sum()) / max(int(visible.sum()), 1))
        found = find_damage(good)
        dust_touched.append(found.share)
        dust_good.append(psnr_L(clean_damage(good, found), original) - psnr_L(good, original))

    def stats(values, digits=3):
        v = np.array(values, np.float64)
        return {"mean": round(float(v.mean()), digits), "median": round(float(np.median(v)), digits),
                "min": round(float(v.min()), digits), "max": round(float(v.max()), digits)}

    return {
        "photos": f"{n} from {args.photos}",
        "tone: faded, PSNR gain dB": stats(tone_gain),
        "tone: faded photos improved %": round(100 * float(np.mean(np.array(tone_gain) > 0)), 1),
        "tone: good photos, PSNR moved dB": stats(tone_good),
        "tone: good photos changed at all %": round(100 * tone_good_changed / max(n, 1), 1),
        "dust: damaged, PSNR gain dB": stats(dust_gain),
        "dust: damaged pixels found %": stats([100 * f for f in dust_found], 1),
        f"dust: damaged pixels changed by {VISIBLE:g} L or more, found %":
            stats([100 * f for f in dust_found_visible], 1),
        "dust: good photos, pixels touched %": stats([100 * t for t in dust_touched], 3),
        "dust: good photos, PSNR moved dB": stats(dust_good),
    }


def calibrate(args) -> dict:
    """The levels of unfaded and faded photos: where TARGET_* and BLACK_LIFTED come from."""
    rng = np.random.default_rng(args.seed)
    blacks, whites, faded_blacks, casts, faded_casts = [], [], [], 0, 0
    n = 0
    for _, original in load(args.photos, args.limit, args.seed, max_side=512):
        n += 1
        b, w, c = measure_tone(original)
        blacks.append(b)
        whites.append(w)
        casts += c
        fb, _, fc = measure_tone(faded(original, rng))
        faded_blacks.append(fb)
        faded_casts += fc
    return {"photos": n,
            "black (P0.5 of L) median, p90, p99": np.percentile(blacks, (50, 90, 99)).round(2).tolist(),
            "white (P99.5 of L) median": round(float(np.median(whites)), 2),
            "faded black p1, p5, median": np.percentile(faded_blacks, (1, 5, 50)).round(2).tolist(),
            "gray photos with a cast found %": round(100 * casts / n, 2),
            "faded photos with a cast found % (2/3 have one)": round(100 * faded_casts / n, 1)}


def sheet(args) -> None:
    """Before and after (tone restored, dust cleaned) of photos, in rows, to look at."""
    import cv2

    rows = []
    for path, original in load(args.photos, args.limit, args.seed, max_side=420):
        toned, change = restore_tone(original)
        found = find_damage(toned)
        clean = clean_damage(toned, found)
        marks = clean.copy()
        marks[found.mask] = (1.0, 0.0, 0.0)
        h = 300
        tiles = [cv2.resize(x, (int(x.shape[1] * h / x.shape[0]), h), interpolation=cv2.INTER_AREA)
                 for x in (original, marks, clean)]
        row = np.concatenate(tiles, axis=1)
        print(f"{path.name}: {change.describe()}; {found.describe()}")
        rows.append(row)
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows]
    out = (np.concatenate(rows, axis=0) * 255).astype(np.uint8)
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.sheet), out[..., ::-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, default=ROOT.parent / "shared/data/train")
    ap.add_argument("--limit", type=int, default=450)
    ap.add_argument("--seed", type=int, default=27)
    ap.add_argument("--scan-side", type=int, default=1000,
                    help="photos are resized to this long side, as a scan of a print")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--sheet", type=Path, help="write a before/after sheet here instead")
    args = ap.parse_args(argv)
    if args.sheet:
        sheet(args)
        return 0
    result = calibrate(args) if args.calibrate else evaluate(args)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
