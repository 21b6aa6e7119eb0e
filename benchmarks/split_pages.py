"""How well and how fast album pages are split into prints (docs/album-pages.md).

Accuracy, on synthetic A4 pages at 300 dpi built from a folder of photos
(``model.album.synthetic``): every paper kind (white lid lit unevenly, cream paper with
photo corners, black paper, linen), 2-5 prints a page turned by up to 10 degrees, some
with white borders, one pale sky into a print's edge per lid page, every third page with
its prints close together (2-4 mm apart); then single photos with no page around them
(must be kept whole) and empty pages (must say so). A print is found whole when the
straightened cut correlates with it at 0.9 or more; how far the worst side of each
print found lies from its edge is reported too (pixels at 300 dpi).

    python benchmarks/split_pages.py --photos ../shared/data/train   # the tuning set
    python benchmarks/split_pages.py --photos ../shared/data/eval    # the report set
    python benchmarks/split_pages.py --speed                         # 300 and 600 dpi
    python benchmarks/split_pages.py --photos ... --render docs/album-page-found.png

Speed: a 300 dpi and a 600 dpi A4 page written as PNG, each split in a fresh process
(``--runs`` times: the median; the peak memory of that process, which read the page).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from model.album.pages import EMPTY, WHOLE, find_prints  # noqa: E402
from model.album.synthetic import (PAPERS, album_page, blank_page, photo_scan,  # noqa: E402
                                   score_page)


def load_photos(folder: Path, count: int, seed: int) -> list[np.ndarray]:
    """``count`` photos picked at random (by ``seed``) under ``folder``, at least 150 px
    on their short side, as float RGB."""
    from model.io.files import list_images
    from model.io.imageio import ImageReadError, read_photo

    paths = list_images(folder)
    random.Random(seed).shuffle(paths)
    photos = []
    for path in paths:
        try:
            photo = read_photo(path)
        except ImageReadError:
            continue
        if min(photo.rgb.shape[:2]) >= 150:
            photos.append(photo.rgb)
        if len(photos) == count:
            break
    return photos


def page_plan(pages: int, seed: int):
    """(paper, prints, close) for each page: every paper kind in turn, 2-5 prints."""
    rng = random.Random(seed)
    return [(PAPERS[i % len(PAPERS)], rng.randint(2, 5), i % 3 == 2) for i in range(pages)]


def accuracy(args) -> dict:
    plan = page_plan(args.pages, args.seed)
    photos = load_photos(args.photos, sum(n for _, n, _ in plan) + args.singles, args.seed)
    rng = np.random.default_rng(args.seed)
    totals = {"pages": 0, "prints": 0, "whole": 0, "extra": 0}
    by_paper: dict[str, list[int]] = {}
    angle_errors: list[float] = []
    side_errors: list[float] = []
    seconds: list[float] = []
    failures = []
    at = 0
    for i, (paper, n, close) in enumerate(plan):
        page = album_page(photos[at:at + n], paper, rng, args.dpi, close=close)
        at += n
        start = time.perf_counter()
        found = find_prints(page.rgb)
        seconds.append(time.perf_counter() - start)
        score = score_page(page, found.prints)
        totals["pages"] += 1
        totals["prints"] += score.prints
        totals["whole"] += score.whole
        totals["extra"] += score.extra
        angle_errors += score.angle_errors
        side_errors += score.side_errors
        counts = by_paper.setdefault(paper + (" close" if close else ""), [0, 0, 0])
        counts[0] += score.prints
        counts[1] += score.whole
        counts[2] += score.extra
        if score.missed or score.extra:
            failures.append(f"page {i} ({paper}{', close' if close else ''}): missed "
                            f"{[(j, round(score.correlations[j], 3), flags(page.prints[j])) for j in score.missed]}"
                            f", {score.extra} extra")
        if args.render and i == args.render_page:
            render(page, found.prints, args.render)
    singles_whole = 0
    for photo in photos[at:at + args.singles]:
        found = find_prints(photo_scan(photo, rng, args.dpi).rgb)
        singles_whole += found.verdict == WHOLE
    blanks_empty = 0
    for paper in PAPERS:
        blanks_empty += find_prints(blank_page(paper, rng, args.dpi).rgb).verdict == EMPTY
    errors = np.array(angle_errors)
    return {
        "photos": str(args.photos), "dpi": args.dpi, **totals,
        "found whole %": round(100 * totals["whole"] / max(totals["prints"], 1), 2),
        "extra cuts %": round(100 * totals["extra"] / max(totals["prints"], 1), 2),
        "angle error mean": round(float(errors.mean()), 3) if errors.size else None,
        "angle error p95": round(float(np.percentile(errors, 95)), 3) if errors.size else None,
        "angle error max": round(float(errors.max()), 3) if errors.size else None,
        "worst side off, px median / p95": [round(float(np.percentile(side_errors, q)), 2)
                                            for q in (50, 95)] if side_errors else None,
        "by paper (prints, whole, extra)": by_paper,
        "single photos kept whole": f"{singles_whole}/{args.singles}",
        "empty pages said so": f"{blanks_empty}/{len(PAPERS)}",
        "find seconds median": round(statistics.median(seconds), 3),
        "failures": failures,
    }


def flags(p) -> str:
    return ",".join(k for k, on in (("border", p.bordered), ("pale", p.pale_edge),
                                    ("corners", p.cornered)) if on) or "plain"


def render(page, rects, path: Path, long_side: int = 900) -> None:
    """The page with each rectangle found drawn over it, numbered in reading order."""
    import cv2

    img = (np.clip(page.rgb, 0, 1) * 255).astype(np.uint8)[..., ::-1]
    scale = long_side / max(img.shape[:2])
    img = np.ascontiguousarray(cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    for n, r in enumerate(rects, 1):
        pts = np.round(r.corners() * scale).astype(np.int32)
        cv2.polylines(img, [pts], True, (40, 40, 230), 3, cv2.LINE_AA)
        cv2.putText(img, str(n), tuple(int(c) for c in pts[0] + [8, 30]),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, (40, 40, 230), 2, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


# ----- speed


def _split_once(path: str, runs: int) -> None:
    """In a fresh process: read the page, find and cut its prints, ``runs`` times."""
    from model.album.cut import cut_print
    from model.io.imageio import read_photo

    times, finds = [], []
    for _ in range(runs):
        start = time.perf_counter()
        photo = read_photo(path)
        read = time.perf_counter()
        found = find_prints(photo.rgb)
        found_at = time.perf_counter()
        cuts = [cut_print(photo.rgb, r) for r in found.prints]
        done = time.perf_counter()
        times.append((read - start, found_at - read, done - found_at, done - start))
        finds.append(len(cuts))
        del photo, cuts
    print(json.dumps({"times": times, "prints": finds, "peak_mb": _peak_mb()}))


def _peak_mb() -> float:
    """This process's peak resident memory since it started, MB. Linux's ru_maxrss
    carries the parent's peak across fork and exec (2.2 GB from building the 600 dpi
    page, which this process never held); VmHWM is this program's own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed(args) -> dict:
    from model.io.imageio import write_photo

    photos = load_photos(args.photos, 4, args.seed)
    rng = np.random.default_rng(args.seed)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dpi in (300, 600):
            page = album_page(photos, "lid", rng, dpi)
            path = Path(tmp) / f"page{dpi}.png"
            write_photo(path, page.rgb)
            del page
            run = subprocess.run([sys.executable, __file__, "--split-once", str(path),
                                  "--runs", str(args.runs)], capture_output=True, text=True,
                                 check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            result = json.loads(run.stdout.strip().splitlines()[-1])
            times = np.array(result["times"])
            out[f"{dpi} dpi"] = {
                "pixels": f"{round(210 * dpi / 25.4)}x{round(297 * dpi / 25.4)}",
                "prints": result["prints"][0],
                "read s median": round(float(np.median(times[:, 0])), 3),
                "find s median": round(float(np.median(times[:, 1])), 3),
                "cut s median": round(float(np.median(times[:, 2])), 3),
                "split (find + cut) s median": round(float(np.median(times[:, 1] + times[:, 2])), 3),
                "read + split s median": round(float(np.median(times[:, 3])), 3),
                "peak memory MB (process, page read)": round(result["peak_mb"]),
            }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, default=ROOT.parent / "shared/data/train",
                    help="photos to build the pages from (default: the tuning set)")
    ap.add_argument("--pages", type=int, default=36)
    ap.add_argument("--singles", type=int, default=6, help="photos scanned on their own")
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--seed", type=int, default=27)
    ap.add_argument("--speed", action="store_true", help="time 300 and 600 dpi pages instead")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--render", type=Path, help="draw the rectangles found on one page here")
    ap.add_argument("--render-page", type=int, default=0)
    ap.add_argument("--split-once", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.split_once:
        _split_once(args.split_once, args.runs)
        return 0
    result = speed(args) if args.speed else accuracy(args)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
