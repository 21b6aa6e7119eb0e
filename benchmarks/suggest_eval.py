"""Where should I click? Hints at the suggested points against hints at random points.

    python benchmarks/suggest_eval.py --split eval                # the issue's number
    python benchmarks/suggest_eval.py --split train --limit 40    # while developing
    python benchmarks/suggest_eval.py --split train --sweep power=0.5,1,2 spacing=2,3,4

For each photo (the evaluator's 256×256 ground truth), ``-n`` hints (default 5) with
their true colours go at: random points (``model.hints.sample_hints``, seeded per photo:
each a patch of 1-9 px holding the patch's true mean a/b), the points
``model.memory.suggest`` suggests, and the most uncertain points (the model's expected
error, the places 8 px apart); the suggested and uncertain hints take the random hints'
patch sizes, one by one, and their true colours by the same rule. Each output goes
through ``Colorizer.predict``; the gain of each is its paired PSNR gain over the
automatic colours (``EvalRow.psnr_gain``, 95% interval), and the ratio of the mean gains
has a 95% bootstrap interval over the photos.

``--split train``: the grouped validation split of ``../shared/data/train`` (3%), every
source; ``--split eval``: ``../shared/data/eval`` (imagenet and lfw). ``--sweep`` (train
only) scores a grid of ``power`` and ``spacing``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"


def photos(split: str, limit: int | None) -> list[Path]:
    from model.io.files import list_images

    if split == "eval":
        paths = list_images(DATA / "eval" / "imagenet") + list_images(DATA / "eval" / "lfw")
    else:
        from model.training.data import split_grouped

        paths = split_grouped(list_images(DATA / "train"), 0.03)[1]
    if limit and len(paths) > limit:  # evenly through the list: every source keeps its share
        paths = [paths[i] for i in np.linspace(0, len(paths) - 1, limit).round().astype(int)]
    return paths


def true_hint(ab: np.ndarray, x: float, y: float, side_rel: float):
    """A hint at (x, y) whose patch (side relative to the longer side, as ``sample_hints``
    makes them) holds the true mean a/b there."""
    from model.hints import Hint

    _, H, W = ab.shape
    side = max(1, int(round(side_rel * max(H, W))))
    cy, cx = min(H - 1, int(y * H)), min(W - 1, int(x * W))
    y0, x0 = max(0, min(H - side, cy - side // 2)), max(0, min(W - side, cx - side // 2))
    a, b = ab[:, y0:y0 + side, x0:x0 + side].reshape(2, -1).mean(1) * 128.0
    return Hint((x0 + side / 2) / W, (y0 + side / 2) / H, float(a), float(b), side / max(H, W))


def most_uncertain(analysis, count: int) -> list[tuple[float, float]]:
    """The ``count`` places of highest expected error, at least 8 px of the grid apart."""
    from model.memory.suggest import doubt_map

    d = doubt_map(analysis).copy()
    h, w = d.shape
    out = []
    for _ in range(count):
        y, x = np.unravel_index(int(np.argmax(d)), d.shape)
        out.append(((x + 0.5) / w, (y + 0.5) / h))
        d[max(0, y - 8):y + 9, max(0, x - 8):x + 9] = -1
    return out


def run(colorizer, truths, analyses, plain, count: int, settings: dict) -> dict:
    from model import color
    from model.hints import sample_hints
    from model.memory.suggest import suggest
    from model.training.evaluate import score_methods

    outs = {"random": [], "suggested": [], "most uncertain": []}
    for i, (t, an) in enumerate(zip(truths, analyses)):
        ab = color.normalise_ab(color.rgb_to_lab(t)[..., 1:]).transpose(2, 0, 1)
        rand = sample_hints(ab, np.random.default_rng(i), count)
        sides = [h.size for h in rand]
        sugg, _ = suggest(an, count, **settings)
        places = {"suggested": [(s.x, s.y) for s in sugg],
                  "most uncertain": most_uncertain(an, count)}
        gray = color.gray_to_rgb(color.luminance(t))
        outs["random"].append(colorizer.predict(gray, rand).render())
        for name, pts in places.items():
            hints = [true_hint(ab, x, y, s) for (x, y), s in zip(pts, sides)]
            outs[name].append(colorizer.predict(gray, hints).render())
    rows = score_methods(truths, {"automatic": plain, **outs})
    base = rows[1]
    gains = {r.name: r.psnr_gain(base) for r in rows[2:]}
    each = {r.name: np.asarray(r.psnr_each) - np.asarray(base.psnr_each) for r in rows[2:]}
    return {"gains": gains, "each": each}


def ratio_interval(num: np.ndarray, den: np.ndarray, draws: int = 2000) -> tuple[float, float, float]:
    """mean(num) / mean(den) and its 95% paired bootstrap interval."""
    rng = np.random.default_rng(0)
    n = len(num)
    idx = rng.integers(0, n, (draws, n))
    r = num[idx].mean(1) / den[idx].mean(1)
    return float(num.mean() / den.mean()), *map(float, np.percentile(r, [2.5, 97.5]))


def describe(res: dict, count: int) -> list[str]:
    lines = [f"{name}: {g:+.3f} ± {h:.3f} dB" for name, (g, h) in res["gains"].items()]
    rand = res["each"]["random"]
    for name in ("suggested", "most uncertain"):
        r, lo, hi = ratio_interval(res["each"][name], rand)
        lines.append(f"{name} / random ({count} hints): {r:.2f}× (95% {lo:.2f}–{hi:.2f})")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("train", "eval"), required=True)
    ap.add_argument("--limit", type=int)
    ap.add_argument("-n", type=int, default=5, help="hints per photo (default 5)")
    ap.add_argument("--sweep", nargs="+", metavar="KEY=V1,V2", help="power, spacing (train only)")
    args = ap.parse_args(argv)
    if args.sweep and args.split != "train":
        ap.error("settings are chosen on training photos only: --sweep needs --split train")

    from model import color
    from model.colorizer import Colorizer
    from model.training.evaluate import load_ground_truth

    colorizer = Colorizer(device="cpu")
    truths = load_ground_truth(photos(args.split, args.limit))
    t0 = time.time()
    analyses = [colorizer.analyse(color.luminance(t)) for t in truths]
    plain = [colorizer.predict(color.gray_to_rgb(color.luminance(t))).render() for t in truths]
    print(f"{args.split}: {len(truths)} photos, prepared in {time.time() - t0:.0f} s", flush=True)
    grid = {}
    for word in args.sweep or []:
        key, _, values = word.partition("=")
        grid[key] = [int(v) if key == "spacing" else float(v) for v in values.split(",")]
    for values in itertools.product(*grid.values()):
        settings = dict(zip(grid, values))
        t0 = time.time()
        res = run(colorizer, truths, analyses, plain, args.n, settings)
        print(f"{settings or 'defaults'} ({time.time() - t0:.0f} s)")
        for line in describe(res, args.n):
            print("   ", line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
