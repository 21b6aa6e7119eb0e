"""Training on several devices: ``fit`` under ``torchrun`` (one process per GPU, or per
CPU share with gloo) with DistributedDataParallel.

torchrun says which process this is in its environment (``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK``); without it, ``World()`` is the one process of a plain run and every
helper here does nothing. Each process trains on its own shard of every epoch's shuffle
and DDP averages the gradients, so a step sees ``batch_size`` × world size photos. Only
rank 0 writes checkpoints, caches and progress; the others wait where rank 0 writes what
they read.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from model.training.data import EpochSampler
from model.progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """This process's place among those torchrun started."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0  # its index on its own machine: which GPU it takes

    @property
    def is_main(self) -> bool:
        """The process that writes checkpoints, caches and logs."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def world_from_env(environ=os.environ) -> World:
    """The world torchrun describes in ``environ``; one process where it describes none."""
    try:
        size = int(environ.get("WORLD_SIZE", 1))
        rank, local = int(environ.get("RANK", 0)), int(environ.get("LOCAL_RANK", 0))
    except ValueError as exc:
        raise ValueError(f"torchrun's WORLD_SIZE, RANK or LOCAL_RANK is not a number: {exc}") \
            from None
    return World(rank, size, local) if size > 1 else World()


def start(world: World, device: torch.device) -> torch.device:
    """Join the process group (nccl between GPUs, gloo on CPUs) unless one is already
    joined; the device this process trains on (its own GPU under CUDA)."""
    if not world.active:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                rank=world.rank, world_size=world.size)
    return device


def finished(world: World, net: torch.nn.Module, steps: int, photos: int) -> None:
    """Wait until every process has trained (rank 0's last checkpoint is then on disk for
    all of them); each says so, with a digest of its weights, which DDP keeps equal."""
    if not world.active:
        return
    dist.barrier()
    digest = hashlib.blake2b(digest_size=6)
    for tensor in net.state_dict().values():
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    log.info("rank %d of %d: %d steps on its shard of %d photos; weights %s", world.rank,
             world.size, steps, photos, digest.hexdigest())


def leave(world: World) -> None:
    """Leave the process group (after ``fit``, or as it fails: no more collectives)."""
    if world.active and dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, world: World) -> int | list[int]:
    """A random seed of this process's own: ``seed`` itself on rank 0 (a plain run is
    unchanged), ``[seed, rank]`` on the others, so their simulated hints differ."""
    return [seed, world.rank] if world.rank else seed


@contextlib.contextmanager
def main_first(world: World):
    """Rank 0 runs the block first (it computes and caches); the others wait, then run it
    and find the cache filled, so no two processes write one cache file."""
    if world.active and not world.is_main:
        dist.barrier()
    yield
    if world.active and world.is_main:
        dist.barrier()


class Silent(Progress):
    """The progress of a process other than rank 0: its messages are rank 0's too."""

    def message(self, text: str) -> None:
        self.text = text


def shard_size(n: int, world: World) -> int:
    """Photos each process sees per epoch (the shuffle is padded to share out evenly:
    every process must take the same number of steps, or DDP's all-reduce waits)."""
    return math.ceil(n / world.size)


class ShardedEpochSampler(EpochSampler):
    """``EpochSampler``'s shuffle of the epoch, every ``world.size``-th key from
    ``world.rank`` on; ``skip`` counts within this process's shard (a resumed run)."""

    def __init__(self, n: int, seed: int, world: World):
        super().__init__(n, seed)
        self.world = world

    def __iter__(self):
        skip, self.skip = self.skip, 0
        try:
            keys = list(super().__iter__())
        finally:
            self.skip = skip
        total = shard_size(self.n, self.world) * self.world.size
        keys = [keys[i % len(keys)] for i in range(total)] if keys else []
        return iter(keys[self.world.rank::self.world.size][skip:])

    def __len__(self) -> int:
        return shard_size(self.n, self.world) - self.skip


def sampler(n: int, seed: int, world: World) -> EpochSampler:
    return ShardedEpochSampler(n, seed, world) if world.active else EpochSampler(n, seed)


class _Call(torch.nn.Module):
    """DDP calls ``forward``; this one runs any method of the network, so the losses'
    ``net.outputs(...)`` goes through DDP and its gradients are averaged too."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, method: str, *args):
        return getattr(self.net, method)(*args)


class Synced:
    """The network as the training loss sees it: ``net(...)`` and ``net.outputs(...)``
    run through DistributedDataParallel; any other attribute is the network's own."""

    def __init__(self, net: torch.nn.Module, device: torch.device):
        self._net = net
        ids = [device.index] if device.type == "cuda" else None
        # find_unused_parameters: a step without colour hints leaves some weights unused
        self._ddp = torch.nn.parallel.DistributedDataParallel(
            _Call(net), device_ids=ids, find_unused_parameters=True)

    def __call__(self, *args):
        return self._ddp("forward", *args)

    def outputs(self, *args):
        return self._ddp("outputs", *args)

    def __getattr__(self, name):
        return getattr(self._net, name)


def synced(net: torch.nn.Module, world: World, device: torch.device):
    """``net`` for the training loss: wrapped in DDP when several processes train."""
    return Synced(net, device) if world.active else net


def agreed_fraction(value: float, world: World, device: torch.device) -> float:
    """The largest of every process's ``value``: all stop at the same step when a time
    limit runs out (each process's own clock would stop them apart and hang the rest)."""
    if not world.active:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())
