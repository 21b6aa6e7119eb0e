"""``fit``: train or fine-tune the hybrid network on folders of colour photos.

Adam on the paper's loss (eq. 1–2). The pretrained branches stay frozen and their outputs
come from a disk cache (computed once per photo), so a step costs only the
encoder–decoder. Checkpoints go to ``out_dir`` regularly (``last.safetensors``, with the
optimizer state, for resuming) and whenever validation improves (``best.safetensors``).
Progress and cancellation go through a ``model.progress.Progress``, so the same loop
serves the CLI (its tqdm face) and the desktop app's worker thread (its Qt face).
Under ``torchrun`` each process trains on its shard with DDP (``model.distributed``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import color, distributed
from .backbones import BranchSet
from .cache import BranchCache, file_digest
from .checkpoint import build_network, load_checkpoint, save_checkpoint
from .colorizer import branch_gray
from .data import PhotoDataset, collate, scan_training_photos, split_grouped, split_validation
from .devices import resolve_device
from .hints import simulate_hints
from .imageio import ImageReadError, read_photo
from .network import HybridConfig, HybridNet, count_parameters, paper_loss
from .photostore import PhotoStore, StoreDataset
from .progress import FEATURES, Progress
from .spatial import AB_BINS, SpatialConfig, SpatialNet, ab_bins, spatial_loss

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
    in_memory: bool = False          # decode the photos once into RAM (model.photostore)
    # "auto": bfloat16 autocast on CUDA, float32 on a CPU; "bf16": bfloat16 autocast on a
    # CPU too (oneDNN: 55 against 29 photos/s for the spatial model at 128², batch 32)
    precision: str = "auto"
    crop: int = 128                  # training crops are crop×crop
    crop_min_scale: float = 0.6      # crops cover this much of the short side, up to all
    val_share: float = 0.1
    # "name": a photo's side depends on its name (``split_validation``); "grouped": whole
    # people and a share of every source and class (``split_grouped``)
    split: str = "name"
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
    val_paths: list[Path] = field(default_factory=list)  # the held-out photos


def compute_features(paths: list[Path], branches: tuple[str, ...], cache: BranchCache,
                     device: torch.device, progress: Progress,
                     batch: int = 16) -> dict[Path, np.ndarray]:
    """B×1000 branch outputs for each photo, from the cache or computed and cached.

    Photos that cannot be read are left out of the result.
    """
    if not branches:
        return {p: np.zeros((0, 1000), np.float32) for p in paths}
    digests = {p: file_digest(p) for p in paths}
    missing = [p for p in paths if any((digests[p], b) not in cache for b in branches)]
    if missing:
        progress.message(f"computing pretrained-branch outputs for {len(missing)} photos "
                         f"(cached for later runs in {cache.folder})")
        net = BranchSet(branches, device)
        for start in range(0, len(missing), batch):
            if progress.cancelled:
                break
            chunk, grays = [], []
            for p in missing[start:start + batch]:
                try:
                    grays.append(branch_gray(color.luminance(read_photo(p).rgb)))
                    chunk.append(p)
                except ImageReadError as exc:
                    log.warning("skipping %s", exc)
            if chunk:
                feats = net.all_features(grays)
                for p, f in zip(chunk, feats):
                    for name, v in zip(branches, f):
                        cache.put(digests[p], name, v)
            if (start // batch) % 20 == 19:
                cache.save()
            progress.advance(FEATURES, min(start + batch, len(missing)), len(missing))
        cache.save()
    out = {}
    for p in paths:
        vals = [cache.get(digests[p], b) for b in branches]
        if all(v is not None for v in vals):
            out[p] = np.stack(vals)
    return out


def _decoded(path: Path) -> np.ndarray:
    return read_photo(path).rgb


def colour_weights(paths: list[Path], power: float, sample: int = 800, seed: int = 0,
                   photo: Callable[[Path], np.ndarray] | None = None) -> torch.Tensor:
    """Per-bin pixel weights that rebalance rare (saturated) colours, after Zhang et al.
    2016: w ∝ (½·p̃ + ½/Q)^-power, p̃ the smoothed a/b distribution of the training
    photos, Q the number of bins in use, normalised so the mean weight per pixel is 1.

    The paper's MSE pulls every prediction toward the conditional mean, which for most
    objects is a gray-brown; weighting the rarer colours keeps outputs colourful.
    ``photo`` reads a photo as float RGB (default: decode the file; a training set's own
    ``photo`` serves them from memory).
    """
    import cv2

    from .data import center_square

    rng = np.random.default_rng(seed)
    pick = [paths[i] for i in rng.permutation(len(paths))[:sample]]
    hist = np.zeros((AB_BINS, AB_BINS), np.float64)
    for path in pick:
        try:
            rgb = center_square((photo or _decoded)(path), 64)
        except ImageReadError:
            continue
        lab = color.rgb_to_lab(rgb)
        idx = ab_bins(torch.from_numpy(color.normalise_ab(lab[..., 1:]).transpose(2, 0, 1))[None])
        hist += np.bincount(idx.ravel().numpy(), minlength=AB_BINS**2).reshape(AB_BINS, AB_BINS)
    p = hist / max(hist.sum(), 1.0)
    smooth = cv2.GaussianBlur(p, (3, 3), 0.5)
    smooth /= max(smooth.sum(), 1e-12)
    q = max(int((p > 0).sum()), 1)
    w = (0.5 * smooth + 0.5 / q) ** -power
    w /= max(float((p * w).sum()), 1e-12)
    return torch.from_numpy(w.astype(np.float32).ravel())


def rebalanced_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The paper's MSE with each pixel weighted by its true colour's rarity weight."""
    w = weights.to(pred.device)[ab_bins(target)]
    return (w * (pred - target).pow(2).mean(dim=1)).mean()


