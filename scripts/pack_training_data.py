"""Pack a training folder into a small, self-contained copy for a remote GPU machine.

Each photo is written at a reduced size (short side ``--side``) as JPEG, and the frozen
branches' outputs are computed here from the *original* photo and stored in a branch
cache under the packed file's hash, so ``colorgui train PACK --cache-dir PACK/cache``
needs neither the originals nor the pretrained weights.

    python scripts/pack_training_data.py SRC... -o PACK --limit-per-folder lfw=4000
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
from pathlib import Path

import cv2
from PIL import Image

from model.nets.backbones import BranchSet
from model.training.branch_cache import BranchCache
from model.nets.branch_input import branch_gray
from model.io.files import list_images
from model.io.imageio import ImageReadError, read_photo
from model import color
from model.nets.network import BUNDLED_BRANCHES


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sources", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--side", type=int, default=144)
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--limit", action="append", default=[],
                    help="NAME=N: at most N photos from the source folder called NAME")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    limits = dict((k, int(v)) for k, v in (s.split("=") for s in args.limit))
    branches = BranchSet(BUNDLED_BRANCHES)
    cache = BranchCache(args.out / "cache")
    rng = random.Random(args.seed)
    jobs = []
    for src in args.sources:
        files = list_images(src)
        rng.shuffle(files)
        jobs += [(src, f) for f in files[: limits.get(src.name, len(files))]]
    done = 0
    for src, path in jobs:
        rel = path.relative_to(src.parent).with_suffix(".jpg")
        dest = args.out / "photos" / rel
        if dest.exists():
            continue
        try:
            photo = read_photo(path)
        except ImageReadError as exc:
            print(f"skip {exc}", file=sys.stderr)
            continue
        rgb = photo.rgb
        h, w = rgb.shape[:2]
        s = args.side / min(h, w)
        small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        buf = io.BytesIO()
        Image.fromarray(color.to_uint8(small)).save(buf, "JPEG", quality=args.quality)
        data = buf.getvalue()
        digest = hashlib.sha1(data).hexdigest()
        feats = branches.all_features([branch_gray(color.luminance(rgb))])[0]
        for name, f in zip(BUNDLED_BRANCHES, feats):
            cache.put(digest, name, f)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        done += 1
        if done % 200 == 0:
            cache.save()
            print(f"{done}/{len(jobs)}", flush=True)
    cache.save()
    print(f"packed {done} photos into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
