"""The spatial model (EfficientNet-Lite0 U-Net): shapes, checkpoints, hints, training."""

import numpy as np
import pytest
import torch

from model.store.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from model.hints import Hint, hint_maps, simulate_hints
from model.nets.spatial import AB_BINS, SpatialConfig, SpatialNet, ab_bins, bin_centres
from model.training.losses import spatial_loss

@pytest.fixture
def train_folder(tmp_path):
    from tests.conftest import colour_photo_folder

    root = colour_photo_folder(tmp_path / "photos", 16)
    (root / "broken.png").write_bytes(b"not a png")
    return root


TINY = dict(decoder=(16, 16, 8, 8, 8), input_size=64)


def tiny_net(pretrained: bool = False, **kw) -> SpatialNet:
    torch.manual_seed(0)
    return SpatialNet(SpatialConfig(**{**TINY, **kw}), pretrained=pretrained).eval()


@pytest.mark.parametrize("h, w", [(64, 64), (40, 72), (96, 32)])
def test_output_is_full_or_half_size_for_any_multiple_of_eight(h, w):
    net = tiny_net()
    L = torch.rand(2, 1, h, w) * 2 - 1
    with torch.no_grad():
        assert net(L).shape == (2, 2, h, w)
        half = net(L, half_size=True)
    assert half.shape == (2, 2, h // 2, w // 2)
    assert half.abs().max() <= 1.0  # tanh
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.zeros(1, 1, 60, 64))


def test_outputs_are_half_size_ab_and_quarter_size_bin_logits():
    net = tiny_net()
    ab, logits = net.outputs(torch.zeros(1, 1, 64, 96))
    assert ab.shape == (1, 2, 32, 48)
    assert logits.shape == (1, AB_BINS ** 2, 16, 24)


def test_checkpoint_holds_only_trained_weights_and_round_trips(tmp_path):
    net = tiny_net(pretrained=True)
    path = tmp_path / "spatial.safetensors"
    save_checkpoint(path, net, {"note": "tests"})
    config, meta = read_header(path)
    assert config == net.config and config.architecture == "spatial"
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        keys = set(fh.keys())
    assert not any(k.startswith("backbone.") for k in keys)  # from its package instead
    assert "class_weights" in keys and "to_ab.0.weight" in keys
    loaded, _ = load_checkpoint(path)
    L = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.equal(loaded(L), net(L))


def test_fine_tuned_backbone_blocks_are_saved_and_frozen_ones_are_not(tmp_path):
    net = tiny_net(pretrained=True, train_backbone_from=14)
    assert not any(p.requires_grad for p in net.backbone._blocks[13].parameters())
    assert all(p.requires_grad for p in net.backbone._blocks[14].parameters())
    path = tmp_path / "ft.safetensors"
    with torch.no_grad():
        net.backbone._blocks[15]._project_conv.weight.add_(0.01)
    save_checkpoint(path, net)
    loaded, _ = load_checkpoint(path)
    assert torch.equal(loaded.backbone._blocks[15]._project_conv.weight,
                       net.backbone._blocks[15]._project_conv.weight)


def test_a_checkpoint_missing_decoder_weights_is_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    path = tmp_path / "spatial.safetensors"
    save_checkpoint(path, tiny_net(pretrained=True))
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        header = fh.metadata()
    tensors = load_file(str(path))
    del tensors["to_ab.0.weight"]
    save_file(tensors, str(path), metadata=header)
    with pytest.raises(CheckpointError, match="to_ab.0.weight"):
        load_checkpoint(path)


def test_hints_change_the_colours_and_a_model_without_hint_channels_refuses_them():
    net = tiny_net()
    L = torch.zeros(1, 1, 64, 64)
    hints = torch.from_numpy(hint_maps([Hint(0.5, 0.5, 60.0, -40.0, size=0.1)], 64, 64))[None]
    assert hints[0, 2].sum() > 0 and hints[0, 2, 0, 0] == 0
    with torch.no_grad():
        auto = net(L)
        assert torch.equal(net(L, hints=torch.zeros_like(hints)), auto)  # zero maps = automatic
        assert not torch.allclose(net(L, hints=hints), auto)
    plain = tiny_net(hints=False)
    with torch.no_grad():
        plain(L)
    with pytest.raises(ValueError, match="hints"):
        plain(L, hints=hints)


def test_hint_maps_refuse_points_outside_the_photo():
    with pytest.raises(ValueError, match="outside"):
        hint_maps([Hint(1.2, 0.5, 0, 0)], 10, 10)


