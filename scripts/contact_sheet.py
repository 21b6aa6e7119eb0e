"""A contact sheet of before/after pairs: the photos given, colorized by a model.

    python scripts/contact_sheet.py PHOTO... -o docs/historical.png [--model CKPT] [--height 240]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from model.colorizer import Colorizer
from model.imageio import read_photo, write_photo


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("photos", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--columns", type=int, default=2, help="pairs per row")
    args = ap.parse_args(argv)
    colorizer = Colorizer(args.model, device="auto")
    tiles = []
    for path in args.photos:
        rgb = read_photo(path).rgb
        out = colorizer.colorize(rgb)
        h = args.height
        w = max(1, round(rgb.shape[1] * h / rgb.shape[0]))
        pair = [cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA) for x in (rgb, out)]
        gap = np.ones((h, 4, 3), np.float32)
        tiles.append(np.concatenate([pair[0], gap, pair[1]], axis=1))
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
