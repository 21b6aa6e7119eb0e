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

from .files import hash_file
from .imageio import atomic_write

log = logging.getLogger(__name__)


def cache_root() -> Path:
    """colorgui's user cache folder (``COLORGUI_CACHE_DIR`` overrides it)."""
    env = os.environ.get("COLORGUI_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("colorgui"))


def default_cache_dir() -> Path:
    return cache_root() / "branches"


def keep(path: Path, data: bytes) -> None:
    """Write a cache file atomically. A cache folder that cannot be written is not an
    error: the file is only made again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as exc:
        log.info("could not keep %s in the cache: %s", path, exc)


def gamut_table() -> np.ndarray:
    """``model.color``'s gamut table, read from the user cache folder, or built and kept
    there (0.4-0.8 s saved on each later start); a damaged file is built again."""
    import io

    from . import color

    path = cache_root() / (f"gamut-table-v{color.TABLE_VERSION}-"
                           f"{color.TABLE_SHAPE[0]}x{color.TABLE_SHAPE[1]}.npy")
    try:
        table = np.load(path, allow_pickle=False)
        if table.shape == color.TABLE_SHAPE and table.dtype == np.float32 \
                and np.isfinite(table).all():
            return table
    except (OSError, ValueError):  # not there yet, or damaged: build it again
        pass
    table = color.build_max_chroma_table()
    buf = io.BytesIO()
    np.save(buf, table, allow_pickle=False)
    keep(path, buf.getvalue())
    return table


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
