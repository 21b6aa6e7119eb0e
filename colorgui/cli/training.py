"""``colorgui train`` and ``colorgui evaluate``: fitting a model on colour photos, and
scoring models on them."""

from __future__ import annotations

import sys


def cmd_train(args) -> int:
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
    options = FitOptions(epochs=args.epochs, max_steps=args.steps, batch_size=args.batch_size,
                         lr=args.lr, schedule=args.schedule, time_limit=args.time_limit,
                         rebalance=args.rebalance, loss=args.loss, in_memory=args.in_memory,
                         crop=args.crop, crop_min_scale=args.crop_min_scale,
                         val_share=args.val_share, checkpoint_every=args.checkpoint_every,
                         device=args.device, num_workers=args.workers,
                         check_files=not args.no_check, resume=not args.fresh)

    try:
        with TqdmProgress() as progress:
            result = fit(args.data, args.out, config, args.base, options, progress,
                         BranchCache(args.cache_dir) if args.cache_dir else None)
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except ValueError as exc:
        sys.exit(f"colorgui: error: {exc}")
    from model.training.distributed import world_from_env

    if not world_from_env().is_main:  # under torchrun, rank 0 reports and compares
        return 0
    if result.best is None:
        print("cancelled before any training step: no checkpoint written", file=sys.stderr)
        return 130 if result.cancelled else 1
    print(f"best checkpoint: {result.best} ({result.steps} steps)", file=sys.stderr)
    if args.base is not None and result.val_paths:
        from model.training.evaluate import format_table
        from model.training.finetune import compare_before_after

        print("comparing the base and fine-tuned models on the held-out photos",
              file=sys.stderr)
        comparison = compare_before_after(args.base, result.best, result.val_paths, args.device)
        if comparison.rows:
            print(format_table(comparison.rows, "base against fine-tuned, held-out photos"))
        print(comparison.summary())
    return 0


def cmd_evaluate(args) -> int:
    from model.io.weights import CheckpointError
    from model.colorizer import Colorizer, bundled_model_path
    from model.training.evaluate import colorizer_method, evaluate, format_table

    methods = {}
    for path in args.model or [bundled_model_path()]:
        try:
            colorizer = Colorizer(path, device=args.device, vivid=args.vivid)
            methods[path.name] = colorizer_method(colorizer)
        except (CheckpointError, RuntimeError, ValueError) as exc:
            sys.exit(f"colorgui: error: {exc}")
    for folder in args.data:
        rows = evaluate(folder, methods, args.limit)
        print(format_table(rows, title=str(folder)))
        print()
    return 0