def test_simulated_hints_hold_the_true_patch_colour_and_none_in_about_half_the_photos():
    rng = np.random.default_rng(0)
    ab = np.zeros((2, 64, 64), np.float32)
    ab[0, :, 32:] = 0.5  # right half: a = 64
    maps = [simulate_hints(ab, rng) for _ in range(400)]
    empty = sum(m[2].sum() == 0 for m in maps)
    assert 150 < empty < 250
    fixed = simulate_hints(ab, rng, count=5)
    mask = fixed[2] > 0
    assert mask.any()
    # every hinted pixel holds the mean of its patch, which lies within the truth's range
    assert np.all((fixed[0][mask] >= 0) & (fixed[0][mask] <= 0.5))
    assert np.all(fixed[:2][:, ~mask] == 0)


def test_bins_and_their_centres_agree():
    centres = bin_centres()
    assert torch.equal(ab_bins(centres.T[None, :, :, None]).flatten(), torch.arange(AB_BINS ** 2))


def test_vivid_blends_toward_the_annealed_mean_of_the_class_head():
    net = tiny_net()
    L = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        plain, vivid = net(L, half_size=True), net(L, half_size=True, vivid=1.0)
        half = net(L, half_size=True, vivid=0.5)
    assert torch.allclose(half, (plain + vivid) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="class head"):
        tiny_net(class_head=False)(L, vivid=0.5)


@pytest.mark.parametrize("loss", ["l1+ce", "mse", "l1"])
def test_a_few_training_steps_lower_the_loss(loss):
    net = tiny_net().train()
    torch.manual_seed(1)
    L = torch.rand(4, 1, 64, 64) * 2 - 1
    ab = torch.stack([0.3 * L[:, 0], -0.2 * L[:, 0]], 1)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(25):
        value = spatial_loss(net, L, ab, None, None, loss)
        opt.zero_grad()
        value.backward()
        opt.step()
        losses.append(float(value.detach()))
    assert losses[-1] < 0.7 * losses[0]
    assert all(p.grad is None for p in net.backbone.parameters())  # frozen


def test_colorizer_runs_a_spatial_checkpoint_with_hints_and_vivid(tmp_path):
    from model.colorizer import Colorizer

    path = tmp_path / "spatial.safetensors"
    save_checkpoint(path, tiny_net(pretrained=True), {"vivid": 0.25})
    colorizer = Colorizer(path, device="cpu", precision="float32")
    assert colorizer.vivid == 0.25 and colorizer.takes_hints
    gray = np.repeat(np.linspace(0, 1, 80 * 120, dtype=np.float32).reshape(80, 120, 1), 3, 2)
    auto = colorizer.predict(gray)
    hinted = colorizer.predict(gray, [Hint(0.25, 0.5, 70.0, 60.0, size=0.15)])
    assert auto.ab.shape == hinted.ab.shape == (80, 120, 2)
    np.testing.assert_array_equal(hinted.L, auto.L)  # hints never change the lightness
    # spread: the hint's own colour at its place (up to the resizing), from the automatic one
    np.testing.assert_allclose(hinted.ab[40, 30] * 128, (70.0, 60.0), atol=6)
    assert np.abs(auto.ab[40, 30] * 128 - (70.0, 60.0)).min() > 20
    assert colorizer.predict(gray).ab.tolist() == auto.ab.tolist()  # the kept automatic colours
    colorizer.spread_hints = False  # through the network's hint channels only
    channels = colorizer.predict(gray, [Hint(0.25, 0.5, 70.0, 60.0, size=0.15)])
    assert np.abs(channels.ab - auto.ab).max() > 0 and np.abs(channels.ab - hinted.ab).max() > 0.05
    with pytest.raises(ValueError, match="vivid"):
        Colorizer(path, device="cpu", vivid=1.5)


def test_fit_trains_a_spatial_model_from_photos_in_memory_and_resumes(tmp_path, train_folder):
    from model.training.train import FitOptions, fit

    options = FitOptions(epochs=1, batch_size=4, crop=32, in_memory=True, val_share=0.2,
                         check_files=False)
    config = SpatialConfig(**TINY)
    result = fit([train_folder], tmp_path / "run", config=config, options=options)
    config_saved, meta = read_header(result.best)
    assert config_saved == config and meta["step"] == result.steps > 0
    net, _ = load_checkpoint(result.best)
    assert net.class_weights.max() > net.class_weights.min()  # set from the photos
    # the decoded photos were kept: a second run reads them back instead of decoding
    assert list((tmp_path / "user-cache" / "photos").glob("*.npz"))
    again = fit([train_folder], tmp_path / "run", options=FitOptions(
        epochs=2, batch_size=4, crop=32, in_memory=True, val_share=0.2, check_files=False))
    assert again.steps > result.steps and again.epochs_done == 2
    # fine-tuning it with its late backbone blocks trainable: same weights to start from
    tuned = fit([train_folder], tmp_path / "tuned", config=SpatialConfig(**TINY, train_backbone_from=15),
                from_checkpoint=result.best, options=FitOptions(
                    epochs=1, batch_size=4, crop=32, in_memory=True, val_share=0.2, check_files=False))
    assert read_header(tuned.best)[0].train_backbone_from == 15
    with pytest.raises(ValueError, match="do not fit the requested config"):
        fit([train_folder], tmp_path / "bad", config=SpatialConfig(**{**TINY, "decoder": (8,) * 5}),
            from_checkpoint=result.best, options=options)


