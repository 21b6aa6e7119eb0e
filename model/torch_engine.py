"""A model run by PyTorch: on CUDA, and on a CPU where no ONNX graph of it is at hand (a
checkpoint that was never installed, a network given in memory). ``model.colorizer``
loads it only then, so colorizing on a CPU with a bundled or installed model never
imports torch.

Numpy in, numpy out, like ``model.nets.graph``'s graphs: normalised L at the
working size and hint maps in; a/b at half size and the class head's logits out.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch
import torch.nn.functional as F

from model.nets.backbones import BranchSet, fold_for_inference
from model.nets.branch_input import branch_gray
from model.nets.devices import resolve_device
from model.nets.spatial import SpatialNet
from model.nets.spatial_onnx import onnx_core
from model.store.checkpoint import Network

log = logging.getLogger(__name__)


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


class TorchEngine:
    def __init__(self, net: Network, device: str = "auto", branches: BranchSet | None = None,
                 precision: str = "auto", runtime: str = "auto"):
        """``precision``: "auto" (``fast_dtype`` of the device) or "float32"; ``runtime``
        (``model.nets.graph.RUNTIMES``): "auto"/"onnx" run a spatial model's core and the
        branches through ONNX Runtime on a CPU where they can, "torch" never."""
        self.device = resolve_device(device)
        self.precision, self.runtime = precision, runtime
        self.net = net.eval().to(self.device)
        self.config = net.config
        self._cpu_nets: dict[torch.dtype, Network] = {}  # see _cpu_copy
        self.branches = branches or BranchSet(self.config.branches, self.device, runtime)
        self.branches.to(self.device)
        # load everything now, so that a loaded colorizer's first photo is as fast as the rest
        self.branches.load()
        if self.device.type == "cpu":  # and the network as it runs here
            self._cpu_copy(self.network_dtype)

    # ----- what the colorizer calls
    @torch.inference_mode()
    def run(self, x: np.ndarray, maps: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Normalised L (N×1×h×w) and hint maps (N×3×h×w or None) → (a/b at half size,
        bin logits at quarter size or None), float32."""
        xt = torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
        feats = None
        if self.config.branches:
            feats = self.branches.all_probabilities([branch_gray((L + 1.0) * 50.0) for L in x[:, 0]])
        hints = None if maps is None else torch.from_numpy(np.ascontiguousarray(maps)).to(self.device)
        ab, logits = self._outputs(xt, feats, hints)
        return (ab.float().cpu().numpy(),
                None if logits is None else logits.float().cpu().numpy())

    @torch.inference_mode()
    def features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The spatial model's backbone maps at strides 8 and 16 for normalised L."""
        xt = torch.from_numpy(np.ascontiguousarray(x)).to(self.device).float()
        H, W = xt.shape[-2:]
        skips, _ = self.net.encode(F.pad(xt, (0, -W % 32, 0, -H % 32), mode="replicate"))
        return tuple(f[..., : -(-H // s), : -(-W // s)].float().cpu().numpy()
                     for f, s in ((skips[2], 8), (skips[3], 16)))

    def look(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """Automatic a/b, logits and the stride-8 and stride-16 maps (as ``GraphEngine``)."""
        return (*self.run(x, None), *self.features(x))

    def out_of_memory(self, exc: BaseException) -> bool:
        """Whether ``exc`` is CUDA running out of memory (its cache is freed then)."""
        from model.nets.devices import is_cuda_oom

        if self.device.type == "cuda" and is_cuda_oom(exc):
            torch.cuda.empty_cache()
            return True
        return False

    def fall_back_to_cpu(self) -> None:
        log.warning("the GPU ran out of memory even for one photo at a time: "
                    "continuing on the CPU (slower)")
        self.device = torch.device("cpu")
        self.net.to(self.device)
        self.branches.to(self.device)
        torch.cuda.empty_cache()

    # ----- the network in the precision and layout it runs in
    def _outputs(self, x, feats, hints):
        if self.device.type != "cpu":
            return self._call(self.net, x, feats, hints)
        dtype = self.network_dtype
        if min(x.shape[-2:]) < 16:
            dtype = torch.float32  # oneDNN's bfloat16 convolutions return garbage for 1-px maps
        ab, logits = self._cpu_outputs(dtype, x, feats, hints)
        if dtype != torch.float32 and not bool(torch.isfinite(ab).all()):
            log.warning("reduced precision gave non-finite colours: recomputing in float32")
            ab, logits = self._cpu_outputs(torch.float32, x, feats, hints)
        return ab, logits

    @staticmethod
    def _call(net, x, feats, hints):
        if isinstance(net, SpatialNet):
            return net.outputs(x, feats, hints)
        return net(x, feats, half_size=True), None

    @property
    def network_dtype(self) -> torch.dtype:
        """The precision the network runs in on this device."""
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
                    hints: torch.Tensor | None = None) -> torch.Tensor:
        """The network alone, in the precision it runs in: normalised L (N×1×H×W, on the
        device), branch probabilities and hint maps → float32 a/b at half the size."""
        return self._outputs(x, feats, hints)[0].float()

    def _cpu_copy(self, dtype: torch.dtype) -> Network:
        """A copy of the network in ``dtype`` and the channels-last layout oneDNN works in,
        made when the engine loads (on first use after a fall-back from a GPU; later
        changes to ``self.net`` go unseen): at 256² on the build machine 35 -> 19 ms in
        float32, and in bfloat16 26 -> 9 ms against autocast, which cast every weight on
        every call. A spatial model's float32 copy runs its core through ONNX Runtime
        (exported once to the user cache) where ``runtime`` allows."""
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

    def _cpu_outputs(self, dtype: torch.dtype, x, feats, hints):
        net = self._cpu_copy(dtype)
        x = x.to(dtype).contiguous(memory_format=torch.channels_last)
        feats = None if feats is None else feats.to(dtype)
        hints = None if hints is None else hints.to(dtype)
        ab, logits = self._call(net, x, feats, hints)
        return ab.float().contiguous(), None if logits is None else logits.float()
