"""The spatial colorizer: a pretrained EfficientNet-Lite0 as the encoder of a U-Net.

The paper's model (``model.nets.network``) sees the pretrained network only through one
1000-class vector per photo, which helped scenes by ~0.25 dB (docs/results.md). Here the
pretrained network's stage feature maps (strides 2, 4, 8, 16, 32) feed a decoder through
skip connections, as DeOldify does with a ResNet and DDColor with a ConvNeXt, and its
class probabilities are still fused at the bottleneck (the paper's idea; they come free
from the same pass). Inputs: the normalised L and, optionally, user colour hints (sparse
a, b and a mask, all zero in automatic mode, after Zhang et al. 2017). Outputs: normalised
a/b through tanh, and logits over quantised a/b bins from a side head; decoded by their
annealed mean (Zhang et al. 2016) they give the vivid end of ``vivid``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from model import color
from model.color import AB_BIN, AB_BINS, AB_RANGE, ANNEAL_T
from model.nets.backbones import FEATURE_DIM, branch_spec
from model.nets.hint_guide import HINT_CHANNELS, HintGuide
from model.nets.network import config_from_fields

# the block of EfficientNet-Lite0 that ends each stride: 2, 4, 8, 16, 32
LITE0_STAGES = (0, 2, 4, 10, 15)
LITE0_CHANNELS = (16, 24, 40, 112, 320)


def ab_bins(ab_normalised: torch.Tensor) -> torch.Tensor:
    """N×2×H×W normalised a/b → N×H×W bin indices in [0, AB_BINS²)."""
    idx = ((ab_normalised * 128.0 + AB_RANGE) / AB_BIN).long().clamp_(0, AB_BINS - 1)
    return idx[:, 0] * AB_BINS + idx[:, 1]


def bin_centres() -> torch.Tensor:
    """AB_BINS²×2 normalised a/b at the centre of each bin (``model.color.bin_centres``)."""
    return torch.from_numpy(color.bin_centres())


@dataclass(frozen=True)
class SpatialConfig:
    """Everything needed to rebuild a ``SpatialNet``; saved inside every checkpoint."""

    architecture: str = "spatial"
    backbone: str = "effnet_lite0"
    # extra pretrained branches whose class probabilities are averaged with Lite0's own
    # at the bottleneck (computed outside, like the paper model's): () = Lite0's only
    branches: tuple[str, ...] = ()
    decoder: tuple[int, ...] = (160, 128, 96, 64, 32)  # widths at strides 32, 16, 8, 4, 2
    class_fusion: bool = True     # fuse the class probabilities at the bottleneck
    hints: bool = True            # take user colour hints (3 more input channels)
    class_head: bool = True       # the a/b-bin side head (its loss term, and ``vivid``)
    # fine-tune the backbone from this block on (Lite0 has blocks 0-15); None: frozen
    train_backbone_from: int | None = None
    # the colorizer runs the network on the photo shrunk to about input_size² pixels
    input_size: int = 256
    # width of the hint guide (``HintGuide``), a small trainable encoder of [L, hints]
    # whose maps steer every decoder stage where there are hints; 0: none
    hint_guide: int = 0

    def __post_init__(self):
        object.__setattr__(self, "branches", tuple(self.branches))
        object.__setattr__(self, "decoder", tuple(int(c) for c in self.decoder))
        if self.architecture != "spatial":
            raise ValueError(f"a SpatialConfig's architecture is 'spatial', not {self.architecture!r}")
        if self.backbone != "effnet_lite0":
            raise ValueError(f"the spatial encoder is effnet_lite0, not {self.backbone!r}")
        for name in self.branches:
            branch_spec(name)
        if len(self.decoder) != 5:
            raise ValueError("decoder needs 5 widths (strides 32, 16, 8, 4, 2)")
        if self.train_backbone_from is not None and not 0 <= self.train_backbone_from <= 16:
            raise ValueError("train_backbone_from must lie in 0..16 (16: only the head)")
        if self.input_size % 32:
            raise ValueError("input_size must be a multiple of 32")
        if self.hint_guide < 0 or (self.hint_guide and not self.hints):
            raise ValueError("hint_guide needs hints and a width >= 0")

    @property
    def fusion(self) -> str:
        return "mean" if self.class_fusion else "none"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "SpatialConfig":
        return config_from_fields(cls, text)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def pool_hints(hints: torch.Tensor, factor: int) -> torch.Tensor:
    """Hint maps at 1/``factor`` of their size: the mean a/b of the hinted pixels in each
    cell and a 0/1 mask, so a one-pixel hint survives every scale at full strength."""
    if factor == 1:
        return hints
    m = F.avg_pool2d(hints[:, 2:], factor)
    ab = F.avg_pool2d(hints[:, :2], factor) / m.clamp_min(1e-6)
    return torch.cat([ab, (m > 0).to(hints.dtype)], 1)


class SpatialNet(nn.Module):
    def __init__(self, config: SpatialConfig, pretrained: bool = True):
        """``pretrained=False`` leaves the backbone with random weights (tests only: a
        checkpoint load fills in what it holds, and the frozen part must be real)."""
        super().__init__()
        self.config = config
        from efficientnet_lite_pytorch import EfficientNet

        if pretrained:
            self.backbone = branch_spec(config.backbone).build()
        else:
            self.backbone = EfficientNet.from_name("efficientnet-lite0")
        start = 17 if config.train_backbone_from is None else config.train_backbone_from
        self._train_from = start
        for i, block in enumerate(self.backbone._blocks):
            block.requires_grad_(i >= start)
        for m in (self.backbone._conv_stem, self.backbone._bn0):
            m.requires_grad_(start == 0)
        for m in (self.backbone._conv_head, self.backbone._bn1, self.backbone._fc):
            m.requires_grad_(start <= 16)
        h = HINT_CHANNELS if config.hints else 0
        d = config.decoder
        self.bottleneck = nn.Sequential(nn.Conv2d(LITE0_CHANNELS[4] + h, d[0], 1), nn.ReLU(inplace=True))
        self.class_proj = nn.Linear(FEATURE_DIM, d[0]) if config.class_fusion else None
        self.bottleneck_block = _block(d[0], d[0])
        ups, cin = [], d[0]
        for skip, cout in zip(reversed(LITE0_CHANNELS[:4]), d[1:]):
            ups.append(_block(cin + skip + h, cout))
            cin = cout
        self.up = nn.ModuleList(ups)
        self.to_ab = nn.Sequential(nn.Conv2d(d[4], 2, 3, padding=1), nn.Tanh())
        self.class_logits = nn.Conv2d(d[3], AB_BINS ** 2, 1) if config.class_head else None
        self.hint_guide = HintGuide(config.hint_guide, d) if config.hint_guide else None
        # True: only the hint guide trains (``train_only_guide``)
        self.guide_only = False
        self.register_buffer("centres", bin_centres(), persistent=False)
        # per-bin rarity weights of the class loss (set from the training photos by ``fit``)
        self.register_buffer("class_weights", torch.ones(AB_BINS ** 2))
        # what computes ``core`` instead, for a frozen copy (``run_core_with``); None: PyTorch
        self.core_runner: Callable | None = None

    # -- what a checkpoint holds -------------------------------------------------------
    def frozen_prefixes(self) -> tuple[str, ...]:
        """State-dict prefixes of the pretrained weights that training never changes:
        they come from their package, not from the checkpoint (which stays a few MB)."""
        start = self._train_from
        out = [f"backbone._blocks.{i}." for i in range(min(start, 16))]
        if start > 0:
            out += ["backbone._conv_stem.", "backbone._bn0."]
        if start > 16:
            out += ["backbone._conv_head.", "backbone._bn1.", "backbone._fc."]
        return tuple(out)

    def train(self, mode: bool = True):
        super().train(mode)
        self.backbone.eval()  # pretrained batch statistics stay, fine-tuned or not
        if self.guide_only:  # the automatic model's batch statistics stay too
            for name, child in self.named_children():
                if name != "hint_guide" and child is not None:
                    child.eval()
        return self

    def train_only_guide(self) -> None:
        """Freeze everything but the hint guide: the automatic colours stay exactly as
        they are (the guide is gated off without hints), and only how hints are used
        is learnt."""
        if self.hint_guide is None:
            raise ValueError("this model has no hint guide to train")
        self.requires_grad_(False)
        self.hint_guide.requires_grad_(True)
        self.guide_only = True
        self.train(self.training)

    # -- forward -----------------------------------------------------------------------
    @staticmethod
    def _backbone_input(L: torch.Tensor) -> torch.Tensor:
        # L in [-1, 1] → gray 0..255 → the weights' (x - 127) / 128, on three channels
        return (((L + 1.0) * 127.5 - 127.0) / 128.0).expand(-1, 3, -1, -1)

    def region_features(self, L: torch.Tensor) -> torch.Tensor:
        """The backbone's stride-8 maps (N×40×⌈H/8⌉×⌈W/8⌉) of normalised L: what tells
        apart regions of the same lightness (cloth from grass), for spreading hints
        (``model.propagate``)."""
        H, W = L.shape[-2:]
        L = F.pad(L, (0, -W % 32, 0, -H % 32), mode="replicate")
        bb = self.backbone
        x = bb._swish(bb._bn0(bb._conv_stem(self._backbone_input(L))))
        for block in bb._blocks[:LITE0_STAGES[2] + 1]:
            x = block(x)
        return x[..., : -(-H // 8), : -(-W // 8)]

    def encode(self, L: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Normalised L (N×1×H×W, H and W multiples of 32) → the five stage maps and
        the class probabilities (N×1000)."""
        bb = self.backbone
        x = self._backbone_input(L)
        skips = []
        with torch.set_grad_enabled(torch.is_grad_enabled() and self._train_from == 0):
            x = bb._swish(bb._bn0(bb._conv_stem(x)))
        for i, block in enumerate(bb._blocks):
            with torch.set_grad_enabled(torch.is_grad_enabled() and i >= self._train_from):
                x = block(x)
            if i in LITE0_STAGES:
                skips.append(x)
        if not self.config.class_fusion:
            return skips, None
        with torch.set_grad_enabled(torch.is_grad_enabled() and self._train_from <= 16):
            head = bb._swish(bb._bn1(bb._conv_head(x))).mean((2, 3))
            probs = torch.softmax(bb._fc(head).float(), dim=1).to(x.dtype)
        return skips, probs

    def decode(self, skips: list[torch.Tensor], probs: torch.Tensor | None,
               hints: torch.Tensor | None, L: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Stage maps → (normalised a/b at 1/2 size, bin logits at 1/4 size or None).
        ``L`` (the network's input) feeds the hint guide, where the model has one."""
        guide = None
        if self.hint_guide is not None and hints is not None:
            guide, gate = self.hint_guide.maps(L.to(skips[0].dtype), hints.to(skips[0].dtype))

        def with_hints(x: torch.Tensor, factor: int) -> torch.Tensor:
            if not self.config.hints:
                return x
            h = (x.new_zeros(x.shape[0], HINT_CHANNELS, *x.shape[-2:]) if hints is None
                 else pool_hints(hints.to(x.dtype), factor))
            return torch.cat([x, h], 1)

        x = self.bottleneck(with_hints(skips[4], 32))
        if self.class_proj is not None:
            x = x + self.class_proj(probs.to(x.dtype))[:, :, None, None]
        x = self.bottleneck_block(x)
        logits = None
        for k, (block, skip) in enumerate(zip(self.up, reversed(skips[:4]))):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = block(with_hints(torch.cat([x, skip], 1), 16 >> k))
            if guide is not None:
                x = self.hint_guide.steer(k, x, guide[k], gate)
            if k == 2 and self.class_logits is not None:  # stride 4
                logits = self.class_logits(x)
        return self.to_ab(x), logits

    def annealed_mean(self, logits: torch.Tensor, t: float = ANNEAL_T) -> torch.Tensor:
        """Bin logits (N×Q×h×w) → normalised a/b (N×2×h×w): the annealed mean."""
        p = torch.softmax(logits.float() / t, dim=1)
        return torch.einsum("nqhw,qc->nchw", p, self.centres.float()).to(logits.dtype)

    def forward(self, L: torch.Tensor, features: torch.Tensor | None = None,
                half_size: bool = False, hints: torch.Tensor | None = None,
                vivid: float = 0.0) -> torch.Tensor:
        """N×1×H×W normalised L (H, W multiples of 8) → N×2×H×W normalised a/b, or at
        half size with ``half_size``. ``features``: N×B×1000 probabilities of the extra
        ``branches``; ``hints``: N×3×H×W (a, b, mask), None for none; ``vivid`` in
        [0, 1] blends toward the class head's annealed mean."""
        ab, logits = self._run(L, features, hints)
        if vivid > 0:
            if logits is None:
                raise ValueError("this model has no class head: vivid must be 0")
            am = F.interpolate(self.annealed_mean(logits), size=ab.shape[-2:], mode="bilinear",
                               align_corners=False)
            ab = (1.0 - vivid) * ab + vivid * am
        if half_size:
            return ab
        return F.interpolate(ab, size=L.shape[-2:], mode="bilinear", align_corners=False)

    def _run(self, L, features, hints):
        H, W = L.shape[-2:]
        if H % 8 or W % 8:
            raise ValueError(f"input height and width must be multiples of 8, got {(H, W)}")
        if self.config.branches:
            if features is None or features.shape[1:] != (len(self.config.branches), FEATURE_DIM):
                raise ValueError(f"expected features of shape N×{len(self.config.branches)}×"
                                 f"{FEATURE_DIM}, got {None if features is None else tuple(features.shape)}")
        if hints is not None and not self.config.hints:
            raise ValueError("this model does not take colour hints")
        ph, pw = -H % 32, -W % 32  # the backbone's 'same' padding is exact on multiples of 32
        if ph or pw:
            L = F.pad(L, (0, pw, 0, ph), mode="replicate")
            if hints is not None:
                hints = F.pad(hints, (0, pw, 0, ph))
        if self.core_runner is not None:
            ab, logits = self.core_runner(L, features, hints)
        else:
            ab, logits = self.core(L, features, hints)
        if ph or pw:
            ab = ab[..., : H // 2, : W // 2]
            if logits is not None:
                logits = logits[..., : -(-H // 4), : -(-W // 4)]
        return ab, logits

    def core(self, L: torch.Tensor, features: torch.Tensor | None,
             hints: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The network proper, on L whose sides are multiples of 32: (a/b at half size, bin
        logits at quarter size or None)."""
        skips, probs = self.encode(L)
        if probs is not None and self.config.branches:
            probs = (probs + features.to(probs.dtype).sum(1)) / (1 + len(self.config.branches))
        return self.decode(skips, probs, hints, L)

    def run_core_with(self, runner: Callable) -> None:
        """From now on ``runner`` (``onnx_core``'s) computes ``core``, for a frozen copy of
        the network: its PyTorch modules go, since the runner holds its own weights."""
        self.core_runner = runner
        for name, _ in list(self.named_children()):
            setattr(self, name, None)

    def outputs(self, L, features=None, hints=None):
        """(a/b at half size, bin logits at quarter size): for the training loss, and for
        the colours the class head finds likely at a point (``Colorizer.likely_colours``)."""
        return self._run(L, features, hints)
