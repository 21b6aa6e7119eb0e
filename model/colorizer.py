"""``Colorizer``: the one pipeline every caller (CLI, app, evaluation) goes through.

It predicts a/b at the network's working size and re-attaches the original
full-resolution L, so the output has the input's exact size and luminance.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from model import color
from model.hints import USER, Hint, hint_maps
from model.io.places import gamut_table
from model.io.weights import CheckpointError, ModelInfo, inference_settings, read_header_text
from model.nets.devices import wants_cuda
from model.nets.graph import Graph, checked
from model.propagate import spread

log = logging.getLogger(__name__)


def bundled_model_path() -> Path:
    from resources import BUNDLED_MODEL

    return BUNDLED_MODEL


def network_size(height: int, width: int, side: int) -> tuple[int, int]:
    """(h, w) for the network: about ``side``² pixels, the input's aspect ratio, ×8."""
    scale = side / math.sqrt(height * width)
    snap = lambda v: max(8, int(round(v * scale / 8)) * 8)  # noqa: E731
    return snap(height), snap(width)


@dataclass(frozen=True)
class Device:
    """Where a network runs, for an engine that is not PyTorch's (``type`` as
    ``torch.device``'s)."""

    type: str

    def __str__(self) -> str:
        return self.type


class GraphEngine:
    """A model's ONNX graph on a CPU (``model.nets.graph``): no torch. ``features`` and
    ``look`` are the spatial model's only (its backbone's maps)."""

    net = branches = None

    def __init__(self, graph: Graph):
        self.graph, self.device = graph, Device("cpu")

    def run(self, x: np.ndarray, maps: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return self.graph.run(x, maps)[:2]

    def features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.graph.run(x, None)[2:]

    def look(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        return self.graph.run(x, None)

    def out_of_memory(self, exc: BaseException) -> bool:
        return False


def _digest(a: np.ndarray) -> tuple:
    return hashlib.blake2b(a.tobytes(), digest_size=16).digest(), a.shape


def _spread_features(f8: np.ndarray, h: int, w: int) -> np.ndarray:
    """The backbone's stride-8 maps (1×C×h/4×w/4) at the size hints are spread at (h×w×C)."""
    return color.resize_maps(f8.astype(np.float32), h, w)[0].transpose(1, 2, 0)


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
                 net=None, branches=None, precision: str = "auto", vivid: float | None = None,
                 runtime: str = "auto"):
        """``net``: a network already built (``model.nets``), instead of a checkpoint.
        ``precision``: "auto" (bfloat16 for the paper model on CPUs with bfloat16 units)
        or "float32" (a model's ONNX graph is float32). ``runtime``
        (``model.nets.graph.RUNTIMES``): on a CPU, "auto" and "onnx" run a model through
        ONNX Runtime: its graph beside the checkpoint where there is one (no torch is
        loaded then), else its networks exported once into the user cache; "torch" keeps
        everything in PyTorch. ``vivid`` (models with a class head):
        0..1, how far the colours are blended toward the class head's annealed mean; None:
        the value the checkpoint recommends."""
        if precision not in ("auto", "float32"):
            raise ValueError(f"precision must be 'auto' or 'float32', not {precision!r}")
        self.precision = precision
        self.runtime = checked(runtime)
        if net is None:
            path = Path(checkpoint) if checkpoint else bundled_model_path()
            if not path.is_file() and checkpoint is None:
                raise CheckpointError(path, "the bundled model is missing from this installation")
            text, self.meta = read_header_text(path)
            self.checkpoint = path
        else:
            text, self.meta, self.checkpoint = net.config.to_json(), {}, None
        self.config = info = ModelInfo.from_json(text)
        self.engine = self._engine(net, device, branches)
        self.takes_hints = info.hints
        # a model with a hint guide (model.nets.hint_guide.HintGuide) colours with its hints
        # itself; one without leaves them to the spreading alone (its hint channels gained
        # at most +0.19 dB with 10 true hints, docs/results.md)
        self.guided = info.hints and info.hint_guide > 0
        # hints: what each asks for beyond the network's colour there is spread over its
        # region by an edge-aware diffusion (model.propagate); False: the network only
        self.spread_hints = True
        self._last: dict = {}  # the photo in view's automatic colours (see _network_ab)
        self.has_vivid = info.class_head
        settings = inference_settings(self.meta)  # a fine-tuned model's are its base's
        # the setting the model recommends, from its checkpoint (0 for models without a head)
        self.default_vivid = float(settings.get("vivid", 0.0)) if self.has_vivid else 0.0
        self.vivid = self.default_vivid if vivid is None else vivid
        # average the colours of the photo and of its mirror image (the checkpoint says
        # whether its model gains from that): two network passes per photo
        self.mirror = bool(settings.get("mirror", False))
        # a guided model's hinted colours move its automatic ones this share of the way:
        # followed by the spreading, the whole way overshoots (one hint moved a whole photo)
        self.guide_weight = float(settings.get("guide_weight", 1.0))
        # model.propagate.spread's settings for this model's hints (edge, reach), where not
        # the function's own: how far a hint carries depends on how much the network
        # already moved toward it
        self.spread_options: dict = dict(settings.get("spread", {}))
        color.prepare(gamut_table)
        # up to 8 photos of one size per network call: on the build machine's CPU the paper
        # model colorized 25 photos/s at 256² against 19 one at a time; the spatial model
        # on ONNX Runtime neither gains nor loses (19.0 against 19.3)
        self.batch_size = 8

    def _engine(self, net, device: str, branches):
        """The model's ONNX graph beside its checkpoint, on a CPU, where there is one;
        else the network in PyTorch (``model.torch_engine``, imported only then), as it
        is where the caller gives the network or the branches."""
        if net is None and branches is None and self.runtime != "torch" \
                and not wants_cuda(device):
            graph = Graph.beside(self.checkpoint)
            if graph is not None:
                return GraphEngine(graph)
        from model.nets.lean import require_torch

        name = self.checkpoint.name if self.checkpoint else "This model"
        require_torch(f"{name}, which has no ONNX graph beside it,")
        from model.store.checkpoint import load_checkpoint
        from model.torch_engine import TorchEngine

        if net is None:
            net = load_checkpoint(self.checkpoint)[0]
        return TorchEngine(net, device, branches, self.precision, self.runtime)

    # the engine's device and, for PyTorch's engine, its network and branches
    @property
    def device(self):
        return self.engine.device

    @device.setter
    def device(self, value) -> None:
        self.engine.device = value

    @property
    def net(self):
        return self.engine.net

    @property
    def branches(self):
        return self.engine.branches

    def run_network(self, *args, **kwargs):
        """PyTorch's engine only: the network alone (``TorchEngine.run_network``)."""
        return self.engine.run_network(*args, **kwargs)

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

    def _forward(self, Ls: list[np.ndarray], hints: list[list[Hint]] | None,
                 vivid: float) -> list[np.ndarray]:
        """Same-size network inputs (L at working size) → normalised a/b at half that
        size. Hints go to the network where it has a hint guide (or where
        ``spread_hints`` is off), and what they ask for beyond its colours is spread over
        their regions (``spread_hints``, see ``model.propagate``)."""
        given = hints is not None and any(hints)
        if given and not self.takes_hints:
            raise ValueError("this model does not take colour hints")
        x = np.stack([color.normalise_L(L) for L in Ls])[:, None].astype(np.float32)
        maps = None
        if given and (self.guided or not self.spread_hints):
            h, w = Ls[0].shape
            maps = np.stack([hint_maps(hs, h, w) for hs in hints])
        # one photo (the one in view): its automatic colours and feature maps are kept
        photo = _digest(Ls[0]) if len(Ls) == 1 else None
        ab = self._network_ab(x, maps, photo, vivid)
        if maps is not None and self.guided and self.guide_weight != 1:
            auto = self._network_ab(x, None, photo, vivid)
            ab = auto + self.guide_weight * (ab - auto)
        out = [a.transpose(1, 2, 0) for a in ab]
        if given and self.spread_hints:
            out = [self._follow(L, x[i:i + 1], ab, hs, photo) if hs else ab
                   for i, (L, ab, hs) in enumerate(zip(Ls, out, hints))]
        return out

    def _network_ab(self, x: np.ndarray, maps: np.ndarray | None, photo: tuple | None,
                    vivid: float) -> np.ndarray:
        """The network's a/b (N×2×h×w) for normalised L (N×1×2h×2w). The automatic
        colours of a single photo (``photo``: its digest) are kept (``_last``), so each
        change of the hints on the photo in view of a model without a hint guide costs no
        network pass."""
        key = None
        if maps is None and photo is not None:
            key = (photo, vivid, self.mirror)
            if self._last.get("key") == key:
                return self._last["ab"]
        ab = self._mirrored(x, maps, vivid, self._ab(x, maps, vivid))
        if key is not None:
            self._last = {"key": key, "ab": ab}
        return ab

    def _mirrored(self, x: np.ndarray, maps: np.ndarray | None, vivid: float,
                  ab: np.ndarray) -> np.ndarray:
        """``ab`` of ``x``, averaged with its mirror image's where the model asks for it."""
        if not self.mirror:
            return ab
        flip = lambda a: np.ascontiguousarray(a[..., ::-1])  # noqa: E731
        return (ab + flip(self._ab(flip(x), None if maps is None else flip(maps), vivid))) / 2

    def _ab(self, x: np.ndarray, maps: np.ndarray | None, vivid: float) -> np.ndarray:
        """One network pass: a/b at half size, blended ``vivid`` toward the class head's."""
        ab, logits = self.engine.run(x, maps)
        return color.vivid_blend(ab, logits, vivid)

    def _follow(self, L: np.ndarray, x: np.ndarray, ab: np.ndarray, hints: list[Hint],
                photo: tuple | None) -> np.ndarray:
        """Network a/b (h×w×2) → the same with what each hint asks for beyond it spread
        over its region, told apart by the lightness and the backbone's stride-8 maps
        (kept for a single ``photo``, like its automatic colours). The user's hints spread
        with the model's settings (``spread_options``); then hints matched from a
        reference or carried by an album spread with the spreading's own, under which
        their matching was chosen (farther, a face's reference coloured the clothes
        too), held at the user's hints."""
        h, w = ab.shape[:2]
        if photo is not None and self._last.get("features_of") == photo:
            features = self._last["features"]
        else:
            features = _spread_features(self.engine.features(x)[0], h, w)
            if photo is not None:
                self._last.update(features_of=photo, features=features)
        small = cv2.resize(L, (w, h), interpolation=cv2.INTER_AREA)
        user = [hint for hint in hints if hint.origin == USER]
        matched = [hint for hint in hints if hint.origin != USER]
        if user:
            ab = ab + self._spread(small, ab, user, [], features, self.spread_options)
        if matched:
            ab = ab + self._spread(small, ab, matched, user, features, {})
        return ab

    @staticmethod
    def _spread(small: np.ndarray, ab: np.ndarray, hints: list[Hint], held: list[Hint],
                features: np.ndarray, options: dict) -> np.ndarray:
        """What ``hints`` ask for beyond ``ab``, spread (``model.propagate.spread``) with
        ``options``; ``held`` hints pin their pixels to no change."""
        h, w = ab.shape[:2]
        maps = hint_maps(hints, h, w)
        mask = maps[2]
        change = (maps[:2].transpose(1, 2, 0) - ab) * mask[..., None]
        if held:
            hold = hint_maps(held, h, w)[2]
            change *= (1.0 - hold)[..., None]
            mask = np.maximum(mask, hold)
        return spread(small, change, mask, features=features, **options)

    def predict_many(self, rgbs: list[np.ndarray], hints: list[list[Hint]] | None = None,
                     vivid: float | None = None) -> list[Prediction]:
        """Float RGB images (any sizes) → predictions at each image's own size.
        ``hints``: per image, its colour hints (models that take hints); ``vivid``: this
        call's vivid setting (None: the colorizer's own)."""
        if hints is not None and len(hints) != len(rgbs):
            raise ValueError("one list of hints per image")
        vivid = self.checked_vivid(vivid)
        Ls = [color.luminance(rgb) for rgb in rgbs]
        small = [self.working_L(L) for L in Ls]
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
                    if not self.engine.out_of_memory(exc):
                        raise
                    if len(chunk) > 1:
                        self.batch_size = len(chunk) // 2
                        log.warning("the GPU ran out of memory: retrying %d photos at a time",
                                    self.batch_size)
                    else:
                        self.engine.fall_back_to_cpu()
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

    def analyse(self, L: np.ndarray, vivid: float | None = None) -> Analysis:
        """The spatial model's view of a photo's lightness (0..100, any size), automatic
        (no hints); ``Analysis`` says what it holds."""
        if self.config.architecture != "spatial":
            raise ValueError("only the spatial model can analyse a photo")
        small = self.working_L(L)
        x = color.normalise_L(small)[None, None].astype(np.float32)
        vivid = self.checked_vivid(vivid)
        ab, logits, f8, f16 = self.engine.look(x)  # one pass for all of it
        ab = self._mirrored(x, None, vivid, color.vivid_blend(ab, logits, vivid))
        # the photo analysed is usually colorized next, with the hints found from it:
        # that prediction needs no network pass of its own (see _network_ab, _follow)
        photo = _digest(small)
        self._last = {"key": (photo, vivid, self.mirror), "ab": ab, "features_of": photo,
                      "features": _spread_features(f8, *ab.shape[-2:])}
        probs = None if logits is None else color.class_probabilities(logits)[0].transpose(1, 2, 0)
        return Analysis(small, ab[0].transpose(1, 2, 0), probs, f8[0].transpose(1, 2, 0),
                        f16[0].transpose(1, 2, 0))

    def likely_colours(self, L: np.ndarray, x: float, y: float, hints: list[Hint] | None = None,
                       count: int = 6, floor: float = 0.02) -> list[tuple[float, float, float]]:
        """The colours the model's class head finds likeliest at a point, as (a, b,
        probability), likeliest first: up to ``count`` with at least ``floor``
        probability. ``L``: the photo's lightness (0..100, any size, e.g. a preview);
        ``x``, ``y``: the point relative to its width and height; ``hints``: those the
        user already gave. Empty for models without a class head."""
        if not self.has_vivid:
            return []
        small = self.working_L(L)
        h, w = small.shape
        inp = color.normalise_L(small)[None, None].astype(np.float32)
        maps = hint_maps(hints, h, w)[None] if hints else None
        _, logits = self.engine.run(inp, maps)
        p = color.class_probabilities(logits)[0]  # Q × h/4 × w/4
        qh, qw = p.shape[1:]
        cy, cx = min(qh - 1, int(y * qh)), min(qw - 1, int(x * qw))
        near = p[:, max(0, cy - 1):cy + 2, max(0, cx - 1):cx + 2].mean((1, 2))
        bins = np.argsort(-near, kind="stable")[:count]
        centres = color.bin_centres()[bins] * color.AB_SCALE
        return [(float(a), float(b), float(near[q]))
                for i, ((a, b), q) in enumerate(zip(centres, bins)) if i == 0 or near[q] >= floor]

    def predict(self, rgb: np.ndarray, hints: list[Hint] | None = None,
                vivid: float | None = None) -> Prediction:
        return self.predict_many([rgb], None if hints is None else [hints], vivid)[0]

    def colorize(self, rgb: np.ndarray, saturation: float = 1.0,
                 hints: list[Hint] | None = None, vivid: float | None = None) -> np.ndarray:
        """Float RGB in [0, 1] (colour or gray) → colorized float RGB of the same size."""
        return self.predict(rgb, hints, vivid).render(saturation)
