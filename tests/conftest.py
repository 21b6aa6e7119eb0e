import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch
from PIL import Image

from model.store.checkpoint import save_checkpoint
from model.nets.network import HybridConfig, HybridNet

torch.set_num_threads(1)


def tiny_config(**kw) -> HybridConfig:
    """A random-weight network small enough for unit tests (random branches, labelled so)."""
    kw.setdefault("branches", ("random_0", "random_1"))
    kw.setdefault("input_size", 64)
    return HybridConfig.scaled(0.125, **kw)


def gradient_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful uint8 RGB image: the kind of photo a short run can learn."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    c = rng.uniform(0.2, 1.0, 3)
    img = np.stack([x / max(w - 1, 1) * c[0], y / max(h - 1, 1) * c[1],
                    (1 - x / max(w - 1, 1)) * c[2]], -1)
    return (img * 255).astype(np.uint8)


def colour_photo_folder(root, n: int, h: int = 40, w: int = 48):
    """A new folder of ``n`` colour gradient photos (four kinds, repeating), for training."""
    root.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(gradient_photo(h, w, i % 4)).save(root / f"{i:02d}.png")
    return root


def save_in_mode(rgb8: np.ndarray, mode: str, path) -> None:
    """Save an RGB photo as a PIL mode (L, LA, RGB, RGBA, P, I;16) or as 16-bit RGB."""
    if mode == "RGB16":
        import cv2

        cv2.imwrite(str(path), rgb8[..., ::-1].astype(np.uint16) * 257)
    elif mode == "I;16":
        Image.fromarray(rgb8.mean(axis=2).astype(np.uint16) * 257).save(path)
    elif mode == "RGBA":
        Image.fromarray(np.dstack([rgb8, rgb8[..., 0]]), "RGBA").save(path)
    else:
        Image.fromarray(rgb8).convert(mode).save(path)


@pytest.fixture(autouse=True)
def private_user_folders(tmp_path, monkeypatch):
    """Tests never touch the real user cache, data or settings folders."""
    monkeypatch.setenv("COLORGUI_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("COLORGUI_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setenv("COLORGUI_CONFIG_DIR", str(tmp_path / "user-config"))


@pytest.fixture
def tiny_checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny.safetensors"
    save_checkpoint(path, HybridNet(tiny_config()), {"note": "random weights, tests only"})
    return path


@pytest.fixture
def photo_folder(tmp_path):
    """A folder of colour photos in a sub-folder, a gray one, and a corrupt file."""
    root = tmp_path / "album"
    (root / "sub").mkdir(parents=True)
    for i in range(3):
        Image.fromarray(gradient_photo(40 + 8 * i, 56, i)).save(root / f"p{i}.jpg", quality=95)
    Image.fromarray(gradient_photo(48, 48, 7)).save(root / "sub" / "q.png")
    Image.fromarray(np.full((32, 32), 90, np.uint8)).save(root / "gray.png")
    (root / "broken.jpg").write_bytes(b"this is not a jpeg")
    return root


@pytest.fixture
def window(qtbot, tmp_path, tiny_checkpoint):
    """The real main window on the tiny model, its worker started and the model loaded."""
    from colorgui.main_window import MainWindow
    from colorgui.settings import Settings

    settings = Settings(tmp_path / "colorgui.ini")
    settings.model_path = str(tiny_checkpoint)
    settings.device = "cpu"
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.start_worker()
    qtbot.waitUntil(lambda: "tiny" in win.device_label.text(), timeout=60_000)
    return win


@pytest.fixture(autouse=True)
def no_unanswered_dialogs(monkeypatch):
    """A message box that nobody answers would hang the suite offscreen: it fails the
    test instead (pytest-qt fails a test on an exception raised in a Qt slot). A test
    that expects one patches it again."""
    from PySide6.QtWidgets import QMessageBox

    def unanswered(*args, **kwargs):
        raise AssertionError(f"a message box opened that no test answers: {args[1:3]}")

    for name in ("critical", "question", "warning", "information"):
        monkeypatch.setattr(QMessageBox, name, unanswered)


def open_and_wait(window, qtbot, path):
    """Open a photo in the window and wait until the Colorize tab shows its result."""
    window.open_paths([str(path)])
    qtbot.waitUntil(lambda: window.colorize_tab.result is not None
                    and window.colorize_tab.result.path == str(path), timeout=60_000)


def start_batch(window, qtbot, folder, out) -> None:
    """Queue a folder in the Batch tab, start it, and wait until its first photo runs."""
    tab = window.batch_tab
    tab.add_paths([str(folder)])
    tab.output_edit.setText(str(out))
    with qtbot.waitSignal(window.host.batchItem, timeout=60_000,
                          check_params_cb=lambda job, row, state, detail: state == "running"):
        tab.start_button.click()


@pytest.fixture
def tiny_spatial_checkpoint(tmp_path):
    """A random-weight spatial model (it takes colour hints and has a class head)."""
    from model.nets.spatial import SpatialConfig, SpatialNet

    torch.manual_seed(0)
    path = tmp_path / "tiny-spatial.safetensors"
    net = SpatialNet(SpatialConfig(decoder=(16, 16, 8, 8, 8), input_size=64), pretrained=False)
    save_checkpoint(path, net, {"note": "random weights, tests only"})
    return path
