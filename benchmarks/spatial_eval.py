"""Score the spatial model against the paper's (bundled v1) and gray, with vivid and hints.

    python benchmarks/spatial_eval.py --eval ../shared/data/eval/lfw ../shared/data/eval/imagenet \\
        --model "spatial=runs/spatial/best.safetensors" --vivid 0 0.25 0.5 1 --hints 1 5 10

Every row goes through ``model.training.evaluate`` (the evaluator of ``colorgui evaluate``), on the
same photos, and carries the paired per-photo PSNR gain over gray and over the reference
model (bundled v1 unless ``--reference``) with its 95% interval. The first ``--model`` is
the one scored at every ``--vivid`` setting and with ``--hints`` simulated hints per photo
(taken from the ground truth, as in training), spread over their regions as the app and
the CLI do, and through the network's hint channels only. The tables go between the ``spatial``
markers of ``docs/results.md`` (``-o``), or only to stdout with ``--print-only``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.table1 import write_between_markers  # noqa: E402

BEGIN, END = "<!-- spatial:begin -->", "<!-- spatial:end -->"
V1 = "bundled v1 (paper model)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", nargs="+", type=Path, required=True, metavar="DIR")
    ap.add_argument("--model", action="append", default=[], metavar="LABEL=CKPT",
                    help="a model to score (repeatable); the first gets the vivid and hint rows")
    ap.add_argument("--reference", default=str(ROOT / "resources/weights/colorgui-hybrid.safetensors"),
                    help="the model the paired 'vs' column compares with (bundled v1)")
    ap.add_argument("--reference-vivid", type=float,
                    help="the reference model's vivid setting (default: its own)")
    ap.add_argument("--vivid", nargs="*", type=float, default=[], help="vivid settings to score")
    ap.add_argument("--hints", nargs="*", type=int, default=[], help="hint counts to score")
    ap.add_argument("--limit", type=int, help="at most this many photos per folder")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "results.md")
    ap.add_argument("--print-only", action="store_true")
    args = ap.parse_args(argv)

    from model.colorizer import Colorizer
    from model.training.evaluate import colorizer_method, format_table, load_ground_truth, score_methods

    models = [(label, Path(path)) for label, _, path in (m.partition("=") for m in args.model)]
    reference = Colorizer(args.reference, device="cpu", vivid=args.reference_vivid)
    ref_name = f"reference {Path(args.reference).stem} (vivid {reference.vivid:g})"
    if args.reference == ap.get_default("reference") and args.reference_vivid is None:
        ref_name = V1
    methods = {ref_name: colorizer_method(reference)}
    for i, (label, path) in enumerate(models):
        colorizer = Colorizer(path, device="cpu")
        methods[f"{label} (vivid {colorizer.vivid:g})"] = colorizer_method(colorizer)
        if i:
            continue
        for v in args.vivid:
            if v != colorizer.vivid:
                methods[f"{label} (vivid {v:g})"] = colorizer_method(colorizer, vivid=v)
        for n in args.hints:
            name = f"{label} + {n} hint{'s' if n != 1 else ''}"
            methods[name] = colorizer_method(colorizer, hints=n)
            methods[f"{name} (network channels only)"] = colorizer_method(colorizer, hints=n,
                                                                          spread_hints=False)
    lines = [f"Generated {time.strftime('%Y-%m-%d')} by `python benchmarks/spatial_eval.py` "
             f"(x86_64, {os.cpu_count()} CPU cores, {platform.python_version()}).", ""]
    for folder in args.eval:
        t = time.monotonic()
        truths = load_ground_truth(folder, args.limit)
        rows = score_methods(truths, {name: fn(truths) for name, fn in methods.items()})
        ref = next(r for r in rows if r.name == ref_name)
        lines += [format_table(rows, f"{folder.name} ({time.monotonic() - t:.0f} s to score)", ref), ""]
        print(lines[-2], flush=True)
    if not args.print_only:
        write_between_markers(args.output, "\n".join(lines), BEGIN, END)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
