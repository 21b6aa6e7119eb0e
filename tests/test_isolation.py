import subprocess
import sys


def test_model_does_not_load_qt():
    code = ("import sys, model, model.colorizer, model.train, model.evaluate, model.batch;"
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == "False"
