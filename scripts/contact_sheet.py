"""A contact sheet: each photo given, then its colorization by each model, side by side.

    python scripts/contact_sheet.py PHOTO... -o docs/historical.png [--model CKPT]... [--height 240]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from model.colorizer import Colorizer
from model.io.imageio import read_photo, write_photo


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("photos", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--model", type=Path, action="append",
                    help="a checkpoint (repeatable: one column each; default: the bundled model)")
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--columns", type=int, default=2, help="pairs per row")
    args = ap.parse_args(argv)
    colorizers = [Colorizer(m, device="auto") for m in args.model or [None]]
    tiles = []
    for path in args.photos:
        rgb = read_photo(path).rgb
        h = args.height
        w = max(1, round(rgb.shape[1] * h / rgb.shape[0]))
        gap = np.ones((h, 4, 3), np.float32)
        parts = [rgb] + [c.colorize(rgb) for c in colorizers]
        small = [cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA) for x in parts]
        tiles.append(np.concatenate([x for s in small for x in (s, gap)][:-1], axis=1))
    width = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, 8), (0, width - t.shape[1] + 12), (0, 0)), constant_values=1.0)
             for t in tiles]
    rows = [np.concatenate(tiles[i:i + args.columns] +
                           [np.ones_like(tiles[0])] * (args.columns - len(tiles[i:i + args.columns])), axis=1)
            for i in range(0, len(tiles), args.columns)]
    write_photo(args.out, np.concatenate(rows, axis=0))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
