import numpy as np
import pytest

from model import color
from model.colorizer import Colorizer, network_size
from model.io.imageio import read_photo
from tests.conftest import gradient_photo, save_in_mode


@pytest.fixture
def colorizer(tiny_checkpoint):
    return Colorizer(tiny_checkpoint, device="cpu")


@pytest.mark.parametrize("h,w", [(1, 1), (1, 300), (37, 53), (480, 640)])
def test_output_has_input_size_and_luminance(colorizer, h, w):
    rgb = color.from_uint8(gradient_photo(h, w))
    out = colorizer.colorize(rgb)
    assert out.shape == (h, w, 3)
    # the luminance is the input's, to within OpenCV's float Lab accuracy (< one 8-bit level)
    assert np.abs(color.luminance(out) - color.luminance(rgb)).max() < 0.39


def test_network_size_is_multiple_of_8_and_keeps_aspect():
    assert network_size(3000, 4000, 256) == (224, 296)
    h, w = network_size(1, 10000, 256)
    assert h == 8 and w % 8 == 0


def test_saturation_zero_is_gray_and_render_needs_no_network(colorizer):
    rgb = color.from_uint8(gradient_photo(40, 40))
    pred = colorizer.predict(rgb)
    gray = pred.render(0.0)
    assert np.abs(gray - gray.mean(axis=2, keepdims=True)).max() < 2e-3
    strong, weak = pred.render(2.0), pred.render(1.0)
    assert np.abs(strong - gray).mean() >= np.abs(weak - gray).mean()


def test_batch_api_matches_single_calls(colorizer):
    rgbs = [color.from_uint8(gradient_photo(40, 60, s)) for s in range(3)]
    rgbs.append(color.from_uint8(gradient_photo(50, 50, 9)))
    many = colorizer.predict_many(rgbs)
    for rgb, pred in zip(rgbs, many):
        assert np.allclose(pred.render(), colorizer.colorize(rgb), atol=1e-4)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "I;16"])
def test_every_input_mode_round_trips_through_a_file(colorizer, tmp_path, mode):
    src = tmp_path / "in.png"
    save_in_mode(gradient_photo(33, 45), mode, src)
    from model.io.imageio import write_photo

    photo = read_photo(src)
    out = tmp_path / "out.png"
    write_photo(out, colorizer.colorize(photo.rgb), alpha=photo.alpha, bit_depth=photo.bit_depth)
    back = read_photo(out)
    assert back.size == photo.size == (45, 33)
    assert (back.alpha is None) == (photo.alpha is None)
    if photo.alpha is not None:
        assert np.array_equal(back.alpha, photo.alpha)
    assert back.bit_depth == photo.bit_depth


def test_cuda_out_of_memory_retries_smaller_then_falls_back_to_cpu(colorizer, monkeypatch, caplog):
    import torch

    real_forward = colorizer._forward
    calls = []

    def flaky(Ls, hints, vivid):
        calls.append((colorizer.device.type, len(Ls)))
        if colorizer.device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_forward(Ls, hints, vivid)

    colorizer.device = torch.device("cuda")  # pretend; _forward is replaced
    colorizer.batch_size = 8                 # as a colorizer made on a GPU has
    monkeypatch.setattr(colorizer, "_forward", flaky)
    rgbs = [color.from_uint8(gradient_photo(40, 40, s)) for s in range(4)]
    preds = colorizer.predict_many(rgbs)
    assert len(preds) == 4 and colorizer.device.type == "cpu"
    assert [n for d, n in calls if d == "cuda"] == [4, 2, 1]
    assert "continuing on the CPU" in caplog.text


@pytest.mark.parametrize("h,w", [(41, 1), (1, 41), (300, 7)])
def test_reduced_precision_matches_float32_on_thin_photos(tiny_checkpoint, h, w):
    """On a multi-threaded CPU, oneDNN's bf16 convolutions gave NaN or garbage for thin
    photos (1-pixel-wide feature maps), so those run in float32."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        rgb = color.from_uint8(gradient_photo(h, w))
        exact = Colorizer(tiny_checkpoint, device="cpu", precision="float32").predict(rgb).ab
        fast = Colorizer(tiny_checkpoint, device="cpu")
        for _ in range(2):
            assert np.abs(fast.predict(rgb).ab - exact).max() < 0.02
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("h,w", [(8, 8), (8, 64), (64, 48)])
@pytest.mark.parametrize("precision", ["auto", "float32"])
def test_the_cpu_copy_of_the_network_computes_what_the_network_does(tiny_checkpoint, h, w,
                                                                    precision):
    """On a CPU the network runs as a channels-last copy (in bfloat16 where the CPU has
    it): the same a/b as the model itself, down to 1-pixel-wide feature maps."""
    import torch

    colorizer = Colorizer(tiny_checkpoint, device="cpu", precision=precision)
    torch.manual_seed(0)
    x = torch.randn(2, 1, h, w)
    feats = torch.softmax(torch.randn(2, 2, 1000), dim=2)
    with torch.no_grad():
        want = colorizer.net(x, feats, half_size=True)
    got = colorizer.run_network(x, feats)
    assert got.dtype == torch.float32 and got.shape == want.shape
    assert (got - want).abs().max() < (0.02 if precision == "auto" else 1e-5)


def test_the_users_hints_spread_with_the_models_settings_and_matched_ones_with_the_defaults(
        tiny_spatial_checkpoint):
    """A reach chosen for the user's hints carried a face's reference colours onto the
    clothes: hints matched from a reference (or carried by an album) keep the spreading's
    own settings, under which their matching was chosen; and they never move the colour
    at a hint of the user's."""
    from dataclasses import replace

    from model.hints import REFERENCE, Hint

    rgb = gradient_photo(64, 96)
    mine = Hint(0.3, 0.5, 50.0, 30.0, size=0.05)
    theirs = replace(mine, origin=REFERENCE, source="ref.jpg")
    c = Colorizer(tiny_spatial_checkpoint, device="cpu", runtime="torch")
    plain = c.predict(rgb, [mine]).ab
    c.spread_options = {"reach": 4.0}
    farther = c.predict(rgb, [mine]).ab
    assert np.abs(farther - plain).max() > 1e-3
    np.testing.assert_allclose(c.predict(rgb, [theirs]).ab, plain, atol=1e-6)
    # a matched hint of another colour on the user's: the user's colour stays there
    both = c.predict(rgb, [mine, replace(theirs, a=-40.0, b=-40.0)]).ab
    y, x = 32, int(0.3 * 96)
    np.testing.assert_allclose(both[y, x], farther[y, x], atol=0.02)