def test_vivid_can_be_changed_between_photos_and_is_checked(tmp_path):
    from model.colorizer import Colorizer

    path = tmp_path / "spatial.safetensors"
    save_checkpoint(path, tiny_net(pretrained=True))
    colorizer = Colorizer(path, device="cpu", precision="float32")
    assert colorizer.vivid == colorizer.default_vivid == 0.0
    gray = np.full((64, 64, 3), 0.5, np.float32)
    plain = colorizer.predict(gray).ab
    colorizer.vivid = 1.0
    assert np.abs(colorizer.predict(gray).ab - plain).max() > 0
    with pytest.raises(ValueError, match="0, 1"):
        colorizer.vivid = -0.1


def test_a_model_that_asks_for_mirror_averaging_colours_a_mirrored_photo_as_its_mirror(tmp_path):
    from model.colorizer import Colorizer

    plain_path, mirror_path = tmp_path / "plain.safetensors", tmp_path / "mirror.safetensors"
    save_checkpoint(plain_path, tiny_net(pretrained=True))
    save_checkpoint(mirror_path, tiny_net(pretrained=True), {"mirror": True})
    plain = Colorizer(plain_path, device="cpu", precision="float32")
    mirror = Colorizer(mirror_path, device="cpu", precision="float32")
    assert not plain.mirror and mirror.mirror
    photo = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    flipped = photo[:, ::-1].copy()
    # the average of the photo's colours and its mirror image's, mirrored back
    np.testing.assert_allclose(mirror.predict(photo).ab,
                               (plain.predict(photo).ab + plain.predict(flipped).ab[:, ::-1]) / 2,
                               atol=1e-5)
    np.testing.assert_allclose(mirror.predict(flipped).ab, mirror.predict(photo).ab[:, ::-1], atol=1e-5)
    assert np.abs(plain.predict(flipped).ab - plain.predict(photo).ab[:, ::-1]).max() > 1e-3


def test_extra_branches_class_vectors_are_averaged_in_and_required():
    net = tiny_net(branches=("random_0",))
    L = torch.zeros(1, 1, 64, 64)
    with pytest.raises(ValueError, match="features"):
        net(L)
    feats = torch.zeros(1, 1, 1000)
    with torch.no_grad():
        uniform, peaked = net(L, feats), net(L, feats.index_fill(2, torch.tensor([3]), 1.0))
    assert not torch.equal(uniform, peaked)


def test_an_evaluation_method_sets_vivid_for_its_own_run_only(tmp_path):
    from model.colorizer import Colorizer
    from model.training.evaluate import colorizer_method

    path = tmp_path / "spatial.safetensors"
    save_checkpoint(path, tiny_net(pretrained=True))
    colorizer = Colorizer(path, device="cpu", precision="float32")
    gray = [np.full((64, 64, 3), 0.5, np.float32)]
    plain = colorizer_method(colorizer)(gray)[0]
    vivid = colorizer_method(colorizer, vivid=1.0)(gray)[0]
    assert np.abs(vivid - plain).max() > 0 and colorizer.vivid == 0.0
    np.testing.assert_array_equal(colorizer_method(colorizer)(gray)[0], plain)


def test_likely_colours_follow_a_hint_and_are_sorted():
    """The suggestions at a point come from the class head; a model trained to copy hints
    is not needed to check the plumbing: sorted, within range, at most ``count``."""
    from model.colorizer import Colorizer
    from model.hints import Hint

    torch.manual_seed(0)
    net = SpatialNet(SpatialConfig(decoder=(16, 16, 8, 8, 8), input_size=64), pretrained=False)
    c = Colorizer(net=net.eval(), device="cpu")
    L = np.linspace(0, 100, 48 * 80, dtype=np.float32).reshape(48, 80)
    got = c.likely_colours(L, 0.3, 0.6, count=5, floor=0.0)
    assert len(got) == 5
    probs = [p for _, _, p in got]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    assert all(-128 <= a <= 128 and -128 <= b <= 128 for a, b, _ in got)
    with_hint = c.likely_colours(L, 0.3, 0.6, [Hint(0.3, 0.6, 60.0, 60.0, 0.2)], count=5, floor=0.0)
    assert with_hint != got  # the hint reaches the class head
    assert len(c.likely_colours(L, 1.0, 1.0, floor=0.5)) >= 1  # the likeliest always comes back


