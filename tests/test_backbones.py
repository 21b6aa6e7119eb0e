import urllib.error

import numpy as np
import pytest
import torch

from model.nets import backbones
from model.nets.backbones import BranchSet, BranchWeightsError


def test_paper_branch_offline_names_the_file_to_provide(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("COLORGUI_WEIGHTS_VGG16", raising=False)

    def offline(*a, **kw):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(BranchWeightsError) as err:
        BranchSet(("vgg16",)).model("vgg16")
    msg = str(err.value)
    assert "vgg16-397923af.pth" in msg and "COLORGUI_WEIGHTS_VGG16" in msg
    assert str(tmp_path / "torch") in msg


def test_paper_branch_loads_from_a_named_file(tmp_path, monkeypatch):
    import torchvision

    path = tmp_path / "resnet.pth"
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), path)
    monkeypatch.setenv("COLORGUI_WEIGHTS_RESNET50", str(path))
    feats = BranchSet(("resnet50",)).features([np.random.rand(50, 60).astype(np.float32)], "resnet50")
    assert feats.shape == (1, 1000) and abs(feats.sum() - 1) < 1e-4


def test_no_weights_are_loaded_at_import():
    import subprocess
    import sys

    code = ("import sys, model.nets.backbones, model.colorizer;"
            "print('efficientnet_lite_pytorch' in sys.modules, 'torchvision.models' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == ["False", "False"]


def test_random_branches_are_labelled():
    assert not backbones.branch_spec("random_0").pretrained
    assert backbones.branch_spec("effnet_lite0").pretrained


@pytest.mark.parametrize("name", ["effnet_lite0", "resnet50"])
def test_folding_for_inference_keeps_the_branch_function(name, tmp_path, monkeypatch):
    import copy

    import torchvision

    if name == "resnet50":  # random weights, with batch-norm statistics that matter
        net = torchvision.models.resnet50(weights=None)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        size = 224
    else:
        spec = backbones.branch_spec(name)
        net, size = spec.build(), spec.input_size
    net.eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        before = torch.softmax(net(x), 1)
        folded = backbones.fold_for_inference(copy.deepcopy(net), x[:1])
        after = torch.softmax(folded(x), 1)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert torch.allclose(before, after, atol=1e-5)
