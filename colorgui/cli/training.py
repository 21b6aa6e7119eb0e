"""``colorgui train`` and ``colorgui evaluate``: fitting a model on colour photos, and
scoring models on them."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from colorgui.cli.colorize import StopOnCtrlC, check_output_folder, held_out, number_in
from model.nets.lean import fine_tuning_unavailable

# a fine-tune's defaults: these many epochs without a better validation loss end it (on
# 719 flower photos the best came at 5 minutes of 10, and 25 minutes gained nothing)
PATIENCE = 3
# --time-limit without --epochs: the time (or the patience) ends the run, not 10 epochs
UNTIL_TIME_RUNS_OUT = 100_000


def add_train_options(t) -> None:
    """The options of ``colorgui train`` that say when to stop and who judges."""
    t.add_argument("--patience", type=number_in(1, 10_000, int), default=PATIENCE,
                   metavar="EPOCHS",
                   help=f"stop when validation has not improved for this many epochs "
                        f"(default {PATIENCE})")
    t.add_argument("--no-early-stop", action="store_true",
                   help="train for the whole budget (--epochs, --steps, --time-limit) even "
                        "when validation stops improving")
    t.add_argument("--judge-share", type=held_out, metavar="SHARE",
                   help="share of the photos held out, besides --val-share, to judge the "
                        "fine-tuned model's before/after on photos that chose nothing "
                        "(default: as --val-share with --from, else 0)")
    t.add_argument("--no-duplicate-groups", action="store_true",
                   help="let near-duplicate photos (burst shots, a print scanned twice, "
                        "mirror images) fall on both sides of the split (by default each "
                        "group stays on one side, so a copy of a training photo never judges)")


def add_evaluate_options(e) -> None:
    """The options of ``colorgui evaluate`` that compare models with each other."""
    e.add_argument("--against", type=_model_path, metavar="MODEL",
                   help="add each model's paired PSNR difference from this one (mean ± 95%% "
                        "interval) and the share of photos it improved")
    e.add_argument("--format", choices=("markdown", "csv"), default="markdown",
                   help="markdown tables (default) or CSV, one row per folder and model")


def _model_path(text: str):
    from colorgui.cli.main import model_path

    return model_path(text)


def check_run_folder(out: Path) -> None:
    """-o must be a folder checkpoints can be written to: a usage error before anything
    loads (a file gave a traceback at once, a read-only folder one after a pass)."""
    check_output_folder("train", out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        print(f"colorgui train: error: checkpoints cannot be written to {out} "
              f"({exc.strerror or exc})", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_train(args) -> int:
    unavailable = fine_tuning_unavailable()
    if unavailable:  # the lean build: no torch to train with
        print(f"colorgui train: {unavailable}", file=sys.stderr)
        return 2
    check_run_folder(args.out)
    if args.base is not None:  # a file that is no model: said now, not after the photos
        from model.store.checkpoint import CheckpointError, read_header

        try:
            read_header(args.base)
        except CheckpointError as exc:
            sys.exit(f"colorgui: error: {exc}")
    from model.training.branch_cache import BranchCache
    from model.nets.network import BUNDLED_BRANCHES, HybridConfig
    from model.nets.spatial import SpatialConfig
    from model.progress import TqdmProgress
    from model.training.train import FitOptions, fit

    config = None
    if args.base is None:
        default = BUNDLED_BRANCHES if args.architecture == "hybrid" else ()
        branches = default if args.branches is None else tuple(b for b in args.branches.split(",") if b)
        try:
            if args.architecture == "spatial":
                config = SpatialConfig(branches=branches, input_size=args.input_size)
            else:
                config = HybridConfig.scaled(args.width, branches=branches, fusion=args.fusion,
                                             input_size=args.input_size,
                                             feature_dropout=args.feature_dropout)
        except ValueError as exc:
            sys.exit(f"colorgui: error: {exc}")
    epochs = args.epochs or (UNTIL_TIME_RUNS_OUT if args.time_limit else 10)
    options = FitOptions(epochs=epochs, max_steps=args.steps, batch_size=args.batch_size,
                         lr=args.lr, schedule=args.schedule, time_limit=args.time_limit,
                         rebalance=args.rebalance, loss=args.loss, in_memory=args.in_memory,
                         crop=args.crop, crop_min_scale=args.crop_min_scale,
                         val_share=args.val_share, checkpoint_every=args.checkpoint_every,
                         device=args.device, num_workers=args.workers,
                         check_files=not args.no_check, resume=not args.fresh,
                         patience=None if args.no_early_stop else args.patience,
                         judge_share=(args.judge_share if args.judge_share is not None
                                      else args.val_share if args.base is not None else 0.0),
                         group_duplicates=not args.no_duplicate_groups)

    try:
        with TqdmProgress() as progress, StopOnCtrlC(progress, "the step in hand"):
            result = fit(args.data, args.out, config, args.base, options, progress,
                         BranchCache(args.cache_dir) if args.cache_dir else None)
    except KeyboardInterrupt:  # the second Ctrl-C: the run goes on from its last checkpoint
        print(f"\ninterrupted; run the same command again to go on from the last checkpoint "
              f"(every {options.checkpoint_every} steps)", file=sys.stderr)
        return 130
    except ValueError as exc:
        sys.exit(f"colorgui: error: {exc}")
    from model.training.distributed import world_from_env

    if not world_from_env().is_main:  # under torchrun, rank 0 reports and compares
        return 0
    if result.best is None:
        print("cancelled before any training step: no checkpoint written", file=sys.stderr)
        return 130 if result.cancelled else 1
    if result.cancelled:
        print(f"stopped at step {result.steps}; run the same command again to go on from "
              f"there (best so far: {result.best})", file=sys.stderr)
        return 130
    print(f"best checkpoint: {result.best}", file=sys.stderr)
    if result.words():
        print(result.words(), file=sys.stderr)
    if args.base is not None and result.val_paths:
        from model.training.evaluate import format_table
        from model.training.finetune import BEFORE, compare_before_after

        print("comparing the base and fine-tuned models on the held-out photos",
              file=sys.stderr)
        comparison = compare_before_after(args.base, result.best, result.val_paths, args.device)
        if comparison.rows:
            print(format_table(comparison.rows, "base against fine-tuned, held-out photos",
                               reference=comparison.row(BEFORE)))
        print(comparison.summary())
    return 0


def _known_names() -> dict:
    """The names a user knows models by: the bundled ones' short names (spatial, paper),
    and the names of the models they fine-tuned and saved."""
    from model.store.registry import list_models
    from resources import BUNDLED_MODELS

    names = {path: name for name, path in BUNDLED_MODELS.items()}
    names.update({e.path: e.name for e in list_models() if not e.bundled})
    return names


def cmd_evaluate(args) -> int:
    import csv

    from model.io.weights import CheckpointError
    from model.colorizer import Colorizer, bundled_model_path
    from model.training.evaluate import (CSV_COLUMNS, colorizer_method, csv_rows, evaluate,
                                         format_table, model_names)

    paths = list(dict.fromkeys(args.model or [bundled_model_path()]))  # each model once
    if args.against is not None and args.against not in paths:
        paths.append(args.against)
    names = model_names(paths, _known_names())  # a row per model, though files share a name
    colorizers = {}
    for path, name in zip(paths, names):
        try:
            colorizers[name] = Colorizer(path, device=args.device, vivid=args.vivid)
        except (CheckpointError, RuntimeError, ValueError) as exc:
            sys.exit(f"colorgui: error: {exc}")

    def shown(name: str, colorizer):
        """The model's method, with a bar of the photos it has colorized (a run on a
        folder of photos said nothing for minutes)."""
        def run(rgbs):
            from tqdm import tqdm

            with tqdm(total=len(rgbs), desc=name, unit="photo", file=sys.stderr,
                      leave=False, disable=None) as bar:
                return colorizer_method(colorizer, done=bar.update)(rgbs)
        return run

    methods = {name: shown(name, c) for name, c in colorizers.items()}
    against = names[paths.index(args.against)] if args.against is not None else None
    writer = None
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
    failed = False
    for folder in args.data:
        try:
            rows = evaluate(folder, methods, args.limit, colour_only=True)
        except ValueError as exc:  # nothing to score there: said, and the next folder
            print(f"colorgui evaluate: {exc}", file=sys.stderr)
            failed = True
            continue
        reference = next((r for r in rows if r.name == against), None)
        if writer is not None:
            writer.writerows(csv_rows(rows, str(folder), reference))
            continue
        print(format_table(rows, title=str(folder), reference=reference))
        print()
    return 1 if failed else 0
