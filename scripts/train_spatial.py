"""Train the spatial model (``model.nets.spatial``) on the shared training photos.

Runs ``model.training.train.fit`` with the photos decoded into RAM and resumes from
``OUT/last.safetensors`` when run again, so a long CPU run can go on across sessions:

    python scripts/train_spatial.py ../shared/data/train -o runs/spatial --minutes 100

Never point it at ``eval/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from pathlib import Path

from model.store.checkpoint import read_header
from model.nets.spatial import SpatialConfig
from model.progress import Progress
from model.training.train import FitOptions, fit


class LogProgress(Progress):
    def __init__(self, every: int = 50):
        super().__init__()
        self.every, self.t0 = every, time.monotonic()

    def message(self, text: str) -> None:
        print(f"[{time.monotonic() - self.t0:7.0f} s] {text}", flush=True)

    def step(self, step: int, total: int, loss: float) -> None:
        if step % self.every == 0:
            self.message(f"step {step}/{total} loss {loss:.4f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", type=Path, help="folders of colour photos")
    ap.add_argument("-o", "--out", type=Path, required=True, help="run folder (checkpoints)")
    ap.add_argument("--minutes", type=float, default=60.0, help="training time budget")
    ap.add_argument("--epochs", type=int, default=30, help="at most this many epochs")
    ap.add_argument("--steps", type=int, help="at most this many steps (a budget that does not "
                                              "depend on how busy the machine is)")
    ap.add_argument("--loss", default="l1+ce", help="l1+ce, l1, mse or mse+ce")
    ap.add_argument("--crop", type=int, default=128, help="training crop side")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--no-hints", action="store_true", help="a model without hint channels")
    ap.add_argument("--train-backbone-from", type=int, default=None,
                    help="fine-tune EfficientNet-Lite0 from this block on (default: frozen)")
    ap.add_argument("--branches", nargs="*", default=[],
                    help="extra branches whose class vectors are averaged with Lite0's")
    ap.add_argument("--from", dest="start", type=Path,
                    help="start from this spatial checkpoint (its shape; the options above "
                         "may change what trains)")
    ap.add_argument("--ce-weight", type=float, default=0.05,
                    help="weight of the bin cross-entropy in the +ce losses")
    ap.add_argument("--hint-share", type=float, default=0.5,
                    help="share of training crops with simulated hints")
    ap.add_argument("--hint-guide", type=int, default=0, metavar="WIDTH",
                    help="give the model a hint guide of this width (model.nets.hint_guide.HintGuide)")
    ap.add_argument("--guide-only", action="store_true",
                    help="train only the hint guide (the automatic colours stay as they are)")
    ap.add_argument("--val-share", type=float, default=0.03)
    ap.add_argument("--split", default="grouped", choices=("grouped", "name"),
                    help="grouped: whole people and a share of every source and class")
    # auto: float32 on a CPU. bfloat16 autocast ran a convolution 22× slower than float32 on
    # an AMD EPYC without AVX512-BF16 (2.5 against 0.12 s), so it is asked for, not assumed
    ap.add_argument("--precision", default="auto", help="auto (float32 on a CPU) or bf16")
    args = ap.parse_args(argv)
    if any("eval" in p.parts for p in args.data):
        ap.error("never train on eval/")
    logging.basicConfig(level=logging.WARNING)
    config = SpatialConfig(hints=not args.no_hints, train_backbone_from=args.train_backbone_from,
                           branches=tuple(args.branches), hint_guide=args.hint_guide)
    if args.start is not None:  # its own shape, with what trains changed
        base = read_header(args.start)[0]
        config = dataclasses.replace(base, train_backbone_from=args.train_backbone_from,
                                     hint_guide=args.hint_guide or base.hint_guide)
    options = FitOptions(epochs=args.epochs, max_steps=args.steps, batch_size=args.batch, lr=args.lr, schedule="cosine",
                         time_limit=args.minutes * 60, loss=args.loss, crop=args.crop,
                         val_share=args.val_share, checkpoint_every=200, check_files=False,
                         in_memory=True, precision=args.precision, hint_share=args.hint_share,
                         ce_weight=args.ce_weight, guide_only=args.guide_only, split=args.split)
    result = fit(args.data, args.out, config=config, from_checkpoint=args.start, options=options,
                 progress=LogProgress())
    print(f"done: {result.steps} steps, {result.epochs_done} epochs, best {result.best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
