"""The pretrained branches on ONNX Runtime: same probabilities as PyTorch, cached once,
and PyTorch whenever ONNX Runtime cannot take a branch."""

import dataclasses
import logging

import numpy as np
import pytest

from model import backbones, runtime
from model.backbones import BranchSet

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
    stamps = [f.stat().st_mtime_ns for f in files]
    again = BranchSet(NAMES, runtime="onnx")
    np.testing.assert_allclose(again.all_features(gray()), want, atol=1e-5)
    assert cached_files() == files and [f.stat().st_mtime_ns for f in files] == stamps


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
    with caplog.at_level(logging.WARNING, logger="model.runtime"):
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
