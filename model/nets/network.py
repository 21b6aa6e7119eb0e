"""The hybrid encoder–fusion–decoder network (Kiani et al. 2021, after Deep Koalarization).

The network takes the normalised L channel (N×1×H×W, H and W multiples of 8) and the
class-probability vectors of its pretrained branches (N×B×1000) and predicts the
normalised a/b channels (N×2×H×W) through tanh. The branches themselves are not part of
this module: they are frozen, come from their packages, and their outputs can be cached.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch
from torch import nn
import torch.nn.functional as F

from model.nets.backbones import FEATURE_DIM, branch_spec

FUSIONS = ("mean", "concat", "none")
BUNDLED_BRANCHES = ("effnet_lite0", "effnet_lite1", "effnet_lite2")


@dataclass(frozen=True)
class HybridConfig:
    """Everything needed to rebuild the network; saved inside every checkpoint."""

    architecture: str = "hybrid"
    branches: tuple[str, ...] = BUNDLED_BRANCHES
    fusion: str = "mean"          # mean (the paper), concat (ablation), none (no branch)
    # encoder widths: three stride-2 stages then the bottleneck (Deep Koalarization ×w)
    encoder: tuple[int, ...] = (64, 128, 128, 256, 256, 512, 512, 256)
    fusion_width: int = 256
    decoder: tuple[int, ...] = (128, 64, 64, 32)
    input_size: int = 256         # the side of the square the network is trained/run at
    # dropout on the fused global vector while training: the 1000 class probabilities
    # nearly identify a photo, which lets a small data set be memorised through them
    feature_dropout: float = 0.0

    def __post_init__(self):
        if self.architecture != "hybrid":
            raise ValueError(f"a HybridConfig's architecture is 'hybrid', not {self.architecture!r}")
        object.__setattr__(self, "branches", tuple(self.branches))
        object.__setattr__(self, "encoder", tuple(int(c) for c in self.encoder))
        object.__setattr__(self, "decoder", tuple(int(c) for c in self.decoder))
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {self.fusion!r}")
        if self.fusion == "none" and self.branches:
            raise ValueError("fusion 'none' takes no branches")
        if self.fusion != "none" and not self.branches:
            raise ValueError(f"fusion {self.fusion!r} needs at least one branch")
        for name in self.branches:
            branch_spec(name)
        if len(self.encoder) != 8 or len(self.decoder) != 4:
            raise ValueError("encoder needs 8 widths and decoder 4")
        if self.input_size % 8:
            raise ValueError("input_size must be a multiple of 8")
        if not 0.0 <= self.feature_dropout < 1.0:
            raise ValueError("feature_dropout must lie in [0, 1)")

    @classmethod
    def scaled(cls, width: float = 1.0, **kwargs) -> "HybridConfig":
        """The Deep Koalarization layout with every channel count times ``width``."""
        base = cls()
        w = lambda cs: tuple(max(8, int(round(c * width))) for c in cs)  # noqa: E731
        return cls(encoder=w(base.encoder), fusion_width=w((base.fusion_width,))[0],
                   decoder=w(base.decoder), **kwargs)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "HybridConfig":
        return config_from_fields(cls, text)

    @property
    def fused_dim(self) -> int:
        if self.fusion == "mean":
            return FEATURE_DIM
        if self.fusion == "concat":
            return FEATURE_DIM * len(self.branches)
        return 0


def config_from_fields(cls, text: str):
    """A config dataclass from its JSON, refusing fields it does not know."""
    data = json.loads(text)
    unknown = set(data) - set(cls.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown config fields: {sorted(unknown)}")
    return cls(**data)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.ReLU(inplace=True))


class HybridNet(nn.Module):
    def __init__(self, config: HybridConfig):
        super().__init__()
        self.config = config
        e = config.encoder
        strides = (2, 1, 2, 1, 2, 1, 1, 1)
        layers, cin = [], 1
        for cout, s in zip(e, strides):
            layers.append(_conv(cin, cout, s))
            cin = cout
        self.encoder = nn.Sequential(*layers)
        self.feature_dropout = nn.Dropout(config.feature_dropout)
        self.fusion = nn.Sequential(
            nn.Conv2d(cin + config.fused_dim, config.fusion_width, 1), nn.ReLU(inplace=True))
        d = config.decoder
        self.decoder = nn.Sequential(
            _conv(config.fusion_width, d[0]), nn.Upsample(scale_factor=2, mode="nearest"),
            _conv(d[0], d[1]), _conv(d[1], d[2]), nn.Upsample(scale_factor=2, mode="nearest"),
            _conv(d[2], d[3]), nn.Conv2d(d[3], 2, 3, padding=1), nn.Tanh())
        # the last 2x is plain bilinear interpolation: a caller that resizes the result
        # anyway (the colorizer, to the photo's size) skips it with ``half_size=True``
        self.upsample = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)

    def fuse_features(self, features: torch.Tensor) -> torch.Tensor:
        """N×B×1000 branch outputs → the N×D global vector."""
        if self.config.fusion == "mean":
            return features.mean(dim=1)
        return features.flatten(1)

    def forward(self, L: torch.Tensor, features: torch.Tensor | None = None,
                half_size: bool = False) -> torch.Tensor:
        """N×1×H×W normalised L (and N×B×1000 branch outputs) → N×2×H×W normalised a/b,
        or N×2×H/2×W/2 with ``half_size``."""
        if L.shape[-1] % 8 or L.shape[-2] % 8:
            raise ValueError(f"input height and width must be multiples of 8, got {tuple(L.shape[-2:])}")
        x = self.encoder(L)
        conv = self.fusion[0]
        if self.config.fusion == "none":
            x = conv(x)
        else:
            if features is None:
                raise ValueError("this model fuses pretrained branches: features are required")
            if features.shape[1:] != (len(self.config.branches), FEATURE_DIM):
                raise ValueError(
                    f"expected branch features of shape N×{len(self.config.branches)}×"
                    f"{FEATURE_DIM}, got {tuple(features.shape)}")
            g = self.feature_dropout(self.fuse_features(features.to(x.dtype)))
            # the fusion 1x1 convolution over [x, g tiled over the map], computed as a
            # convolution over x plus g's share, which is the same at every pixel: the
            # same function as concatenating, without a 1000-channel map (3.1 -> 0.3 ms).
            # The split is the config's, not the map's: a constant in an ONNX graph,
            # so the weights are sliced once when it loads, not on every run
            c = self.config.encoder[-1]
            w = conv.weight.to(x.dtype)
            x = F.conv2d(x, w[:, :c], conv.bias.to(x.dtype)) \
                + (g @ w[:, c:, 0, 0].T)[:, :, None, None]
        x = self.decoder(self.fusion[1](x))
        return x if half_size else self.upsample(x)


def paper_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. (1)–(2): per-image MSE of normalised a/b over pixels, averaged over the batch."""
    return F.mse_loss(pred, target)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