def _lr_at(options: FitOptions, done: float) -> float:
    """Learning rate when the fraction ``done`` (0..1) of the run is behind us."""
    if options.schedule == "cosine":
        t = min(max(done, 0.0), 1.0)
        return options.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))
    return options.lr


def _optimizer_tensors(opt: torch.optim.Adam) -> dict[str, torch.Tensor]:
    out = {}
    for i, state in opt.state_dict()["state"].items():
        for k, v in state.items():
            out[f"adam.{i}.{k}"] = torch.as_tensor(v).float()
    return out


def _restore_optimizer(opt: torch.optim.Adam, extra: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict[int, dict] = {}
    for key, v in extra.items():
        if key.startswith("adam."):
            _, i, k = key.split(".", 2)
            state.setdefault(int(i), {})[k] = v if k != "step" else v.reshape(())
    if state:
        sd["state"] = state
        opt.load_state_dict(sd)


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
    Under ``torchrun``, one process of several (``model.distributed``): only rank 0
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
        meta = {"base_model": str(from_checkpoint), "base_meta": base_meta}
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
    splitter = {"name": split_validation, "grouped": split_grouped}[options.split]
    train_paths, val_paths = splitter(usable, options.val_share, options.seed)
    progress.message(f"training on {len(train_paths)} photos, validating on {len(val_paths)}; "
                     f"{count_parameters(net):,} trainable parameters on {device.type}")

    workers = options.num_workers
    if workers is None:
        workers = 0 if device.type == "cpu" else min(8, os.cpu_count() or 1)
    n_br = len(config.branches)
    sets = (train_paths, options.crop, features, True, options.seed, n_br, (options.crop_min_scale, 1.0))
    val_args = (val_paths, options.crop, features, False, options.seed, n_br)
    if options.in_memory:
        progress.message(f"decoding {len(usable)} photos into memory (kept in the cache for later runs)")
        with distributed.main_first(world):
            store = PhotoStore.load(usable, side=round(options.crop * 1.25))
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
        _restore_optimizer(opt, extra)
    steps_per_epoch = max(1, math.ceil(distributed.shard_size(len(train_paths), world)
                                       / options.batch_size))
    total_steps = options.epochs * steps_per_epoch
    if options.max_steps is not None:
        total_steps = min(total_steps, options.max_steps)
    data_info = {"folders": [str(d) for d in data_dirs], "train_photos": len(train_paths),
                 "val_photos": len(val_paths), "skipped_unreadable": len(report.unreadable),
                 "skipped_grayscale": len(report.grayscale)}
    fixed_meta = {"data": data_info, "options": asdict(options), "device": device.type}
    if world.active:
        fixed_meta["processes"] = world.size
    run = _Run(meta, options, total_steps, fixed_meta,
               lambda f: distributed.agreed_fraction(f, world, device))

    def save_last() -> None:
        if world.is_main:
            save_checkpoint(resume_path, net, run.meta(), _optimizer_tensors(opt))
        run.last_saved = run.step

    cancelled = False
    while run.step < total_steps and not cancelled and run.done_fraction() < 1.0:
        epoch, skip = divmod(run.step, steps_per_epoch)
        sampler.set_epoch(epoch, skip * options.batch_size)
        with run.clock():
            losses, cancelled = _train_epoch(run, loader, net, opt, loss_fn, progress, save_last)
        if cancelled:
            break
        if not losses:
            if run.done_fraction() >= 1.0:
                break  # the budget ran out at the epoch's first batch
            raise ValueError(f"none of the {len(train_paths)} training photos could be read")
        val = _validate(net, val_loader, loss_fn) if val_paths else float(np.mean(losses))
        record = run.end_epoch(epoch + 1, float(np.mean(losses)), val)
        progress.epoch(record)
        progress.message(f"epoch {epoch + 1}: train loss {record['train_loss']:.5f}, "
                         f"val loss {val:.5f} ({run.seconds():.0f} s)")
        if val < run.best_val:
            run.best_val = val
            if world.is_main:
                save_checkpoint(out_dir / BEST, net, run.meta())
    trained = run.step > int(meta.get("step", 0))
    if trained and world.is_main and (run.step != run.last_saved or not resume_path.is_file()):
        save_last()
    if trained and world.is_main and not (out_dir / BEST).is_file():
        save_checkpoint(out_dir / BEST, net, run.meta())
    distributed.finished(world, net, run.step, len(train_paths))  # rank 0's files are written
    best = out_dir / BEST if (out_dir / BEST).is_file() else None
    return FitResult(out_dir, best, run.step, len(run.history), run.history, cancelled, val_paths)


class _Run:
    """The changing state of one ``fit`` run: steps, history, and the training clock,
    which runs only while batches train (not during validation or checkpoints)."""

    def __init__(self, meta: dict, options: FitOptions, total_steps: int, fixed_meta: dict,
                 agree: Callable[[float], float] = lambda f: f):
        self.base_meta = {k: v for k, v in meta.items()
                          if k not in ("step", "history", "best_val", "train_seconds")}
        self.fixed_meta, self.options, self.total_steps = fixed_meta, options, total_steps
        self.step = self.last_saved = int(meta.get("step", 0))
        self.history: list[dict] = list(meta.get("history", []))
        self.best_val = float(meta.get("best_val", math.inf))
        self.earlier_seconds = float(meta.get("train_seconds", 0.0))  # before this run
        self.run_seconds = 0.0   # this run's training time, clock stopped
        self._since: float | None = None
        self._agree = agree  # processes under torchrun agree on when the time is up

    @contextlib.contextmanager
    def clock(self):
        self._since = time.monotonic()
        try:
            yield
        finally:
            self.run_seconds += time.monotonic() - self._since
            self._since = None

    def this_run_seconds(self) -> float:
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self.run_seconds + running

    def seconds(self) -> float:
        """Training time over all runs of this model."""
        return self.earlier_seconds + self.this_run_seconds()

    def done_fraction(self) -> float:
        """How much of the budget (steps, and this run's ``time_limit``) is spent."""
        f = self.step / max(self.total_steps, 1)
        if self.options.time_limit:
            f = self._agree(max(f, self.this_run_seconds() / self.options.time_limit))
        return f

    def end_epoch(self, epoch: int, train_loss: float, val_loss: float) -> dict:
        record = {"epoch": epoch, "step": self.step, "train_loss": train_loss,
                  "val_loss": val_loss, "seconds": round(self.seconds(), 1)}
        if self.history and self.history[-1]["epoch"] == epoch:
            self.history[-1] = record  # the rest of an epoch that a resumed run finished
        else:
            self.history.append(record)
        return record

    def meta(self) -> dict:
        return {**self.base_meta, **self.fixed_meta, "step": self.step, "history": self.history,
                "best_val": self.best_val, "train_seconds": self.seconds()}


def _train_epoch(run: _Run, loader, net, opt, loss_fn, progress: Progress,
                 save_last) -> tuple[list[float], bool]:
    """One pass over ``loader`` (or what is left of the budget): (losses, cancelled)."""
    losses: list[float] = []
    for batch in loader:
        if progress.cancelled:
            return losses, True
        if batch is None:
            continue
        done = run.done_fraction()
        if done >= 1.0:
            break
        for group in opt.param_groups:
            group["lr"] = _lr_at(run.options, done)
        loss = loss_fn(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run.step += 1
        losses.append(float(loss.detach()))
        progress.step(run.step, run.total_steps, losses[-1])
        if run.step - run.last_saved >= run.options.checkpoint_every:
            save_last()
        if run.step >= run.total_steps:
            break
    return losses, False
