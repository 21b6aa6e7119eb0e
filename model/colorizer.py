"""``Colorizer``: the one pipeline every caller (CLI, app, evaluation) goes through.

It predicts a/b at the network's working size and re-attaches the original
full-resolution L, so the output has the input's exact size and luminance.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from model import color
from model.nets.backbones import BranchSet, branch_gray, fold_for_inference
from model.io.places import gamut_table
from model.store.checkpoint import CheckpointError, load_checkpoint
from model.nets.devices import is_cuda_oom, resolve_device
from model.store.checkpoint import Network
from model.hints import Hint, hint_maps
from model.propagate import spread
from model.nets.runtime import checked
from model.nets.spatial import SpatialNet
from model.nets.spatial_onnx import onnx_core

log = logging.getLogger(__name__)


def bundled_model_path() -> Path:
    from resources import BUNDLED_MODEL

    return BUNDLED_MODEL


def network_size(height: int, width: int, side: int) -> tuple[int, int]:
    """(h, w) for the network: about ``side``² pixels, the input's aspect ratio, ×8."""
    scale = side / math.sqrt(height * width)
    snap = lambda v: max(8, int(round(v * scale / 8)) * 8)  # noqa: E731
    return snap(height), snap(width)


def fast_dtype(device: torch.device) -> torch.dtype | None:
    """The reduced precision the encoder-decoder runs in on ``device``, or None for
    float32: bfloat16 on CPUs with AMX or AVX-512 BF16 units, where oneDNN runs its
    convolutions about 2x faster (elsewhere it would be emulated and slower). Not on GPUs:
    on an H100 this small network is bound by kernel launches and bfloat16 measured no
    faster (batch 8: 363 against 372 photos/s). The pretrained branches stay float32
    (on ONNX Runtime, see ``model.nets.runtime``)."""
    if device.type != "cpu":
        return None
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    if any(getattr(torch.cpu, probe, lambda: False)() for probe in probes):
        return torch.bfloat16
    return None


def _digest(a: np.ndarray) -> tuple:
    return hashlib.blake2b(a.tobytes(), digest_size=16).digest(), a.shape


@dataclass
class Analysis:
    """What the spatial model sees in a photo, at its working size (h×w, multiples of 8):
    for matching regions between photos and for choosing where a hint would help."""

    L: np.ndarray                     # h×w lightness, 0..100
    ab: np.ndarray                    # h/2×w/2×2 automatic normalised a/b (at ``vivid``)
    probabilities: np.ndarray | None  # h/4×w/4×Q colour-class probabilities (None: no head)
    features8: np.ndarray             # h/8×w/8×40 backbone maps at stride 8
    features16: np.ndarray            # h/16×w/16×112 backbone maps at stride 16


@dataclass
class Prediction:
    """Full-resolution L and predicted normalised a/b; render at any saturation."""

    L: np.ndarray    # H×W, 0..100
    ab: np.ndarray   # H×W×2, normalised (a/b / 128)

    def render(self, saturation: float = 1.0) -> np.ndarray:
        return color.compose(self.L, self.ab, saturation)


