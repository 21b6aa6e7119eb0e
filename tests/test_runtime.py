"""The pretrained branches and the spatial model's network on ONNX Runtime: the same
results as PyTorch, cached once, and PyTorch whenever ONNX Runtime cannot take one."""

import dataclasses
import logging
import os

import numpy as np
import pytest
import torch

from model.nets import backbones, graph, runtime
from model.nets.backbones import BranchSet
from model.colorizer import Colorizer
from model.hints import Hint
from model.nets.backbones import FEATURE_DIM
from model.nets.spatial import SpatialConfig, SpatialNet
from model.nets.spatial_onnx import onnx_core

NAMES = ("random_0", "random_1")


def gray(n=2):
    rng = np.random.default_rng(0)
    return [rng.random((40, 52), dtype=np.float32) for _ in range(n)]


def cached_files():
    return sorted(runtime.cache_dir().glob("*.onnx"))


def test_onnx_branches_give_the_pytorch_probabilities_and_are_cached_once():
    onnx = BranchSet(NAMES, runtime="onnx")
    got = onnx.all_features(gray())
    want = BranchSet(NAMES, runtime="torch").all_features(gray())
    assert all(isinstance(onnx.runner(n), runtime.OnnxModule) for n in NAMES)
    np.testing.assert_allclose(got, want, atol=1e-5)
    files = cached_files()
    assert [f.name.split("-")[0] for f in files] == ["random_0", "random_1"]
    inodes = [f.stat().st_ino for f in files]  # a file written again is a new one
    again = BranchSet(NAMES, runtime="onnx")
    np.testing.assert_allclose(again.all_features(gray()), want, atol=1e-5)
    assert cached_files() == files and [f.stat().st_ino for f in files] == inodes


def test_the_cache_keeps_only_the_most_recently_used_exports(monkeypatch):
    monkeypatch.setattr(runtime, "KEEP_EXPORTS", 3)
    BranchSet(("random_0",), runtime="onnx").load()
    folder = runtime.cache_dir()
    [used] = cached_files()
    for i in range(3):  # exports of models used long ago, the oldest first
        f = folder / f"old_{i}-{i}.onnx"
        f.write_bytes(b"stale")
        os.utime(f, (1000 + i, 1000 + i))
    os.utime(used, (500, 500))  # older than all of them, but used again now:
    BranchSet(("random_0",), runtime="onnx").load()
    assert used.stat().st_mtime > 2000
    BranchSet(("random_1",), runtime="onnx").load()  # a new export: 5 files, keep 3
    kept = sorted(f.name.split("-")[0] for f in cached_files())
    assert kept == ["old_2", "random_0", "random_1"]


def test_a_branch_whose_weights_have_a_name_is_not_even_built_once_cached(monkeypatch):
    spec = backbones.branch_spec("random_0")
    builds = []

    def build():
        builds.append(1)
        return spec.build()

    named = dataclasses.replace(spec, build=build, identity=lambda: "random-0 weights v1")
    monkeypatch.setitem(backbones.BRANCHES, "random_0", named)
    want = BranchSet(("random_0",), runtime="onnx").features(gray(), "random_0")
    assert len(builds) == 1
    got = BranchSet(("random_0",), runtime="onnx").features(gray(), "random_0")
    assert len(builds) == 1
    np.testing.assert_array_equal(got, want)


def test_auto_keeps_random_branches_in_pytorch():
    assert not isinstance(BranchSet(NAMES).runner("random_0"), runtime.OnnxModule)
    assert cached_files() == []


def test_a_damaged_cache_file_is_exported_again():
    want = BranchSet(NAMES, runtime="torch").all_features(gray())
    BranchSet(NAMES, runtime="onnx").load()
    for f in cached_files():
        f.write_bytes(f.read_bytes()[:1000])
    np.testing.assert_allclose(BranchSet(NAMES, runtime="onnx").all_features(gray()), want,
                               atol=1e-5)
    assert all(f.stat().st_size > 1000 for f in cached_files())


