"""Which models a user can pick, and how ``--model`` names them."""

import pytest

from model.store.registry import list_models, resolve_model, user_models_dir
from resources import BUNDLED_MODELS, model_card_path


def test_every_bundled_model_is_listed_first_with_its_card():
    entries = list_models()
    bundled = [e for e in entries if e.bundled]
    assert [e.path for e in bundled] == list(BUNDLED_MODELS.values())
    assert entries[:len(bundled)] == bundled
    assert all(e.name.startswith("Bundled model: ") for e in bundled)
    assert all(model_card_path(e.path).is_file() for e in bundled)


def test_model_names_resolve_to_bundled_user_and_file_models(tmp_path, tiny_checkpoint):
    for key, path in BUNDLED_MODELS.items():
        assert resolve_model(key) == path
    folder = user_models_dir()
    folder.mkdir(parents=True)
    mine = folder / "Grandma's album.safetensors"
    mine.write_bytes(tiny_checkpoint.read_bytes())
    assert resolve_model("Grandma's album") == mine
    assert resolve_model(str(tiny_checkpoint)) == tiny_checkpoint
    with pytest.raises(ValueError, match="known models: .*paper.*Grandma's album"):
        resolve_model("nonexistent")