class Colorizer:
    def __init__(self, checkpoint: os.PathLike | str | None = None, device: str = "auto",
                 net: Network | None = None, branches: BranchSet | None = None,
                 precision: str = "auto", vivid: float | None = None, runtime: str = "auto"):
        """``precision``: "auto" (``fast_dtype`` of the device) or "float32".
        ``runtime`` (``model.nets.runtime.RUNTIMES``): on a CPU, "auto" and "onnx" run a spatial
        model's network through ONNX Runtime where they can (``spatial_onnx.onnx_core``), and
        the branches as ``BranchSet`` says; "torch" keeps everything in PyTorch.
        ``vivid`` (models with a class head): 0..1, how far the colours are blended toward
        the class head's annealed mean; None: the value the checkpoint recommends."""
        if precision not in ("auto", "float32"):
            raise ValueError(f"precision must be 'auto' or 'float32', not {precision!r}")
        self.device = resolve_device(device)
        self.precision = precision
        self.runtime = checked(runtime)
        if net is None:
            path = Path(checkpoint) if checkpoint else bundled_model_path()
            if not path.is_file() and checkpoint is None:
                raise CheckpointError(path, "the bundled model is missing from this installation")
            net, self.meta = load_checkpoint(path)
            self.checkpoint = path
        else:
            self.meta, self.checkpoint = {}, None
        self.net = net.eval().to(self.device)
        self._cpu_nets: dict[torch.dtype, Network] = {}  # see _cpu_copy
        self.config = net.config
        self.takes_hints = isinstance(net, SpatialNet) and net.config.hints
        # a model with a hint guide (model.nets.hint_guide.HintGuide) colours with its hints
        # itself; one without leaves them to the spreading alone (its hint channels gained
        # at most +0.19 dB with 10 true hints, docs/results.md)
        self.guided = self.takes_hints and net.config.hint_guide > 0
        # hints: what each asks for beyond the network's colour there is spread over its
        # region by an edge-aware diffusion (model.propagate); False: the network only
        self.spread_hints = True
        self._last: dict = {}  # the photo in view's automatic colours (see _network_ab)
        self.has_vivid = isinstance(net, SpatialNet) and net.config.class_head
        # the setting the model recommends, from its checkpoint (0 for models without a head)
        self.default_vivid = float(self.meta.get("vivid", 0.0)) if self.has_vivid else 0.0
        self.vivid = self.default_vivid if vivid is None else vivid
        # average the colours of the photo and of its mirror image (the checkpoint says
        # whether its model gains from that): two network passes per photo
        self.mirror = bool(self.meta.get("mirror", False))
        self.branches = branches or BranchSet(self.config.branches, self.device, runtime)
        self.branches.to(self.device)
        # load everything now, so that a loaded colorizer's first photo is as fast as the rest
        self.branches.load()
        if self.device.type == "cpu":  # and the network as it runs here
            self._cpu_copy(self.network_dtype)
        color.prepare(gamut_table)
        # up to 8 photos of one size per network call: on the build machine's CPU the paper
        # model colorized 25 photos/s at 256² against 19 one at a time; the spatial model
        # on ONNX Runtime neither gains nor loses (19.0 against 19.3)
        self.batch_size = 8

    @property
    def vivid(self) -> float:
        """0..1: how far colours are blended toward the class head's bolder annealed-mean
        colours (models with a class head; 0 otherwise), where a call gives none."""
        return self._vivid

    @vivid.setter
    def vivid(self, value: float) -> None:
        self._vivid = self.checked_vivid(value)

    def checked_vivid(self, value: float | None) -> float:
        """``value`` as a vivid setting of this model; None: the colorizer's own."""
        if value is None:
            return self._vivid
        value = float(value)
        if value and not self.has_vivid:
            raise ValueError("this model has no class head, so no vivid setting")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"vivid must lie in [0, 1], not {value}")
        return value

    def describe(self) -> str:
        name = self.checkpoint.name if self.checkpoint else "in-memory model"
        return f"{name} on {self.device.type.upper()}"

    def _fall_back_to_cpu(self) -> None:
        log.warning("the GPU ran out of memory even for one photo at a time: "
                    "continuing on the CPU (slower)")
        self.device = torch.device("cpu")
        self.net.to(self.device)
        self.branches.to(self.device)
        torch.cuda.empty_cache()

    @torch.inference_mode()
    def _forward(self, Ls: list[np.ndarray], hints: list[list[Hint]] | None,
                 vivid: float) -> list[np.ndarray]:
        """Same-size network inputs (L at working size) → normalised a/b at half that
        size. Hints go to the network where it has a hint guide (or where
        ``spread_hints`` is off), and what they ask for beyond its colours is spread over
        their regions (``spread_hints``, see ``model.propagate``)."""
        given = hints is not None and any(hints)
        if given and not self.takes_hints:
            raise ValueError("this model does not take colour hints")
        x = torch.from_numpy(np.stack([color.normalise_L(L) for L in Ls])[:, None]).to(self.device)
        maps = None
        if given and (self.guided or not self.spread_hints):
            h, w = Ls[0].shape
            maps = torch.from_numpy(np.stack([hint_maps(hs, h, w) for hs in hints])).to(self.device)
        # one photo (the one in view): its automatic colours and feature maps are kept
        photo = _digest(Ls[0]) if len(Ls) == 1 else None
        out = [a.transpose(1, 2, 0) for a in self._network_ab(Ls, x, maps, photo, vivid)]
        if given and self.spread_hints:
            out = [self._follow(L, x[i:i + 1], ab, hs, photo) if hs else ab
                   for i, (L, ab, hs) in enumerate(zip(Ls, out, hints))]
        return out

    def _network_ab(self, Ls: list[np.ndarray], x: torch.Tensor, maps: torch.Tensor | None,
                    photo: tuple | None, vivid: float) -> np.ndarray:
        """The network's a/b (N×2×h×w). The automatic colours of a single photo
        (``photo``: its digest) are kept (``_last``), so each change of the hints on the
        photo in view of a model without a hint guide costs no network pass."""
        key = None
        if maps is None and photo is not None:
            key = (photo, vivid, self.mirror)
            if self._last.get("key") == key:
                return self._last["ab"]
        feats = None
        if self.config.branches:
            feats = self.branches.all_probabilities([branch_gray(L) for L in Ls])
        ab = self.run_network(x, feats, maps, vivid)
        if self.mirror:
            mirrored = self.run_network(x.flip(-1), feats, None if maps is None else maps.flip(-1),
                                        vivid)
            ab = (ab + mirrored.flip(-1)) / 2
        ab = ab.cpu().numpy()
        if key is not None:
            self._last = {"key": key, "ab": ab}
        return ab

    def _follow(self, L: np.ndarray, x: torch.Tensor, ab: np.ndarray, hints: list[Hint],
                photo: tuple | None) -> np.ndarray:
        """Automatic a/b (h×w×2) → the same with each hint's change spread over its
        region, told apart by the lightness and the backbone's early feature maps (kept
        for a single ``photo``, like its automatic colours)."""
        h, w = ab.shape[:2]
        if photo is not None and self._last.get("features_of") == photo:
            features = self._last["features"]
        else:
            f = self.net.region_features(x.float())
            f = torch.nn.functional.interpolate(f.float(), size=(h, w), mode="bilinear",
                                                align_corners=False)
            features = f[0].permute(1, 2, 0).cpu().numpy()
            if photo is not None:
                self._last.update(features_of=photo, features=features)
        small = cv2.resize(L, (w, h), interpolation=cv2.INTER_AREA)
        maps = hint_maps(hints, h, w)
        mask = maps[2]
        change = (maps[:2].transpose(1, 2, 0) - ab) * mask[..., None]
        return ab + spread(small, change, mask, features=features)

    def _extra(self, hints: torch.Tensor | None, vivid: float) -> dict:
        """The spatial model's keyword arguments: hints and vivid."""
        if isinstance(self.net, SpatialNet):
            return {"hints": hints, "vivid": vivid}
        return {}

    @property
    def network_dtype(self) -> torch.dtype:
        """The precision the network runs in on this colorizer's device."""
        if self.device.type != "cpu" or self.precision != "auto":
            return torch.float32
        # the spatial model stays float32: in bfloat16 its frozen encoder's error reached
        # the colours (eval photos: -0.03 dB mean, -2.7 dB on one), and at batch 1 it ran
        # no faster (23.8 against 23.6 photos/s at 256² on the build machine)
        if isinstance(self.net, SpatialNet):
            return torch.float32
        return fast_dtype(self.device) or torch.float32

    @torch.inference_mode()
    def run_network(self, x: torch.Tensor, feats: torch.Tensor | None,
                    hints: torch.Tensor | None = None, vivid: float | None = None) -> torch.Tensor:
        """The network alone, in the precision this colorizer uses: normalised L
        (N×1×H×W, on the device), branch probabilities and hint maps → float32 a/b at
        half the size (the caller resizes them to the photo anyway)."""
        extra = self._extra(hints, self.checked_vivid(vivid))
        if self.device.type != "cpu":
            return self.net(x, feats, half_size=True, **extra).float()
        dtype = self.network_dtype
        if min(x.shape[-2:]) < 16:
            dtype = torch.float32  # oneDNN's bfloat16 convolutions return garbage for 1-px maps
        ab = self._cpu_net(dtype, x, feats, extra)
        if dtype != torch.float32 and not bool(torch.isfinite(ab).all()):
            log.warning("reduced precision gave non-finite colours: recomputing in float32")
            ab = self._cpu_net(torch.float32, x, feats, extra)
        return ab

    def _cpu_copy(self, dtype: torch.dtype) -> Network:
        """A copy of the network in ``dtype`` and the channels-last layout oneDNN works in,
        made when the colorizer loads (on first use after a fall-back from a GPU; later
        changes to ``self.net`` go unseen): at 256² on the build machine 35 -> 19 ms in
        float32, and in bfloat16 26 -> 9 ms against autocast, which cast every weight on
        every call. A spatial model's float32 copy runs its core through ONNX Runtime
        where ``runtime`` allows."""
        if dtype not in self._cpu_nets:
            net = copy.deepcopy(self.net)
            if isinstance(net, SpatialNet):  # its frozen backbone: fewer passes over memory
                size = net.config.input_size
                fold_for_inference(net.backbone, torch.zeros(1, 3, size, size))
                runner = None
                if dtype == torch.float32 and self.runtime != "torch":
                    runner = onnx_core(net)
                if runner is not None:
                    net.run_core_with(runner)
            self._cpu_nets[dtype] = net.to(dtype).to(memory_format=torch.channels_last)
        return self._cpu_nets[dtype]

    def _cpu_net(self, dtype: torch.dtype, x: torch.Tensor,
                 feats: torch.Tensor | None, extra: dict) -> torch.Tensor:
        """The network's a/b at half size from its CPU copy in ``dtype``."""
        net = self._cpu_copy(dtype)
        x = x.to(dtype).contiguous(memory_format=torch.channels_last)
        feats = None if feats is None else feats.to(dtype)
        if extra.get("hints") is not None:
            extra = {**extra, "hints": extra["hints"].to(dtype)}
        return net(x, feats, half_size=True, **extra).float().contiguous()

    def predict_many(self, rgbs: list[np.ndarray], hints: list[list[Hint]] | None = None,
                     vivid: float | None = None) -> list[Prediction]:
        """Float RGB images (any sizes) → predictions at each image's own size.
        ``hints``: per image, its colour hints (models that take hints); ``vivid``: this
        call's vivid setting (None: the colorizer's own)."""
        if hints is not None and len(hints) != len(rgbs):
            raise ValueError("one list of hints per image")
        vivid = self.checked_vivid(vivid)
        Ls = [color.luminance(rgb) for rgb in rgbs]
        small: list[np.ndarray] = []
        for L in Ls:
            h, w = network_size(*L.shape, self.config.input_size)
            interp = cv2.INTER_AREA if h * w < L.size else cv2.INTER_LINEAR
            small.append(cv2.resize(L, (w, h), interpolation=interp))
        out: list[np.ndarray | None] = [None] * len(Ls)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, s in enumerate(small):
            groups.setdefault(s.shape, []).append(i)
        for idx in groups.values():
            start = 0
            while start < len(idx):
                chunk = idx[start:start + self.batch_size]
                try:
                    abs_ = self._forward([small[i] for i in chunk],
                                         None if hints is None else [hints[i] for i in chunk],
                                         vivid)
                except RuntimeError as exc:
                    if not is_cuda_oom(exc) or self.device.type != "cuda":
                        raise
                    torch.cuda.empty_cache()
                    if len(chunk) > 1:
                        self.batch_size = len(chunk) // 2
                        log.warning("the GPU ran out of memory: retrying %d photos at a time",
                                    self.batch_size)
                    else:
                        self._fall_back_to_cpu()
                    continue
                for i, ab in zip(chunk, abs_):
                    H, W = Ls[i].shape
                    out[i] = cv2.resize(ab, (W, H), interpolation=cv2.INTER_LINEAR)
                start += len(chunk)
        return [Prediction(L, ab) for L, ab in zip(Ls, out)]

    def working_L(self, L: np.ndarray) -> np.ndarray:
        """A photo's lightness (0..100, any size) at the network's working size."""
        h, w = network_size(*L.shape, self.config.input_size)
        interp = cv2.INTER_AREA if h * w < L.size else cv2.INTER_LINEAR
        return cv2.resize(L.astype(np.float32), (w, h), interpolation=interp)

    @torch.inference_mode()
    def analyse(self, L: np.ndarray, vivid: float | None = None) -> Analysis:
        """The spatial model's view of a photo's lightness (0..100, any size), automatic
        (no hints); ``Analysis`` says what it holds."""
        if not isinstance(self.net, SpatialNet):
            raise ValueError("only the spatial model can analyse a photo")
        small = self.working_L(L)
        x = torch.from_numpy(color.normalise_L(small)[None, None]).to(self.device)
        h, w = small.shape
        padded = torch.nn.functional.pad(x, (0, -w % 32, 0, -h % 32), mode="replicate")
        skips, _ = self.net.encode(padded)
        ab = self._network_ab([small], x, None, None, self.checked_vivid(vivid))[0]
        _, logits = self.net.outputs(x)
        probs = None
        if logits is not None:
            probs = torch.softmax(logits[0].float(), 0).permute(1, 2, 0).cpu().numpy()
        maps = [f[0, :, : -(-h // s), : -(-w // s)].permute(1, 2, 0).float().cpu().numpy()
                for f, s in ((skips[2], 8), (skips[3], 16))]
        return Analysis(small, ab.transpose(1, 2, 0), probs, *maps)

    @torch.inference_mode()
    def likely_colours(self, L: np.ndarray, x: float, y: float, hints: list[Hint] | None = None,
                       count: int = 6, floor: float = 0.02) -> list[tuple[float, float, float]]:
        """The colours the model's class head finds likeliest at a point, as (a, b,
        probability), likeliest first: up to ``count`` with at least ``floor``
        probability. ``L``: the photo's lightness (0..100, any size, e.g. a preview);
        ``x``, ``y``: the point relative to its width and height; ``hints``: those the
        user already gave. Empty for models without a class head."""
        if not self.has_vivid:
            return []
        h, w = network_size(*L.shape, self.config.input_size)
        interp = cv2.INTER_AREA if h * w < L.size else cv2.INTER_LINEAR
        small = cv2.resize(L.astype(np.float32), (w, h), interpolation=interp)
        inp = torch.from_numpy(color.normalise_L(small)[None, None]).to(self.device)
        maps = None
        if hints:
            maps = torch.from_numpy(hint_maps(hints, h, w)[None]).to(self.device)
        feats = self.branches.all_probabilities([branch_gray(small)]) if self.config.branches else None
        _, logits = self.net.outputs(inp, feats, maps)
        p = torch.softmax(logits[0].float(), 0)  # Q × h/4 × w/4
        qh, qw = p.shape[1:]
        cy, cx = min(qh - 1, int(y * qh)), min(qw - 1, int(x * qw))
        near = p[:, max(0, cy - 1):cy + 2, max(0, cx - 1):cx + 2].mean((1, 2))
        probs, bins = near.topk(count)
        centres = self.net.centres[bins].cpu().numpy() * 128.0
        return [(float(a), float(b), float(q))
                for i, ((a, b), q) in enumerate(zip(centres, probs.cpu().numpy())) if i == 0 or q >= floor]

    def predict(self, rgb: np.ndarray, hints: list[Hint] | None = None,
                vivid: float | None = None) -> Prediction:
        return self.predict_many([rgb], None if hints is None else [hints], vivid)[0]

    def colorize(self, rgb: np.ndarray, saturation: float = 1.0,
                 hints: list[Hint] | None = None, vivid: float | None = None) -> np.ndarray:
        """Float RGB in [0, 1] (colour or gray) → colorized float RGB of the same size."""
        return self.predict(rgb, hints, vivid).render(saturation)
