"""How much do true colour hints gain, and by which path?

    python benchmarks/hint_eval.py --eval ../shared/data/eval/imagenet --model spatial=PATH
    python benchmarks/hint_eval.py --val 0.03 --limit 150 --model old=A --model new=B

Every photo is scored at 256×256 by the project's evaluator (``model.training.evaluate``).
Hints follow issue 22's rule: random points, each holding the mean true a/b of the 5×5
patch around it, the same points for every model and row (a fixed seed per photo). For
each model and hint count the rows are: the automatic colours, the network alone with the
hints (its hint channels, and its hint guide where it has one), and the network followed
by the spreading of what the hints ask for beyond it (``model.propagate``, what the app
and the CLI do). Each row gets its paired gain over the model's automatic row with a 95%
interval. ``--val SHARE`` scores the grouped validation split of ``../shared/data/train``
(``model.training.data.split_grouped``, the photos settings are chosen on) instead of a
folder; ``--size`` runs every model at another working size too.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRAIN = ROOT.parent / "shared" / "data" / "train"
PATCH = 5  # px at the evaluator's 256²


def true_hints(rgb: np.ndarray, count: int, seed: int) -> list:
    """``count`` hints at random points of a 256² photo, each the mean true a/b of the 5×5
    patch around it."""
    from model import color
    from model.hints import Hint

    rng = np.random.default_rng(seed)
    lab = color.rgb_to_lab(rgb)
    H, W = rgb.shape[:2]
    out = []
    for _ in range(count):
        y, x = int(rng.integers(0, H - PATCH + 1)), int(rng.integers(0, W - PATCH + 1))
        a, b = lab[y:y + PATCH, x:x + PATCH, 1:].reshape(-1, 2).mean(0)
        out.append(Hint((x + PATCH / 2) / W, (y + PATCH / 2) / H, float(a), float(b), PATCH / max(H, W)))
    return out


def hinted(colorizer, count: int, spread: bool, options: dict | None = None,
           weight: float | None = None):
    """A method for ``model.training.evaluate``: the colorizer with ``count`` true hints,
    spread (with ``model.propagate.spread`` settings ``options`` over the model's own) or
    not; ``weight``: the guide weight to run at (``Colorizer.guide_weight``; None: the
    model's own)."""
    def run(rgbs):
        given = [true_hints(x, count, 1000 + i) if count else None for i, x in enumerate(rgbs)]
        own = colorizer.guide_weight, colorizer.spread_options
        colorizer.spread_hints, colorizer.spread_options = spread, {**own[1], **(options or {})}
        colorizer.guide_weight = own[0] if weight is None else weight
        try:
            return [colorizer.predict(x, h).render() for x, h in zip(rgbs, given)]
        finally:
            colorizer.spread_hints = True
            colorizer.guide_weight, colorizer.spread_options = own
    return run


def spread_grid(specs: list[str]) -> list[dict]:
    """Every combination of the ``NAME=A,B`` settings ([{}]: the defaults)."""
    grid = [{}]
    for spec in specs:
        name, _, values = spec.partition("=")
        grid = [{**g, name: float(v)} for g in grid for v in values.split(",")]
    return grid


def photos(args) -> tuple[str, list]:
    from model.io.files import list_images
    from model.training.data import split_grouped

    if args.val:
        if any("eval" in Path(p).parts for p in [args.train]):
            raise SystemExit("the validation split comes from train/, never eval/")
        _, val = split_grouped(list_images(args.train), args.val)
        rng = np.random.default_rng(0)
        pick = sorted(rng.permutation(len(val))[:args.limit]) if args.limit else range(len(val))
        return f"validation split of train/ ({args.val:.0%}, grouped)", [val[i] for i in pick]
    files = list_images(args.eval)[:args.limit]
    return str(args.eval.name), files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", type=Path, help="a folder of colour photos to score")
    ap.add_argument("--val", type=float, help="score this share of train/'s grouped split")
    ap.add_argument("--train", type=Path, default=TRAIN)
    ap.add_argument("--model", action="append", required=True, metavar="LABEL=CKPT")
    ap.add_argument("--hints", nargs="*", type=int, default=[1, 2, 5, 10, 20])
    ap.add_argument("--size", type=int, nargs="*", default=[],
                    help="working sizes to run at besides each model's own")
    ap.add_argument("--limit", type=int, help="at most this many photos")
    ap.add_argument("--network-only", action="store_true", help="skip the spread rows")
    ap.add_argument("--spread", action="append", default=[], metavar="NAME=A,B,...",
                    help="model.propagate.spread settings to try (e.g. reach=0.5,1,2): the "
                         "spread rows are scored at each")
    ap.add_argument("--guide-weight", type=float, nargs="*", default=[],
                    help="guide weights to try (Colorizer.guide_weight) besides each model's own")
    args = ap.parse_args(argv)
    if (args.eval is None) == (args.val is None):
        ap.error("give --eval DIR or --val SHARE")

    from model.colorizer import Colorizer
    from model.training.evaluate import load_ground_truth, score_methods

    title, files = photos(args)
    t0 = time.monotonic()
    truths = load_ground_truth(files)
    methods: dict = {}
    autos: dict[str, str] = {}
    for label, _, path in (m.partition("=") for m in args.model):
        base = Colorizer(path, device="cpu")
        for size in [base.config.input_size, *args.size]:
            c = base
            if size != base.config.input_size:
                c = Colorizer(path, device="cpu")
                c.config = dataclasses.replace(c.config, input_size=size)
            name = f"{label} at {size}²"
            autos[name] = f"{name}: automatic"
            methods[autos[name]] = hinted(c, 0, True)
            for n in args.hints:
                for weight in [None, *args.guide_weight] if c.guided else [None]:
                    r = "" if weight is None else f" (guide weight {weight:g})"
                    methods[f"{name}: {n} hints, network only{r}"] = hinted(c, n, False, None, weight)
                    if args.network_only:
                        continue
                    for options in spread_grid(args.spread):
                        label_ = ", ".join(f"{k} {v:g}" for k, v in options.items())
                        methods[f"{name}: {n} hints, network + spread{r}" + (f" ({label_})" if label_ else "")] = \
                            hinted(c, n, True, options, weight)
    rows = score_methods(truths, {k: fn(truths) for k, fn in methods.items()})
    by_name = {r.name: r for r in rows}
    print(f"**{title}**: {len(truths)} photos, {time.monotonic() - t0:.0f} s\n")
    print("| row | PSNR dB | vs its automatic dB | CF / truth |")
    print("|---|---:|---:|---:|")
    for r in rows:
        auto = next((by_name[a] for n, a in autos.items() if r.name.startswith(n + ":")), None)
        gain = "" if auto is None or auto is r else "{:+.2f} ± {:.2f}".format(*r.psnr_gain(auto))
        print(f"| {r.name} | {r.psnr:.2f} | {gain} | {r.cf_ratio:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
