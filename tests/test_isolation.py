import os
import subprocess
import sys


def test_model_does_not_load_qt():
    code = ("import sys, model, model.colorizer, model.training.train, model.training.evaluate, model.batch;"
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == "False"


def test_the_window_is_built_without_importing_torch(tmp_path):
    """The window appears fast: torch and the model load on the worker thread later."""
    code = ("import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen';"
            "from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from colorgui.main_window import MainWindow; w = MainWindow();"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120,
                         env={**os.environ, "COLORGUI_CONFIG_DIR": str(tmp_path)}).stdout.strip()
    assert out.splitlines()[-1] == "False"
