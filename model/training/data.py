"""Folder datasets for training and evaluation."""

from __future__ import annotations

import hashlib
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from model import color
from model.io.files import list_images
from model.io.imageio import ImageReadError, read_photo

log = logging.getLogger(__name__)


@dataclass
class ScanReport:
    """What a folder scan kept and what it skipped, and why."""

    usable: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    grayscale: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.usable)} usable colour photos; skipped {len(self.unreadable)} "
                f"unreadable and {len(self.grayscale)} already-grayscale files")


def scan_training_photos(*roots: os.PathLike | str, check: bool = True) -> ScanReport:
    """Photos usable for training: readable and in colour. ``check=False`` trusts the
    files (fast, for large known-good folders) and lets the loader skip bad ones."""
    report = ScanReport()
    for path in list_images(*roots):
        if not check:
            report.usable.append(path)
            continue
        try:
            photo = read_photo(path)
        except ImageReadError as exc:
            report.unreadable.append((path, exc.reason))
            continue
        (report.grayscale if photo.is_gray else report.usable).append(path)
    return report


def split_validation(paths: list[Path], share: float, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """Deterministic split: a photo's side depends only on its file and folder names and
    the seed, not on where the folder lies, so a moved album keeps its split."""
    if share <= 0:
        return list(paths), []

    def score(p: Path) -> float:
        h = hashlib.sha1(f"{seed}:{p.parent.name}/{p.name}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2**64

    val = [p for p in paths if score(p) < share]
    if not val and len(paths) > 1:
        val = [min(paths, key=score)]
    vset = set(val)
    return [p for p in paths if p not in vset], val


@dataclass
class _Manifest:
    groups: dict[str, str]   # file name → person or class
    people: bool             # the groups are people


def _read_manifest(folder: Path) -> _Manifest | None:
    """A data folder's ``manifest.csv``, where it has one: the person of each face
    (``person``), else the class (``class``, ``class_name``)."""
    import csv

    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        return None
    with open(manifest, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        people = "person" in (reader.fieldnames or [])
        groups = {Path(row.get("file") or "").name:
                  next((row[k] for k in ("person", "class", "class_name") if row.get(k)), "")
                  for row in reader}
    return _Manifest(groups, people)


def split_grouped(paths: list[Path], share: float, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """A validation split that tells how a model does on photos like those it never saw:
    where a folder's manifest names people, whole people go to one side (a face seen in
    training would flatter the score); elsewhere every source (the folder holding the
    manifest, else the photo's folder) and class gives ``share`` of its photos, so the
    held-out photos cover all of them. Deterministic, like ``split_validation``."""
    if share <= 0:
        return list(paths), []

    def score(text: str) -> float:
        return int.from_bytes(hashlib.sha1(f"{seed}:{text}".encode()).digest()[:8], "big") / 2**64

    manifests: dict[Path, _Manifest | None] = {}

    def source_of(path: Path) -> tuple[Path, _Manifest | None]:
        for folder in path.parents:
            if folder not in manifests:
                manifests[folder] = _read_manifest(folder)
            if manifests[folder] is not None:
                return folder, manifests[folder]
        return path.parent, None

    sources: dict[str, dict[str, list[Path]]] = {}
    val: set[Path] = set()
    for p in paths:
        folder, manifest = source_of(p)
        group = manifest.groups.get(p.name, "") if manifest else ""
        if manifest is not None and manifest.people:
            if score(f"{folder.name}/{group or p.name}") < share:
                val.add(p)
        else:
            sources.setdefault(folder.name, {}).setdefault(group, []).append(p)
    for source, classes in sources.items():
        # each class's photos in a random order, the classes interleaved by the place of
        # a photo within its class, so the first share·n photos cover the classes evenly
        # (ImageNet's have one or two photos each)
        key: dict[Path, float] = {}
        for members in classes.values():
            ranked = sorted(members, key=lambda p: score(f"{source}/{p.name}"))
            for i, p in enumerate(ranked):
                key[p] = (i + score(f"{source}/{p.name}/place")) / len(ranked)
        order = sorted(key, key=key.get)
        val.update(order[:round(share * len(order))])
    if not val and len(paths) > 1:
        val = {min(paths, key=lambda p: score(p.name))}
    return [p for p in paths if p not in val], [p for p in paths if p in val]


@dataclass
class Holdout:
    """Which photos train, which choose the best checkpoint (``select``) and which judge
    the result (``judge``: apart from ``select`` where there are enough photos, else the
    same photos, and ``separate`` is False)."""

    train: list[Path]
    select: list[Path]
    judge: list[Path]
    separate: bool = False
    near_duplicates: int = 0  # photos kept on one side with their near-duplicates
    groups: int = 0           # how many groups they make

    def words(self) -> str:
        """Who trains and who judges, for the log."""
        text = f"training on {len(self.train)} photos; "
        if self.separate:
            text += (f"{len(self.select)} choose the best checkpoint and {len(self.judge)} "
                     f"others judge the result")
        else:
            text += f"{len(self.select)} both choose the best checkpoint and judge the result"
        if self.near_duplicates:
            text += (f"; {self.near_duplicates} near-duplicate photos (in {self.groups} "
                     f"groups) kept on one side of the split")
        return text

    def as_meta(self) -> dict:
        return {"train": len(self.train), "select": len(self.select), "judge": len(self.judge),
                "separate": self.separate, "near_duplicates": self.near_duplicates,
                "groups": self.groups}


def split_holdout(paths: list[Path], val_share: float, judge_share: float = 0.0, seed: int = 0,
                  splitter=split_validation, groups: list[list[Path]] = ()) -> Holdout:
    """``splitter`` (``split_validation`` or ``split_grouped``) holding out ``val_share``
    of the photos to choose the best checkpoint and, where that leaves at least
    ``plan.MIN_JUDGE`` photos, ``judge_share`` more to judge the result. Each group of
    ``groups`` (near-duplicates) goes wholly to one side, where its first photo goes;
    groups that would leave a side empty are not kept together."""
    from model.training.plan import judging_apart

    members = {g[0]: g for g in groups}
    leader = {p: g[0] for g in groups for p in g}
    units = [p for p in paths if leader.get(p, p) == p]
    judging = judging_apart(len(paths), judge_share)
    held_share = val_share + (judge_share if judging else 0.0)
    train_u, held_u = splitter(units, held_share, seed)
    if groups and (not train_u or (held_share > 0 and not held_u)):
        return split_holdout(paths, val_share, judge_share, seed, splitter)
    select_u, judge_u = held_u, held_u
    if judging:
        def score(p: Path) -> float:
            h = hashlib.sha1(f"{seed}:judge:{p.parent.name}/{p.name}".encode()).digest()
            return int.from_bytes(h[:8], "big") / 2**64

        ranked = sorted(held_u, key=score)
        cut = min(max(1, round(len(ranked) * judge_share / held_share)), len(ranked) - 1)
        judged = set(ranked[:cut])
        select_u = [p for p in held_u if p not in judged]
        judge_u = [p for p in held_u if p in judged]
        if not (select_u and judge_u):  # too few held out to keep apart
            select_u = judge_u = held_u

    def expand(chosen: list[Path]) -> list[Path]:
        keep = {p for u in chosen for p in members.get(u, [u])}
        return [p for p in paths if p in keep]

    grouped = sum(len(g) for g in groups)
    return Holdout(expand(train_u), expand(select_u), expand(judge_u),
                   separate=select_u is not judge_u,
                   near_duplicates=grouped, groups=len(groups))


def lab_sample(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float RGB → (normalised L 1×H×W, normalised ab 2×H×W)."""
    lab = color.rgb_to_lab(rgb)
    return (color.normalise_L(lab[..., 0])[None],
            color.normalise_ab(lab[..., 1:]).transpose(2, 0, 1))


def random_crop(rgb: np.ndarray, size: int, rng: random.Random,
                scale: tuple[float, float] = (0.6, 1.0)) -> np.ndarray:
    """A random square crop of ``scale`` × the short side, resized to size², maybe flipped."""
    h, w = rgb.shape[:2]
    side = max(1, int(min(h, w) * rng.uniform(*scale)))
    y, x = rng.randint(0, h - side), rng.randint(0, w - side)
    crop = rgb[y:y + side, x:x + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    crop = cv2.resize(crop, (size, size), interpolation=interp)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def center_square(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    crop = rgb[y:y + side, x:x + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


class PhotoDataset(torch.utils.data.Dataset):
    """(L, ab, branch features, ok) samples; features come from a precomputed table.

    ``features`` maps a path to its B×1000 branch outputs (or is None for a model with no
    branches). A photo that fails to decode yields ``ok = False`` and is dropped by
    ``collate`` instead of stopping training.
    """

    def __init__(self, paths: list[Path], size: int, features: dict[Path, np.ndarray] | None,
                 train: bool, seed: int = 0, n_branches: int = 0,
                 crop_scale: tuple[float, float] = (0.6, 1.0)):
        self.paths, self.size, self.features, self.train = list(paths), size, features, train
        self.crop_scale = crop_scale
        self.seed, self.epoch, self.n_branches = seed, 0, n_branches

    def __len__(self) -> int:
        return len(self.paths)

    def photo(self, path: Path) -> np.ndarray:
        """The float RGB photo at ``path``; raises ``ImageReadError``."""
        return read_photo(path).rgb

    def __getitem__(self, key):
        epoch, i = key if isinstance(key, tuple) else (self.epoch, key)
        path = self.paths[i]
        s = self.size
        feats = (self.features[path] if self.features is not None
                 else np.zeros((self.n_branches, 1000), np.float32))
        try:
            rgb = self.photo(path)
        except ImageReadError as exc:
            log.warning("skipping %s", exc)
            return (np.zeros((1, s, s), np.float32), np.zeros((2, s, s), np.float32), feats, False)
        if self.train:
            rng = random.Random(hash((self.seed, epoch, i)))
            rgb = random_crop(rgb, s, rng, self.crop_scale)
        else:
            rgb = center_square(rgb, s)
        L, ab = lab_sample(rgb)
        return L, ab, feats.astype(np.float32), True


class EpochSampler(torch.utils.data.Sampler):
    """Shuffled (epoch, index) keys: the order and the crops depend only on seed and epoch,
    so a resumed run sees the same batches, and worker processes can persist."""

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed, self.epoch, self.skip = n, seed, 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        for i in torch.randperm(self.n, generator=gen).tolist()[self.skip:]:
            yield self.epoch, i

    def __len__(self) -> int:
        return self.n - self.skip


def collate(batch):
    batch = [b for b in batch if b[3]]
    if not batch:
        return None
    L, ab, f, _ = zip(*batch)
    return (torch.from_numpy(np.stack(L)), torch.from_numpy(np.stack(ab)),
            torch.from_numpy(np.stack(f)))
