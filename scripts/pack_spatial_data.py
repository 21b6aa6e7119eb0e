"""Pack the spatial model's training photos small enough to travel to a GPU machine.

The device tool carries at most 64 MiB a call, so the photos go as WebP at a short side
of 128 (the training crop; 22,000 photos come to about 80 MB) in ``--parts`` folders of
about equal size, one per call: ``OUT/part1/train/<source>/...``. The grouped validation
split (``model.training.data.split_grouped``, the photos every setting is chosen on) is
left out, so a model trained on the pack never sees them:

    python scripts/pack_spatial_data.py ../shared/data/train -o .gpu --parts 2

Never point it at ``eval/``.
"""

from __future__ import annotations

import argparse
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2

from model.io.files import list_images
from model.training.data import split_grouped


def _shrunk_webp(path: Path, side: int, quality: int) -> bytes | None:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    h, w = bgr.shape[:2]
    s = side / min(h, w)
    if s < 1:
        bgr = cv2.resize(bgr, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, quality])
    return buf.tobytes() if ok else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train", type=Path, help="the training folder (../shared/data/train)")
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--side", type=int, default=128)
    ap.add_argument("--quality", type=int, default=80)
    ap.add_argument("--val", type=float, default=0.03, help="the validation share left out")
    args = ap.parse_args(argv)
    if "eval" in args.train.resolve().parts:
        ap.error("never train on eval/")
    train, val = split_grouped(list_images(args.train), args.val)
    random.Random(0).shuffle(train)
    skipped = 0
    with ThreadPoolExecutor() as pool:
        packed = pool.map(lambda p: _shrunk_webp(p, args.side, args.quality), train)
        for i, (path, data) in enumerate(zip(train, packed)):
            if data is None:
                skipped += 1
                continue
            rel = path.relative_to(args.train).with_suffix(".webp")
            dest = args.out / f"part{i % args.parts + 1}" / "train" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    print(f"packed {len(train) - skipped} photos into {args.parts} parts under {args.out} "
          f"({len(val)} validation photos left out, {skipped} unreadable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
