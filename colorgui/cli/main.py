"""The ``colorgui`` command: colorize, train, evaluate, demo."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from colorgui.cli import memory as memory_cli
from colorgui.cli.colorize import (cmd_colorize, cmd_info, held_out, number_in, quality, saturation,
                                   share)
from colorgui.cli.pages import add_restore_flags, add_split_command, cmd_split
from colorgui.cli.training import add_evaluate_options, add_train_options, cmd_evaluate, cmd_train
from model.io.files import OUTPUT_FORMATS

DESCRIPTION = """\
colorgui brings black-and-white photographs to colour. The bundled model is a U-Net in
CIE Lab on a pretrained ImageNet backbone that takes colour hints; the paper's hybrid CNN
(an encoder-decoder fused with three pretrained ImageNet networks) is bundled too.
"""
EPILOG = "Plain `colorgui` opens the app. `colorgui COMMAND --help` shows a command's options."

# scikit-image's colour photographs that ship inside its package (no download), made gray
# for the demo, and its one real black-and-white photograph
DEMO_COLOUR = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle")
DEMO_BLACK_AND_WHITE = ("camera",)


def existing_path(text: str) -> Path:
    """An input that must exist, checked as the command line is read: a typo then fails
    at once, not after torch and the model have loaded (seconds)."""
    from model.io.files import LINK_LOOP, is_link_loop

    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: {LINK_LOOP}" if is_link_loop(path)
                                         else f"no such file or folder: {text}")
    return path


def model_path(text: str) -> Path:
    """``--model``: a checkpoint file, or a model's name (a bundled one: "spatial",
    "paper"; or one the user fine-tuned), checked as the command line is read."""
    from model.store.registry import resolve_model

    try:
        return resolve_model(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


MODEL_HELP = ("a model's name (bundled: spatial, paper; or one you fine-tuned) or a "
              "checkpoint file (default: the bundled default model)")
VIVID_HELP = ("0-1, models with a colour-class head (spatial): blend toward its bolder, "
              "riskier colours (default: the model's own setting)")


def _add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where the network runs (auto: CUDA when available, else CPU)")


def build_parser() -> argparse.ArgumentParser:
    from colorgui import __version__

    ap = argparse.ArgumentParser(prog="colorgui", description=DESCRIPTION, epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"colorgui {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    c = sub.add_parser("colorize", help="colorize photos and folders into an output folder",
                       description="Colorize photos. Folders are searched recursively and "
                                   "their structure is mirrored in the output folder. Inputs "
                                   "are never modified; existing outputs are skipped unless "
                                   "--overwrite. Exit status 1 if any photo failed; "
                                   "Ctrl-C stops after the photo in hand (exit status 130).")
    c.add_argument("inputs", nargs="+", type=existing_path, metavar="IN",
                   help="photo files or folders")
    c.add_argument("-o", "--out", type=Path, default=Path("colorized"),
                   help="output folder (default: ./colorized)")
    c.add_argument("--model", type=model_path, help=MODEL_HELP)
    c.add_argument("--vivid", type=share, help=VIVID_HELP.replace(
        "(default: ", "(default: each photo's hint file's, else "))
    _add_device(c)
    c.add_argument("--saturation", type=saturation,
                   help="colour strength 0-2, 1.0 = as predicted (default: each photo's hint "
                        "file's, else 1.0)")
    c.add_argument("--format", choices=tuple(OUTPUT_FORMATS),
                   help="output format (default: the input's own)")
    c.add_argument("--quality", type=quality, default=95,
                   help="JPEG/WebP quality 1-100 (default 95)")
    c.add_argument("--overwrite", action="store_true",
                   help="replace outputs that already exist (never a file beside the "
                        "originals without colorgui's mark: it may be another original)")
    c.add_argument("--hints", type=Path, metavar="FILE.json",
                   help="colour hints for a single input photo (docs/hints.md); without it "
                        "each photo's sidecar PHOTO.hints.json beside it is used, if any")
    c.add_argument("--no-provenance", action="store_true",
                   help="do not mark the outputs as AI-colorized in their metadata")
    c.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="run on a Ray cluster (pip install colorgui[cluster]; docs/cluster.md): "
                        "at ADDRESS, or without it the one RAY_ADDRESS names or `ray start` "
                        "began here, else a new one on this machine. Put it after the inputs")
    c.add_argument("--ray-actors", type=int, metavar="N",
                   help="with --ray: at most N models at work (default: one per GPU, else "
                        "one per --ray-cpus CPUs of the cluster; more than the GPUs share them)")
    c.add_argument("--ray-cpus", type=float, default=1.0, metavar="C",
                   help="with --ray: CPUs each model's actor takes (default 1)")
    c.add_argument("--split-pages", action="store_true",
                   help="the inputs are scanned album pages: cut out each print (as "
                        "`colorgui split` does) and colorize it as PAGE_01.EXT, PAGE_02.EXT...")
    add_restore_flags(c)
    memory_cli.add_colorize_options(c)
    add_split_command(sub, existing_path)
    memory_cli.add_commands(sub)

    i = sub.add_parser("info", help="say whether and how photos were colorized by colorgui",
                       description="Print the provenance colorgui wrote into each output "
                                   "(version, model and its hash, settings, hints, date), or "
                                   "that a photo has none. Exit status 1 if a file cannot "
                                   "be read.")
    i.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="photo files")

    t = sub.add_parser("train", help="train a model, or fine-tune one (--from) on your own "
                                     "colour photos",
                       description="Train on every colour photo under the folders (gray and "
                                   "unreadable files are skipped and counted). Checkpoints go "
                                   "to OUT (last.safetensors, best.safetensors); running the "
                                   "same command again resumes. Under torchrun, one process "
                                   "per device trains with DDP (docs/cluster.md).")
    t.add_argument("data", nargs="+", type=existing_path, metavar="DATA_DIR",
                   help="folders (or files) of colour photos to learn from")
    t.add_argument("-o", "--out", type=Path, default=Path("runs/train"),
                   help="checkpoint folder (default: ./runs/train)")
    t.add_argument("--from", dest="base", type=model_path, metavar="MODEL",
                   help="fine-tune this model (a name or a checkpoint file) instead of "
                        "training a new one")
    t.add_argument("--architecture", choices=("spatial", "hybrid"), default="spatial",
                   help="a new model's network: spatial (EfficientNet-Lite0 U-Net, the "
                        "bundled default) or hybrid (the paper's); default spatial")
    t.add_argument("--loss", choices=("auto", "l1+ce", "l1", "mse", "mse+ce"), default="auto",
                   help="spatial models: L1 or MSE on a/b, +ce adds the colour-class term "
                        "(default auto: l1+ce where the model has a class head)")
    t.add_argument("--in-memory", action="store_true",
                   help="decode the photos once into memory (3x faster on a CPU; about "
                        "1 GB per 10,000 photos at the default crop)")
    t.add_argument("--epochs", type=number_in(1, 1_000_000, int),
                   help="passes over the photos (default 10; with --time-limit, as many as "
                        "the time allows)")
    t.add_argument("--steps", type=number_in(1, 10**9, int),
                   help="stop after this many steps in total")
    t.add_argument("--time-limit", type=number_in(1, 10**8), metavar="SECONDS",
                   help="stop after this much training time (the schedule follows it)")
    t.add_argument("--batch-size", type=number_in(1, 4096, int), default=20,
                   help="photos per step (default 20)")
    t.add_argument("--lr", type=number_in(0.0, 10.0), default=1e-3,
                   help="learning rate (default 0.001)")
    t.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                   help="learning rate over the run: constant, or cosine decay to lr/50 "
                        "(default constant)")
    t.add_argument("--rebalance", type=float, default=0.0, metavar="POWER",
                   help="weight rare colours in the loss (0 = the paper's plain MSE; 0.5 keeps "
                        "outputs colourful)")
    t.add_argument("--crop", type=number_in(16, 2048, int), default=128,
                   help="training crop size (default 128)")
    t.add_argument("--crop-min-scale", type=number_in(0.05, 1.0), default=0.6,
                   help="smallest crop, as a share of the photo's short side (default 0.6)")
    t.add_argument("--width", type=float, default=0.5,
                   help="channel width multiplier (new hybrid model)")
    t.add_argument("--feature-dropout", type=float, default=0.0,
                   help="dropout on the fused branch vector while training (new hybrid model)")
    t.add_argument("--branches",
                   help="comma-separated pretrained branches (new model; empty for none). "
                        "Hybrid default: effnet_lite0,effnet_lite1,effnet_lite2; spatial "
                        "default: none besides its own Lite0 (extra ones are averaged in)")
    t.add_argument("--fusion", choices=("mean", "concat", "none"), default="mean",
                   help="how the branches' class probabilities are combined: averaged, "
                        "side by side, or not used (new hybrid model; default mean)")
    t.add_argument("--input-size", type=int, default=256,
                   help="side of the square the network works at when colorizing, in "
                        "pixels (new model; default 256)")
    t.add_argument("--val-share", type=held_out, default=0.1,
                   help="share of the photos held out to score checkpoints (default 0.1)")
    t.add_argument("--checkpoint-every", type=number_in(1, 10**9, int), default=500,
                   metavar="STEPS",
                   help="steps between saves of OUT/last.safetensors (default 500)")
    t.add_argument("--workers", type=int,
                   help="data loader processes (default: none on a CPU, up to 8 with CUDA)")
    t.add_argument("--cache-dir", type=Path, help="branch-output cache (default: user cache)")
    t.add_argument("--no-check", action="store_true",
                   help="do not decode every photo up front (faster on known-good folders)")
    t.add_argument("--fresh", action="store_true", help="do not resume from OUT/last.safetensors")
    add_train_options(t)
    _add_device(t)

    e = sub.add_parser("evaluate", help="score models against the gray baseline on folders "
                                        "of colour photos",
                       description="PSNR, RMSE of normalised a/b, SSIM, MAE, colourfulness and "
                                   "ΔCF at 256×256 on each folder, for each model and for the "
                                   "gray baseline, printed as Markdown tables. Black-and-white "
                                   "and unreadable photos are left out, each said on stderr; "
                                   "exit status 1 if a folder has none to score.")
    e.add_argument("data", nargs="+", type=existing_path, metavar="DATA_DIR",
                   help="folders of colour photos (the ground truth)")
    e.add_argument("--model", type=model_path, action="append",
                   help=MODEL_HELP + "; repeatable")
    e.add_argument("--vivid", type=share, help=VIVID_HELP)
    e.add_argument("--limit", type=number_in(1, 1_000_000, int),
                   help="at most this many photos per folder")
    add_evaluate_options(e)
    _add_device(e)

    g = sub.add_parser("app", help="open the desktop app (also what plain `colorgui` does)",
                       description="Open the desktop app, optionally on some photos.")
    g.add_argument("photos", nargs="*", help="photos or folders to open")
    g.add_argument("--self-test", action="store_true",
                   help="open the window, load the model, close; exit 0 if all went well")

    d = sub.add_parser("demo", help="colorize the sample photos that ship with scikit-image",
                       description="Make gray copies of the colour photos scikit-image ships "
                                   "(keeping the originals to compare with), add its one real "
                                   "black-and-white photograph, colorize them with the bundled "
                                   "model, say where, and open the app on them.")
    d.add_argument("-o", "--out", type=Path,
                   help=f"demo folder (default: {demo_dir()})")
    d.add_argument("--no-gui", action="store_true", help="only colorize; do not open the app")
    _add_device(d)
    return ap


def demo_dir() -> Path:
    """``demo/`` in colorgui's user data folder (COLORGUI_DATA_DIR overrides it), beside
    the user's fine-tuned models."""
    from model.io.places import user_data_root

    return user_data_root() / "demo"


