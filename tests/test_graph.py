"""The spatial model as an ONNX graph beside its weights: a CPU colorizes with it without
torch, to the colours PyTorch gives, and never with a graph of other weights."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model.colorizer import Colorizer, GraphEngine
from model.hints import Hint
from model.nets.graph import SpatialGraph, graph_path
from model.nets.spatial import SpatialConfig, SpatialNet
from model.store.checkpoint import save_checkpoint, write_graph_beside
from tests.conftest import gradient_photo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def guided_model(tmp_path):
    torch.manual_seed(0)
    net = SpatialNet(SpatialConfig(decoder=(16, 16, 8, 8, 8), input_size=64, hint_guide=8),
                     pretrained=True).eval()
    with torch.no_grad():  # a guide that does something
        for p in net.hint_guide.parameters():
            p.normal_(0, 0.2)
    path = tmp_path / "guided.safetensors"
    save_checkpoint(path, net, {"vivid": 0.3, "mirror": True})
    return path


def test_a_graph_beside_the_weights_colours_as_pytorch_does(guided_model):
    rgb = gradient_photo(70, 90).astype(np.float32) / 255
    hints = [Hint(0.3, 0.4, 50.0, -30.0, 0.1)]
    torch_run = Colorizer(guided_model, device="cpu", runtime="torch")
    assert write_graph_beside(guided_model) == graph_path(guided_model)
    graph_run = Colorizer(guided_model, device="cpu")
    assert isinstance(graph_run.engine, GraphEngine)
    for given in (None, hints):
        want, got = torch_run.predict(rgb, given), graph_run.predict(rgb, given)
        np.testing.assert_allclose(got.ab, want.ab, atol=2e-5)
    a, b = torch_run.analyse(want.L), graph_run.analyse(want.L)
    np.testing.assert_allclose(b.features8, a.features8, atol=1e-3)
    np.testing.assert_allclose(b.probabilities, a.probabilities, atol=1e-4)
    assert torch_run.likely_colours(want.L, 0.5, 0.5)[0][:2] == \
        graph_run.likely_colours(want.L, 0.5, 0.5)[0][:2]


def test_a_graph_of_other_weights_is_never_used(guided_model, tmp_path):
    write_graph_beside(guided_model)
    other = tmp_path / "other.safetensors"
    shutil.copy(guided_model, other)
    shutil.copy(graph_path(guided_model), graph_path(other))
    assert SpatialGraph.beside(other) is not None
    with open(other, "r+b") as fh:  # the weights change, the graph stays
        fh.seek(-4, os.SEEK_END)
        fh.write(b"\x01\x02\x03\x04")
    assert SpatialGraph.beside(other) is None
    assert not isinstance(Colorizer(other, device="cpu").engine, GraphEngine)


def test_colorizing_on_a_cpu_with_the_bundled_model_loads_no_torch(tmp_path):
    from PIL import Image

    assert graph_path(ROOT / "resources/weights/colorgui-spatial.safetensors").is_file()
    Image.fromarray(gradient_photo(40, 56)).convert("L").save(tmp_path / "p.png")
    code = ("import sys; from colorgui.cli.main import main\n"
            "code = main(['colorize', sys.argv[1], '-o', sys.argv[2], '--device', 'cpu'])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'scipy'}))\n"
            "sys.exit(code)\n")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p.png"),
                          str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "p.png").is_file()


def test_an_installed_fine_tuned_model_gets_its_graph(guided_model):
    from model.training.finetune import install_model

    target = install_model(guided_model, "family")
    assert graph_path(target).is_file()
    assert isinstance(Colorizer(target, device="cpu").engine, GraphEngine)