def test_fit_passes_its_class_loss_weight_to_the_loss(tmp_path, train_folder, monkeypatch):
    import model.training.train as train

    seen = []

    def spy(*args, **kwargs):
        seen.append(args[6] if len(args) > 6 else kwargs.get("ce_weight"))
        return spatial_loss(*args, **kwargs)

    monkeypatch.setattr(train, "spatial_loss", spy)
    train.fit([train_folder], tmp_path / "run", config=SpatialConfig(**TINY),
              options=train.FitOptions(epochs=1, max_steps=2, batch_size=4, crop=32,
                                       in_memory=True, val_share=0.2, check_files=False,
                                       ce_weight=0.3))
    assert seen and set(seen) == {0.3}


def _randomise(module: torch.nn.Module) -> None:
    torch.manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 0.2)


def test_the_hint_guide_changes_nothing_without_hints_and_steers_the_colours_with_them():
    net = tiny_net(hint_guide=8)
    plain = SpatialNet(SpatialConfig(**TINY), pretrained=False).eval()
    plain.load_state_dict({k: v for k, v in net.state_dict().items()
                           if not k.startswith("hint_guide.")})
    L = torch.rand(2, 1, 64, 96) * 2 - 1
    hints = torch.from_numpy(np.stack([hint_maps([Hint(0.3, 0.4, 60.0, -40.0)], 64, 96),
                                       np.zeros((3, 64, 96), np.float32)]))
    with torch.no_grad():
        # a new guide starts at zero: the model it is added to colours exactly as before
        assert torch.equal(net(L, hints=hints), plain(L, hints=hints))
        _randomise(net.hint_guide)
        guided = net(L, hints=hints)
        assert torch.equal(net(L), plain(L))  # no hints: the guide is off
        assert torch.equal(guided[1], plain(L, hints=hints)[1])  # a photo without hints
        assert (guided[0] - plain(L, hints=hints)[0]).abs().max() > 1e-3


def test_a_guided_model_moves_its_guide_weight_of_the_way_to_its_hinted_colours():
    from model.colorizer import Colorizer

    net = tiny_net(hint_guide=8)
    _randomise(net.hint_guide)
    colorizer = Colorizer(net=net, device="cpu", runtime="torch")
    colorizer.spread_hints = False  # the network's answer alone
    rgb = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)
    hints = [Hint(0.3, 0.4, 60.0, -40.0)]
    auto = colorizer.predict(rgb).ab
    full = colorizer.predict(rgb, hints).ab
    assert np.abs(full - auto).max() > 1e-3
    colorizer.guide_weight = 0.25
    np.testing.assert_allclose(colorizer.predict(rgb, hints).ab, auto + (full - auto) / 4,
                               atol=1e-5)
    colorizer.guide_weight = 1.0
    np.testing.assert_allclose(colorizer.predict(rgb, hints).ab, full, atol=1e-6)


def test_training_only_the_guide_leaves_the_automatic_model_and_its_statistics_alone():
    net = tiny_net(hint_guide=8)
    net.train_only_guide()
    net.train()
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("hint_guide.") for n in trainable)
    assert not net.bottleneck_block.training and net.hint_guide.training
    before = {k: v.clone() for k, v in net.state_dict().items() if not k.startswith("hint_guide.")}
    L = torch.rand(4, 1, 64, 64) * 2 - 1
    ab = torch.stack([0.3 * L[:, 0], -0.2 * L[:, 0]], 1)
    hints = torch.from_numpy(np.stack([simulate_hints(a, np.random.default_rng(i), 5)
                                       for i, a in enumerate(ab.numpy())]))
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=3e-3)
    for _ in range(3):
        loss = spatial_loss(net, L, ab, None, hints)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = net.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())  # running stats too
    with pytest.raises(ValueError, match="no hint guide"):
        tiny_net().train_only_guide()


def test_a_guide_only_fit_starts_from_a_model_without_a_guide(tmp_path, train_folder):
    from model.training.train import FitOptions, fit

    base = tmp_path / "base.safetensors"
    save_checkpoint(base, tiny_net(pretrained=True), {"vivid": 0.3})
    result = fit([train_folder], tmp_path / "run", config=SpatialConfig(**TINY, hint_guide=8),
                 from_checkpoint=base, options=FitOptions(
                     epochs=1, batch_size=4, crop=32, in_memory=True, val_share=0.2,
                     check_files=False, guide_only=True))
    tuned, _ = load_checkpoint(result.best)
    original, _ = load_checkpoint(base)
    assert tuned.config.hint_guide == 8
    assert torch.equal(tuned.to_ab[0].weight, original.to_ab[0].weight)
    assert any(p.abs().max() > 0 for p in tuned.hint_guide.mix[0][-1].parameters())
