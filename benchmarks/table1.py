"""The paper's Table 1 here: does averaging three pretrained CNNs beat one, two or none?

    python benchmarks/table1.py ../shared/data/train/* \\
        --eval ../shared/data/eval/lfw ../shared/data/eval/imagenet

trains every variant below with one recipe and one budget (the same number of epochs
over the same photos; a variant whose ``RUNS/NAME/best.safetensors`` exists is not
trained again), scores each one and the gray baseline with ``model.training.evaluate``, and writes
the tables between the markers of ``docs/results.md``, leaving the text around them as it
is. ``--train-only`` / ``--report-only`` split the two halves (train on a GPU machine,
score where the evaluation photos are); ``--only NAME`` trains some variants, so that
several processes can share one machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.nets.network import HybridConfig  # noqa: E402

EFFNETS = ("effnet_lite0", "effnet_lite1", "effnet_lite2")


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    branches: tuple[str, ...]
    fusion: str


VARIANTS = (
    Variant("model1", "Model 1: one branch (EfficientNet-Lite0)", EFFNETS[:1], "mean"),
    Variant("model2", "Model 2: two branches averaged (Lite0, Lite1)", EFFNETS[:2], "mean"),
    Variant("model3", "Model 3: three branches averaged (the paper's model)", EFFNETS, "mean"),
    Variant("model4", "Model 4: no pretrained branch (encoder-decoder alone)", (), "none"),
    Variant("concat", "Model 3 with concat fusion instead of the average", EFFNETS, "concat"),
)
BY_NAME = {v.name: v for v in VARIANTS}
BEGIN, END = "<!-- table1:begin -->", "<!-- table1:end -->"


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="*", type=Path, help="training folders (not needed with --report-only)")
    ap.add_argument("--eval", nargs="+", type=Path, default=[], metavar="DIR",
                    help="evaluation folders, each reported separately")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "table1",
                    help="one checkpoint folder per variant (default runs/table1)")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "results.md")
    ap.add_argument("--only", action="append", choices=sorted(BY_NAME), help="train only these")
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--extra", action="append", default=[], metavar="LABEL=CKPT",
                    help="another checkpoint to score beside the variants (e.g. the bundled model)")
    ap.add_argument("--limit", type=int, help="at most this many evaluation photos per folder")
    # The recipe: the bundled model's (scripts/train_bundled.sh) unless changed.
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--width", type=float, default=0.5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--feature-dropout", type=float, default=0.8)
    ap.add_argument("--crop-min-scale", type=float, default=0.35)
    ap.add_argument("--val-share", type=float, default=0.05)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--cache-dir", type=Path, help="branch-output cache (default: user cache)")
    ap.add_argument("--no-check", action="store_true", help="do not decode every photo up front")
    args = ap.parse_args(argv)
    if not args.report_only and not args.data:
        ap.error("training folders are needed unless --report-only")
    if not args.train_only and not args.eval:
        ap.error("--eval folders are needed unless --train-only")
    return args


def train(variant: Variant, args) -> None:
    from model.training.branch_cache import BranchCache
    from model.progress import Progress
    from model.training.train import FitOptions, fit

    out = args.runs / variant.name
    if (out / "best.safetensors").is_file() and not (out / "last.safetensors").is_file():
        print(f"{variant.name}: already trained in {out}", file=sys.stderr)
        return
    config = HybridConfig.scaled(args.width, branches=variant.branches, fusion=variant.fusion,
                                 feature_dropout=args.feature_dropout if variant.branches else 0.0)
    options = FitOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         schedule="cosine", crop=128, crop_min_scale=args.crop_min_scale,
                         val_share=args.val_share, checkpoint_every=2000, device=args.device,
                         num_workers=args.workers, check_files=not args.no_check)

    class Log(Progress):
        def message(self, text):
            print(f"{variant.name}: {text}", file=sys.stderr, flush=True)

    t = time.monotonic()
    result = fit(args.data, out, config, options=options, progress=Log(),
                 cache=BranchCache(args.cache_dir) if args.cache_dir else None)
    (out / "last.safetensors").unlink(missing_ok=True)  # finished: keep only the best
    print(f"{variant.name}: {result.steps} steps in {time.monotonic() - t:.0f} s", file=sys.stderr)


def describe_run(path: Path) -> str:
    from model.store.checkpoint import load_checkpoint

    _, meta = load_checkpoint(path)
    data, opts = meta.get("data", {}), meta.get("options", {})
    history = meta.get("history", [])
    best = min((h["val_loss"] for h in history), default=meta.get("best_val_loss", float("nan")))
    epochs = meta.get("epochs", len(history))
    budget = f" of {opts['epochs']}" if opts.get("epochs", 0) < 10_000 else ""  # else time-limited
    return (f"best validation loss {best:.5f} after epoch {epochs}{budget} (step "
            f"{meta.get('step', '?')}, {meta.get('train_seconds', 0):.0f} s on "
            f"{meta.get('device', '?')}), {data.get('train_photos', '?')} training photos, "
            f"batch {opts.get('batch_size', '?')}")


def report(args) -> str:
    from model.colorizer import Colorizer
    from model.training.evaluate import colorizer_method, evaluate, format_table

    models = {v.label: args.runs / v.name / "best.safetensors" for v in VARIANTS}
    for item in args.extra:
        label, _, path = item.partition("=")
        models[label] = Path(path)
    missing = [str(p) for p in models.values() if not p.is_file()]
    if missing:
        sys.exit("table1: not trained yet: " + ", ".join(missing))
    methods = {label: colorizer_method(Colorizer(path, device=args.device))
               for label, path in models.items()}
    lines = [f"Generated {time.strftime('%Y-%m-%d')} by `python benchmarks/table1.py` "
             f"(evaluated on {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPU cores).", ""]
    for folder in args.eval:
        t = time.monotonic()
        rows = evaluate(folder, methods, args.limit)
        lines += [format_table(rows, title=f"{folder.name} ({time.monotonic() - t:.0f} s to score)"), ""]
        print(lines[-2], file=sys.stderr)
    lines += ["Training runs:", ""]
    lines += [f"- {label}: {describe_run(path)}" for label, path in models.items()]
    return "\n".join(lines)


def write_between_markers(path: Path, body: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace what lies between ``begin`` and ``end`` in ``path`` (appending the markers
    where they are missing), leaving the rest of the file as it is."""
    text = path.read_text() if path.is_file() else f"# Results\n\n{begin}\n{end}\n"
    if begin not in text or end not in text:
        text += f"\n{begin}\n{end}\n"
    block = f"{begin}\n{body}\n{end}"
    path.write_text(re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text,
                           flags=re.S))


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.report_only:
        for variant in VARIANTS:
            if args.only is None or variant.name in args.only:
                train(variant, args)
    if not args.train_only:
        write_between_markers(args.output, report(args))
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
