"""The lean build (no torch): what needs torch says so in one sentence, and where to get
it, instead of failing with a traceback. Torch is made "missing" by patching the one
function that asks (``model.nets.lean.torch_missing``); no PyInstaller build is needed."""

import sys

import pytest
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QPushButton

from colorgui.cli.main import main
from colorgui.settings import Settings
from model.nets import lean
from model.nets.devices import wants_cuda


@pytest.fixture
def without_torch(monkeypatch):
    monkeypatch.setattr(lean, "torch_missing", lambda: True)
    return lean.fine_tuning_unavailable()


def test_torch_is_missing_where_it_cannot_be_imported(monkeypatch):
    assert not lean.torch_missing()  # the test environment has it
    monkeypatch.setitem(sys.modules, "torch", None)  # as the frozen lean build has not
    assert lean.torch_missing()


def test_the_sentence_says_what_needs_torch_and_where_to_get_it(without_torch):
    assert without_torch.startswith("Fine-tuning needs PyTorch, which this lean build")
    assert "full build (colorgui-full)" in without_torch and "pip" in without_torch
    assert without_torch.endswith(f"{lean.HOME}.") and without_torch.count(". ") == 0


def test_with_torch_nothing_is_unavailable():
    assert lean.fine_tuning_unavailable() is None
    lean.require_torch("Anything")  # does not raise


def test_the_train_tab_holds_the_sentence_and_no_controls(qtbot, tmp_path, without_torch):
    from colorgui.train_tab import TrainTab

    tab = TrainTab(Settings(tmp_path / "colorgui.ini"))
    qtbot.addWidget(tab)
    tab.show()
    shown = QTextDocumentFragment.fromHtml(tab.notice.text()).toPlainText()
    assert shown == without_torch
    assert tab.notice.isVisible() and tab.notice.openExternalLinks()
    assert f'href="{lean.HOME}"' in tab.notice.text()
    assert tab.findChildren(QPushButton) == []  # nothing to press that could not work
    assert not tab.running


def test_the_window_opens_with_the_lean_train_tab(qtbot, tmp_path, without_torch):
    from colorgui.main_window import MainWindow

    window = MainWindow(Settings(tmp_path / "colorgui.ini"))
    qtbot.addWidget(window)
    window.tabs.setCurrentWidget(window.train_tab)
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Train"
    assert QTextDocumentFragment.fromHtml(
        window.train_tab.notice.text()).toPlainText() == without_torch


def test_colorgui_train_exits_2_with_the_same_sentence(tmp_path, capsys, without_torch):
    assert main(["train", str(tmp_path), "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"colorgui train: {without_torch}"
    assert not (tmp_path / "run").exists()


def test_cuda_without_torch_is_refused_in_a_sentence(without_torch, monkeypatch):
    from model.nets import devices

    monkeypatch.setattr(devices, "cuda_possible", lambda: True)  # a GPU, but no torch
    assert wants_cuda("auto") is False  # the CPU, through ONNX Runtime
    with pytest.raises(lean.TorchMissing, match=r"^Running on a GPU \(CUDA\) needs PyTorch"):
        wants_cuda("cuda")


def test_colorize_on_cuda_without_torch_exits_with_the_sentence(tmp_path, without_torch):
    from PIL import Image

    photo = tmp_path / "bw.png"
    Image.new("L", (32, 24), 120).save(photo)
    with pytest.raises(SystemExit) as stop:
        main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--device", "cuda"])
    assert str(stop.value.code).startswith("colorgui: error: Running on a GPU (CUDA) needs PyTorch")


def test_a_bundled_model_left_out_of_the_lean_build_is_named_with_the_sentence(
        tmp_path, monkeypatch, capsys, without_torch):
    import resources

    monkeypatch.setitem(resources.BUNDLED_MODELS, "paper", tmp_path / "not-in-this-build.safetensors")
    photo = tmp_path / "bw.png"
    photo.write_bytes(b"")  # never read: --model is refused first
    with pytest.raises(SystemExit) as stop:
        main(["colorize", str(photo), "--model", "paper"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "The paper model (hybrid v1) is not in this lean build of colorgui: download the full " \
           "build (colorgui-full)" in err


def test_the_preferences_say_cuda_needs_the_full_build(qtbot, tmp_path, without_torch):
    from colorgui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(tmp_path / "colorgui.ini"), cuda_available=False)
    qtbot.addWidget(dialog)
    assert dialog.device.itemText(2) == "GPU (CUDA) — needs the full build"
    assert not dialog.device.model().item(2).isEnabled()
    assert dialog.device.itemData(2, 3).startswith("Running on a GPU (CUDA) needs PyTorch")  # tooltip


def test_a_model_without_a_graph_is_refused_with_the_sentence(tiny_checkpoint, without_torch):
    """A user's checkpoint with no ONNX graph beside it needs PyTorch to run: the lean
    build says so in its sentence instead of failing on "No module named torch"."""
    from model.colorizer import Colorizer

    with pytest.raises(lean.TorchMissing, match="tiny.safetensors, which has no ONNX graph "
                                                "beside it, needs PyTorch"):
        Colorizer(tiny_checkpoint, device="cpu")
