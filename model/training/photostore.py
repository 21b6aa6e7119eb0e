"""Training photos decoded once and kept in RAM, small, as uint8.

Decoding a JPEG for every crop held training at ~15 photos/s on 2 cores. Training crops
are 128-160 px, so each photo is decoded once, shrunk to a short side a little above the
crop and kept as uint8 (18,000 photos at short side 160: about 1.6 GB); crops, flips and
Lab then cost about a millisecond each. The decoded set is kept in the user cache folder
(``photos/``), keyed by the files' names, sizes and times, so the next run loads it in
seconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from model.io.places import cache_root
from model.training.data import PhotoDataset
from model.io.imageio import ImageReadError, read_photo

log = logging.getLogger(__name__)


def _shrink(path: Path, side: int) -> np.ndarray | None:
    try:
        rgb = read_photo(path).rgb
    except ImageReadError as exc:
        log.warning("skipping %s", exc)
        return None
    h, w = rgb.shape[:2]
    s = side / min(h, w)
    if s < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _key(paths: list[Path], side: int) -> str:
    h = hashlib.sha1(f"v1 {side}".encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


class PhotoStore:
    """Photos as uint8 RGB arrays (short side at most ``side``), by path."""

    def __init__(self, images: dict[Path, np.ndarray]):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    @classmethod
    def load(cls, paths: list[Path], side: int, use_cache: bool = True,
             progress: Callable[[int, int], None] | None = None) -> "PhotoStore":
        """Decode ``paths`` (those that fail are left out, with a warning), or read them
        back from the cache folder when the same files were decoded before."""
        paths = list(paths)
        cache = cache_root() / "photos" / f"{_key(paths, side)}.npz" if use_cache else None
        if cache is not None and cache.is_file():
            try:
                with np.load(cache) as z:
                    flat, index = z["pixels"], z["index"]
                images = {}
                for (i, off, h, w) in index:
                    images[paths[i]] = flat[off:off + h * w * 3].reshape(h, w, 3)
                return cls(images)
            except (OSError, ValueError, KeyError, IndexError) as exc:
                log.warning("ignoring the damaged photo cache %s: %s", cache, exc)
        images: dict[Path, np.ndarray] = {}
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            for n, (p, img) in enumerate(zip(paths, pool.map(lambda p: _shrink(p, side), paths))):
                if img is not None:
                    images[p] = img
                if progress and (n % 200 == 199 or n + 1 == len(paths)):
                    progress(n + 1, len(paths))
        if cache is not None:
            cls._keep(cache, paths, images)
        return cls(images)

    @staticmethod
    def _keep(cache: Path, paths: list[Path], images: dict[Path, np.ndarray]) -> None:
        order = {p: i for i, p in enumerate(paths)}
        index, chunks, off = [], [], 0
        for p, img in images.items():
            index.append((order[p], off, img.shape[0], img.shape[1]))
            chunks.append(img.ravel())
            off += img.size
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.part")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                np.savez(fh, pixels=np.concatenate(chunks) if chunks else np.zeros(0, np.uint8),
                         index=np.asarray(index, np.int64).reshape(-1, 4))
            os.replace(tmp, cache)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.info("could not keep the decoded photos in %s: %s", cache, exc)


class StoreDataset(PhotoDataset):
    """``PhotoDataset`` whose photos come from a ``PhotoStore`` instead of the disk."""

    def __init__(self, store: PhotoStore, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store

    def photo(self, path: Path) -> np.ndarray:
        img = self.store.images.get(path)
        if img is None:
            raise ImageReadError(path, "not among the decoded training photos")
        return img.astype(np.float32) * (1.0 / 255.0)

