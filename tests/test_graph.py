"""A model as an ONNX graph beside its weights (the spatial model's; the paper model's with
its branches inside): a CPU colorizes with it without torch, to the colours PyTorch gives,
and never with a graph of other weights."""

import os
import shutil

import numpy as np
import pytest
import torch

from model.colorizer import Colorizer, GraphEngine
from model.hints import Hint
from model.nets import graph as graph_module
from model.nets.graph import Graph, HybridGraph, graph_path
from model.nets.network import HybridNet
from model.nets.spatial import SpatialConfig, SpatialNet
from model.store.checkpoint import save_checkpoint, write_graph_beside
from tests.conftest import gradient_photo, tiny_config


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


def test_a_guided_graph_runs_its_guide_only_for_photos_with_hints(guided_model):
    """The guide cost 17% of every automatic photo when its gated-off answer was still
    computed: its convolutions sit only in the hinted branch of an If."""
    import onnx

    from model.store.checkpoint import load_checkpoint

    guide = load_checkpoint(guided_model)[0].hint_guide
    graph = onnx.load(str(write_graph_beside(guided_model))).graph
    gate = next(node for node in graph.node if node.op_type == "If")
    branches = {a.name: a.g.node for a in gate.attribute}
    convs = lambda nodes: sum(node.op_type == "Conv" for node in nodes)  # noqa: E731
    assert convs(branches["then_branch"]) - convs(branches["else_branch"]) == \
        sum(isinstance(m, torch.nn.Conv2d) for m in guide.modules())


@pytest.fixture
def hybrid_model(tmp_path):
    """A tiny paper-style model whose colours follow its (random) branches' classes."""
    torch.manual_seed(0)
    net = HybridNet(tiny_config()).eval()
    with torch.no_grad():  # random weights all but drop the class vector: amplify it
        net.fusion[0].weight[:, net.config.encoder[-1]:] *= 300
    path = tmp_path / "hybrid.safetensors"
    save_checkpoint(path, net)
    return path


def test_a_hybrid_graph_with_its_branches_colours_as_pytorch_does(hybrid_model, monkeypatch):
    torch_run = Colorizer(hybrid_model, device="cpu", runtime="torch", precision="float32")
    write_graph_beside(hybrid_model)
    graph_run = Colorizer(hybrid_model, device="cpu")
    assert isinstance(graph_run.engine.graph, HybridGraph)
    photos = [gradient_photo(70, 90, seed).astype(np.float32) / 255 for seed in range(3)]
    photos.append(np.random.default_rng(0).random((70, 90, 3), dtype=np.float32))
    want = torch_run.predict_many(photos)
    for g, w in zip(graph_run.predict_many(photos), want):
        np.testing.assert_allclose(g.ab, w.ab, atol=1e-5)
    # what the branches see reaches the colours, well beyond that tolerance
    monkeypatch.setattr(graph_module, "branch_image",
                        lambda gray, size: np.zeros((size, size), np.float32))
    blind = graph_run.predict_many(photos)
    assert min(np.abs(b.ab - w.ab).max() for b, w in zip(blind, want)) > 1e-2


def test_the_bundled_paper_model_ships_its_graph_and_colours_as_pytorch_does():
    from resources import BUNDLED_MODELS

    path = BUNDLED_MODELS["paper"]
    graph = Graph.beside(path)  # made from these very weights, or not used
    assert isinstance(graph, HybridGraph)
    rgb = gradient_photo(300, 400).astype(np.float32) / 255
    want = Colorizer(path, device="cpu", runtime="torch", precision="float32").predict(rgb)
    got = Colorizer(path, device="cpu").predict(rgb)
    np.testing.assert_allclose(got.ab, want.ab, atol=1e-5)


def test_a_graph_session_does_not_spin_between_calls():
    """Its threads spinning while numpy's BLAS threads run the vivid blend made a pass
    2.5x slower on two cores (benchmarks/run.py)."""
    from resources import BUNDLED_MODELS

    options = Graph.beside(BUNDLED_MODELS["spatial"]).session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.parametrize("model", ["guided_model", "hybrid_model"])
def test_a_graph_of_other_weights_is_never_used(model, tmp_path, request):
    path = request.getfixturevalue(model)
    write_graph_beside(path)
    other = tmp_path / "other.safetensors"
    shutil.copy(path, other)
    shutil.copy(graph_path(path), graph_path(other))
    assert Graph.beside(other) is not None
    with open(other, "r+b") as fh:  # the weights change, the graph stays
        fh.seek(-4, os.SEEK_END)
        fh.write(b"\x01\x02\x03\x04")
    assert Graph.beside(other) is None
    assert not isinstance(Colorizer(other, device="cpu").engine, GraphEngine)


def test_an_installed_fine_tuned_model_gets_its_graph(guided_model):
    from model.training.finetune import install_model

    target = install_model(guided_model, "family")
    assert graph_path(target).is_file()
    assert isinstance(Colorizer(target, device="cpu").engine, GraphEngine)