class PreparingNotice:
    """Tells once per run that the model is being prepared for this CPU (the ONNX export
    of its pretrained networks, ``model.nets.runtime``), then each network as it is ready."""

    def __init__(self):
        self.told = False

    def __call__(self, event) -> None:
        if event.stage == "start" and not self.told:
            self.told = True
            print("preparing the model for this CPU: one time only",
                  file=sys.stderr)
        elif event.stage == "done":
            print(f"  {event.name} ready ({event.seconds:.1f} s)", file=sys.stderr)


def cmd_demo(args) -> int:
    import numpy as np
    from skimage import data as skdata

    from model import color
    from model.io.imageio import write_photo

    folder = (args.out or demo_dir()).resolve()
    print(f"demo folder: {folder}", file=sys.stderr)
    inputs, originals = folder / "black-and-white", folder / "originals"
    for name in DEMO_COLOUR + DEMO_BLACK_AND_WHITE:
        target = inputs / f"{name}.png"
        if target.exists():
            continue
        # the motorcycle is the left view of a stereo pair
        image = skdata.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skdata, name)()
        rgb = color.from_uint8(image)
        if rgb.ndim == 2:  # already black and white
            rgb = np.repeat(rgb[..., None], 3, axis=2)
        else:
            write_photo(originals / f"{name}.png", rgb)
        write_photo(target, color.gray_to_rgb(color.luminance(rgb)))
    args.inputs, args.model, args.saturation = [inputs], None, 1.0
    args.format, args.quality, args.overwrite = None, 95, True
    args.hints, args.no_provenance, args.ray, args.vivid = None, False, None, None
    args.reference, args.album = [], False
    args.out = folder / "colorized"
    code = cmd_colorize(args)
    print(f"\nblack-and-white inputs: {inputs}\n"
          f"colorized by the bundled model: {args.out / inputs.name}\n"
          f"the colour originals, to compare with: {originals}\n"
          f"(camera.png is a real black-and-white photograph: it has no original)")
    if args.no_gui or code == 130:
        return code
    from colorgui.app import run

    return run([str(inputs / "astronaut.png")], [str(inputs)], str(args.out))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # PyTorch's own INFO lines (a FakeTensor cache's stats after an early Ctrl-C) are not
    # the user's business
    logging.getLogger("torch").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"colorize": cmd_colorize, "train": cmd_train, "evaluate": cmd_evaluate,
                "demo": cmd_demo, **memory_cli.COMMANDS}
    if args.command in (None, "app"):
        from colorgui.app import run

        return run(getattr(args, "photos", None), self_test=getattr(args, "self_test", False))
    if args.command == "info":  # reads metadata only: no torch, no model
        return cmd_info(args)
    if args.command == "split":  # OpenCV only: no torch, no model
        return cmd_split(args)
    if args.command in memory_cli.LIGHT_COMMANDS:  # reads the album's memory file only
        return memory_cli.COMMANDS[args.command](args)
    try:
        from model.nets.graph import listening_to_exports

        with listening_to_exports(PreparingNotice()):
            return commands[args.command](args)
    except KeyboardInterrupt:  # outside a batch's own stopping point: no traceback
        print("\ninterrupted", file=sys.stderr)
        return 130
