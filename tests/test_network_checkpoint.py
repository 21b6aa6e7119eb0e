import pickle

import pytest
import torch

from model.store.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from model.nets.network import HybridConfig, HybridNet
from tests.conftest import tiny_config


def test_forward_shapes_for_each_fusion():
    for kw in ({}, {"fusion": "concat"}, {"fusion": "none", "branches": ()}):
        net = HybridNet(tiny_config(**kw))
        f = torch.rand(2, len(net.config.branches), 1000) if net.config.branches else None
        out = net(torch.randn(2, 1, 48, 64), f)
        assert out.shape == (2, 2, 48, 64) and out.abs().max() <= 1.0


@pytest.mark.parametrize("fusion", ["mean", "concat"])
def test_fusion_equals_a_convolution_over_the_tiled_global_vector(fusion):
    """The paper's fusion: concatenate the global vector at every pixel of the encoder's
    map, then a 1x1 convolution. The network computes it without the tiled map."""
    torch.manual_seed(0)
    net = HybridNet(tiny_config(fusion=fusion)).eval()
    L, f = torch.randn(2, 1, 48, 64), torch.rand(2, 2, 1000)
    with torch.no_grad():
        x = net.encoder(L)
        g = net.fuse_features(f)[:, :, None, None].expand(-1, -1, *x.shape[2:])
        fused = net.fusion(torch.cat([x, g], dim=1))
        want = net.upsample(net.decoder(fused))
        torch.testing.assert_close(net(L, f), want, atol=1e-5, rtol=1e-4)
        half = net(L, f, half_size=True)
    assert half.shape == (2, 2, 24, 32)
    torch.testing.assert_close(net.upsample(half), want, atol=1e-5, rtol=1e-4)


def test_config_validation():
    with pytest.raises(ValueError, match="unknown branch"):
        HybridConfig(branches=("nope",))
    with pytest.raises(ValueError, match="fusion"):
        HybridConfig(fusion="sum")
    with pytest.raises(ValueError, match="takes no branches"):
        HybridConfig(fusion="none")
    cfg = tiny_config()
    assert HybridConfig.from_json(cfg.to_json()) == cfg


def test_save_load_round_trip(tmp_path):
    net = HybridNet(tiny_config())
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, net, {"steps": 7, "data": "generated"})
    loaded, meta = load_checkpoint(path)
    assert meta == {"steps": 7, "data": "generated"}
    assert loaded.config == net.config
    for k, v in net.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    assert read_header(path)[0] == net.config


def test_missing_and_garbage_files_name_the_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        load_checkpoint(bad)


def test_pickle_checkpoint_is_refused_without_running_it(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("open(%r, 'w').write('owned')" % str(tmp_path / "owned"),))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "owned").exists()
    torch_file = tmp_path / "torch.pt"
    torch.save(HybridNet(tiny_config()).state_dict(), torch_file)
    with pytest.raises(CheckpointError, match="not a colorgui checkpoint"):
        load_checkpoint(torch_file)


def test_shape_mismatch_is_reported(tmp_path):
    from safetensors.torch import load_file, save_file

    path = tmp_path / "m.safetensors"
    save_checkpoint(path, HybridNet(tiny_config()))
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        header = fh.metadata()
    tensors = load_file(str(path))
    key = "encoder.0.0.weight"
    tensors[key] = torch.zeros(3, 1, 3, 3)
    save_file(tensors, str(path), metadata=header)
    with pytest.raises(CheckpointError, match=f"shape mismatch for {key}"):
        load_checkpoint(path)


def test_config_mismatch_is_reported(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, HybridNet(tiny_config()))
    with pytest.raises(CheckpointError, match="config mismatch"):
        load_checkpoint(path, expect=tiny_config(fusion="concat"))


def test_feature_dropout_acts_only_while_training():
    net = HybridNet(tiny_config(feature_dropout=0.8))
    L, f = torch.randn(1, 1, 32, 32), torch.rand(1, 2, 1000)
    net.eval()
    assert torch.equal(net(L, f), net(L, f))
    net.train()
    torch.manual_seed(1)
    a = net(L, f)
    torch.manual_seed(2)
    assert not torch.equal(a, net(L, f))
    with pytest.raises(ValueError, match="feature_dropout"):
        tiny_config(feature_dropout=1.0)
