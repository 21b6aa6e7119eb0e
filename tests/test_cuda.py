"""Checks that need a CUDA GPU; skipped on machines without one."""

import numpy as np
import pytest
import torch

from model import color
from model.training.branch_cache import BranchCache
from model.colorizer import Colorizer
from model.nets.network import HybridNet
from model.training.train import FitOptions, fit
from tests.conftest import gradient_photo, tiny_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


def test_colorizer_runs_on_cuda_and_matches_cpu():
    torch.manual_seed(0)
    net = HybridNet(tiny_config())
    rgb = color.from_uint8(gradient_photo(120, 90))
    gpu = Colorizer(net=net, device="cuda")
    assert gpu.device.type == "cuda"
    out_gpu = gpu.colorize(rgb)
    out_cpu = Colorizer(net=net.cpu(), device="cpu").colorize(rgb)
    assert out_gpu.shape == rgb.shape
    assert np.abs(out_gpu - out_cpu).max() < 1e-2


def test_fit_runs_on_cuda(photo_folder, tmp_path):
    result = fit([photo_folder], tmp_path / "run", tiny_config(),
                 options=FitOptions(max_steps=3, batch_size=2, crop=32, device="cuda",
                                    num_workers=2), cache=BranchCache(tmp_path / "cache"))
    assert result.steps == 3 and result.best.is_file()
