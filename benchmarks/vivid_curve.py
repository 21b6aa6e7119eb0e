"""The automatic colours' trade-off: PSNR against colourfulness at each vivid setting,
on the grouped validation split of train/ (where the default is chosen) and on eval/
(which only reports).

    python benchmarks/vivid_curve.py --model resources/weights/colorgui-spatial.safetensors

The rule the default follows (stated in the model card): on the validation split, faces
and scenes each, the vivid on a 0.05 grid whose colourfulness comes closest to the true
photos' while its PSNR stays within ``--cost`` dB (default 0.25) of vivid 0's; the smaller
of the two. Each row: mean PSNR, its paired gain over gray and over vivid 0 with 95%
intervals, and colourfulness against the truth's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
# the training folders the bundled spatial model never saw (its card lists the nine it
# trained on): its only scene photos of train/ that are validation in the full sense
UNSEEN_BY_BUNDLED = ("camvid", "dogs_vs_cats", "food101_subset", "oxford_pets_sample")


def splits(share: float) -> dict[str, list[Path]]:
    from model.io.files import list_images
    from model.training.data import split_grouped

    _, val = split_grouped(list_images(DATA / "train"), share)
    faces = [p for p in val if "lfw" in p.parts]
    scenes = [p for p in val if p not in faces]
    return {"validation faces": faces, "validation scenes": scenes,
            "validation scenes the bundled model never saw":
                [p for p in scenes if p.parent.name in UNSEEN_BY_BUNDLED],
            "eval/lfw": list_images(DATA / "eval" / "lfw"),
            "eval/imagenet": list_images(DATA / "eval" / "imagenet")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "resources/weights/colorgui-spatial.safetensors"))
    ap.add_argument("--val", type=float, default=0.03, help="validation share of train/")
    ap.add_argument("--grid", type=float, nargs="*",
                    default=[0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.41, 0.45, 0.5, 0.6])
    ap.add_argument("--cost", type=float, default=0.25, help="dB of PSNR the rule may give up")
    ap.add_argument("--splits", nargs="+", metavar="NAME",
                    help="only the splits whose names start with these words, e.g. eval")
    args = ap.parse_args(argv)

    from model.colorizer import Colorizer
    from model.training.evaluate import colorizer_method, load_ground_truth, score_methods

    colorizer = Colorizer(args.model, device="cpu")
    chosen = {}
    for name, files in splits(args.val).items():
        if args.splits and not any(name.startswith(w) for w in args.splits):
            continue
        t0 = time.monotonic()
        truths = load_ground_truth(files)
        rows = score_methods(truths, {f"vivid {v:g}": colorizer_method(colorizer, vivid=v)(truths)
                                      for v in args.grid})
        gray, zero = rows[0], rows[1]
        print(f"\n**{name}**: {len(truths)} photos ({time.monotonic() - t0:.0f} s), "
              f"true colourfulness {gray.cf_truth:.1f}\n")
        print("| vivid | PSNR dB | vs gray dB | vs vivid 0 dB | CF / truth |")
        print("|---:|---:|---:|---:|---:|")
        ok = []
        for v, r in zip(args.grid, rows[1:]):
            vs0 = r.psnr_gain(zero) if r is not zero else (0.0, 0.0)
            print(f"| {v:g} | {r.psnr:.2f} | {'{:+.2f} ± {:.2f}'.format(*r.psnr_gain(gray))} | "
                  f"{'{:+.2f} ± {:.2f}'.format(*vs0)} | {r.cf_ratio:.1%} |")
            if vs0[0] >= -args.cost and round(v / 0.05, 6).is_integer():
                ok.append((abs(r.cf - r.cf_truth), v))
        if name in ("validation faces", "validation scenes"):
            chosen[name] = min(ok)[1]
    if chosen:
        print(f"\nrule (validation only): {chosen}; default vivid = {min(chosen.values()):g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