def test_an_unwritable_cache_still_runs_on_onnx(monkeypatch, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv("COLORGUI_CACHE_DIR", str(blocker))
    branches = BranchSet(NAMES, runtime="onnx")
    assert isinstance(branches.runner("random_0"), runtime.OnnxModule)
    np.testing.assert_allclose(branches.features(gray(), "random_0"),
                               BranchSet(NAMES, runtime="torch").features(gray(), "random_0"),
                               atol=1e-5)


@pytest.mark.parametrize("failure", ["no onnxruntime", "export fails"])
def test_pytorch_takes_over_with_a_warning(failure, monkeypatch, caplog):
    if failure == "no onnxruntime":
        monkeypatch.setattr(runtime, "available", lambda: False)
        monkeypatch.setattr(runtime, "_told_missing", False)
    else:
        def broken(net, example):
            raise RuntimeError("unsupported operator")

        monkeypatch.setattr(runtime, "export", broken)
    branches = BranchSet(NAMES, runtime="onnx")
    with caplog.at_level(logging.WARNING, logger="model.nets.runtime"):
        feats = branches.all_features(gray())
    assert not isinstance(branches.runner("random_0"), runtime.OnnxModule)
    assert caplog.text.count("in PyTorch") == (1 if failure == "no onnxruntime" else 2)
    np.testing.assert_allclose(feats, BranchSet(NAMES, runtime="torch").all_features(gray()),
                               atol=1e-6)
    assert cached_files() == []


def test_a_set_moved_off_the_cpu_runs_in_pytorch():
    branches = BranchSet(NAMES, runtime="onnx")
    branches.load()
    branches.to("meta")
    assert branches.runner("random_0").__class__.__name__ == "_RandomCNN"


def test_runtime_is_checked():
    with pytest.raises(ValueError, match="runtime"):
        BranchSet(NAMES, runtime="tensorrt")


# -- the spatial model's own network ------------------------------------------------------

def tiny_spatial(**kw):
    torch.manual_seed(0)
    config = SpatialConfig(decoder=(16, 16, 8, 8, 8), input_size=64, **kw)
    return SpatialNet(config, pretrained=False).eval()


def photo(h, w, seed=0):
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def hints_for(net, n):
    if not net.config.hints:
        return None
    return [[Hint(0.2 + 0.3 * i, 0.5, 40.0 - 30 * i, -20.0 + 25 * i, 0.1)] for i in range(n)]


@pytest.mark.parametrize("kw", [{}, {"branches": ("random_0",)},
                                {"branches": ("random_0",), "hints": False, "class_head": False}])
def test_a_spatial_model_on_onnx_runtime_gives_the_pytorch_colours(kw):
    net = tiny_spatial(**kw)
    vivid = 0.3 if net.config.class_head else None
    onnx = Colorizer(net=net, device="cpu", vivid=vivid)
    torch_ = Colorizer(net=net, device="cpu", vivid=vivid, runtime="torch")
    assert onnx.engine._cpu_nets[torch.float32].core_runner is not None
    assert torch_.engine._cpu_nets[torch.float32].core_runner is None
    for mirror in (False, True):
        for channels_only in (True, False):
            for c in (onnx, torch_):
                c.mirror, c.spread_hints = mirror, not channels_only
            for h, w in [(64, 64), (40, 72), (57, 33)]:
                photos = [photo(h, w, 0), photo(h, w, 1)]
                got = onnx.predict_many(photos, hints_for(net, 2))
                want = torch_.predict_many(photos, hints_for(net, 2))
                for g, t in zip(got, want):
                    np.testing.assert_allclose(g.ab, t.ab, atol=1e-4)
    exported = [f.name for f in cached_files() if f.name.startswith("colorgui")]
    assert [name.split("-")[1] for name in exported] == ["spatial"]


def test_the_onnx_core_takes_the_hints_and_the_branch_probabilities():
    """Tighter than the colours (random weights pass little of the class vector on): the
    bin logits of the core, for inputs that move them well beyond the tolerance."""
    net = tiny_spatial(branches=("random_0",))
    with torch.no_grad():  # random decoder weights all but drop the class vector: amplify it
        net.class_proj.weight.mul_(1e3)
    run = onnx_core(net)
    L = torch.rand(2, 1, 64, 96) * 2 - 1
    peaked = torch.softmax(torch.randn(2, 1, FEATURE_DIM) * 5, -1)
    hints = torch.zeros(2, 3, 64, 96)
    hints[:, :, 20:30, 40:50] = torch.tensor([0.3, -0.2, 1.0])[:, None, None]
    outputs = {}
    for name, feats, h in [("plain", peaked, None), ("no class", torch.zeros_like(peaked), None),
                           ("hinted", peaked, hints)]:
        ab, logits = run(L, feats, h)
        with torch.no_grad():
            want_ab, want_logits = net.core(L, feats, h)
        np.testing.assert_allclose(ab, want_ab, atol=2e-6)
        np.testing.assert_allclose(logits, want_logits, atol=2e-6)
        outputs[name] = want_logits
    for name in ("no class", "hinted"):
        assert (outputs[name] - outputs["plain"]).abs().max() > 1e-4


def test_a_spatial_model_is_exported_once_per_weights_when_it_loads():
    events = []
    with graph.listening_to_exports(events.append):
        first = Colorizer(net=tiny_spatial(), device="cpu")
        assert [e.stage for e in events] == ["start", "done"]
        first.predict_many([photo(48, 40)])
        Colorizer(net=tiny_spatial(), device="cpu").predict_many([photo(48, 40)])
        assert [e.stage for e in events] == ["start", "done"]
        other = tiny_spatial()
        with torch.no_grad():
            other.to_ab[0].bias.add_(0.1)
        Colorizer(net=other, device="cpu")
    assert [e.stage for e in events] == ["start", "done"] * 2


def test_a_spatial_model_that_onnx_cannot_take_runs_in_pytorch_with_a_warning(monkeypatch, caplog):
    def broken(net, example, **kw):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(runtime, "export", broken)
    with caplog.at_level(logging.WARNING, logger="model.nets.runtime"):
        c = Colorizer(net=tiny_spatial(), device="cpu")
    assert "could not run colorgui-spatial through ONNX Runtime" in caplog.text
    assert c.engine._cpu_nets[torch.float32].core_runner is None
    want = Colorizer(net=tiny_spatial(), device="cpu", runtime="torch")
    np.testing.assert_allclose(c.predict_many([photo(40, 56)])[0].ab,
                               want.predict_many([photo(40, 56)])[0].ab, atol=1e-6)


def test_an_onnx_network_refuses_the_wrong_number_of_inputs():
    Colorizer(net=tiny_spatial(), device="cpu")  # exports it: L and hints in
    module = runtime.OnnxModule(cached_files()[0], lambda: b"")
    with pytest.raises(ValueError, match="takes 2 inputs, not 1"):
        module.run(torch.zeros(1, 1, 64, 64))


def test_colorizer_runtime_is_checked():
    with pytest.raises(ValueError, match="runtime must be one of"):
        Colorizer(net=tiny_spatial(), device="cpu", runtime="tensorrt")
