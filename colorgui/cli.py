"""The ``colorgui`` command: colorize, train, evaluate, demo."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

DESCRIPTION = """\
colorgui brings black-and-white photographs to colour with a hybrid CNN (an
encoder-decoder in CIE Lab fused with three pretrained ImageNet networks).

commands:
  colorize   colorize photos and folders into an output folder
  train      train a model, or fine-tune one (--from) on your own colour photos
  evaluate   score models against the gray baseline on a folder of colour photos
  demo       colorize the sample photos that ship with scikit-image
  app        open the desktop app (also what plain `colorgui` does)
"""


def _add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where the network runs (auto: CUDA when available, else CPU)")


def build_parser() -> argparse.ArgumentParser:
    from colorgui import __version__

    ap = argparse.ArgumentParser(prog="colorgui", description=DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"colorgui {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("colorize", help="colorize photos and folders",
                       description="Colorize photos. Folders are searched recursively and "
                                   "their structure is mirrored in the output folder. Inputs "
                                   "are never modified; existing outputs are skipped unless "
                                   "--overwrite. Exit status 1 if any photo failed.")
    c.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="photo files or folders")
    c.add_argument("-o", "--out", type=Path, default=Path("colorized"),
                   help="output folder (default: ./colorized)")
    c.add_argument("--model", type=Path, help="checkpoint to use (default: the bundled model)")
    _add_device(c)
    c.add_argument("--saturation", type=float, default=1.0,
                   help="colour strength, 1.0 = as predicted (default 1.0)")
    c.add_argument("--format", choices=("png", "jpg", "tif", "webp", "bmp"),
                   help="output format (default: the input's own)")
    c.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality (default 95)")
    c.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")

    t = sub.add_parser("train", help="train or fine-tune a model on colour photos",
                       description="Train on every colour photo under the folders (gray and "
                                   "unreadable files are skipped and counted). Checkpoints go "
                                   "to OUT (last.safetensors, best.safetensors); running the "
                                   "same command again resumes.")
    t.add_argument("data", nargs="+", type=Path, metavar="DATA_DIR")
    t.add_argument("-o", "--out", type=Path, default=Path("runs/train"), help="checkpoint folder")
    t.add_argument("--from", dest="base", type=Path, help="fine-tune this checkpoint")
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--steps", type=int, help="stop after this many steps in total")
    t.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop after this much training time (the schedule follows it)")
    t.add_argument("--batch-size", type=int, default=20)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--schedule", choices=("constant", "cosine"), default="constant")
    t.add_argument("--rebalance", type=float, default=0.0, metavar="POWER",
                   help="weight rare colours in the loss (0 = the paper's plain MSE; 0.5 keeps "
                        "outputs colourful)")
    t.add_argument("--crop", type=int, default=128, help="training crop size (default 128)")
    t.add_argument("--crop-min-scale", type=float, default=0.6,
                   help="smallest crop, as a share of the photo's short side (default 0.6)")
    t.add_argument("--width", type=float, default=0.5, help="channel width multiplier (new model)")
    t.add_argument("--feature-dropout", type=float, default=0.0,
                   help="dropout on the fused branch vector while training (new model)")
    t.add_argument("--branches", default="effnet_lite0,effnet_lite1,effnet_lite2",
                   help="comma-separated pretrained branches (new model; empty for none)")
    t.add_argument("--fusion", choices=("mean", "concat", "none"), default="mean")
    t.add_argument("--input-size", type=int, default=256, help="working size at inference")
    t.add_argument("--val-share", type=float, default=0.1)
    t.add_argument("--checkpoint-every", type=int, default=500)
    t.add_argument("--workers", type=int, help="data loader processes")
    t.add_argument("--cache-dir", type=Path, help="branch-output cache (default: user cache)")
    t.add_argument("--no-check", action="store_true",
                   help="do not decode every photo up front (faster on known-good folders)")
    t.add_argument("--fresh", action="store_true", help="do not resume from OUT/last.safetensors")
    _add_device(t)

    e = sub.add_parser("evaluate", help="score models against the gray baseline",
                       description="PSNR, RMSE of normalised a/b, SSIM, MAE, colourfulness and "
                                   "ΔCF at 256×256 on each folder, for each model and for the "
                                   "gray baseline, printed as Markdown tables.")
    e.add_argument("data", nargs="+", type=Path, metavar="DATA_DIR")
    e.add_argument("--model", type=Path, action="append",
                   help="checkpoint (repeatable; default: the bundled model)")
    e.add_argument("--limit", type=int, help="at most this many photos per folder")
    _add_device(e)

    g = sub.add_parser("app", help="open the desktop app (the default with no command)",
                       description="Open the desktop app, optionally on some photos.")
    g.add_argument("photos", nargs="*", help="photos or folders to open")
    g.add_argument("--self-test", action="store_true",
                   help="open the window, load the model, close; exit 0 if all went well")

    d = sub.add_parser("demo", help="colorize scikit-image's sample photos and show them",
                       description="Make gray copies of the photos scikit-image ships, "
                                   "colorize them with the bundled model, say where, and open "
                                   "the app on them.")
    d.add_argument("-o", "--out", type=Path, default=Path("colorgui-demo"))
    d.add_argument("--no-gui", action="store_true", help="only colorize; do not open the app")
    _add_device(d)
    return ap


def _colorizer(args):
    from model.checkpoint import CheckpointError
    from model.colorizer import Colorizer

    try:
        return Colorizer(getattr(args, "model", None), device=args.device)
    except (CheckpointError, RuntimeError) as exc:
        sys.exit(f"colorgui: error: {exc}")


def cmd_colorize(args) -> int:
    from tqdm import tqdm

    from model.batch import plan_jobs, run_jobs

    jobs, refused = plan_jobs(args.inputs, args.out, args.format)
    if not jobs and not refused:
        print("no photos found in the inputs", file=sys.stderr)
        return 1
    colorizer = _colorizer(args)
    print(f"colorizing {len(jobs)} photos with {colorizer.describe()} into {args.out}",
          file=sys.stderr)
    with tqdm(total=len(jobs), unit="photo", file=sys.stderr) as bar:
        def on_item(job, state, reason):
            bar.update(1)
            if state == "failed":
                bar.write(f"failed: {job.source}: {reason}", file=sys.stderr)

        report = run_jobs(jobs, colorizer, saturation=args.saturation,
                          overwrite=args.overwrite, quality=args.quality, on_item=on_item)
    report.failed = refused + report.failed
    print(report.summary(), file=sys.stderr)
    for path, reason in report.failed:
        print(f"  {path}: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_train(args) -> int:
    from tqdm import tqdm

    from model.cache import BranchCache
    from model.network import HybridConfig
    from model.train import FitOptions, Progress, fit

    branches = tuple(b for b in args.branches.split(",") if b)
    config = None
    if args.base is None:
        config = HybridConfig.scaled(args.width, branches=branches, fusion=args.fusion,
                                     input_size=args.input_size,
                                     feature_dropout=args.feature_dropout)
    options = FitOptions(epochs=args.epochs, max_steps=args.steps, batch_size=args.batch_size,
                         lr=args.lr, schedule=args.schedule, time_limit=args.time_limit, rebalance=args.rebalance, crop=args.crop,
                         crop_min_scale=args.crop_min_scale,
                         val_share=args.val_share, checkpoint_every=args.checkpoint_every,
                         device=args.device, num_workers=args.workers,
                         check_files=not args.no_check, resume=not args.fresh)

    class CliProgress(Progress):
        bar = None

        def message(self, text):
            (self.bar.write if self.bar else print)(text, file=sys.stderr)

        def step(self, step, total, loss):
            if self.bar is None or self.bar.total != total:
                if self.bar:
                    self.bar.close()
                self.bar = tqdm(total=total, initial=step - 1, unit="step", file=sys.stderr)
            self.bar.update(step - self.bar.n)
            if loss == loss:
                self.bar.set_postfix(loss=f"{loss:.4f}")

    progress = CliProgress()
    try:
        result = fit(args.data, args.out, config, args.base, options, progress,
                     BranchCache(args.cache_dir) if args.cache_dir else None)
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except ValueError as exc:
        sys.exit(f"colorgui: error: {exc}")
    finally:
        if progress.bar:
            progress.bar.close()
    print(f"best checkpoint: {result.best} ({result.steps} steps)", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    from model.checkpoint import CheckpointError
    from model.colorizer import Colorizer, bundled_model_path
    from model.evaluate import colorizer_method, evaluate, format_table

    methods = {}
    for path in args.model or [bundled_model_path()]:
        try:
            methods[path.name] = colorizer_method(Colorizer(path, device=args.device))
        except (CheckpointError, RuntimeError) as exc:
            sys.exit(f"colorgui: error: {exc}")
    for folder in args.data:
        rows = evaluate(folder, methods, args.limit)
        print(format_table(rows, title=str(folder)))
        print()
    return 0


def cmd_demo(args) -> int:
    from skimage import data as skdata

    from model import color
    from model.imageio import write_photo

    inputs = args.out / "black-and-white"
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        rgb = color.from_uint8(getattr(skdata, name)())
        gray = color.gray_to_rgb(color.luminance(rgb))
        target = inputs / f"{name}.png"
        if not target.exists():
            write_photo(target, gray)
    args.inputs, args.model, args.saturation = [inputs], None, 1.0
    args.format, args.quality, args.overwrite = None, 95, True
    out = args.out
    args.out = out / "colorized"
    code = cmd_colorize(args)
    print(f"\nblack-and-white inputs: {inputs.resolve()}\n"
          f"colorized by the bundled model: {(args.out / inputs.name).resolve()}")
    if args.no_gui:
        return code
    from colorgui.app import run

    return run([str(inputs / "astronaut.png")], [str(inputs)], str(args.out))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"colorize": cmd_colorize, "train": cmd_train, "evaluate": cmd_evaluate,
                "demo": cmd_demo}
    if args.command in (None, "app"):
        from colorgui.app import run

        return run(getattr(args, "photos", None), self_test=getattr(args, "self_test", False))
    return commands[args.command](args)
