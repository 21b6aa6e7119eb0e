"""Models in the app: the first use's one-time preparation, the picker, the Vivid slider."""

import threading

import numpy as np
import pytest
import torch
from PIL import Image

from colorgui.main_window import PREPARING, MainWindow
from colorgui.requests import Colorize
from colorgui.settings import Settings
from model.store.checkpoint import save_checkpoint
from tests.conftest import gradient_photo, open_and_wait


def new_window(qtbot, tmp_path, model: str) -> MainWindow:
    settings = Settings(tmp_path / "models.ini")
    settings.model_path, settings.device = model, "cpu"
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    return win


def test_the_first_use_says_it_prepares_the_model_for_this_cpu(qtbot, tmp_path, monkeypatch,
                                                              tiny_checkpoint):
    """The tiny test model has no pretrained networks to export, so the colorizer is
    wrapped to export two the way model.nets.runtime does (on the worker thread)."""
    import model.colorizer
    from model.nets import graph

    real = model.colorizer.Colorizer
    exported_on = []

    def exporting_colorizer(*args, **kwargs):
        for name in ("efficientnet_lite0", "efficientnet_lite1"):
            exported_on.append(threading.current_thread())
            graph._told(name, lambda: b"onnx")()
        return real(*args, **kwargs)

    monkeypatch.setattr(model.colorizer, "Colorizer", exporting_colorizer)
    win = new_window(qtbot, tmp_path, str(tiny_checkpoint))
    shown = []
    win.statusBar().messageChanged.connect(shown.append)
    win.start_worker()
    with qtbot.waitSignal(win.host.modelLoaded, timeout=60_000):
        pass
    assert exported_on and threading.main_thread() not in exported_on
    preparing = [m for m in shown if m.startswith(PREPARING)]
    assert PREPARING == "Preparing the model for this CPU (one time only)…"
    assert preparing[0].endswith("0 networks ready, now efficientnet_lite0")
    assert preparing[-1].startswith(f"{PREPARING} 2 networks ready, efficientnet_lite1 took")
    assert win.statusBar().currentMessage() == ""  # gone once the model is loaded
    win.close()


@pytest.fixture
def spatial_model(tmp_path):
    """A tiny spatial model with a colour-class head, installed where the picker looks."""
    from model.store.registry import user_models_dir
    from model.nets.spatial import SpatialConfig, SpatialNet

    torch.manual_seed(0)
    path = user_models_dir() / "tiny spatial.safetensors"
    path.parent.mkdir(parents=True)
    net = SpatialNet(SpatialConfig(decoder=(16, 16, 8, 8, 8), input_size=64), pretrained=True)
    save_checkpoint(path, net, {"vivid": 0.25})
    return path


@pytest.fixture
def colour_photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(gradient_photo(64, 80).mean(axis=2).astype(np.uint8)).save(path)
    return path


def test_vivid_is_off_with_a_tooltip_for_a_model_without_a_class_head(window):
    tab = window.colorize_tab
    assert not tab.vivid_slider.isEnabled() and tab.vivid is None
    assert "no colour-class head" in tab.vivid_slider.toolTip()


def test_picking_a_spatial_model_loads_it_and_vivid_recolorizes(window, qtbot, spatial_model,
                                                                colour_photo):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, colour_photo)
    window._refresh_models()
    names = [tab.model_box.itemText(i) for i in range(tab.model_box.count())]
    assert "tiny spatial" in names and any(n.startswith("Bundled model: ") for n in names)
    index = names.index("tiny spatial")
    with qtbot.waitSignal(window.host.colorized, timeout=120_000):  # the photo, again
        with qtbot.waitSignal(window.host.modelLoaded, timeout=120_000) as loaded:
            tab.model_box.activated.emit(index)
    assert loaded.args[0] == str(spatial_model) and window.settings.model_path == str(spatial_model)
    qtbot.waitUntil(lambda: tab.result.ab.shape[:2] == (64, 80))
    assert tab.vivid_slider.isEnabled() and tab.vivid_slider.value() == 25  # its default
    plain = tab.result.ab
    with qtbot.waitSignal(window.host.colorized, timeout=60_000):
        tab.vivid_slider.setValue(100)
    # the setting travelled with the job; the shared colorizer keeps the model's own
    assert tab.result.vivid == 1.0 and window.host.worker.colorizer.vivid == 0.25
    assert not np.allclose(tab.result.ab, plain, atol=1e-4)  # bolder colours, not the same


def test_the_vivid_slider_rests_before_the_network_runs_again(window, qtbot, colour_photo,
                                                              monkeypatch):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, colour_photo)
    tab.set_vivid(True, 0.5)  # as if the model had a class head
    jobs = []
    monkeypatch.setattr(window, "_submit", jobs.append)
    with qtbot.waitSignal(tab.vividChanged, timeout=5000) as rested:
        for value in range(50, 81, 5):  # a drag
            tab.vivid_slider.setValue(value)
    assert rested.args == [0.8]  # one job, with the photo's edits (its hints) after these
    assert [(type(job), job.path, job.vivid) for job in jobs] == [(Colorize, str(colour_photo), 0.8)]
