"""Comparing a fine-tuned model with its base, and installing it (model.training.finetune)."""

import numpy as np
import pytest
from PIL import Image

from model.training.evaluate import EvalRow
from model.training.finetune import AFTER, BEFORE, Comparison, compare_before_after, install_model
from model.store.registry import list_models, resolve_model
from tests.conftest import gradient_photo


def _row(name, psnrs, cf=20.0):
    return EvalRow(name, len(psnrs), float(np.mean(psnrs)), 0.1, 0.9, 10.0, cf, 40.0, tuple(psnrs))


def comparison(gain: float) -> Comparison:
    base = [22.0, 23.0, 24.0, 25.0, 26.0, 22.5]
    noise = [0.1, -0.1, 0.05, -0.05, 0.0, 0.0]
    return Comparison([_row("gray", base), _row(BEFORE, base, 24.0),
                       _row(AFTER, [b + gain + n for b, n in zip(base, noise)], 30.0)], [], 6)


def test_summary_says_closer_worse_or_the_same_in_plain_words():
    assert comparison(0.8).summary().startswith(
        "Closer to the true colours than the base model: +0.8 dB (± 0.1), better on 6 of 6 "
        "of your photos")
    worse = comparison(-0.5).summary()
    assert worse.startswith("Worse than the base model: -0.5 dB") and "Keep using the base model" in worse
    assert comparison(0.0).summary().startswith(
        "About as close to the true colours as the base model (+0.0 dB, within the noise; "
        "better on 2 of 6 of your photos)")
    assert "75% of the true photos' (base model: 60%)" in comparison(0.8).summary()
    assert "not compared" in Comparison().summary()


def test_compare_scores_both_models_on_the_held_out_photos(tmp_path, tiny_checkpoint):
    photos = []
    for i in range(3):
        photos.append(tmp_path / f"{i}.png")
        Image.fromarray(gradient_photo(48, 40, i)).save(photos[-1])
    result = compare_before_after(tiny_checkpoint, tiny_checkpoint, photos, device="cpu")
    assert result.photos == 3 and [r.n for r in result.rows] == [3, 3, 3]
    mean, _ = result.gain()
    assert mean == pytest.approx(0.0)  # the same model twice
    assert len(result.examples) == 3 and result.examples[0][0].shape == (256, 256, 3)


def test_install_puts_the_model_where_the_picker_and_cli_find_it(tiny_checkpoint):
    path = install_model(tiny_checkpoint, "Family album")
    assert path.read_bytes() == tiny_checkpoint.read_bytes()
    assert resolve_model("Family album") == path
    assert any(e.name == "Family album" for e in list_models())
    with pytest.raises(FileExistsError):
        install_model(tiny_checkpoint, "Family album")
    assert install_model(tiny_checkpoint, "Family album", replace=True) == path


def _tiny_spatial(tmp_path, name: str, meta: dict):
    import torch

    from model.nets.spatial import SpatialConfig, SpatialNet
    from model.store.checkpoint import save_checkpoint

    torch.manual_seed(0)
    net = SpatialNet(SpatialConfig(decoder=(16, 16, 8, 8, 8), input_size=64), pretrained=True)
    save_checkpoint(tmp_path / name, net, meta)
    return tmp_path / name


def test_a_fine_tuned_model_runs_at_its_bases_inference_settings(tmp_path):
    from model.colorizer import Colorizer
    from model.store.checkpoint import read_header
    from model.training.train import FitOptions, fit
    from tests.conftest import colour_photo_folder

    hints = {"guide_weight": 0.25, "spread": {"edge": 4.0, "reach": 2.0}}
    base = _tiny_spatial(tmp_path, "base.safetensors", {"vivid": 0.41, "mirror": True, **hints})
    # a checkpoint fine-tuned before the settings were carried: only under base_meta
    old = _tiny_spatial(tmp_path, "old.safetensors",
                        {"base_model": str(base), "base_meta": {"vivid": 0.41, "mirror": True}})
    for path in (base, old):
        c = Colorizer(path, device="cpu")
        assert (c.vivid, c.default_vivid, c.mirror) == (0.41, 0.41, True)
    result = fit([colour_photo_folder(tmp_path / "photos", 8)], tmp_path / "run",
                 from_checkpoint=base, options=FitOptions(
                     epochs=1, batch_size=4, crop=64, val_share=0.25, check_files=False))
    _, meta = read_header(result.best)
    assert (meta["vivid"], meta["mirror"]) == (0.41, True)
    c = Colorizer(result.best, device="cpu")
    assert (c.vivid, c.mirror) == (0.41, True)
    assert (c.guide_weight, c.spread_options) == (0.25, hints["spread"])


def test_a_fine_tune_that_never_beats_its_base_hands_back_the_base(tmp_path):
    """On photos of a kind the base already knows, every pass can do worse: the result
    is then the base model itself, and the words say so."""
    import torch

    from model.store.checkpoint import load_checkpoint
    from model.training.train import FitOptions, fit
    from tests.conftest import colour_photo_folder

    base = _tiny_spatial(tmp_path, "base.safetensors", {"vivid": 0.41})
    result = fit([colour_photo_folder(tmp_path / "photos", 8)], tmp_path / "run",
                 from_checkpoint=base, options=FitOptions(
                     epochs=20, lr=1.0, patience=2, batch_size=4, crop=64, val_share=0.25,
                     check_files=False))  # a learning rate that only does harm
    assert result.best_epoch == 0 and len(result.history) == 2
    assert result.stopped == "validation had not improved for 2 passes over the photos"
    before, after = (load_checkpoint(p)[0].state_dict() for p in (base, result.best))
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert result.words().startswith("No pass did better than the base model on the photos "
                                     "that choose the best, so the result is the base model "
                                     "itself (2 passes over the photos tried, ")
    rows = comparison(0.0).rows
    told = Comparison(rows, [], 6, {"best": result.best_at, **result.ending}).summary()
    assert told.startswith("Fine-tuning did not beat the base model on your photos")
