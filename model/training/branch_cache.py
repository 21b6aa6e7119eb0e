"""A disk cache of the frozen branches' outputs, keyed by file content and branch.

Computing three ImageNet CNNs for every training photo is the expensive part of
training; their outputs never change, so they are computed once and reused across runs
and sessions. One safetensors file per branch maps a photo's SHA-1 to its 1000 class
probabilities, stored as round(255·√p) in uint8: 1 KB per photo and branch, exact to
within 0.4% for the probabilities that matter, and mostly zeros, so it compresses well.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save as st_save

from model import color
from model.io.files import atomic_write, hash_file
from model.io.imageio import ImageReadError, read_photo
from model.io.places import cache_root
from model.nets.backbones import BranchSet
from model.nets.branch_input import branch_gray
from model.progress import FEATURES, Progress

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    return cache_root() / "branches"


def file_digest(path: os.PathLike | str) -> str:
    """SHA-1 of a file's bytes: the key of its cached branch features."""
    return hash_file(path, "sha1")


class BranchCache:
    def __init__(self, folder: os.PathLike | str | None = None):
        self.folder = Path(folder) if folder else default_cache_dir()
        self._data: dict[str, dict[str, np.ndarray]] = {}
        self._dirty: set[str] = set()

    def _path(self, branch: str) -> Path:
        return self.folder / f"{branch}.safetensors"

    def _table(self, branch: str) -> dict[str, np.ndarray]:
        if branch not in self._data:
            table: dict[str, np.ndarray] = {}
            path = self._path(branch)
            if path.is_file():
                try:
                    table = {k: v.numpy() for k, v in load_file(str(path)).items()}
                except Exception:  # a damaged cache is recomputed, never fatal
                    table = {}
            self._data[branch] = table
        return self._data[branch]

    def get(self, digest: str, branch: str) -> np.ndarray | None:
        v = self._table(branch).get(digest)
        if v is None:
            return None
        p = np.square(v.astype(np.float32) / 255.0)
        return p / max(float(p.sum()), 1e-12)

    def put(self, digest: str, branch: str, value: np.ndarray) -> None:
        q = np.rint(np.sqrt(np.clip(np.asarray(value, np.float32), 0, 1)) * 255.0)
        self._table(branch)[digest] = q.astype(np.uint8)
        self._dirty.add(branch)

    def __contains__(self, key: tuple[str, str]) -> bool:
        digest, branch = key
        return digest in self._table(branch)

    def save(self) -> None:
        for branch in sorted(self._dirty):
            tensors = {k: torch.from_numpy(np.ascontiguousarray(v))
                       for k, v in self._data[branch].items()}
            atomic_write(self._path(branch), st_save(tensors))
        self._dirty.clear()


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
