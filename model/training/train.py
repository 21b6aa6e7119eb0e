"""``fit``: train or fine-tune the hybrid network on folders of colour photos.

Adam on the paper's loss (eq. 1–2). The pretrained branches stay frozen and their outputs
come from a disk cache (computed once per photo), so a step costs only the
encoder–decoder. Checkpoints go to ``out_dir`` regularly (``last.safetensors``, with the
optimizer state, for resuming) and whenever validation improves (``best.safetensors``).
Progress and cancellation go through a ``model.progress.Progress``, so the same loop
serves the CLI (its tqdm face) and the desktop app's worker thread (its Qt face).
Under ``torchrun`` each process trains on its shard with DDP (``model.training.distributed``).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from model.hints import simulate_hints
from model.io.weights import inference_settings
from model.nets.devices import resolve_device
from model.nets.network import HybridConfig, HybridNet, count_parameters, paper_loss
from model.nets.spatial import SpatialConfig, SpatialNet
from model.store.checkpoint import build_network, load_checkpoint, save_checkpoint, trained_state
from model.training import distributed
from model.training.branch_cache import BranchCache, compute_features
from model.training.data import (Holdout, PhotoDataset, collate, scan_training_photos,
                                  split_grouped, split_holdout, split_validation)
from model.training.losses import colour_weights, rebalanced_loss, spatial_loss
from model.training.photostore import PhotoStore, StoreDataset
from model.training.run_state import RunState, optimizer_tensors, restore_optimizer, train_epoch
from model.progress import Progress

log = logging.getLogger(__name__)

LAST, BEST = "last.safetensors", "best.safetensors"


@dataclass
class FitOptions:
    epochs: int = 10
    max_steps: int | None = None     # stop after this many optimizer steps in total
    batch_size: int = 20
    lr: float = 1e-3
    schedule: str = "constant"       # or "cosine": decay to lr/50 over the run
    time_limit: float | None = None  # stop after this many seconds of training
    rebalance: float = 0.0           # 0: the paper's MSE; >0: weight rare colours (see below)
    # the spatial model's loss: "l1+ce" (L1 on a/b + 0.05 × rebalanced bin cross-entropy),
    # "l1", "mse", "mse+ce"; "auto": l1+ce where it has a class head, else l1. The hybrid
    # (paper) model always trains on the paper's MSE (see ``rebalance``)
    loss: str = "auto"
    hint_share: float = 0.5          # share of training crops with simulated hints
    # train only the spatial model's hint guide (``SpatialNet.train_only_guide``): every
    # crop gets hints, and validation is scored with fixed simulated hints
    guide_only: bool = False
    ce_weight: float = 0.05          # weight of the bin cross-entropy in the "+ce" losses
    in_memory: bool = False          # decode the photos once into RAM (model.training.photostore)
    # "auto": bfloat16 autocast on CUDA, float32 on a CPU; "bf16": bfloat16 autocast on a
    # CPU too (oneDNN: 55 against 29 photos/s for the spatial model at 128², batch 32)
    precision: str = "auto"
    crop: int = 128                  # training crops are crop×crop
    crop_min_scale: float = 0.6      # crops cover this much of the short side, up to all
    val_share: float = 0.1           # held out to choose the best checkpoint
    # held out besides, to judge the result (a fine-tune's before/after) on photos that
    # chose nothing, where that leaves ``plan.MIN_JUDGE`` of them; 0: the validation
    # photos judge too, and the before/after reads high (+3.83 against +2.96 dB unseen)
    judge_share: float = 0.0
    # "name": a photo's side depends on its name (``split_validation``); "grouped": whole
    # people and a share of every source and class (``split_grouped``)
    split: str = "name"
    # keep near-duplicates (burst shots, a print scanned twice: ``duplicates``) on one
    # side of the split: a copy of a training photo among the judging ones flatters them
    group_duplicates: bool = False
    # stop once validation has not improved for this many epochs (None: run the budget
    # out): on 719 flower photos the best came at 5 minutes of 10, and 25 gained nothing
    patience: int | None = None
    checkpoint_every: int = 500      # steps between ``last`` checkpoints
    device: str = "auto"
    num_workers: int | None = None   # None: 0 on the CPU, up to 8 on CUDA
    seed: int = 0
    check_files: bool = True         # decode every photo up front to skip bad/gray ones
    resume: bool = True              # continue from out_dir/last.safetensors if present


@dataclass
class FitResult:
    out_dir: Path
    best: Path | None  # None: cancelled before any checkpoint was written
    steps: int
    epochs_done: int
    history: list[dict] = field(default_factory=list)
    cancelled: bool = False
    # the held-out photos that judge the result: apart from ``select_paths`` where there
    # were enough photos (``holdout["separate"]``), else the same
    val_paths: list[Path] = field(default_factory=list)
    select_paths: list[Path] = field(default_factory=list)  # they chose the best checkpoint
    best_epoch: int = 0          # where the best checkpoint came from (0: the base model,
                                 # or none validated)
    best_step: int = 0
    stopped: str = ""            # why the run ended, in words
    holdout: dict = field(default_factory=dict)  # ``Holdout.as_meta``
    ending: dict = field(default_factory=dict)   # ``RunState.ending``
    best_at: dict = field(default_factory=dict)  # ``RunState.best``: epoch, step, seconds

    def words(self) -> str:
        """Where the best checkpoint came from and why the run stopped."""
        from model.training.plan import ending_words

        return ending_words(self.ending, self.best_at)


@torch.no_grad()
def _validate(net: HybridNet | SpatialNet, loader, loss_fn) -> float:
    """The loss over the validation photos (``loss_fn``'s validation mode)."""
    net.eval()
    total, n = 0.0, 0
    for batch in loader:
        if batch is None:
            continue
        total += float(loss_fn(batch, False)) * len(batch[0])
        n += len(batch[0])
    net.train()
    return total / max(n, 1)


def _simulated_hints(ab: torch.Tensor, share: float, rng: np.random.Generator) -> torch.Tensor:
    """A batch of simulated hint maps (``model.hints.simulate_hints``) for N×2×H×W a/b."""
    maps = [simulate_hints(a, rng, none_share=1.0 - share) for a in ab.cpu().numpy()]
    return torch.from_numpy(np.stack(maps)).to(ab.device)


# validation hints of a guide-only run: the same counts for every photo in turn, so the
# validation loss weighs few and many hints alike and is the same from epoch to epoch
VAL_HINT_COUNTS = (1, 2, 5, 10, 20)


def _reconfigured(net, config, path) -> torch.nn.Module:
    """``net``'s weights in a network built from ``config`` (same shapes, other settings;
    a hint guide that ``net`` lacks starts fresh, with no effect until it trains)."""
    out = build_network(config)
    try:
        missing, unexpected = out.load_state_dict(net.state_dict(), strict=False)
    except RuntimeError as exc:
        raise ValueError(f"{path}: its weights do not fit the requested config: {exc}") from None
    missing = [k for k in missing if not k.startswith("hint_guide.")]
    if missing or unexpected:
        raise ValueError(f"{path}: its weights do not fit the requested config: missing "
                         f"{missing[:5]}, unexpected {unexpected[:5]}")
    return out


def fit(data_dirs: list[os.PathLike | str], out_dir: os.PathLike | str,
        config: HybridConfig | SpatialConfig | None = None, from_checkpoint: os.PathLike | str | None = None,
        options: FitOptions | None = None, progress: Progress | None = None,
        cache: BranchCache | None = None) -> FitResult:
    """Train a new model (``config``) or fine-tune one (``from_checkpoint``; a ``config``
    given with it may change what trains, e.g. the spatial model's
    ``train_backbone_from``, but not the network's shape).

    Resumes from ``out_dir/last.safetensors`` when it exists and ``options.resume``.
    Under ``torchrun``, one process of several (``model.training.distributed``): only rank 0
    writes checkpoints and reports to ``progress``.
    """
    world = distributed.world_from_env()
    try:
        return _fit(data_dirs, out_dir, config, from_checkpoint, options or FitOptions(),
                    progress or Progress(), cache, world)
    finally:
        distributed.leave(world)


def _fit(data_dirs, out_dir, config, from_checkpoint, options: FitOptions, progress: Progress,
         cache: BranchCache | None, world: distributed.World) -> FitResult:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = distributed.start(world, resolve_device(options.device))
    if not world.is_main:
        progress = distributed.Silent()  # rank 0 speaks for all
    torch.manual_seed(options.seed)

    resume_path = out_dir / LAST
    extra: dict[str, torch.Tensor] = {}
    meta: dict = {}
    if options.resume and resume_path.is_file():
        net, meta, extra = load_checkpoint(resume_path, with_extra=True)
        progress.message(f"resuming from {resume_path} at step {meta.get('step', 0)}")
    elif from_checkpoint is not None:
        net, base_meta = load_checkpoint(from_checkpoint)
        # the base's inference settings (vivid, mirror) stay the fine-tuned model's own
        meta = {"base_model": str(from_checkpoint), "base_meta": base_meta,
                **inference_settings(base_meta)}
        if config is not None and config != net.config:
            net = _reconfigured(net, config, from_checkpoint)
    else:
        net = build_network(config or HybridConfig())
    config = net.config
    if options.guide_only:
        net.train_only_guide()
    net.to(device).train()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    report = scan_training_photos(*data_dirs, check=options.check_files)
    progress.message(report.summary())
    if not report.usable:
        raise ValueError(f"no usable colour photos in {', '.join(map(str, data_dirs))}")
    with distributed.main_first(world):  # rank 0 fills the cache that the others read
        features = compute_features(report.usable, config.branches, cache or BranchCache(),
                                    device, progress)
    if progress.cancelled:
        best = out_dir / BEST if (out_dir / BEST).is_file() else None
        return FitResult(out_dir, best, int(meta.get("step", 0)), 0, [], True)
    usable = [p for p in report.usable if p in features]
    store = None
    if options.in_memory:
        progress.message(f"decoding {len(usable)} photos into memory (kept in the cache for later runs)")
        with distributed.main_first(world):
            store = PhotoStore.load(usable, side=round(options.crop * 1.25))
    holdout = _split(usable, options, store)
    train_paths, val_paths = holdout.train, holdout.select
    progress.message(f"{holdout.words()}; {count_parameters(net):,} trainable parameters on "
                     f"{device.type}")

    workers = options.num_workers
    if workers is None:
        workers = 0 if device.type == "cpu" else min(8, os.cpu_count() or 1)
    n_br = len(config.branches)
    sets = (train_paths, options.crop, features, True, options.seed, n_br, (options.crop_min_scale, 1.0))
    val_args = (val_paths, options.crop, features, False, options.seed, n_br)
    if store is not None:
        train_set, val_set = StoreDataset(store, *sets), StoreDataset(store, *val_args)
    else:
        train_set, val_set = PhotoDataset(*sets), PhotoDataset(*val_args)
    loader_kw = dict(batch_size=options.batch_size, num_workers=workers, collate_fn=collate,
                     pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    val_loader = torch.utils.data.DataLoader(val_set, shuffle=False, **loader_kw)
    sampler = distributed.sampler(len(train_set), options.seed, world)
    loader = torch.utils.data.DataLoader(train_set, sampler=sampler, **loader_kw)

    amp = device.type == "cuda" or options.precision == "bf16"
    spatial = isinstance(net, SpatialNet)
    loss_kind = options.loss
    if loss_kind == "auto":
        loss_kind = "l1+ce" if spatial and config.class_head else "l1"
    if spatial and loss_kind.endswith("+ce") and not extra and from_checkpoint is None:
        # a new model: the class loss's rarity weights from these photos (Zhang et al.)
        net.class_weights.copy_(colour_weights(train_paths, 1.0, seed=options.seed,
                                               photo=train_set.photo))
    weights = colour_weights(train_paths, options.rebalance, seed=options.seed,
                             photo=train_set.photo) \
        if options.rebalance and not spatial else None
    hint_rng = np.random.default_rng(distributed.rank_seed(options.seed + int(meta.get("step", 0)),
                                                           world))
    model = distributed.synced(net, world, device)  # what the loss calls: DDP averages

    def batch_hints(ab: torch.Tensor, training: bool) -> torch.Tensor | None:
        if not config.hints:
            return None
        if training:
            share = 1.0 if options.guide_only else options.hint_share
            return _simulated_hints(ab, share, hint_rng) if share > 0 else None
        if not options.guide_only:
            return None  # automatic mode: what the automatic model is judged on
        rng = np.random.default_rng(int(ab[:, :, :4, :4].abs().sum() * 1e6) % 2**32)
        counts = [VAL_HINT_COUNTS[i % len(VAL_HINT_COUNTS)] for i in range(len(ab))]
        return torch.from_numpy(np.stack([simulate_hints(a, rng, c) for a, c in
                                          zip(ab.cpu().numpy(), counts)])).to(ab.device)

    def loss_fn(batch, training: bool = True) -> torch.Tensor:
        L, ab, f = (t.to(device, non_blocking=True) for t in batch)
        f = f if config.branches else None
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            if spatial:
                hints = batch_hints(ab, training)
                return spatial_loss(model, L, ab, f, hints, loss_kind, options.ce_weight)
            pred = model(L, f).float()
        return paper_loss(pred, ab) if weights is None else rebalanced_loss(pred, ab, weights)

    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=options.lr)
    if extra:
        restore_optimizer(opt, extra)
    steps_per_epoch = max(1, math.ceil(distributed.shard_size(len(train_paths), world)
                                       / options.batch_size))
    total_steps = options.epochs * steps_per_epoch
    if options.max_steps is not None:
        total_steps = min(total_steps, options.max_steps)
    data_info = {"folders": [str(d) for d in data_dirs], "train_photos": len(train_paths),
                 "val_photos": len(val_paths), "skipped_unreadable": len(report.unreadable),
                 "skipped_grayscale": len(report.grayscale)}
    fixed_meta = {"data": data_info, "holdout": holdout.as_meta(), "options": asdict(options),
                  "device": device.type}
    if world.active:
        fixed_meta["processes"] = world.size
    run = RunState(meta, options, total_steps, fixed_meta,
                   lambda f: distributed.agreed_fraction(f, world, device), steps_per_epoch)

    def save_last() -> None:
        if world.is_main:
            save_checkpoint(resume_path, net, run.meta(), optimizer_tensors(opt))
        run.last_saved = run.step

    cancelled = False
    best_state: dict[str, torch.Tensor] | None = None  # the best weights, to stamp at the end
    best_meta: dict = {}

    def kept_best() -> tuple[dict, dict[str, torch.Tensor]]:
        """The run's metadata and a copy of its weights now, as the best so far."""
        return run.meta(), {k: v.detach().to("cpu", copy=True)
                            for k, v in trained_state(net).items()}

    if from_checkpoint is not None and val_paths and run.step == 0 and not run.history:
        # the base model is the first candidate: a fine-tune on photos of a kind the base
        # already knows can only do worse (a food folder the bundled model had trained on:
        # every pass lost 0.2-0.5 dB), and then it hands back the base, saying so
        run.base_scored(_validate(net, val_loader, loss_fn))
        if world.is_main:
            best_meta, best_state = kept_best()
        progress.message(f"the base model: val loss {run.best_val:.5f}")
    while not (run.stopped or cancelled):
        if run.why_stop() or run.out_of_patience():  # (a resumed run that had stalled)
            break
        epoch, skip = divmod(run.step, steps_per_epoch)
        sampler.set_epoch(epoch, skip * options.batch_size)
        with run.clock():
            losses, cancelled = train_epoch(run, loader, net, opt, loss_fn, progress, save_last)
        if cancelled:
            run.stopped = "it was cancelled"
            break
        if not losses:
            if run.why_stop():
                break  # the budget ran out at the epoch's first batch
            raise ValueError(f"none of the {len(train_paths)} training photos could be read")
        val = _validate(net, val_loader, loss_fn) if val_paths else float(np.mean(losses))
        record = run.end_epoch(epoch + 1, float(np.mean(losses)), val)
        if run.improved(val) and world.is_main:
            best_meta, best_state = kept_best()
            save_checkpoint(out_dir / BEST, net, best_meta)
        # "stale": passes since the best (the base model's score included, for a fine-tune)
        progress.epoch({**record, "stale": run.stale})
        stop = f"; stopping: {run.stopped}" if run.out_of_patience() else ""
        progress.message(f"epoch {epoch + 1}: train loss {record['train_loss']:.5f}, "
                         f"val loss {val:.5f} ({run.seconds():.0f} s){stop}")
    trained = run.step > int(meta.get("step", 0))
    if trained and world.is_main and (run.step != run.last_saved or not resume_path.is_file()):
        save_last()
    if trained and world.is_main and not (out_dir / BEST).is_file():
        save_checkpoint(out_dir / BEST, net, run.meta())
    distributed.finished(world, net, run.step, len(train_paths))  # rank 0's files are written
    if trained and world.is_main:  # the best checkpoint learns how the run ended
        if best_state is not None:
            net.load_state_dict(best_state, strict=False)
            save_checkpoint(out_dir / BEST, net, {**best_meta, **run.ending()})
        elif (out_dir / BEST).is_file():  # a resumed run that did not beat it
            best_net, best_meta = load_checkpoint(out_dir / BEST)
            save_checkpoint(out_dir / BEST, best_net, {**best_meta, **run.ending()})
    best = out_dir / BEST if (out_dir / BEST).is_file() else None
    return FitResult(out_dir, best, run.step, len(run.history), run.history, cancelled,
                     holdout.judge, holdout.select, run.best.get("epoch", 0),
                     run.best.get("step", 0), run.stopped, holdout.as_meta(), run.ending(),
                     dict(run.best))


def _split(usable: list[Path], options: FitOptions, store: PhotoStore | None) -> Holdout:
    """The photos that train, choose and judge (``data.split_holdout``), near-duplicates
    grouped when ``options.group_duplicates``."""
    splitter = {"name": split_validation, "grouped": split_grouped}[options.split]
    groups: list[list[Path]] = []
    if options.group_duplicates and options.val_share + options.judge_share > 0:
        from model.io.imageio import read_photo
        from model.training.duplicates import near_duplicate_groups, photo_hashes

        photo = (lambda p: store.images[p]) if store is not None else (lambda p: read_photo(p).rgb)
        groups = near_duplicate_groups(photo_hashes(usable, photo))
    return split_holdout(usable, options.val_share, options.judge_share, options.seed, splitter,
                         groups)
